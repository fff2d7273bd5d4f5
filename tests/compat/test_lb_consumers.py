"""`lb-consumers` against the library, without a cloud: version handshake, bad input, requests
no provider can serve, removal. (Answers that need a cloud: test_converged.py.)"""

import json
import random

import pytest

from loadbalancer_interface.schemas import v1

from conftest import CONFIG, OK, REQUIRER, check_every_response, library_verdict, run_cli

# Made with this very library by scripts/make-vectors (test_vectors.py keeps the file honest).
VECTORS = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "loadbalancer-v1.json"


def test_version_is_published_so_the_requirer_can_ask(exchange):
    assert not exchange.lb.is_available
    code, rel, _ = exchange.hook(requirer_hook=False)
    assert code == OK
    assert rel["set"] == {"version": "1"} and rel["unset"] == []
    assert exchange.provider_data() == {"version": "1"}
    assert exchange.lb.is_available and exchange.lb.can_request


def test_requests_are_not_read_before_the_requirer_publishes_version(exchange):
    exchange.write_raw_request("early", "not json")
    code, rel, _ = exchange.hook(requirer_hook=False)
    assert rel["set"] == {"version": "1"}  # remote version missing: nothing read
    assert code == OK


def test_valid_requests_get_no_answer_and_a_clear_error_without_a_cloud(exchange):
    exchange.hook()
    exchange.request(
        "api-server-external",
        public=True,
        health_checks=[{"protocol": v1.Protocols.http, "port": 6443, "path": "/livez"}],
    )
    code, rel, err = exchange.hook()
    assert code == CONFIG
    assert "no cloud configured" in err and "api-server-external" in err
    assert "response_api-server-external" not in rel["set"]
    assert exchange.complete_names() == []  # the requirer keeps waiting


REFUSED_EVERYWHERE = [
    # (name, request fields, offending top-level fields)
    ("tls", {"tls_termination": True, "tls_cert": "CERT", "tls_key": "KEY", "protocol": v1.Protocols.https}, {"tls_termination"}),
    ("no-ports", {"port_mapping": {}}, {"port_mapping"}),
    ("port-zero", {"port_mapping": {0: 6443}}, {"port_mapping"}),
    ("port-too-big", {"port_mapping": {443: 70000}}, {"port_mapping"}),
    ("hostname-backend", {"backends": ["node-1.example"]}, {"backends"}),
    ("two-checks", {"health_checks": [{"protocol": v1.Protocols.tcp, "port": 6443}, {"protocol": v1.Protocols.http, "port": 8080, "path": "/healthz"}]}, {"health_checks"}),
    ("path-on-tcp", {"health_checks": [{"protocol": v1.Protocols.tcp, "port": 6443, "path": "/livez"}]}, {"health_checks"}),
    ("zero-retries", {"health_checks": [{"protocol": v1.Protocols.tcp, "port": 6443, "retries": 0}]}, {"health_checks"}),
    ("bad-ingress", {"ingress_address": "not-an-ip"}, {"ingress_address"}),
    ("several", {"tls_termination": True, "port_mapping": {}}, {"tls_termination", "port_mapping"}),
]


@pytest.mark.parametrize("name,fields,offending", REFUSED_EVERYWHERE, ids=[c[0] for c in REFUSED_EVERYWHERE])
def test_library_requests_no_provider_can_serve_get_a_complete_unsupported_answer(exchange, name, fields, offending):
    exchange.hook()
    sent = exchange.request(name, **fields)
    exchange.hook()
    assert check_every_response(exchange) == [name]
    response = exchange.library_response(name)
    assert response.error == v1.ErrorTypes.unsupported
    assert set(response.error_fields) == offending
    assert response.received_hash == sent.sent_hash
    # The leader requirer sees it as the answer to its current request, and keeps its id.
    assert exchange.complete_names() == [name]
    assert exchange.lb.get_request(name).id == sent.id
    assert [r.name for r in exchange.lb.new_responses] == [name]


