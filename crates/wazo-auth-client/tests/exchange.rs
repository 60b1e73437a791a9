//! The core's authorized exchange as the wazo client runs it, against the pbx-mock
//! wazo-auth stand-in (which answers 401 as the real server does): a stale token is
//! replaced once, a refusal of permission or tenant creates no token, concurrent refusals
//! of one token make one new token, and no token the client drops stays alive.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::Method;
use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use wazo_auth_client::{Client, ClientBuilder, Error, ListParams, NewToken, Password};

const SECRET: &str = "s3cre7-never-printed";
const UNKNOWN_TENANT: &str = "00000000-0000-4000-8000-000000000000";

fn start() -> (MockServer, WazoMock) {
    let auth = WazoMock::new();
    auth.add_user("alice", SECRET, &["auth.#"]);
    auth.add_user("bob", "bobpw", &["confd.users.me.read"]);
    (MockServer::start(auth.clone()), auth)
}

fn builder(server: &MockServer) -> ClientBuilder {
    ClientBuilder::from_url(server.url())
        .expect("mock URL")
        .prefix("")
        .timeout(Some(Duration::from_secs(120)))
}

fn auto(server: &MockServer, user: &str, password: &str) -> Client {
    builder(server)
        .credentials(user, Password::new(password))
        .auto_token(NewToken::new())
        .build()
        .expect("client")
}

fn token_posts(server: &MockServer) -> usize {
    server.count_method(&Method::POST, "/0.1/token")
}

/// Revokes the token the client used for its first `/sessions` call, behind its back.
async fn revoke_the_first_token(server: &MockServer) {
    let token = server.requests_to("/0.1/sessions")[0]
        .header("x-auth-token")
        .unwrap()
        .to_owned();
    let plain = builder(server).build().unwrap();
    plain.token().revoke(&token).await.unwrap();
}

fn expect_401(result: Result<impl std::fmt::Debug, Error>) {
    match result {
        Err(Error::Http { status, .. }) => assert_eq!(status, 401),
        other => panic!("expected the server's 401, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_permissions_create_zero_new_tokens() {
    let (server, auth) = start();
    let bob = auto(&server, "bob", "bobpw");
    const N: usize = 5;
    for _ in 0..N {
        // bob may not list users: the server says missing_permission_or_invalid_tenant.
        expect_401(bob.users().list(&ListParams::new(), None).await);
    }
    // One token to make the first call at all, and none for the refusals.
    assert_eq!(token_posts(&server), 1);
    assert_eq!(server.count_method(&Method::GET, "/0.1/users"), N);
    assert_eq!(auth.token_count(), 1);
    // The token was kept: it still works where bob is allowed.
    bob.token().is_valid("x", None, None).await.unwrap();
    assert_eq!(token_posts(&server), 1);
}

#[tokio::test]
async fn an_unauthorized_tenant_creates_no_token() {
    let (server, auth) = start();
    let alice = auto(&server, "alice", SECRET);
    alice.users().list(&ListParams::new(), None).await.unwrap();
    alice.set_tenant(Some(UNKNOWN_TENANT.to_owned()));
    for _ in 0..3 {
        expect_401(alice.users().list(&ListParams::new(), None).await);
    }
    assert_eq!(token_posts(&server), 1);
    assert_eq!(auth.token_count(), 1);
}

#[tokio::test]
async fn a_stale_token_is_replaced_once_and_the_call_retried_once() {
    let (server, auth) = start();
    let alice = auto(&server, "alice", SECRET);
    alice
        .sessions()
        .list(&ListParams::new(), None)
        .await
        .unwrap();
    revoke_the_first_token(&server).await;
    assert_eq!(auth.token_count(), 0);
    alice
        .sessions()
        .list(&ListParams::new(), None)
        .await
        .unwrap();
    assert_eq!(token_posts(&server), 2);
    // First call, the refused one, and its one retry.
    assert_eq!(server.count_method(&Method::GET, "/0.1/sessions"), 3);
    assert_eq!(auth.token_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refusals_of_one_token_make_one_new_token() {
    let (server, _) = start();
    let alice = auto(&server, "alice", SECRET);
    alice
        .sessions()
        .list(&ListParams::new(), None)
        .await
        .unwrap();
    revoke_the_first_token(&server).await;
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let alice = alice.clone();
            tokio::spawn(async move { alice.sessions().list(&ListParams::new(), None).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(token_posts(&server), 2);
}

#[tokio::test]
async fn close_revokes_the_automatic_token() {
    let (server, auth) = start();
    let alice = auto(&server, "alice", SECRET);
    alice
        .sessions()
        .list(&ListParams::new(), None)
        .await
        .unwrap();
    assert_eq!(auth.token_count(), 1);
    alice.close().await.unwrap();
    assert_eq!(auth.token_count(), 0);
}

#[tokio::test]
async fn a_replaced_token_is_revoked() {
    let (server, auth) = start();
    let source = wazo_auth_client::WazoTokenSource::new(
        builder(&server)
            .credentials("alice", Password::new(SECRET))
            .build()
            .unwrap(),
        NewToken::new(),
    );
    let cache = pbx_auth_core::TokenCache::new(source);
    cache.get().await.unwrap();
    cache.force_refresh().await.unwrap();
    cache.force_refresh().await.unwrap();
    assert_eq!(token_posts(&server), 3);
    assert_eq!(auth.token_count(), 1);
}

#[tokio::test]
async fn the_tenant_is_one_state_for_the_calls_and_the_token_source() {
    let (server, _) = start();
    let alice = auto(&server, "alice", SECRET);
    let tenant = alice.clone();
    tenant.set_tenant(Some("t-1".to_owned()));
    let _ = alice.sessions().list(&ListParams::new(), None).await;
    let login = &server.requests_to("/0.1/token")[0];
    assert_eq!(login.header("wazo-tenant"), Some("t-1"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_typed_error() {
    let (server, _) = start();
    let alice = builder(&server)
        .credentials("alice", Password::new(SECRET))
        .max_body_size(64)
        .build()
        .unwrap();
    // A token is a few hundred bytes.
    match alice.token().create(&NewToken::new()).await {
        Err(Error::BodyTooLarge { limit }) => assert_eq!(limit, 64),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
}
