//! The store file: round trip, lock, corrupt and unreadable files, permissions.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use octavia_integrator::relation::RequestKey;
use octavia_integrator::store::{Store, StoreError};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const REQUEST: &str = r#"{"name": "api-server-external", "protocol": "tcp", "port_mapping": {"443": 6443}, "public": true, "sent_hash": "abc"}"#;
const ANSWER: &str = r#"{"address": "203.0.113.10", "error": null, "received_hash": "abc"}"#;

#[test]
fn round_trip_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let external = RequestKey::new(7, "kubernetes-control-plane", "api-server-external");
    let internal = RequestKey::new(7, "kubernetes-control-plane", "api-server-internal");
    let manual = RequestKey::new(0, "ops", "manual");
    {
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.entries().count(), 0);
        assert_eq!(store.leader(), None);
        assert!(store.set_request_at(external.clone(), REQUEST, t("2026-03-01T10:00:00Z")));
        assert!(store
            .set_answer_at(&external, ANSWER, t("2026-03-01T10:02:00Z"))
            .unwrap());
        assert!(store.set_request_at(
            internal.clone(),
            "{\"name\": \"i\"}",
            t("2026-03-01T10:00:01Z")
        ));
        assert!(store.set_request_at(manual.clone(), "{}", t("2026-03-01T11:00:00Z")));
        store.set_leader(true);
        store.save().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.leader(), Some(true));
    let e = store.get(&external).unwrap();
    assert_eq!(e.request, REQUEST, "request text kept byte for byte");
    assert_eq!(e.answer.as_deref(), Some(ANSWER));
    assert_eq!(e.request_at, t("2026-03-01T10:00:00Z"));
    assert_eq!(e.answered_at, Some(t("2026-03-01T10:02:00Z")));
    assert_eq!(store.get(&internal).unwrap().answer, None);
    assert!(store.get(&manual).is_some());
    let keys: Vec<_> = store.entries().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        keys,
        vec![manual.clone(), external.clone(), internal.clone()],
        "key order"
    );

    // Removal persists too.
    assert!(store.remove(&internal).is_some());
    store.set_leader(false);
    store.save().unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert!(store.get(&internal).is_none());
    assert_eq!(store.leader(), Some(false));
    assert_eq!(store.entries().count(), 2);
}

#[test]
fn unsaved_changes_are_not_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let before = {
        let mut store = Store::open(&path).unwrap();
        store.set_request(RequestKey::new(1, "a", "n"), "{}");
        std::fs::read(&path).unwrap()
    };
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(Store::open(&path).unwrap().entries().count(), 0);
}

#[test]
fn a_second_open_is_refused_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let first = Store::open(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "another octavia-integrator holds {}",
            path.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("state_file"), "says what to do: {msg}");
    drop(first);
    let _again = Store::open(&path).expect("lock released when the store is dropped");
}

#[test]
fn a_corrupt_store_is_an_error_naming_it_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    for junk in [
        &b"{\"format\": \"octavia-integrator-store\", \"version\": 1, \"requests\": [ trunc"[..],
        b"",
        b"\x00\x01binary",
        b"{\"some\": \"other json\"}",
    ] {
        std::fs::write(&path, junk).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("never reset"), "{msg}");
        assert_eq!(std::fs::read(&path).unwrap(), junk, "not reset");
    }
}

#[test]
fn a_store_from_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(
        &path,
        r#"{"format": "octavia-integrator-store", "version": 99}"#,
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerVersion { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn an_unreadable_store_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::create_dir(&path).unwrap(); // a folder where the file should be
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn files_are_0600_and_created_folders_0700() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("var/lib/oi/state.json");
    let store = Store::open(&path).unwrap();
    assert!(path.exists(), "created on open");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(store.lock_path()), 0o600);
    assert_eq!(mode(&dir.path().join("var/lib/oi")), 0o700);
    assert_eq!(mode(&dir.path().join("var")), 0o700);

    // Opening, or saving, after someone loosened the mode puts it back to 0600.
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    store.set_request(RequestKey::new(0, "a", "b"), "{}");
    store.save().unwrap();
    assert_eq!(mode(&path), 0o600);
    let mut leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["state.json", "state.json.lock"],
        "no temp file left"
    );
}

#[test]
fn an_existing_folder_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let _store = Store::open(dir.path().join("state.json")).unwrap();
    assert_eq!(mode(dir.path()), 0o755);
}

#[test]
fn save_failure_leaves_the_old_file() {
    // A non-empty folder squats on the temp file's name, so the save fails before the store
    // file is touched. (A write failing midway is simulated in src/store/atomic.rs tests.)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut store = Store::open(&path).unwrap();
    store.set_request(RequestKey::new(0, "a", "old"), "{}");
    store.save().unwrap();
    let before = std::fs::read(&path).unwrap();
    let blocker = dir.path().join(".state.json.tmp");
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("x"), "x").unwrap();
    store.set_request(RequestKey::new(0, "a", "new"), "{}");
    let err = store.save().unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains(".state.json.tmp"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_dir_all(&blocker).unwrap();
    store.save().unwrap();
    assert!(Store::open(&path).is_err(), "still locked by `store`");
    drop(store);
    assert_eq!(Store::open(&path).unwrap().entries().count(), 2);
}