def _bad_inputs():
    """Request texts the library rejects (from the vectors file, and more)."""
    cases = {}
    base = {"id": "a", "name": "x", "protocol": "tcp", "port_mapping": {"443": 6443}, "sent_hash": "feedface"}
    extra = {
        "unknown-key": {"foo": "bar"},
        "upper-protocol": {"protocol": "TCP"},
        "sctp": {"protocol": "sctp"},
        "bad-port-value": {"port_mapping": {"443": "x"}},
        "bad-port-key": {"port_mapping": {"none": 1}},
        "null-port": {"port_mapping": {"443": None}},
        "mapping-list": {"port_mapping": [443, 6443]},
        "null-public": {"public": None},
        "string-sticky": {"sticky": "maybe"},
        "bool-list": {"backends": "10.0.0.1"},
        "null-backend": {"backends": [None]},
        "hc-missing-port": {"health_checks": [{"protocol": "http"}]},
        "hc-extra": {"health_checks": [{"protocol": "http", "port": 1, "x": 1}]},
        "hc-null-interval": {"health_checks": [{"protocol": "http", "port": 1, "interval": None}]},
        "numeric-id": {"id": 7},
        "many-problems": {"protocol": "TCP", "public": None, "foo": 1},
    }
    for case, change in extra.items():
        body = dict(base, name=case)
        body.update(change)
        cases[case] = json.dumps(body)
    for case in ("no-mapping", "no-id"):
        body = dict(base, name=case)
        body.pop("port_mapping" if case == "no-mapping" else "id")
        cases[case] = json.dumps(body)
    cases["not-json"] = "{nope"
    cases["array"] = "[]"
    cases["string"] = '"request"'
    cases["wrong-name"] = json.dumps(dict(base, name="something-else"))
    return cases


BAD = _bad_inputs()


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_requests_are_answered_unsupported_naming_the_fields(exchange, name):
    exchange.hook()
    text = BAD[name]
    exchange.write_raw_request(name, text)
    code, rel, _ = exchange.hook()
    assert code == OK  # nothing needed a cloud
    assert f"response_{name}" in rel["set"]
    assert check_every_response(exchange) == [name]
    response = exchange.library_response(name)
    assert response.error == v1.ErrorTypes.unsupported
    assert response.error_message.startswith("invalid request:")
    accepted, offending = library_verdict(text)
    if name == "wrong-name":
        assert accepted and set(response.error_fields) == {"name"}
    else:
        assert not accepted
        request_fields = set(v1.Request._Schema().fields)
        assert set(response.error_fields) == offending & request_fields
        for unknown in offending - request_fields:
            assert json.dumps(unknown) in response.error_message
    try:
        sent_hash = json.loads(text).get("sent_hash")
    except (ValueError, AttributeError):
        sent_hash = None
    assert response.received_hash == sent_hash


def _corpus(seed=1234, count=300):
    """Random requests around the schema's edges, to compare accept/reject with the library."""
    rng = random.Random(seed)
    values = {
        "id": ["a", "", 1, None],
        "name": ["n", 1, None],
        "protocol": ["tcp", "udp", "http", "https", "TCP", "Udp", "", None, 1],
        "backends": [[], ["10.0.0.1"], ["10.0.0.1", 2], [None], "x", None],
        "port_mapping": [{}, {"443": 6443}, {"443": "6443"}, {" 80 ": " 8080 "}, {"0443": 1}, {"1_000": 2},
                         {"-5": 5}, {"x": 1}, {"443": 1.5}, {"443": True}, {"443": None}, [], None],
        "algorithm": [[], ["ROUND_ROBIN"], ["a", "b"], [1], "ROUND_ROBIN", None],
        "sticky": [True, False, 0, 1, 1.0, 0.0, 2, "true", "False", "YES", "yEs", "on", "t", "1", "", None, []],
        "public": [True, False, "false", "no", "N", "off", 0, "0", 0.5, None],
        "tls_termination": [False, "F", "nope", None],
        "tls_cert": [None, "c", 1],
        "tls_key": [None, "k", False],
        "ingress_address": [None, "192.0.2.1", 3],
        "sent_hash": [None, "h", 5],
        "health_checks": [[], [{"protocol": "http", "port": 1}], [{"protocol": "http", "port": "1", "interval": "5"}],
                          [{"protocol": "tcp", "port": 1, "retries": None}], [{"port": 1}], [{"protocol": "http", "port": True}],
                          [{"protocol": "https", "port": 443, "path": None}], [None], ["x"], None],
        "zzz": [1],
    }
    for i in range(count):
        body = {"id": "a", "name": f"c{i}", "protocol": "tcp", "port_mapping": {"443": 6443}}
        for key in rng.sample(sorted(values), rng.randint(1, 4)):
            if rng.random() < 0.1 and key in body:
                del body[key]
            else:
                body[key] = rng.choice(values[key])
        body["name"] = f"c{i}" if not isinstance(body.get("name"), int) or rng.random() < 0.5 else body["name"]
        yield f"c{i}", json.dumps(body)


