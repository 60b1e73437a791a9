//! A Kalliope-compatible service behind `VerifyXAuth`: the salt route, and `/rest/*`
//! routes that need a valid, fresh, unused `X-authenticate` header.
//!
//! ```text
//! cargo run -p kalliope-auth --features server --example kalliope_service serve
//! cargo run -p kalliope-auth --features server --example kalliope_service demo
//! ```
//!
//! `serve` prints `listening on http://127.0.0.1:PORT`; tenant `default` (salt of the
//! vendor documentation's example) has the user `admin` / `admin`. `demo` serves on a
//! free port and calls it through `Session`, then replays a header.

#![allow(clippy::print_stdout, clippy::expect_used, missing_docs)]

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Json, Router};
use std::time::SystemTime;

use kalliope_auth::server::VerifyXAuth;
use kalliope_auth::verifier::{Verified, Verifier, VerifierConfig};
use kalliope_auth::{Credentials, Session, SigningKey, ThreadNonce, XAuthSigner};
use serde_json::{Value, json};

const SALT: &str = "b5a8fdcf2f8d5acdad33c4a072a97d7a";

/// `GET /rest/salt/{domain}`: JSON with `Accept: application/json`, XML otherwise.
async fn salt(
    Path(domain): Path<String>,
    headers: HeaderMap,
) -> Result<(HeaderMap, String), StatusCode> {
    if domain != "default" {
        return Err(StatusCode::NOT_FOUND);
    }
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let mut out = HeaderMap::new();
    let body = if json {
        out.insert(
            header::CONTENT_TYPE,
            "application/json".parse().expect("header"),
        );
        json!({ "salt": SALT }).to_string()
    } else {
        out.insert(
            header::CONTENT_TYPE,
            "application/xml".parse().expect("header"),
        );
        format!("<?xml version=\"1.0\"?><response><salt>{SALT}</salt></response>")
    };
    Ok((out, body))
}

async fn account(Extension(user): Extension<Verified>) -> Json<Value> {
    Json(json!({ "username": user.username, "domain": user.domain }))
}

fn app() -> Router {
    let mut verifier = Verifier::new(VerifierConfig::default());
    verifier
        .add_user("admin", "default", "admin", SALT)
        .expect("user");
    let rest = Router::new()
        .route("/rest/account", get(account))
        .route(
            "/rest/dashboard",
            get(|| async { Json(json!({ "calls": 0 })) }),
        )
        .layer(VerifyXAuth::new(verifier));
    Router::new()
        .route("/rest/salt/{domain}", get(salt))
        .merge(rest)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(axum::serve(listener, app()).into_future());
    if mode == "serve" {
        println!("listening on http://{addr}");
        server.await.expect("server task").expect("serve");
        return;
    }
    let session = Session::new(&format!("http://admin:admin@{addr}/default")).expect("session");
    for path in ["/rest/account", "/rest/dashboard"] {
        let res = session.get(path).await.expect("request");
        let status = res.status();
        println!(
            "GET {path} through Session: {status} {}",
            res.text().await.unwrap_or_default()
        );
    }
    // One header sent twice: the second is a replay.
    let credentials = Credentials::new("admin", "admin", "default").expect("credentials");
    let key = SigningKey::derive(&credentials, SALT).expect("key");
    let header =
        XAuthSigner::fresh_value(&key, &ThreadNonce::default(), SystemTime::now()).expect("header");
    let http = reqwest::Client::new();
    for attempt in ["first use", "replay"] {
        let res = http
            .get(format!("http://{addr}/rest/account"))
            .header("X-authenticate", header.clone())
            .send()
            .await
            .expect("request");
        println!(
            "GET /rest/account, {attempt} of one header: {}",
            res.status()
        );
    }
    let res = http
        .get(format!("http://{addr}/rest/account"))
        .send()
        .await
        .expect("request");
    println!("GET /rest/account without a header: {}", res.status());
    server.abort();
}
