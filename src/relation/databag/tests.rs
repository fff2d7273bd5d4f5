use super::*;
use crate::relation::v1::{Address, ErrorKind, HealthCheck, Protocol};

fn external() -> Request {
    let mut r = Request::new(
        "0123456789abcdef0123456789abcdef",
        "api-server-external",
        Protocol::Tcp,
        BTreeMap::from([(443, 6443)]),
    );
    let mut hc = HealthCheck::new(Protocol::Http, 6443);
    hc.path = Some("/livez".into());
    r.health_checks.push(hc);
    r.sealed()
}

fn input(app_data: &[(&str, String)], local: Option<&[&str]>) -> HookInput {
    HookInput {
        relations: vec![RelationInput {
            id: 7,
            app: "kubernetes-control-plane".into(),
            app_data: app_data
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            units: BTreeMap::from([
                (
                    "kubernetes-control-plane/10".into(),
                    BTreeMap::from([("ingress-address".into(), "10.5.0.12".into())]),
                ),
                (
                    "kubernetes-control-plane/2".into(),
                    BTreeMap::from([("ingress-address".into(), "10.5.0.11".into())]),
                ),
                (
                    "kubernetes-control-plane/0".into(),
                    BTreeMap::from([("ingress-address".into(), "10.5.0.10".into())]),
                ),
                (
                    "kubernetes-control-plane/3".into(),
                    BTreeMap::from([("private-address".into(), "10.5.0.13".into())]),
                ),
            ]),
            local_app_data: local.map(|keys| {
                keys.iter()
                    .map(|k| (k.to_string(), "{}".to_string()))
                    .collect()
            }),
        }],
    }
}

#[test]
fn the_issue_envelope_parses_and_writes_in_the_documented_shape() {
    let text = format!(
        r#"{{"relations":[{{"id":7,"app":"kubernetes-control-plane","app_data":{{"version":"1","request_api-server-external":{}}},"units":{{"kubernetes-control-plane/0":{{"ingress-address":"10.5.0.10"}}}}}}]}}"#,
        serde_json::Value::from(external().canonical_json())
    );
    let input: HookInput = serde_json::from_str(&text).unwrap();
    let reading = read(&input);
    let incoming = &reading.relations[0].requests[0];
    assert_eq!(
        incoming.key,
        RequestKey::new(7, "kubernetes-control-plane", "api-server-external")
    );
    let request = incoming.request.as_ref().unwrap();
    assert_eq!(request.backends, ["10.5.0.10"]);
    let answer = Response::success(request, Address::parse("203.0.113.10").unwrap());
    let out = write(
        &reading,
        &BTreeMap::from([(incoming.key.clone(), answer.clone())]),
    );
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        serde_json::json!({"relations": [{"id": 7, "set": {
            "version": "1",
            "response_api-server-external": answer.canonical_json()
        }, "unset": []}]})
    );
    assert_eq!(
        out.relations[0].set["response_api-server-external"],
        r#"{"address": "203.0.113.10", "error": null, "error_fields": {}, "error_message": null, "received_hash": "3f6d38e4dad3760c16b632677967a49d"}"#
    );
}

#[test]
fn empty_backends_come_from_unit_ingress_addresses_in_unit_name_string_order() {
    let reading = read(&input(
        &[
            ("version", "1".into()),
            ("request_api-server-external", external().canonical_json()),
        ],
        None,
    ));
    let r = reading.relations[0].requests[0].request.as_ref().unwrap();
    // "/0" < "/10" < "/2"; "/3" has no ingress-address.
    assert_eq!(r.backends, ["10.5.0.10", "10.5.0.12", "10.5.0.11"]);
    // The provider-side hash changes with the filled backends; sent_hash does not.
    assert_eq!(r.sent_hash, external().sent_hash);
}

#[test]
fn explicit_backends_are_kept() {
    let mut req = external();
    req.backends = vec!["192.168.0.5".into()];
    let req = req.sealed();
    let reading = read(&input(
        &[
            ("version", "1".into()),
            ("request_api-server-external", req.canonical_json()),
        ],
        None,
    ));
    assert_eq!(
        reading.relations[0].requests[0]
            .request
            .as_ref()
            .unwrap()
            .backends,
        ["192.168.0.5"]
    );
}

