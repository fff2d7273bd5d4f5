//! Fuzz target: the `loadbalancer` v1 request parser (`Request::parse`) and the answer we
//! write for whatever it rejects. See docs/fuzzing.md.
//!
//! Checked for every input:
//! - no panic, whatever the bytes (non-UTF-8 input is first read lossily, as a databag value
//!   that went through a UTF-8 decoder would be);
//! - a request that loads survives its canonical JSON unchanged (same value, same hash);
//! - a request that does not load is answered `unsupported` with a response that the crate's
//!   own validator (`Response::parse`, the library's `Response.loads` rules) accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octavia_integrator::relation::{ErrorKind, Request, Response};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Request::parse(&text) {
        Ok(request) => {
            let canonical = request.canonical_json();
            assert!(canonical.is_ascii(), "canonical JSON is not ASCII: {canonical}");
            let again = Request::parse(&canonical)
                .unwrap_or_else(|e| panic!("canonical JSON {canonical} does not load: {e}"));
            assert_eq!(again, request, "canonical JSON changed the request");
            assert_eq!(again.hash(), request.hash());
        }
        Err(invalid) => {
            let answer = Response::rejected(&invalid);
            assert_eq!(answer.error(), Some(ErrorKind::Unsupported));
            assert_eq!(answer.received_hash(), invalid.sent_hash.as_deref());
            let written = answer.canonical_json();
            let reread = Response::parse(&written)
                .unwrap_or_else(|e| panic!("our answer {written} is invalid: {e}"));
            assert_eq!(reread, answer);
        }
    }
    // The response validator must not panic on anything either.
    let _ = Response::parse(&text);
});
