//! Interop with a real OAuth 2.0 server (npm `oidc-provider`, started by `cargo xtask test`
//! with `OAUTH_ISSUER` set). The scenarios in `common::scenarios` run here against the real
//! server and in `flow.rs` against the mock, each written once: the whole flow through the
//! real loopback listener with a cookie-keeping HTTP client as the browser, PKCE, both
//! client authentication methods (here with a Basic secret that needs form-encoding),
//! refresh rotation, single-flight refresh across an expiry, the error redirects, code
//! expiry and revocation. What only the real server has stays below: a public client
//! (the mock registers one confidential client).
//!
//! Run by hand: start the server as `xtask/src/protocols/sipgate.rs` does, then
//! `OAUTH_ISSUER=http://127.0.0.1:<port> cargo test -p sipgate-oauth --test interop --
//! --ignored --test-threads=1`.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use std::time::Duration;

use sipgate_oauth::OAuthClient;

mod common;
use common::server::Server;
use common::{browser, scenarios};

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn full_flow_with_pkce_and_client_secret_post() {
    scenarios::full_flow_with_pkce_and_client_secret_post(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn pkce_is_required_and_verified() {
    scenarios::pkce_is_required_and_verified(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn client_secret_basic() {
    scenarios::client_secret_basic(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn refresh_rotates_and_the_old_refresh_token_is_refused() {
    scenarios::refresh_rotates_and_the_old_refresh_token_is_refused(&Server::real()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn hundred_requests_across_an_expiry_cause_one_refresh() {
    scenarios::hundred_requests_across_an_expiry_cause_one_refresh(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn access_denied() {
    scenarios::access_denied(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn wrong_state_is_ignored_and_never_reaches_the_token_endpoint() {
    scenarios::wrong_state_is_ignored_and_never_reaches_the_token_endpoint(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn wrong_state_is_ignored_and_the_login_goes_on() {
    scenarios::wrong_state_is_ignored_and_the_login_goes_on(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn unregistered_redirect_uri_never_reaches_the_listener() {
    scenarios::unregistered_redirect_uri_never_reaches_the_listener(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn expired_code_is_refused() {
    scenarios::expired_code_is_refused(&Server::real()).await;
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn revocation_ends_the_grant() {
    scenarios::revocation_ends_the_grant(&Server::real()).await;
}

/// A public client (no secret) authenticates with PKCE alone, for the exchange and the
/// refresh. Real server only: the mock registers one confidential client.
#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn public_client_with_pkce_only() {
    let server = Server::real();
    server.clear_token_log().await;
    let client = OAuthClient::new(server.public_config("sipgate-public")).unwrap();
    let (open, mut pages) = browser(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    assert_eq!(pages.recv().await.unwrap().0, 200);
    client
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    server.assert_code_then_refresh_by("none").await;
}