#[test]
fn relations_without_remote_version_are_not_read_but_get_our_version() {
    for version in [None, Some("zero"), Some("0"), Some("")] {
        let mut data = vec![("request_api-server-external", external().canonical_json())];
        if let Some(v) = version {
            data.push(("version", v.to_string()));
        }
        let reading = read(&input(&data, Some(&["response_old"])));
        let rel = &reading.relations[0];
        assert!(
            rel.skipped.is_some() && rel.requests.is_empty() && rel.gone.is_empty(),
            "{version:?}"
        );
        let out = write(&reading, &BTreeMap::new());
        assert_eq!(
            out.relations[0].set,
            BTreeMap::from([("version".into(), "1".into())])
        );
        assert!(out.relations[0].unset.is_empty());
    }
    // A newer requirer version is served with ours (min of the two).
    let reading = read(&input(
        &[("version", "2".into()), ("request_x", "{}".into())],
        None,
    ));
    assert!(reading.relations[0].skipped.is_none());
}

#[test]
fn bad_requests_are_answered_unsupported_with_the_name_from_the_key() {
    let mut bad: serde_json::Value = serde_json::from_str(&external().canonical_json()).unwrap();
    bad["protocol"] = "TCP".into();
    bad["public"] = serde_json::Value::Null;
    bad["extra"] = 1.into();
    let reading = read(&input(
        &[
            ("version", "1".into()),
            ("request_broken", bad.to_string()),
            ("request_not-json", "{nope".into()),
            ("request_wrong-name", external().canonical_json()),
            ("other_key", "ignored".into()),
        ],
        None,
    ));
    let rel = &reading.relations[0];
    let names: Vec<&str> = rel.requests.iter().map(|i| i.key.name.as_str()).collect();
    assert_eq!(names, ["broken", "not-json", "wrong-name"]);
    let answers: BTreeMap<RequestKey, Response> = rel
        .requests
        .iter()
        .map(|i| (i.key.clone(), rejection(i).expect("rejected")))
        .collect();
    let out = write(&reading, &answers);
    let set = &out.relations[0].set;
    let broken = Response::parse(&set["response_broken"]).unwrap();
    assert_eq!(broken.error(), Some(ErrorKind::Unsupported));
    assert_eq!(
        broken.error_fields().keys().collect::<Vec<_>>(),
        ["protocol", "public"]
    );
    assert_eq!(broken.received_hash(), external().sent_hash.as_deref());
    assert!(broken.error_message().unwrap().contains("\"extra\""));
    let not_json = Response::parse(&set["response_not-json"]).unwrap();
    assert_eq!(not_json.received_hash(), None);
    let wrong = Response::parse(&set["response_wrong-name"]).unwrap();
    assert_eq!(wrong.error_fields().keys().collect::<Vec<_>>(), ["name"]);
    assert_eq!(wrong.received_hash(), external().sent_hash.as_deref());
}

#[test]
fn removed_requests_lose_their_response_when_we_know_what_we_published() {
    let reading = read(&input(
        &[
            ("version", "1".into()),
            ("request_api-server-external", external().canonical_json()),
        ],
        Some(&[
            "version",
            "response_api-server-external",
            "response_gone",
            "unrelated",
        ]),
    ));
    let rel = &reading.relations[0];
    assert_eq!(
        rel.gone,
        [RequestKey::new(7, "kubernetes-control-plane", "gone")]
    );
    let out = write(&reading, &BTreeMap::new());
    assert_eq!(out.relations[0].unset, ["response_gone"]);
    // Still converging: no response written, the old one is not touched.
    assert!(!out.relations[0]
        .set
        .contains_key("response_api-server-external"));
}

#[test]
fn two_apps_asking_for_the_same_name_are_two_requests() {
    let mut i = input(
        &[
            ("version", "1".into()),
            ("request_api-server-external", external().canonical_json()),
        ],
        None,
    );
    let mut other = i.relations[0].clone();
    other.id = 9;
    other.app = "k8s".into();
    i.relations.push(other);
    let current = read(&i).current();
    assert_eq!(current.keys.len(), 2);
    assert!(current.held_relations.is_empty());
}

#[test]
fn unknown_envelope_keys_are_rejected_by_name() {
    let err = serde_json::from_str::<HookInput>(
        r#"{"relations": [{"id": 1, "app": "a", "appdata": {}}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("appdata"), "{err}");
    assert!(
        serde_json::from_str::<HookInput>(r#"{"relations": [{"id": -1, "app": "a"}]}"#).is_err()
    );
}
