//! The client against the in-process authnzerver mock: the scenarios shared with the
//! interop suite (`common`), then what only a mock can do: fault injection, a slow server
//! and a reply with another reqid.

#![allow(clippy::unwrap_used)] // Helpers shared by tests unwrap like the tests do.

use std::time::Duration;

use authnz_proto::*;
use pbx_auth_core::AccessToken;
use pbx_mock::authnz::AuthnzMock;
use pbx_mock::{Fault, FaultRule, MockRequest, MockResponse, MockServer};

mod common;
use common::{Peer, session_body};

const ADMIN_PASSWORD: &str = "mock-admin-Zr8!qP2#wL5x";

fn key_text() -> String {
    FernetKey::generate().expose_secret().to_owned()
}

fn setup() -> (MockServer, Client, String) {
    let key = key_text();
    let server = MockServer::start(AuthnzMock::new(&key, ADMIN_PASSWORD).unwrap());
    let client = Client::new(server.url(), FernetKey::from_text(&key).unwrap()).unwrap();
    (server, client, key)
}

#[tokio::test]
async fn user_lifecycle() {
    common::user_lifecycle(&Peer::mock()).await;
}

#[tokio::test]
async fn admin_and_self_service() {
    common::admin_and_self_service(&Peer::mock()).await;
}

#[tokio::test]
async fn failure_paths_are_typed() {
    common::failure_paths_are_typed(&Peer::mock()).await;
}

#[tokio::test]
async fn faults_are_reported_and_not_retried() {
    let (server, client, _) = setup();
    server.inject(FaultRule::new("/", Fault::html(500, "<html>boom</html>")).times(1));
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 500, .. }), "{err:?}");
    assert_eq!(server.count("/"), 1, "no automatic retry");
    client.session_new(&session_body(None)).await.unwrap();

    server.inject(FaultRule::new("/", Fault::Drop).times(1));
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let key = key_text();
    let server = MockServer::start(AuthnzMock::new(&key, ADMIN_PASSWORD).unwrap());
    server.inject(FaultRule::new("/", Fault::Delay(Duration::from_secs(5))).times(1));
    let client = Client::builder(server.url(), FernetKey::from_text(&key).unwrap())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_timeout()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_without_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/?token=canary-secret");
    let client = Client::builder(url, FernetKey::from_text(&key_text()).unwrap())
        .build()
        .unwrap();
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_connect()),
        "{err:?}"
    );
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    for leak in ["canary-secret", "?token"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

#[tokio::test]
async fn a_reply_with_another_reqid_is_a_protocol_error() {
    let key = key_text();
    let env = FernetEnvelope::new(FernetKey::from_text(&key).unwrap());
    let server = MockServer::start(move |_: &MockRequest| {
        let text = r#"{"success": true, "reqid": 7, "response": {}, "message": []}"#;
        MockResponse::text(200, "text/plain", env.seal(text.as_bytes()))
    });
    let client = Client::new(server.url(), FernetKey::from_text(&key).unwrap()).unwrap();
    let err = client
        .session_delete(&SessionDelete {
            session_token: AccessToken::new("x"),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReqIdMismatch { .. }), "{err:?}");
}
