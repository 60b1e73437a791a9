//! The stand-in over raw HTTP: token
//! creation, checks with `scope` and `tenant`, sessions, refresh tokens, protected
//! endpoints, both error formats and fault injection.

use std::time::Duration;

use super::{WazoMock, from_args};
use crate::{Fault, FaultRule, MockServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn start() -> (MockServer, WazoMock, reqwest::Client) {
    let auth = WazoMock::new().with_user("alice", "s3cre7");
    (
        MockServer::start(auth.clone()),
        auth,
        reqwest::Client::new(),
    )
}

async fn token(server: &MockServer, http: &reqwest::Client, body: Value, mobile: bool) -> Value {
    let mut req = http
        .post(format!("{}/0.1/token", server.url()))
        .basic_auth("alice", Some("s3cre7"))
        .json(&body);
    if mobile {
        req = req.header("Wazo-Session-Type", "mobile");
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["wazo-sessions-revoked"], "0");
    resp.json::<Value>().await.unwrap()["data"].clone()
}

#[tokio::test]
async fn token_lifecycle_and_checks() {
    let (server, auth, http) = start();
    let base = format!("{}/0.1", server.url());
    let t = token(&server, &http, json!({"expiration": 60}), true).await;
    let k = t["token"].as_str().unwrap();
    assert_eq!(t["acl"], json!(["auth.#"]));
    let head = |q: &'static str| http.head(format!("{base}/token/{k}{q}")).send();
    assert_eq!(head("").await.unwrap().status(), 204);
    assert_eq!(head("?scope=auth.users.read").await.unwrap().status(), 204);
    assert_eq!(head("?scope=confd.users.read").await.unwrap().status(), 403);
    let other_tenant = "?tenant=99999999-9999-4999-8999-999999999999";
    assert_eq!(head(other_tenant).await.unwrap().status(), 403);
    let top = auth.top_tenant();
    let ok = http
        .get(format!("{base}/token/{k}?tenant={top}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let denied: Value = http
        .get(format!("{base}/token/{k}?scope=x.y"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(denied["reason"], json!(["Unauthorized for x.y"]));
    assert_eq!(denied["status_code"], 403);

    // Sessions know the mobile flag.
    let sessions: Value = http
        .get(format!("{base}/sessions"))
        .header("X-Auth-Token", k)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["items"][0]["mobile"], true);

    auth.advance(Duration::from_secs(61));
    assert_eq!(head("").await.unwrap().status(), 404);
    let html = http
        .get(format!("{base}/token/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 404);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let revoked: Value = http
        .delete(format!("{base}/token/{k}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revoked, json!({"data": {"message": "success"}}));
}

#[tokio::test]
async fn bad_logins_and_bodies_use_the_legacy_format() {
    let (server, _, http) = start();
    let url = format!("{}/0.1/token", server.url());
    let wrong = http
        .post(&url)
        .basic_auth("alice", Some("nope"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["reason"], json!(["Authentication Failed"]));
    let empty = http
        .post(&url)
        .basic_auth("alice", Some("s3cre7"))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    let offline = http
        .post(&url)
        .basic_auth("alice", Some("s3cre7"))
        .json(&json!({"access_type": "offline"}))
        .send()
        .await
        .unwrap();
    assert_eq!(offline.status(), 400);
    let too_long = http
        .post(&url)
        .basic_auth("alice", Some("s3cre7"))
        .json(&json!({"expiration": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);
}

#[tokio::test]
async fn refresh_tokens_and_protected_endpoints() {
    let (server, _, http) = start();
    let base = format!("{}/0.1", server.url());
    let t = token(
        &server,
        &http,
        json!({"access_type": "offline", "client_id": "app"}),
        false,
    )
    .await;
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let again = http
        .post(format!("{base}/token"))
        .json(&json!({"refresh_token": refresh, "client_id": "app"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let k = t["token"].as_str().unwrap();
    let list: Value = http
        .get(format!("{base}/users/me/tokens"))
        .header("X-Auth-Token", k)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let anonymous = http.get(format!("{base}/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error_id"], "unauthorized");
    assert_eq!(body["details"]["required_access"], "auth.users.read");
    let foreign = http
        .get(format!("{base}/users"))
        .header("X-Auth-Token", k)
        .header("Wazo-Tenant", "99999999-9999-4999-8999-999999999999")
        .send()
        .await
        .unwrap();
    let body: Value = foreign.json().await.unwrap();
    assert_eq!(body["error_id"], "unauthorized-tenant");
    let deleted = http
        .delete(format!("{base}/users/me/tokens/app"))
        .header("X-Auth-Token", k)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn policy_grants_are_checked() {
    let auth = WazoMock::new();
    auth.add_user("limited", "pw", &["auth.policies.#"]);
    let server = MockServer::start(auth);
    let http = reqwest::Client::new();
    let base = format!("{}/0.1", server.url());
    let t: Value = http
        .post(format!("{base}/token"))
        .basic_auth("limited", Some("pw"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let k = t["data"]["token"].as_str().unwrap();
    let refused = http
        .post(format!("{base}/policies"))
        .header("X-Auth-Token", k)
        .json(&json!({"name": "p", "acl": ["confd.#"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["details"]["required_access"], "confd.#");
    let allowed = http
        .post(format!("{base}/policies"))
        .header("X-Auth-Token", k)
        .json(&json!({"name": "p", "acl": ["auth.policies.read", "!confd.#"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test]
async fn faults_and_options() {
    let (server, _, http) = start();
    server.inject(FaultRule::new("/0.1/backends", Fault::status(503)).times(1));
    let url = format!("{}/0.1/backends", server.url());
    assert_eq!(http.get(&url).send().await.unwrap().status(), 503);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);

    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(from_args(&args(&["--user", "alice:s3cre7", "-d", "-l", "info", "-f"])).is_ok());
    assert!(from_args(&args(&["--user", "nocolon"])).is_err());
    assert!(from_args(&args(&["-l", "loud"])).is_err());
    assert!(from_args(&args(&["-c", "/nonexistent/config.json"])).is_err());
    let dir = std::env::temp_dir().join(format!("wazo-stand-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"users": [{"username": "bob", "password": "pw", "acl": ["dird.#"]}], "default_token_lifetime": 60}"#).unwrap();
    let handler = from_args(&args(&["-c", config.to_str().unwrap()])).unwrap();
    let server = MockServer::start(move |r: &crate::MockRequest| handler.handle(r));
    let t: Value = http
        .post(format!("{}/0.1/token", server.url()))
        .basic_auth("bob", Some("pw"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["data"]["acl"], json!(["dird.#"]));
    std::fs::remove_dir_all(&dir).unwrap();
}
