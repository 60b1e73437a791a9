//! The server half: an axum app behind `VerifyXAuth`, called through this crate's
//! `Session` (the seed's Python `kalliopepbx` calls the example service in the xtask
//! interop stage).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::Path;
use axum::routing::get;
use axum::{Extension, Json, Router};
use kalliope_auth::server::{Refusal, VerifyXAuth};
use kalliope_auth::verifier::{RejectReason, Verified, Verifier, VerifierConfig};
use kalliope_auth::{Credentials, Session, SigningKey, XAuthSigner};
use serde_json::{Value, json};

const SALT: &str = "b5a8fdcf2f8d5acdad33c4a072a97d7a";

struct App {
    url: String,
    reasons: Arc<Mutex<Vec<RejectReason>>>,
}

async fn start(refusal: Refusal) -> App {
    let mut verifier = Verifier::new(VerifierConfig::default());
    verifier
        .add_user("admin", "default", "admin", SALT)
        .expect("user");
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&reasons);
    let layer = VerifyXAuth::new(verifier)
        .refusal(refusal)
        .on_reject(move |r| seen.lock().expect("lock").push(r.reason()));
    let protected = Router::new()
        .route(
            "/rest/account",
            get(|Extension(v): Extension<Verified>| async move {
                Json(json!({ "username": v.username, "domain": v.domain }))
            }),
        )
        .layer(layer);
    let app = Router::new()
        .route(
            "/rest/salt/{domain}",
            get(|Path(domain): Path<String>| async move {
                if domain == "default" {
                    Ok(Json(json!({ "salt": SALT })))
                } else {
                    Err(http::StatusCode::NOT_FOUND)
                }
            }),
        )
        .merge(protected);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    App {
        url: format!("http://{addr}"),
        reasons,
    }
}

fn key() -> SigningKey {
    let credentials = Credentials::new("admin", "admin", "default").expect("credentials");
    SigningKey::derive(&credentials, SALT).expect("key")
}

async fn get_with(url: &str, header: &http::HeaderValue) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{url}/rest/account"))
        .header("X-authenticate", header)
        .send()
        .await
        .expect("app answers")
}

#[tokio::test]
async fn session_requests_are_accepted_and_see_the_user() {
    let app = start(Refusal::default()).await;
    let host = app.url.trim_start_matches("http://");
    let session = Session::new(&format!("http://admin:admin@{host}/default")).expect("session");
    for _ in 0..3 {
        let res = session.get("/rest/account").await.expect("request");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body, json!({ "username": "admin", "domain": "default" }));
    }
    assert!(app.reasons.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn each_replay_is_refused() {
    let app = start(Refusal::default()).await;
    let header = XAuthSigner::value_with(
        &key(),
        "0123456789abcdef0123456789abcdef",
        SystemTime::now(),
    )
    .expect("header");
    assert_eq!(get_with(&app.url, &header).await.status(), 200);
    for _ in 0..3 {
        let res = get_with(&app.url, &header).await;
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers().get("www-authenticate").map(|v| v.as_bytes()),
            Some(&b"RestApiUsernameToken"[..])
        );
        assert_eq!(res.text().await.expect("body"), "authentication failed");
    }
    assert_eq!(
        *app.reasons.lock().expect("lock"),
        vec![RejectReason::Replayed; 3]
    );
}

#[tokio::test]
async fn headers_dated_outside_the_window_are_refused() {
    let app = start(Refusal::Forbidden).await;
    let now = SystemTime::now();
    for (nonce, created) in [
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            now - Duration::from_secs(301 + 60),
        ),
        (
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            now + Duration::from_secs(301 + 60),
        ),
    ] {
        let header = XAuthSigner::value_with(&key(), nonce, created).expect("header");
        let res = get_with(&app.url, &header).await;
        assert_eq!(res.status(), 403);
        assert!(res.text().await.expect("body").is_empty());
    }
    let res = reqwest::Client::new()
        .get(format!("{}/rest/account", app.url))
        .send()
        .await
        .expect("app answers");
    assert_eq!(res.status(), 403);
    assert_eq!(
        *app.reasons.lock().expect("lock"),
        vec![
            RejectReason::OutsideWindow,
            RejectReason::OutsideWindow,
            RejectReason::Missing
        ]
    );
}
