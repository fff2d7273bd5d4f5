"""Helpers for the charm tests: the simulated cloud, a machine for the charm to install on, and
the Kubernetes control plane's side of the relation, spoken through the real
`loadbalancer-interface` library.

The charm runs in ops' state-transition harness (`ops.testing`, i.e. ops-scenario) and calls
the real binary; systemd and juju-exec are stand-ins from tests/charm/bin that really run the
daemon (and record what they were asked).
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHARM_DIR = REPO / "deploy" / "charm"
STAND_INS = Path(__file__).resolve().parent / "bin"
BIN = os.environ.get("OCTAVIA_INTEGRATOR_BIN", str(REPO / "target" / "debug" / "octavia-integrator"))
sys.path.insert(0, str(CHARM_DIR / "src"))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import ops
    from ops import testing
    from ops.testing import Harness

    from loadbalancer_interface import LBProvider
    from loadbalancer_interface.schemas import v1

from charm import OctaviaIntegratorCharm  # noqa: E402

APP = "octavia-integrator"
KCP = "kubernetes-control-plane"
# The simulated cloud's member ports (`octavia-integrator sim` prints them).
UNIT_ADDRESSES = {0: "10.5.0.10", 1: "10.5.0.11", 2: "10.5.0.12"}
LIVEZ = [{"protocol": v1.Protocols.http, "port": 6443, "path": "/livez"}]


def wait_until(predicate, what: str, budget: float = 120.0, step: float = 0.1):
    """Polls `predicate` until it returns something true; fails the test after `budget` s."""
    deadline = time.monotonic() + budget
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(step)


# ---- the simulated cloud ----
@dataclasses.dataclass
class Cloud:
    """A running `octavia-integrator sim` and what its written settings say."""

    proc: subprocess.Popen
    settings: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        """The cloud's credentials as the charm's single options."""
        c = self.settings["cloud"]
        return {
            "auth-url": c["auth_url"],
            "region": c["region"],
            "username": c["username"],
            "password": c["password"],
            "user-domain-name": c["user_domain_name"],
            "project-domain-name": c["project_domain_name"],
            "project-name": c["project_name"],
        }

    @property
    def network(self) -> dict[str, Any]:
        """lb-subnet and lb-floating-network of the simulated cloud."""
        lb = self.settings["load_balancer"]
        return {"lb-subnet": lb["vip_subnet"], "lb-floating-network": lb["floating_network"]}

    def cloud_spec(self) -> testing.CloudSpec:
        """What `credential-get` returns after `juju trust` on this cloud."""
        c = self.settings["cloud"]
        return testing.CloudSpec(
            type="openstack",
            name="sim",
            region=c["region"],
            endpoint=c["auth_url"],
            credential=testing.CloudCredential(
                auth_type="userpass",
                attributes={
                    "username": c["username"],
                    "password": c["password"],
                    "project-name": c["project_name"],
                    "user-domain-name": c["user_domain_name"],
                    "project-domain-name": c["project_domain_name"],
                },
            ),
        )

    def load_balancers(self, cluster: str) -> list[dict[str, Any]]:
        """The cloud's load balancers tagged with `cluster`, read straight from its Octavia API."""
        auth = self.auth
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": auth["username"], "password": auth["password"],
                "domain": {"name": auth["user-domain-name"]}}}},
            "scope": {"project": {"name": auth["project-name"],
                                  "domain": {"name": auth["project-domain-name"]}}},
        }}
        req = urllib.request.Request(auth["auth-url"].rstrip("/") + "/auth/tokens",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            token = resp.headers["X-Subject-Token"]
            catalog = json.load(resp)["token"]["catalog"]
        url = next(e["url"] for s in catalog if s["type"] == "load-balancer"
                   for e in s["endpoints"] if e["interface"] == "public")
        req = urllib.request.Request(url.rstrip("/") + "/v2/lbaas/loadbalancers",
                                     headers={"X-Auth-Token": token})
        with urllib.request.urlopen(req, timeout=30) as resp:
            lbs = json.load(resp)["loadbalancers"]
        return [lb for lb in lbs if any(cluster in tag for tag in lb.get("tags", []))]

    def stop(self) -> None:
        """Stops the simulator by its own pid."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_sim(folder: Path, delay_scale: str) -> Cloud:
    """`octavia-integrator sim` on loopback, with its settings written into `folder`."""
    if not Path(BIN).exists():
        pytest.fail(f"{BIN} does not exist: run `cargo build --bin octavia-integrator` first")
    path = folder / "sim.toml"
    proc = subprocess.Popen(
        [BIN, "sim", "--listen", "127.0.0.1:0", "--delay-scale", delay_scale, "--write-config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    cloud = Cloud(proc, {})
    try:
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail("the simulated cloud did not start within 30 s")
            if line.startswith("# settings written to"):
                break
    except BaseException:
        cloud.stop()
        raise
    cloud.settings = tomllib.loads(path.read_text())
    return cloud


# ---- the machine the charm installs onto ----
class Machine:
    """A root folder standing for `/`, with stand-ins for systemctl and juju-exec."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        # Short: the daemon's unix socket path lives under it (108 bytes at most).
        self.root = Path(tempfile.mkdtemp(prefix="oi-charm-", dir="/tmp"))
        self.fake = self.root / "fake-systemd"
        self.notify_log = self.root / "juju-exec.log"
        env = {
            "OCTAVIA_INTEGRATOR_CHARM_ROOT": str(self.root),
            "OCTAVIA_INTEGRATOR_CHARM_BINARY": BIN,
            "OCTAVIA_INTEGRATOR_CHARM_UNIT": str(REPO / "deploy" / "systemd" / "octavia-integrator.service"),
            "OCTAVIA_INTEGRATOR_CHARM_SYSTEMCTL": str(STAND_INS / "systemctl"),
            "OCTAVIA_INTEGRATOR_CHARM_JUJU_EXEC": str(STAND_INS / "juju-exec"),
            "FAKE_SYSTEMCTL_STATE": str(self.fake),
            "FAKE_SYSTEMCTL_UNIT_DIR": str(self.root / "etc" / "systemd" / "system"),
            "FAKE_SYSTEMCTL_ROOT": str(self.root),
            "FAKE_JUJU_EXEC_LOG": str(self.notify_log),
        }
        self.env = env
        self.monkeypatch = monkeypatch
        self.use()

    def use(self) -> None:
        """Makes this machine the one the next charm run sees."""
        for key, value in self.env.items():
            self.monkeypatch.setenv(key, value)

    @property
    def binary(self) -> Path:
        return self.root / "usr" / "local" / "bin" / "octavia-integrator"

    @property
    def settings(self) -> Path:
        return self.root / "etc" / "octavia-integrator" / "settings.toml"

    @property
    def unit_file(self) -> Path:
        return self.root / "etc" / "systemd" / "system" / "octavia-integrator.service"

    def systemctl_calls(self) -> list[str]:
        path = self.fake / "calls.log"
        return path.read_text().splitlines() if path.exists() else []

    def daemon_pid(self) -> int | None:
        """The running daemon's pid, if one runs."""
        try:
            pid = int((self.fake / "daemon.pid").read_text())
        except (OSError, ValueError):
            return None
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return None
        return pid if state not in ("Z", "X") else None

    def notifications(self) -> list[dict[str, Any]]:
        """What the daemon's notify command recorded."""
        if not self.notify_log.exists():
            return []
        return [json.loads(line) for line in self.notify_log.read_text().splitlines()]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """The installed binary with the charm's settings."""
        return subprocess.run(
            [str(self.binary), "--config", str(self.settings), *args],
            capture_output=True, text=True, timeout=300,
        )

    def status(self) -> dict[str, Any]:
        """`status --json` through the daemon (or in-process when none runs)."""
        proc = self.cli("status", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def cleanup(self) -> None:
        """Stops every daemon the stand-in started, by its own pid; removes the folder."""
        pids = self.fake / "pids"
        if pids.exists():
            for line in pids.read_text().split():
                pid = int(line)
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                for _ in range(100):
                    try:
                        os.kill(pid, 0)
                        with open(f"/proc/{pid}/stat") as f:
                            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                                break
                    except (ProcessLookupError, FileNotFoundError):
                        break
                    time.sleep(0.05)
                else:
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


# ---- the Kubernetes control plane, through the real library ----
class ControlPlane(ops.CharmBase):
    """kubernetes-control-plane's requirer side: the library's own LBProvider."""

    def __init__(self, *args):
        super().__init__(*args)
        self.external = LBProvider(self, "loadbalancer-external")
        self.internal = LBProvider(self, "loadbalancer-internal")


KCP_META = f"""
name: {KCP}
requires:
  loadbalancer-external:
    interface: loadbalancer
  loadbalancer-internal:
    interface: loadbalancer
"""


class Requirer:
    """The control plane's leader (ops' Harness running the library), related to us twice,
    as `kubernetes-control-plane:loadbalancer-external` and `:loadbalancer-internal` are."""

    def __init__(self):
        self.harness = Harness(ControlPlane, meta=KCP_META)
        self.harness.set_leader(True)
        self.harness.begin()
        self.rel = {}
        for endpoint in ("loadbalancer-external", "loadbalancer-internal"):
            rid = self.harness.add_relation(endpoint, APP)
            self.harness.add_relation_unit(rid, f"{APP}/0")
            self.rel[endpoint] = rid

    def lib(self, endpoint: str) -> LBProvider:
        lb = self.harness.charm.external if endpoint.endswith("external") else self.harness.charm.internal
        for cached in ("relations", "all_responses", "complete_responses"):
            lb.__dict__.pop(cached, None)
        return lb

    def handshake(self) -> None:
        """Both sides' `version` exchanged: the library may send requests."""
        for endpoint in self.rel:
            self.lib(endpoint)._set_version()
            self.receive(endpoint, {"version": "1"})

    def request_api_server(self) -> None:
        """What kubernetes-control-plane asks for (research §5)."""
        for endpoint, name, ports, public in (
            ("loadbalancer-external", "api-server-external", {443: 6443}, True),
            ("loadbalancer-internal", "api-server-internal", {6443: 6443}, False),
        ):
            lb = self.lib(endpoint)
            lb._set_version()
            req = lb.get_request(name)
            req.protocol = req.protocols.tcp
            req.port_mapping = ports
            req.public = public
            for check in LIVEZ:
                req.add_health_check(**check)
            lb.send_request(req)

    def remove_request(self, endpoint: str, name: str) -> None:
        self.lib(endpoint).remove_request(name)

    def app_data(self, endpoint: str) -> dict[str, str]:
        """The requirer's app databag, as our charm sees the remote app's data."""
        return dict(self.harness.get_relation_data(self.rel[endpoint], KCP))

    def receive(self, endpoint: str, provider_app_data: dict[str, str]) -> None:
        """Juju carries our app databag to the requirer."""
        current = dict(self.harness.get_relation_data(self.rel[endpoint], APP))
        changes = {k: "" for k in current if k not in provider_app_data}
        changes.update(provider_app_data)
        self.harness.update_relation_data(self.rel[endpoint], APP, changes)

    def response(self, endpoint: str, name: str):
        """The library's parse of our answer, only when complete (received_hash matches)."""
        lb = self.lib(endpoint)
        complete = {r.name: r for r in lb.complete_responses}
        return complete.get(name)

    def cleanup(self) -> None:
        self.harness.cleanup()


def kcp_relation(requirer: Requirer, endpoint: str, **kwargs) -> testing.Relation:
    """Our `lb-consumers` relation carrying what the requirer's library wrote."""
    return testing.Relation(
        endpoint="lb-consumers",
        interface="loadbalancer",
        remote_app_name=KCP,
        remote_app_data=requirer.app_data(endpoint),
        remote_units_data={i: {"ingress-address": a} for i, a in UNIT_ADDRESSES.items()},
        **kwargs,
    )


def refresh(state: testing.State, relation: testing.Relation, **changes) -> testing.State:
    """The state with one relation's data replaced (the other side wrote something)."""
    new = dataclasses.replace(state.get_relation(relation.id), **changes)
    others = [r for r in state.relations if r.id != relation.id]
    return dataclasses.replace(state, relations={*others, new})


# The unit's charm folder: stable across hooks, as Juju's is (the harness would otherwise make
# a new one per run, and the daemon's notify command names it).
UNIT_CHARM_DIR = Path(tempfile.mkdtemp(prefix="oi-charm-dir-"))
atexit.register(shutil.rmtree, UNIT_CHARM_DIR, True)


def context(trusted: bool = False, unit_id: int = 0) -> testing.Context:
    """The charm in ops' harness; metadata, config and actions autoloaded from charmcraft.yaml."""
    return testing.Context(OctaviaIntegratorCharm, app_trusted=trusted, unit_id=unit_id,
                           charm_root=UNIT_CHARM_DIR)
