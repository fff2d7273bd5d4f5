//! The persisted desired requests and last answers: one file, atomic replace, fsync, 0600, locked.
//!
//! [`Store::open`] takes an exclusive lock on a sibling `<file>.lock` (the data file itself is
//! replaced on every save, so it cannot carry the lock) and holds it until the [`Store`] is
//! dropped: a second daemon on the same file is refused with a clear error. A missing file is
//! created empty (0600; a folder we create is 0700); an unreadable or corrupt file is an error
//! naming it, never a silent reset. Changes are made in memory and written by [`Store::save`]
//! (temp file in the same folder, fsync, rename, fsync the folder). The store knows nothing of
//! OpenStack or relation types: requests and answers are JSON text.

mod atomic;
mod document;
mod error;

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use document::{Document, StoredEntry, FORMAT, VERSION};
pub use error::StoreError;

use crate::relation::RequestKey;
use document::DecodeError;

/// The store: the document in memory, the lock held for its lifetime.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    doc: Document,
}

impl Store {
    /// Opens (or creates) the store at `path` and locks it for this process.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        atomic::ensure_parent(&path)?;
        let lock_path = lock_path(&path);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(atomic::FILE_MODE)
            .open(&lock_path)
            .map_err(|e| StoreError::io("open the lock file", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path,
                    lock: lock_path,
                })
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError::io("lock", &lock_path, e));
            }
        }
        let doc = match std::fs::read(&path) {
            Ok(bytes) => decode_at(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc = Document::default();
                atomic::write_atomic(&path, &doc.encode())?;
                doc
            }
            Err(e) => return Err(StoreError::io("read the store", &path, e)),
        };
        atomic::tighten_mode(&path)?;
        Ok(Store {
            path,
            lock_path,
            _lock: lock,
            doc,
        })
    }

    /// Reads the document at `path` without taking the lock (for a look only: a running
    /// daemon may hold it; its writes are atomic replaces, so the read is whole). A missing
    /// file reads as an empty store.
    ///
    /// # Errors
    /// The file cannot be read or is not a store document.
    pub fn peek(path: impl AsRef<Path>) -> Result<Document, StoreError> {
        let path = path.as_ref();
        match std::fs::read(path) {
            Ok(bytes) => decode_at(path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Document::default()),
            Err(e) => Err(StoreError::io("read the store", path, e)),
        }
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file beside it.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// The whole document as held in memory (saved or not).
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// One request's entry.
    pub fn get(&self, key: &RequestKey) -> Option<&StoredEntry> {
        self.doc.entries.get(key)
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> std::collections::btree_map::Iter<'_, RequestKey, StoredEntry> {
        self.doc.entries.iter()
    }

    /// Records a request's JSON text (now). Returns whether it differs from what was stored.
    pub fn set_request(&mut self, key: RequestKey, request: impl Into<String>) -> bool {
        self.set_request_at(key, request, Utc::now())
    }

    /// [`set_request`](Store::set_request) at a given time. An unchanged text keeps its
    /// original time and its answer.
    pub fn set_request_at(
        &mut self,
        key: RequestKey,
        request: impl Into<String>,
        now: DateTime<Utc>,
    ) -> bool {
        let request = request.into();
        match self.doc.entries.get_mut(&key) {
            Some(entry) if entry.request == request && entry.refusal.is_none() => false,
            Some(entry) => {
                if entry.request != request {
                    entry.request = request;
                    entry.request_at = now;
                }
                entry.refusal = None;
                true
            }
            None => {
                self.doc.removals.remove(&key);
                self.doc.entries.insert(
                    key,
                    StoredEntry {
                        request,
                        request_at: now,
                        answer: None,
                        answered_at: None,
                        refusal: None,
                    },
                );
                true
            }
        }
    }

    /// Records the answer for a stored request (now). Returns whether it changed (the notify
    /// command runs once per changed answer).
    pub fn set_answer(
        &mut self,
        key: &RequestKey,
        answer: impl Into<String>,
    ) -> Result<bool, StoreError> {
        self.set_answer_at(key, answer, Utc::now())
    }

    /// [`set_answer`](Store::set_answer) at a given time.
    pub fn set_answer_at(
        &mut self,
        key: &RequestKey,
        answer: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let entry = self
            .doc
            .entries
            .get_mut(key)
            .ok_or_else(|| StoreError::UnknownRequest {
                key: key.to_string(),
            })?;
        let answer = answer.into();
        if entry.answer.as_deref() == Some(answer.as_str()) {
            return Ok(false);
        }
        entry.answer = Some(answer);
        entry.answered_at = Some(now);
        Ok(true)
    }

    /// Forgets a request (it was removed); returns what was stored. A request that was
    /// stored stays in [`Store::removals`] until [`Store::removal_done`] says its cloud
    /// resources are gone, so a removal interrupted at any point is carried out later.
    pub fn remove(&mut self, key: &RequestKey) -> Option<StoredEntry> {
        let entry = self.doc.entries.remove(key);
        if let Some(e) = &entry {
            self.doc.removals.insert(key.clone(), e.clone());
        }
        entry
    }

    /// Requests removed whose cloud resources may still exist, with what was stored for them.
    pub fn removals(&self) -> impl Iterator<Item = (&RequestKey, &StoredEntry)> {
        self.doc.removals.iter()
    }

    /// The cloud resources of a removed request are gone: stop remembering it. Returns whether
    /// it was remembered.
    pub fn removal_done(&mut self, key: &RequestKey) -> bool {
        self.doc.removals.remove(key).is_some()
    }

    /// Records that the request as last received is refused with `refusal` (an answer's JSON
    /// text). A stored request keeps its last loadable text (what was built for it is kept);
    /// a new one is stored as `placeholder` (its interface, no loadable request). Returns
    /// whether anything changed.
    pub fn set_refusal(
        &mut self,
        key: RequestKey,
        placeholder: impl Into<String>,
        refusal: impl Into<String>,
    ) -> bool {
        let refusal = refusal.into();
        self.doc.removals.remove(&key);
        match self.doc.entries.get_mut(&key) {
            Some(entry) if entry.refusal.as_deref() == Some(refusal.as_str()) => false,
            Some(entry) => {
                entry.refusal = Some(refusal);
                true
            }
            None => {
                self.doc.entries.insert(
                    key,
                    StoredEntry {
                        request: placeholder.into(),
                        request_at: Utc::now(),
                        answer: None,
                        answered_at: None,
                        refusal: Some(refusal),
                    },
                );
                true
            }
        }
    }

    /// What the reconciler learned of the cloud (opaque JSON text), if anything.
    pub fn learned(&self) -> Option<&str> {
        self.doc.learned.as_deref()
    }

    /// Replaces what the reconciler learned; `true` when it changed (not saved yet).
    pub fn set_learned(&mut self, learned: String) -> bool {
        if self.doc.learned.as_deref() == Some(learned.as_str()) {
            return false;
        }
        self.doc.learned = Some(learned);
        true
    }

    /// Whether this unit was last told it is the leader (`None`: never told).
    pub fn leader(&self) -> Option<bool> {
        self.doc.leader
    }

    /// Records the leader flag.
    pub fn set_leader(&mut self, leader: bool) {
        self.doc.leader = Some(leader);
    }

    /// Writes the document durably (temp file, fsync, rename, fsync folder; mode 0600).
    /// On failure the previous file is left as it was.
    pub fn save(&self) -> Result<(), StoreError> {
        atomic::write_atomic(&self.path, &self.doc.encode())
    }
}

