//! Helpers for the simulator's own tests: a raw HTTP client (no `openstack` client types, so the
//! simulator is checked on its own).
#![allow(dead_code)]

use openstack_sim::{Provider, Sim, SimHandle};
use serde_json::{json, Value};

/// A logged-in raw client.
pub struct Raw {
    pub http: reqwest::Client,
    pub token: String,
    pub lb: String,
    pub net: String,
}

/// Start a simulator (provider, scale 1.0 so nothing completes unless settled).
pub async fn start(provider: Provider) -> SimHandle {
    Sim::builder()
        .provider(provider)
        .delay_scale(1.0)
        .seed(42)
        .build()
        .start()
        .await
        .expect("simulator starts")
}

/// Password auth, project scope.
pub async fn login(sim: &SimHandle) -> Raw {
    let c = sim.credentials();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/auth/tokens", sim.auth_url()))
        .json(&json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": c.username, "domain": {"name": c.domain_name}, "password": c.password}}},
                                "scope": {"project": {"id": c.project_id}}}}))
        .send()
        .await
        .expect("auth request");
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-subject-token"]
        .to_str()
        .expect("token header")
        .to_string();
    Raw {
        http,
        token,
        lb: format!("{}/v2/lbaas", sim.load_balancer_url()),
        net: format!("{}/v2.0", sim.network_url()),
    }
}

impl Raw {
    pub async fn call(&self, method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(m, url)
            .header("x-auth-token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }
    pub async fn get(&self, url: &str) -> (u16, Value) {
        self.call("GET", url, None).await
    }
    pub async fn post(&self, url: &str, body: Value) -> (u16, Value) {
        self.call("POST", url, Some(body)).await
    }
    pub async fn put(&self, url: &str, body: Value) -> (u16, Value) {
        self.call("PUT", url, Some(body)).await
    }
    pub async fn delete(&self, url: &str) -> (u16, Value) {
        self.call("DELETE", url, None).await
    }
}

/// A fully populated TCP graph: one listener, pool, monitor and the given members.
pub fn graph(name: &str, subnet: &str, algorithm: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|a| json!({"address": a, "protocol_port": 6443, "subnet_id": subnet}))
        .collect();
    json!({"loadbalancer": {"name": name, "vip_subnet_id": subnet, "tags": ["owner"],
        "listeners": [{"name": format!("{name}-443"), "protocol": "TCP", "protocol_port": 443,
            "default_pool": {"name": format!("{name}-pool"), "protocol": "TCP", "lb_algorithm": algorithm,
                "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
                "members": members}}]}})
}

/// The `provisioning_status` of a load balancer (or "gone" on 404).
pub async fn lb_status(raw: &Raw, id: &str) -> String {
    let (s, v) = raw.get(&format!("{}/loadbalancers/{id}", raw.lb)).await;
    if s == 404 {
        return "gone".into();
    }
    v["loadbalancer"]["provisioning_status"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}
