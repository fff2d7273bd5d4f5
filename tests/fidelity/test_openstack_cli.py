"""Fidelity: the official `openstack` CLI (python-openstackclient + python-octaviaclient) drives
the simulated cloud (`octavia-integrator sim`) through a whole load-balancer life cycle.

Any CLI error fails the test. The simulator runs on a free loopback port and is stopped by the
fixture that started it. The binary is `$OCTAVIA_INTEGRATOR_BIN` (default
`target/debug/octavia-integrator`); the CLI is the one next to this interpreter (the venv).
"""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("OCTAVIA_INTEGRATOR_BIN", str(REPO / "target" / "debug" / "octavia-integrator"))
OPENSTACK = str(Path(sys.executable).parent / "openstack")
TIMEOUT = 120


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """Start `octavia-integrator sim`, read its exports and seeded ids; stop it afterwards."""
    settings = tmp_path_factory.mktemp("sim") / "settings.toml"
    port = free_port()
    proc = subprocess.Popen(
        [BIN, "sim", "--listen", f"127.0.0.1:{port}", "--provider", "amphora",
         "--delay-scale", "0.001", "--write-config", str(settings)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        ids = {}
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                env[key] = value.strip("'")
            elif line.startswith("# ") and "=" in line:
                key, _, value = line[2:].partition("=")
                ids[key] = value
            if "member_addresses" in ids:
                break
        assert env.get("OS_AUTH_URL") == f"http://127.0.0.1:{port}/v3", proc.stderr.read() if proc.poll() is not None else env
        env["OS_CLIENT_CONFIG_FILE"] = "/dev/null"
        yield {"env": env, "ids": ids, "settings": settings}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"sim exited with {proc.returncode}: {proc.stderr.read()}"


def osc(cloud, *args):
    """Run `openstack ARGS -f json`; any error fails the test."""
    result = subprocess.run(
        [OPENSTACK, *args], env=cloud["env"], capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert result.returncode == 0, f"openstack {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
    out = result.stdout.strip()
    return json.loads(out) if out.startswith(("{", "[")) else out


def test_settings_file_is_private_and_points_at_the_simulator(cloud):
    settings = cloud["settings"]
    assert settings.stat().st_mode & 0o777 == 0o600
    text = settings.read_text()
    assert cloud["env"]["OS_AUTH_URL"] in text
    assert cloud["ids"]["vip_subnet_id"] in text
    assert cloud["ids"]["external_network_id"] in text


def test_token_and_catalog(cloud):
    token = osc(cloud, "token", "issue", "-f", "json")
    assert token["id"] and token["project_id"] and token["expires"]
    catalog = osc(cloud, "catalog", "list", "-f", "json")
    types = {entry["Type"] for entry in catalog}
    assert {"identity", "load-balancer", "network"} <= types
    lb = next(e for e in catalog if e["Type"] == "load-balancer")
    endpoints = json.dumps(lb["Endpoints"])
    assert "public" in endpoints and "internal" in endpoints


def test_load_balancer_life_cycle(cloud):
    ids = cloud["ids"]
    lb = osc(cloud, "loadbalancer", "create", "--name", "fidelity", "--vip-subnet-id",
             ids["vip_subnet_id"], "--wait", "-f", "json")
    assert lb["provisioning_status"] == "ACTIVE"
    listener = osc(cloud, "loadbalancer", "listener", "create", "--name", "fidelity-443",
                   "--protocol", "TCP", "--protocol-port", "443", "--wait", "fidelity", "-f", "json")
    assert listener["protocol_port"] == 443
    pool = osc(cloud, "loadbalancer", "pool", "create", "--name", "fidelity-pool", "--protocol", "TCP",
               "--lb-algorithm", "ROUND_ROBIN", "--listener", "fidelity-443", "--wait", "-f", "json")
    assert pool["lb_algorithm"] == "ROUND_ROBIN"
    for address in ids["member_addresses"].split(","):
        member = osc(cloud, "loadbalancer", "member", "create", "--address", address,
                     "--protocol-port", "6443", "--subnet-id", ids["vip_subnet_id"], "--wait",
                     "fidelity-pool", "-f", "json")
        assert member["address"] == address
    monitor = osc(cloud, "loadbalancer", "healthmonitor", "create", "--delay", "5", "--timeout", "3",
                  "--max-retries", "3", "--type", "TCP", "--wait", "fidelity-pool", "-f", "json")
    assert monitor["type"] == "TCP"
    shown = osc(cloud, "loadbalancer", "show", "fidelity", "-f", "json")
    assert shown["provisioning_status"] == "ACTIVE" and shown["operating_status"] == "ONLINE"
    listed = osc(cloud, "loadbalancer", "list", "-f", "json")
    assert [x["name"] for x in listed] == ["fidelity"]
    members = osc(cloud, "loadbalancer", "member", "list", "fidelity-pool", "-f", "json")
    assert all(m["operating_status"] == "ONLINE" for m in members) and len(members) == 3

    fip = osc(cloud, "floating", "ip", "create", "--port", shown["vip_port_id"],
              ids["external_network_id"], "-f", "json")
    assert fip["port_id"] == shown["vip_port_id"]
    assert fip["fixed_ip_address"] == shown["vip_address"]

    group = osc(cloud, "security", "group", "create", "fidelity-members", "-f", "json")
    rule = osc(cloud, "security", "group", "rule", "create", "--ingress", "--protocol", "tcp",
               "--dst-port", "6443", "--remote-ip", "10.5.0.0/24", group["id"], "-f", "json")
    assert rule["port_range_min"] == 6443 and rule["remote_ip_prefix"] == "10.5.0.0/24"

    osc(cloud, "loadbalancer", "delete", "--cascade", "--wait", "fidelity")
    assert osc(cloud, "loadbalancer", "list", "-f", "json") == []
    # The floating IP stays allocated but is no longer bound (Neutron disassociates it).
    after = osc(cloud, "floating", "ip", "show", fip["id"], "-f", "json")
    assert after["port_id"] is None
    osc(cloud, "floating", "ip", "delete", fip["id"])
