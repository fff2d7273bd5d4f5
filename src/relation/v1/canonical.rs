//! Canonical JSON of v1 objects, byte-identical to the library's `dumps()`
//! (`json.dumps(schema.dump(obj), sort_keys=True)`). Keys are written in sorted order by hand.

use crate::relation::json::PyJsonWriter;

use super::{HealthCheck, Request};

/// `Request.dumps()`.
pub(super) fn request(r: &Request) -> String {
    let mut w = PyJsonWriter::new();
    w.begin_object();
    w.key(0, "algorithm");
    w.string_array(&r.algorithm);
    w.key(1, "backends");
    w.string_array(&r.backends);
    w.key(2, "health_checks");
    w.raw("[");
    for (i, hc) in r.health_checks.iter().enumerate() {
        if i > 0 {
            w.raw(", ");
        }
        write_health_check(&mut w, hc);
    }
    w.raw("]");
    w.key(3, "id");
    w.string(&r.id);
    w.key(4, "ingress_address");
    w.opt_string(r.ingress_address.as_deref());
    w.key(5, "name");
    w.string(&r.name);
    w.key(6, "port_mapping");
    w.begin_object();
    // BTreeMap<i64, _> iterates in numeric order: the library sorts the int keys before
    // json.dumps turns them into strings.
    for (i, (front, back)) in r.port_mapping.iter().enumerate() {
        w.key(i, &front.to_string());
        w.int(*back);
    }
    w.end_object();
    w.key(7, "protocol");
    w.string(r.protocol.as_str());
    w.key(8, "public");
    w.bool(r.public);
    w.key(9, "sent_hash");
    w.opt_string(r.sent_hash.as_deref());
    w.key(10, "sticky");
    w.bool(r.sticky);
    w.key(11, "tls_cert");
    w.opt_string(r.tls_cert.as_deref());
    w.key(12, "tls_key");
    w.opt_string(r.tls_key.as_ref().map(|k| k.expose()));
    w.key(13, "tls_termination");
    w.bool(r.tls_termination);
    w.end_object();
    w.finish()
}

/// `HealthCheck.dumps()`.
pub(super) fn health_check(hc: &HealthCheck) -> String {
    let mut w = PyJsonWriter::new();
    write_health_check(&mut w, hc);
    w.finish()
}

fn write_health_check(w: &mut PyJsonWriter, hc: &HealthCheck) {
    w.begin_object();
    w.key(0, "interval");
    w.int(hc.interval);
    w.key(1, "path");
    w.opt_string(hc.path.as_deref());
    w.key(2, "port");
    w.int(hc.port);
    w.key(3, "protocol");
    w.string(hc.protocol.as_str());
    w.key(4, "retries");
    w.int(hc.retries);
    w.end_object();
}
