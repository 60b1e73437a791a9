//! A service in the Wazo style, behind `RequireAcl`: each route declares the access it
//! requires, filled from its path, and wazo-auth decides.
//!
//! ```text
//! WAZO_AUTH_URL=http://127.0.0.1:9497/0.1 cargo run -p wazo-auth-client --features server --example wazo_service serve
//! WAZO_AUTH_URL=... WAZO_USER=alice WAZO_PASSWORD=... cargo run ... --example wazo_service demo
//! ```
//!
//! `serve` prints `listening on http://127.0.0.1:PORT` and serves until killed; `demo`
//! serves on a free port, logs in as `WAZO_USER` and calls its own routes.

#![allow(clippy::print_stdout, clippy::expect_used, missing_docs)]

use axum::extract::Path;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};
use wazo_auth_client::server::{TokenVerifier, VerifiedToken};
use wazo_auth_client::{ClientBuilder, NewToken, Password};

/// `GET /users/{user_uuid}`: needs `confd.users.{user_uuid}.read`.
async fn user(
    Path(user_uuid): Path<String>,
    Extension(caller): Extension<VerifiedToken>,
) -> Json<Value> {
    Json(json!({
        "uuid": user_uuid,
        "seen_by": caller.auth_id(),
        "tenant_uuid": caller.tenant_uuid(),
    }))
}

/// `GET /me`: any valid token.
async fn me(Extension(caller): Extension<VerifiedToken>) -> Json<Value> {
    Json(json!({ "auth_id": caller.auth_id(), "acl": caller.acl() }))
}

fn app(verifier: &TokenVerifier) -> Router {
    Router::new()
        .route(
            "/users/{user_uuid}",
            get(user).route_layer(
                verifier
                    .require_acl("/users/{user_uuid}", "confd.users.{user_uuid}.read")
                    .expect("a valid template"),
            ),
        )
        .route("/me", get(me).route_layer(verifier.require_token()))
        .route("/status", get(|| async { "ok" }))
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    let auth_url = env("WAZO_AUTH_URL");
    let auth = ClientBuilder::from_url(&auth_url)
        .expect("WAZO_AUTH_URL")
        .prefix("")
        .build()
        .expect("client");
    let verifier = TokenVerifier::new(auth);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(axum::serve(listener, app(&verifier)).into_future());
    if mode == "serve" {
        println!("listening on {url}");
        server.await.expect("server task").expect("serve");
        return;
    }

    let login = ClientBuilder::from_url(&auth_url)
        .expect("WAZO_AUTH_URL")
        .prefix("")
        .credentials(env("WAZO_USER"), Password::new(env("WAZO_PASSWORD")))
        .build()
        .expect("client");
    let token = login.token().create(&NewToken::new()).await.expect("token");
    let token = token.token.expose_secret().to_owned();
    let http = reqwest::Client::new();
    for (path, sent) in [
        ("/users/42", Some(token.as_str())),
        ("/me", Some(token.as_str())),
        ("/users/42", Some("00000000-0000-4000-8000-000000000000")),
        ("/users/42", None),
    ] {
        let mut req = http.get(format!("{url}{path}"));
        if let Some(t) = sent {
            req = req.header("X-Auth-Token", t);
        }
        let res = req.send().await.expect("the service answers");
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        let who = if sent == Some(token.as_str()) {
            "a valid token"
        } else if sent.is_some() {
            "an unknown token"
        } else {
            "no token"
        };
        println!("GET {path} with {who}: {status} {body}");
    }
    println!("checks sent to wazo-auth: {}", verifier.remote_checks());
    server.abort();
}
