"""Answers that need a cloud: `lb-consumers --config` against the simulated cloud
(`octavia-integrator sim --write-config PATH`), read back by the library's requirer.

The hook commands answer in-process within `--wait` (no daemon here): every case must pass.
"""

import ipaddress
import json
import queue
import subprocess
import threading

import pytest

from loadbalancer_interface.schemas import v1

from conftest import BIN, OK, Exchange, check_every_response, run_cli

WAIT = "120"  # seconds; simulated delays are scaled down, this is only a ceiling


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """A simulated cloud (amphora) and the settings file that points at it."""
    settings = tmp_path_factory.mktemp("sim") / "settings.toml"
    proc = subprocess.Popen(
        [BIN, "sim", "--listen", "127.0.0.1:0", "--delay-scale", "0.002", "--write-config", str(settings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail("the simulated cloud did not start within 30 s")
            if line.startswith("# settings written to"):
                break
            if proc.poll() is not None:
                pytest.fail(f"`octavia-integrator sim` exited {proc.returncode}: {proc.stderr.read()}")
        yield settings
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def ex(cloud):
    exchange = Exchange(cli_args=["--config", str(cloud), "lb-consumers", "--wait", WAIT])
    exchange.hook()  # version handshake
    yield exchange
    # Remove every request so the next case starts from a clean cloud.
    for req in exchange.lb.all_requests:
        exchange.lb.remove_request(req.name)
    exchange.hook()
    exchange.harness.cleanup()


def converge(exchange):
    """One hook run; every request must be answered."""
    code, rel, err = exchange.hook()
    assert code == OK, err
    check_every_response(exchange)
    return rel


def answered(exchange, name):
    response = exchange.library_response(name)
    assert response, f"no response for {name}"
    request = exchange.lb.get_request(name)
    assert response.received_hash == request.sent_hash
    assert name in exchange.complete_names()
    return response


def test_kubernetes_control_plane_gets_two_distinct_addresses(ex):
    hc = [{"protocol": v1.Protocols.http, "port": 6443, "path": "/livez"}]
    ex.request("api-server-external", port_mapping={443: 6443}, public=True, health_checks=hc)
    ex.request("api-server-internal", port_mapping={6443: 6443}, public=False, health_checks=hc)
    converge(ex)
    external = answered(ex, "api-server-external")
    internal = answered(ex, "api-server-internal")
    assert external.error is None and internal.error is None
    ipaddress.ip_address(external.address)
    ipaddress.ip_address(internal.address)
    assert external.address != internal.address
    assert ipaddress.ip_address(internal.address) in ipaddress.ip_network("10.5.0.0/24")  # the VIP
    # A second hook with nothing changed answers the same, and the requirer sees no change.
    for r in ex.lb.new_responses:
        ex.lb.ack_response(r)
    converge(ex)
    assert answered(ex, "api-server-external").address == external.address
    assert ex.lb.new_responses == []


def test_k8s_charm_request_with_an_https_check(ex):
    ex.request("api-server-external", health_checks=[{"protocol": v1.Protocols.https, "port": 6443, "path": "/livez"}])
    converge(ex)
    assert answered(ex, "api-server-external").error is None


def test_several_port_mappings_algorithms_and_stickiness(ex):
    ex.request("web", protocol=v1.Protocols.http, port_mapping={80: 8080, 8443: 8443, 9000: 9000},
               algorithm=["MAGLEV", "LEAST_CONNECTIONS", "ROUND_ROBIN"], sticky=True,
               health_checks=[{"protocol": v1.Protocols.http, "port": 8080, "path": "/healthz", "interval": 5, "retries": 2}])
    converge(ex)
    assert answered(ex, "web").error is None


def test_udp(ex):
    ex.request("dns", protocol=v1.Protocols.udp, port_mapping={53: 5353})
    converge(ex)
    assert answered(ex, "dns").error is None


def test_an_algorithm_the_provider_lacks_is_unsupported_by_name(ex):
    ex.request("udp-dns", protocol=v1.Protocols.udp, port_mapping={53: 5353}, algorithm=["SOURCE_IP_PORT"])
    converge(ex)
    response = answered(ex, "udp-dns")
    assert response.error == v1.ErrorTypes.unsupported
    assert set(response.error_fields) == {"algorithm"}


def test_explicit_backends_and_a_requested_vip(ex):
    ex.request("pinned", backends=["10.5.0.11"], public=False, ingress_address="10.5.0.200")
    converge(ex)
    response = answered(ex, "pinned")
    assert response.error is None
    assert response.address == "10.5.0.200"


def test_a_removed_request_is_cleaned_up(ex):
    ex.request("short-lived")
    converge(ex)
    assert answered(ex, "short-lived").error is None
    ex.lb.remove_request("short-lived")
    rel = converge(ex)
    assert rel["unset"] == ["response_short-lived"]
    assert "response_short-lived" not in ex.provider_data()


def test_public_address_legacy_relation(cloud):
    units = {f"kubernetes-master/{i}": {"ingress-address": f"10.5.0.1{i}"} for i in range(3)}
    envelope = {"relations": [{"id": 4, "app": "kubernetes-master", "units": units}]}
    code, out, err = run_cli(["--config", str(cloud), "public-address", "--wait", WAIT], json.dumps(envelope))
    assert code == OK, err
    rel = json.loads(out)["relations"][0]
    assert rel["set"]["port"] == "443"
    ipaddress.ip_address(rel["set"]["public-address"])
    envelope["relations"][0]["units"] = {}
    code, out, err = run_cli(["--config", str(cloud), "public-address"], json.dumps(envelope))
    assert code == OK, err
    assert json.loads(out)["relations"][0]["unset"] == ["public-address", "port", "extended_data"]
