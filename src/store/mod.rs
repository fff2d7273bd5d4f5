//! The persisted desired requests and last answers: one file, atomic replace, fsync, 0600, locked.
