//! An authnzerver-compatible service in Rust: Python frontends written for authnzerver
//! (`authnzerver.frontendbase`'s `encrypt_request` / `decrypt_response`) talk to it
//! unchanged.
//!
//! ```text
//! AUTHNZERVER_SECRET=<fernet key> cargo run -p authnz-proto --features server --example authnz_server [PORT]
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT` once it accepts connections.

#![allow(clippy::print_stdout, clippy::expect_used, missing_docs)]

mod handler;

use std::sync::Arc;

use authnz_proto::FernetKey;
use authnz_proto::server::AuthnzService;
use axum::Router;
use handler::Store;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let key = FernetKey::from_default_env().expect("AUTHNZERVER_SECRET holds a Fernet key");
    let port: u16 = std::env::args()
        .nth(1)
        .map_or(0, |p| p.parse().expect("a port number"));
    let store = Arc::new(Store::new());
    let service = AuthnzService::new(key, move |request| {
        let store = Arc::clone(&store);
        async move { store.handle(request) }
    });
    // authnzerver answers on `/`.
    let app = Router::new().route_service("/", service);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("addr")
    );
    axum::serve(listener, app).await.expect("serve");
}