def test_accept_and_reject_exactly_what_the_library_does():
    """300 edge-case requests in one hook: a request we reject gets an `invalid request:`
    answer; one we accept goes on (to the cloud, or a provider-independent refusal)."""
    corpus = dict(_corpus())
    app_data = {"version": "1"}
    app_data.update({f"request_{k}": v for k, v in corpus.items()})
    envelope = json.dumps({"relations": [{"id": 1, "app": REQUIRER, "app_data": app_data, "units": {}}]})
    code, out, err = run_cli(["lb-consumers"], envelope)
    assert code in (OK, CONFIG), err
    written = json.loads(out)["relations"][0]["set"]
    disagreements = []
    for key, text in corpus.items():
        accepted, _ = library_verdict(text)
        body = json.loads(text)
        if accepted and body["name"] != key:
            continue  # we also insist the name matches its key; the library does not look
        answer = written.get(f"response_{key}")
        we_rejected = answer is not None and json.loads(answer)["error_message"].startswith("invalid request:")
        if accepted == we_rejected:
            disagreements.append((text, "library accepts" if accepted else "library rejects", answer))
        if answer is not None:
            response = v1.Response(v1.Request())
            response._update(json.loads(answer))  # every answer is a valid library response
            assert response.dumps() == answer
    assert not disagreements, "\n".join(map(str, disagreements[:10]))


def test_vectors_file_invalid_requests_agree_with_the_library():
    vectors = json.loads(VECTORS.read_text())
    for case in vectors["invalid_requests"]:
        text = json.dumps(case["input"])
        assert library_verdict(text)[0] == case["accepted"], case  # the file still matches the library
    app_data = {"version": "1"}
    app_data.update({f"request_{c['input']['name']}": json.dumps(c["input"]) for c in vectors["invalid_requests"]})
    envelope = json.dumps({"relations": [{"id": 1, "app": REQUIRER, "app_data": app_data, "units": {}}]})
    _, out, _ = run_cli(["lb-consumers"], envelope)
    written = json.loads(out)["relations"][0]["set"]
    for case in vectors["invalid_requests"]:
        answer = written.get(f"response_{case['input']['name']}")
        rejected = answer is not None and json.loads(answer)["error_message"].startswith("invalid request:")
        assert rejected == (not case["accepted"]), case


def test_a_removed_request_loses_its_response(exchange):
    exchange.hook()
    exchange.request("tls", tls_termination=True)
    exchange.request("no-ports", port_mapping={})
    exchange.hook()
    assert sorted(k for k in exchange.provider_data() if k.startswith("response_")) == ["response_no-ports", "response_tls"]
    exchange.lb.remove_request("tls")
    code, rel, err = exchange.hook()
    assert rel["unset"] == ["response_tls"]
    assert "response_tls" not in exchange.provider_data()
    assert "response_no-ports" in exchange.provider_data()
    assert code == CONFIG and "tls" in err  # no cloud to clean up on: said, not hidden
    assert exchange.complete_names() == ["no-ports"]


def test_without_local_app_data_nothing_is_unset(exchange):
    exchange.hook()
    exchange.request("tls", tls_termination=True)
    exchange.hook()
    exchange.lb.remove_request("tls")
    code, rel, _ = exchange.hook(local=False)
    assert rel["unset"] == [] and code == OK


def test_two_relations_are_answered_separately():
    tls = v1.Request()
    tls.id, tls.name, tls.protocol, tls.port_mapping, tls.tls_termination = "i", "same", v1.Protocols.tcp, {443: 443}, True
    tls.sent_hash = tls.hash
    rels = [
        {"id": i, "app": app, "app_data": {"version": "1", "request_same": tls.dumps()}, "units": {}}
        for i, app in ((3, "kubernetes-control-plane"), (9, "k8s"))
    ]
    code, out, _ = run_cli(["lb-consumers"], json.dumps({"relations": rels}))
    assert code == OK
    assert [r["id"] for r in json.loads(out)["relations"]] == [3, 9]
    for rel in json.loads(out)["relations"]:
        assert json.loads(rel["set"]["response_same"])["received_hash"] == tls.sent_hash


@pytest.mark.parametrize("text", ["", "{}", '{"relations": {}}', '{"relations": [{"id": "7", "app": "a"}]}',
                                  '{"relations": [{"id": 7, "app": "a", "extra": 1}]}'])
def test_a_bad_envelope_is_a_usage_error_with_nothing_written(text):
    code, out, err = run_cli(["lb-consumers"], text)
    assert code == 2 and out == "" and "envelope" in err
