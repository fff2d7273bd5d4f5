"""Credentials: `juju trust` (ops' cloud-spec API), the `credentials` option, the single options;
missing, partial and invalid ones block with the exact fix; trust revoked; no secret leaks.

The cloud is the simulated one where a daemon must run; the blocked cases need no cloud."""

import base64
import json
import logging
import os
import stat
import tomllib

import pytest

from charm_fixtures import cloud, machine  # noqa: F401 (fixtures)
from charm_support import context, testing

SECRET = "s3cret-Pa55word"
FULL = {
    "auth-url": "https://keystone.example:5000/v3",
    "region": "RegionOne",
    "username": "admin",
    "password": SECRET,
    "user-domain-name": "admin_domain",
    "project-domain-name": "admin_domain",
    "project-name": "admin",
}


def b64json(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def run_config_changed(config, trusted=False, spec=None):
    ctx = context(trusted=trusted)
    model = testing.Model(cloud_spec=spec) if spec else testing.Model()
    state = testing.State(leader=True, config=config, model=model)
    return ctx, ctx.run(ctx.on.config_changed(), state)


@pytest.mark.parametrize(
    "config,message",
    [
        ({}, "missing credentials; grant with `juju trust` or set via config"),
        (
            {"auth-url": FULL["auth-url"], "username": "admin"},
            "missing required credentials: region, password, user_domain_name, "
            "project_domain_name, project_name",
        ),
        ({k: v for k, v in FULL.items() if k != "region"}, "missing required credential: region"),
        ({"credentials": "ewo"}, "invalid value for credentials config: Incorrect padding"),
        (
            {"credentials": "ewo="},
            "invalid value for credentials config: Expecting property name enclosed in double "
            "quotes: line 2 column 1",
        ),
        ({"credentials": b64json(["a list"])}, "invalid value for credentials config: not a JSON object"),
        (
            {"credentials": b64json({**FULL, "auth-type": "oauth1"})},
            "unsupported auth-type in credentials: oauth1",
        ),
        (
            {"application-credential-id": "abc", "auth-url": FULL["auth-url"]},
            "application credential incomplete: set application-credential-secret too",
        ),
        ({**FULL, "endpoint-tls-ca": "not a certificate"}, "invalid endpoint-tls-ca: neither PEM nor base64 of PEM"),
        ({**FULL, "lb-subnet": ""}, "lb-subnet is required: juju config <app> lb-subnet=<subnet name or id> (the subnet the load balancers' VIPs come from)"),
        ({**FULL, "lb-subnet": "s", "lb-method": "FASTEST"}, "invalid lb-method 'FASTEST': use one of ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP, SOURCE_IP_PORT"),
    ],
    ids=["none", "partial", "no-region", "bad-base64", "bad-json", "not-object", "auth-type",
         "half-app-cred", "bad-ca", "no-lb-subnet", "bad-lb-method"],
)
def test_missing_partial_or_invalid_credentials_block_with_the_exact_fix(machine, config, message):
    ctx, out = run_config_changed(config)
    assert out.unit_status == testing.BlockedStatus(message)
    # Nothing runs on settings that cannot work, and no settings file stays behind.
    assert not machine.settings.exists()
    assert "enable --now octavia-integrator" not in machine.systemctl_calls()


def test_trust_then_credentials_then_single_options_later_wins(machine, cloud):
    """Field by field, as the Python charm merges: trust < `credentials` < single options."""
    spec = cloud.cloud_spec()
    attrs = dict(spec.credential.attributes, username="trust-user")
    spec = testing.CloudSpec(type="openstack", name="sim", region="TrustRegion", endpoint=spec.endpoint,
                             credential=testing.CloudCredential(auth_type="userpass", attributes=attrs))
    option = {"username": "option-user", "project-name": "option-project", "region": "OptionRegion"}
    config = {**cloud.network, "metrics-address": "off", "credentials": b64json(option),
              "region": cloud.auth["region"], "project-name": cloud.auth["project-name"],
              "username": cloud.auth["username"]}
    _, out = run_config_changed(config, trusted=True, spec=spec)
    written = tomllib.loads(machine.settings.read_text())["cloud"]
    assert written["auth_url"] == cloud.auth["auth-url"]  # only trust has it
    assert written["password"] == cloud.auth["password"]  # only trust has it
    assert written["username"] == cloud.auth["username"]  # single option beats option and trust
    assert written["region"] == "RegionOne"  # single option beats `credentials`
    assert out.unit_status == testing.ActiveStatus("ready; no load balancer requested")


def test_juju_trust_alone_serves(machine, cloud):
    ctx, out = run_config_changed({**cloud.network, "metrics-address": "off"}, trusted=True, spec=cloud.cloud_spec())
    assert out.unit_status == testing.ActiveStatus("ready; no load balancer requested")
    assert machine.daemon_pid()
    # The action reports where the credentials came from, never what they are.
    out = ctx.run(ctx.on.action("refresh-credentials"), out)
    assert ctx.action_results["sources"] == "juju trust"
    assert SECRET not in json.dumps(ctx.action_results)


def test_trust_revoked_blocks_stops_the_daemon_and_removes_the_secrets(machine, cloud):
    config = {**cloud.network, "metrics-address": "off"}
    _, out = run_config_changed(config, trusted=True, spec=cloud.cloud_spec())
    assert out.unit_status.name == "active" and machine.daemon_pid()
    # `juju trust --remove`: credential-get is refused; Juju runs config-changed.
    ctx = context(trusted=False)
    out = ctx.run(ctx.on.config_changed(), out)
    assert out.unit_status == testing.BlockedStatus("missing credentials; grant with `juju trust` or set via config")
    assert machine.daemon_pid() is None
    assert not machine.settings.exists()
    # Trust granted again: it serves again.
    ctx = context(trusted=True)
    out = ctx.run(ctx.on.config_changed(), out)
    assert out.unit_status == testing.ActiveStatus("ready; no load balancer requested")
    assert machine.daemon_pid()


def test_settings_and_ca_are_private_and_no_secret_is_logged_or_passed(machine, cloud, caplog):
    caplog.set_level(logging.DEBUG)
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    config = {**cloud.auth, **cloud.network, "metrics-address": "off", "password": SECRET,
              "endpoint-tls-ca": base64.b64encode(pem.encode()).decode(),
              "application-credential-id": "app-cred-id",
              "application-credential-secret": SECRET + "-app"}
    ctx, out = run_config_changed(config)
    # (The cloud refuses this made-up CA and secret: check-cloud blocks, naming no secret.)
    assert out.unit_status.name == "blocked"
    for path in (machine.settings, machine.settings.parent / "endpoint-ca.pem"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    written = tomllib.loads(machine.settings.read_text())["cloud"]
    assert written["application_credential_secret"] == SECRET + "-app"
    assert "password" not in written  # the application credential is used instead
    assert (machine.settings.parent / "endpoint-ca.pem").read_text() == pem + "\n"
    everything = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [line.message for line in ctx.juju_log]
        + machine.systemctl_calls()
        + [out.unit_status.message]
    )
    assert SECRET not in everything
    # Processes get the settings path, never a secret: the daemon's command line.
    pid = machine.daemon_pid()
    if pid:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert SECRET.encode() not in f.read()


def test_a_cloud_that_refuses_the_credentials_blocks_with_the_check_cloud_fix(machine, cloud):
    config = {**cloud.auth, **cloud.network, "metrics-address": "off", "password": "wrong"}
    ctx, out = run_config_changed(config)
    status = out.unit_status
    assert status.name == "blocked"
    assert status.message.startswith("check-cloud: ")
    assert "; fix: " in status.message
    assert "wrong" not in status.message
    # Fixed: config-changed runs check-cloud again and the unit serves.
    fixed = testing.State(leader=True, config={**config, "password": cloud.auth["password"]},
                          stored_states=out.stored_states, model=out.model)
    out = ctx.run(ctx.on.config_changed(), fixed)
    assert out.unit_status == testing.ActiveStatus("ready; no load balancer requested")


def test_a_subnet_that_does_not_exist_blocks_with_the_check_cloud_fix(machine, cloud):
    config = {**cloud.auth, **cloud.network, "metrics-address": "off", "lb-subnet": "no-such-subnet"}
    _, out = run_config_changed(config)
    assert out.unit_status.name == "blocked"
    assert out.unit_status.message.startswith("check-cloud: ")
    assert "config `lb-subnet` = `no-such-subnet`" in out.unit_status.message
    assert "[load_balancer]" not in out.unit_status.message  # named as the charm's options
    assert "fix: " in out.unit_status.message
