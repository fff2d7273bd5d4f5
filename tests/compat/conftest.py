"""Compatibility with the real `loadbalancer-interface` 1.2.1 library.

A requirer charm built on the library's own `LBProvider` (run by `ops.testing.Harness`) sends
requests; its app databag goes through our CLI (`lb-consumers`) as the hook envelope; what we
write is applied to the provider side of the relation; then the library reads it back.

The binary is `$OCTAVIA_INTEGRATOR_BIN` (default `target/debug/octavia-integrator`).
"""

import json
import os
import subprocess
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # marshmallow 3 warns about the library's `missing=` arguments at import time.
    warnings.simplefilter("ignore")
    from ops.charm import CharmBase
    from ops.testing import Harness

    from loadbalancer_interface import LBProvider
    from loadbalancer_interface.schemas import v1

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("OCTAVIA_INTEGRATOR_BIN", str(REPO / "target" / "debug" / "octavia-integrator"))

REQUIRER = "kubernetes-control-plane"
PROVIDER = "octavia-integrator"
ENDPOINT = "lb-provider"
META = f"""
name: {REQUIRER}
requires:
  {ENDPOINT}:
    interface: loadbalancer
"""

# The simulated cloud's member ports (tests/compat/test_converged.py); harmless elsewhere.
UNIT_ADDRESSES = {
    f"{REQUIRER}/0": "10.5.0.10",
    f"{REQUIRER}/1": "10.5.0.11",
    f"{REQUIRER}/2": "10.5.0.12",
}

# Exit codes of the hook commands (src/cli/exit.rs): stdout is valid with 0, 1 and 3.
OK, FAILURE, USAGE, CONFIG = 0, 1, 2, 3


class Requirer(CharmBase):
    def __init__(self, *args):
        super().__init__(*args)
        self.lb = LBProvider(self, ENDPOINT)


def run_cli(args, stdin, timeout=300):
    """Runs the binary; returns (exit code, stdout, stderr)."""
    if not Path(BIN).exists():
        pytest.fail(f"{BIN} does not exist: run `cargo build --bin octavia-integrator` first")
    proc = subprocess.run(
        [BIN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


class Exchange:
    """One relation between the library's requirer and our CLI."""

    def __init__(self, cli_args=("lb-consumers",)):
        self.cli_args = list(cli_args)
        self.harness = Harness(Requirer, meta=META)
        self.harness.set_leader(True)
        self.harness.begin()
        self.rel_id = self.harness.add_relation(ENDPOINT, PROVIDER)
        self.harness.add_relation_unit(self.rel_id, f"{PROVIDER}/0")
        self.units = {u: {"ingress-address": a} for u, a in UNIT_ADDRESSES.items()}
        self.last_output = None
        self.last_stderr = ""

    # -- the two databags --
    @property
    def lb(self):
        lb = self.harness.charm.lb
        for cached in ("relations", "all_responses", "complete_responses"):
            lb.__dict__.pop(cached, None)
        return lb

    def requirer_data(self):
        return dict(self.harness.get_relation_data(self.rel_id, REQUIRER))

    def provider_data(self):
        return dict(self.harness.get_relation_data(self.rel_id, PROVIDER))

    def write_raw_request(self, name, text):
        """Writes request text the library would never write (bad input)."""
        self.harness.update_relation_data(self.rel_id, REQUIRER, {"request_" + name: text})

    # -- the library's requirer API --
    def request(self, name, **fields):
        req = self.lb.get_request(name)
        req.protocol = fields.pop("protocol", req.protocols.tcp)
        req.port_mapping = fields.pop("port_mapping", {443: 6443})
        for check in fields.pop("health_checks", []):
            req.add_health_check(**check)
        for key, value in fields.items():
            setattr(req, key, value)
        self.lb.send_request(req)
        return req

    # -- one hook run --
    def envelope(self, local=True):
        rel = {
            "id": self.rel_id,
            "app": REQUIRER,
            "app_data": self.requirer_data(),
            "units": self.units,
        }
        if local:
            rel["local_app_data"] = self.provider_data()
        return json.dumps({"relations": [rel]})

    def hook(self, extra_args=(), local=True, timeout=300, requirer_hook=True):
        """Runs the CLI on the current databags and applies what it writes.

        `requirer_hook`: first let the requirer do what its library does at the start of every
        hook (the leader writes `version`)."""
        if requirer_hook:
            self.harness.charm.lb._set_version()
        code, out, err = run_cli(self.cli_args + list(extra_args), self.envelope(local), timeout)
        self.last_stderr = err
        assert code in (OK, FAILURE, CONFIG), f"exit {code}: {err}"
        output = json.loads(out)
        check_envelope(output, [self.rel_id])
        rel = output["relations"][0]
        changes = dict(rel["set"])
        changes.update({key: "" for key in rel["unset"]})
        if changes:
            self.harness.update_relation_data(self.rel_id, PROVIDER, changes)
        self.last_output = rel
        return code, rel, err

    # -- what the library makes of our answers --
    def library_response(self, name):
        """The library's parse of `response_<name>` (raises if the library rejects it)."""
        return self.lb.get_response(name)

    def complete_names(self):
        return sorted(r.name for r in self.lb.complete_responses)


def check_envelope(output, relation_ids):
    """Our output has exactly the documented shape."""
    assert set(output) == {"relations"}
    assert [r["id"] for r in output["relations"]] == relation_ids
    for rel in output["relations"]:
        assert set(rel) == {"id", "set", "unset"}
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in rel["set"].items())
        assert all(isinstance(k, str) for k in rel["unset"])


def check_every_response(exchange):
    """Every `response_<name>` we wrote parses with the library, byte for byte."""
    names = []
    for key, text in exchange.provider_data().items():
        if not key.startswith("response_"):
            continue
        name = key[len("response_"):]
        response = exchange.library_response(name)
        assert response, f"{key}: the library does not consider it a response"
        assert response.dumps() == text, f"{key}: not the library's canonical form"
        if response.error is not None:
            assert response.error in (v1.ErrorTypes.unsupported, v1.ErrorTypes.provider_error)
            assert response.error_message or response.error_fields
            assert set(response.error_fields) <= set(v1.Request._Schema().fields)
        names.append(name)
    return names


def library_verdict(text):
    """What the library makes of request text: (accepted, offending top-level keys)."""
    from marshmallow import ValidationError

    try:
        v1.Request.loads(text)
        return True, set()
    except ValidationError as e:
        messages = e.messages if isinstance(e.messages, dict) else {"_schema": e.messages}
        return False, set(messages)
    except (ValueError, AttributeError, TypeError):
        # Not JSON / not an object: the library crashes rather than rejecting.
        return False, set()


@pytest.fixture
def exchange():
    ex = Exchange()
    yield ex
    ex.harness.cleanup()


def pytest_configure(config):
    # The library (marshmallow 3 `missing=`) and ops (`Harness`) warn about their own futures.
    for category in ("DeprecationWarning", "PendingDeprecationWarning", "marshmallow.warnings.RemovedInMarshmallow4Warning"):
        config.addinivalue_line("filterwarnings", f"ignore::{category}")
