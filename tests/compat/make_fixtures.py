"""Writes fixtures/relation/*.json: hook envelopes whose request texts come from the real
library (`LBProvider.send_request` semantics: sent_hash = hash with sent_hash null), with fixed
ids so the files are stable. Run: .venv/bin/python tests/compat/make_fixtures.py"""

import json
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from loadbalancer_interface.schemas import v1

OUT = Path(__file__).resolve().parents[2] / "fixtures" / "relation"
APP = "kubernetes-control-plane"
UNITS = {f"{APP}/{i}": {"ingress-address": f"10.5.0.1{i}"} for i in range(3)}


def sent(name, id_, **fields):
    req = v1.Request()
    req.name, req.id = name, id_
    req.protocol = fields.pop("protocol", v1.Protocols.tcp)
    req.port_mapping = fields.pop("port_mapping")
    for check in fields.pop("health_checks", []):
        req.add_health_check(**check)
    for k, v in fields.items():
        setattr(req, k, v)
    req.sent_hash = None
    req.sent_hash = req.hash
    return req.dumps()


def kcp(public):
    name = "api-server-external" if public else "api-server-internal"
    return sent(name, ("e" if public else "i") * 32, port_mapping={443 if public else 6443: 6443}, public=public,
                health_checks=[{"protocol": v1.Protocols.http, "port": 6443, "path": "/livez"}])


def envelope(app_data, units=UNITS, local=None, rel_id=7):
    rel = {"id": rel_id, "app": APP, "app_data": dict(app_data), "units": units}
    if local is not None:
        rel["local_app_data"] = local
    return {"relations": [rel]}


def write(name, value):
    (OUT / name).write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write("kcp-requests.json", envelope({
        "version": "1",
        "request_api-server-external": kcp(True),
        "request_api-server-internal": kcp(False),
    }))
    write("mixed-requests.json", envelope({
        "version": "1",
        "request_api-server-external": kcp(True),
        "request_tls": sent("tls", "t" * 32, protocol=v1.Protocols.https, port_mapping={443: 8443},
                            tls_termination=True, tls_cert="CERT", tls_key="KEY"),
        "request_upper": json.dumps({"id": "u", "name": "upper", "protocol": "TCP", "port_mapping": {"443": 6443},
                                     "public": None, "foo": 1, "sent_hash": "0123456789abcdef0123456789abcdef"}),
        "request_garbage": "{not json",
    }, local={"version": "1", "response_removed": "{}", "response_tls": "{}"}))
    write("no-version.json", envelope({"request_api-server-external": kcp(True)}))
    write("public-address.json", {"relations": [
        {"id": 4, "app": "kubernetes-master", "units": {
            "kubernetes-master/0": {"ingress-address": "10.5.0.10", "private-address": "10.5.0.10"},
            "kubernetes-master/1": {"private-address": "10.5.0.11", "port": "6443"}}},
        {"id": 5, "app": "etcd", "units": {}},
    ]})


if __name__ == "__main__":
    main()