/// Decodes the document read from `path`, naming the file in the error.
fn decode_at(path: &Path, bytes: &[u8]) -> Result<Document, StoreError> {
    Document::decode(bytes).map_err(|e| match e {
        DecodeError::Corrupt(reason) => StoreError::Corrupt {
            path: path.to_path_buf(),
            reason,
        },
        DecodeError::Newer(found) => StoreError::NewerVersion {
            path: path.to_path_buf(),
            found,
            supported: VERSION,
        },
    })
}

/// `<file>.lock` beside the store file.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_path_is_a_sibling() {
        assert_eq!(
            lock_path(Path::new("/var/lib/oi/state.json")),
            PathBuf::from("/var/lib/oi/state.json.lock")
        );
    }

    #[test]
    fn unchanged_request_keeps_time_and_answer() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("s.json")).unwrap();
        let key = RequestKey::new(1, "a", "n");
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: DateTime<Utc> = "2026-01-01T00:05:00Z".parse().unwrap();
        assert!(store.set_request_at(key.clone(), "{}", t0));
        assert!(store.set_answer_at(&key, "{\"a\": 1}", t0).unwrap());
        assert!(!store.set_answer_at(&key, "{\"a\": 1}", t1).unwrap());
        assert!(!store.set_request_at(key.clone(), "{}", t1));
        let e = store.get(&key).unwrap();
        assert_eq!(e.request_at, t0);
        assert_eq!(e.answered_at, Some(t0));
        assert!(store.set_request_at(key.clone(), "{\"x\": 1}", t1));
        assert_eq!(store.get(&key).unwrap().request_at, t1);
        assert_eq!(
            store.get(&key).unwrap().answer.as_deref(),
            Some("{\"a\": 1}")
        );
    }

    #[test]
    fn answer_needs_a_request() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("s.json")).unwrap();
        let err = store
            .set_answer(&RequestKey::new(0, "a", "n"), "{}")
            .unwrap_err();
        assert!(err.to_string().contains("a/n"), "{err}");
    }
}
