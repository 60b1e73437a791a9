//! Interop with a real OAuth 2.0 server (npm `oidc-provider`, started by `cargo xtask test`
//! with `OAUTH_ISSUER` set): the whole flow through the real loopback listener with a
//! cookie-keeping HTTP client as the browser, PKCE, both client authentication methods,
//! refresh rotation, the error redirects, code expiry, and single-flight refresh under load.
//! The scenarios in `common::scenarios` run here against the real server and in `flow.rs`
//! against the mock.
//!
//! Run by hand: start the server as `xtask/src/protocols/sipgate.rs` does, then
//! `OAUTH_ISSUER=http://127.0.0.1:<port> cargo test -p sipgate-oauth --test interop --
//! --ignored --test-threads=1`.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use std::sync::Arc;
use std::time::Duration;

use sipgate_oauth::{
    BearerAuthExt as _, ClientAuth, Config, Error, LoopbackListener, OAuthClient, TokenSet,
    TokenStore, account, bearer_auth_from_login,
};

mod common;
use common::server::Server;
use common::{agent, browser, scenarios};

const LONG: Duration = Duration::from_secs(60);
/// The server's access-token lifetime as xtask starts it (`ACCESS_TOKEN_TTL`).
const ACCESS_TOKEN_TTL: Duration = common::server::REAL_ACCESS_TOKEN_TTL;

const POST_CLIENT: (&str, &str) = ("sipgate-post", "post-secret-0123456789abcdef");
const BASIC_CLIENT: (&str, &str) = ("sipgate-basic", "basic secret+/:%&=?#!");

fn issuer() -> String {
    std::env::var("OAUTH_ISSUER").unwrap_or_else(|_| {
        panic!(
            "OAUTH_ISSUER is not set: these tests need the real OAuth server that `cargo xtask test` starts"
        )
    })
}

fn config((id, secret): (&str, &str)) -> Config {
    let issuer = issuer();
    Config::new(id)
        .unwrap()
        .with_client_secret(secret)
        .with_redirect_uri("http://127.0.0.1:0/oauth")
        .unwrap()
        .with_endpoints(
            &format!("{issuer}/auth"),
            &format!("{issuer}/token"),
            &format!("{issuer}/v2/account"),
        )
        .unwrap()
        .with_revocation_url(&format!("{issuer}/token/revocation"))
        .unwrap()
}

/// The server's log of token-endpoint requests.
async fn token_log() -> Vec<serde_json::Value> {
    let url = format!("{}/__test/token-requests", issuer());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn clear_token_log() {
    let url = format!("{}/__test/token-requests", issuer());
    reqwest::Client::new().delete(url).send().await.unwrap();
}

async fn login(client: &OAuthClient) -> TokenSet {
    let (open, mut pages) = browser(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Login successful"));
    tokens
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn full_flow_through_the_loopback_listener() {
    clear_token_log().await;
    let client = OAuthClient::new(config(POST_CLIENT)).unwrap();
    let tokens = login(&client).await;
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.expires_in, Some(ACCESS_TOKEN_TTL));

    let log = token_log().await;
    let exchange = log
        .iter()
        .find(|e| e["grant_type"] == "authorization_code")
        .unwrap();
    assert_eq!(exchange["client_auth"], "client_secret_post");
    assert_eq!(exchange["has_code_verifier"], true);
    assert_eq!(exchange["status"], 200);

    let store = TokenStore::in_memory();
    let auth = bearer_auth_from_login(client.clone(), store, &tokens)
        .await
        .unwrap();
    let me = account(
        &reqwest::Client::new(),
        &auth,
        &client.config().test_api_endpoint,
    )
    .await
    .unwrap();
    assert_eq!(me.company, "Test Company of w0");
    assert_eq!(me.main_product_type, "TEAM");
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn pkce_is_required_and_verified() {
    // Without PKCE the server refuses the authorization request (an error redirect).
    let client = OAuthClient::new(config(POST_CLIENT).with_pkce(false)).unwrap();
    let (open, _pages) = browser(|_| {});
    let err = client.login(&open, &|_| {}, LONG).await.unwrap_err();
    assert!(
        matches!(&err, Error::AuthorizationDenied { error, .. } if error == "invalid_request"),
        "{err}"
    );

    // With PKCE, a code redeemed with another request's verifier is refused.
    let client = OAuthClient::new(config(POST_CLIENT)).unwrap();
    let listener = LoopbackListener::bind(&client.config().redirect_uri)
        .await
        .unwrap()
        .with_timeout(LONG);
    let request = client
        .authorization_request_for(listener.redirect_uri())
        .unwrap();
    let other = client
        .authorization_request_for(listener.redirect_uri())
        .unwrap();
    let url = request.url().clone();
    tokio::spawn(async move { agent().get(url).send().await });
    let callback = listener.wait_for(&request).await.unwrap();
    let err = client.exchange_code(other, callback).await.unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err}");
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn client_secret_basic_with_special_characters() {
    clear_token_log().await;
    let client =
        OAuthClient::new(config(BASIC_CLIENT).with_client_auth(ClientAuth::Basic)).unwrap();
    let tokens = login(&client).await;
    let log = token_log().await;
    assert_eq!(log[0]["client_auth"], "client_secret_basic");
    // Refresh uses the same method.
    client
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();

    // The body method against a Basic-registered client is refused.
    let wrong = OAuthClient::new(config(BASIC_CLIENT)).unwrap();
    let (open, _pages) = browser(|_| {});
    let err = wrong.login(&open, &|_| {}, LONG).await.unwrap_err();
    assert!(matches!(err, Error::InvalidClient { .. }), "{err}");
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn refresh_rotates_and_the_old_refresh_token_is_refused() {
    let client = OAuthClient::new(config(POST_CLIENT)).unwrap();
    let tokens = login(&client).await;
    let first = tokens.refresh_token.clone().unwrap();

    let store = TokenStore::in_memory();
    let auth = bearer_auth_from_login(client.clone(), store.clone(), &tokens)
        .await
        .unwrap();
    auth.force_refresh().await.unwrap();
    let second = store.load().await.unwrap().unwrap().refresh_token.unwrap();
    assert_ne!(first.expose_secret(), second.expose_secret());
    account(
        &reqwest::Client::new(),
        &auth,
        &client.config().test_api_endpoint,
    )
    .await
    .unwrap();

    let err = client.refresh(&first).await.unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn hundred_requests_across_an_expiry_cause_one_refresh() {
    let client = OAuthClient::new(config(POST_CLIENT)).unwrap();
    let tokens = login(&client).await;
    let store = TokenStore::in_memory();
    let auth = Arc::new(
        bearer_auth_from_login(client.clone(), store, &tokens)
            .await
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let url = client.config().test_api_endpoint.clone();
    account(&http, &*auth, &url).await.unwrap();

    // Let the access token expire at the server and in the cache.
    tokio::time::sleep(ACCESS_TOKEN_TTL + Duration::from_secs(1)).await;
    clear_token_log().await;
    // A new client: the server's keep-alive (5 s) may be closing the old one's connections.
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (auth, http, url) = (Arc::clone(&auth), http.clone(), url.clone());
        tasks.push(tokio::spawn(
            async move { account(&http, &*auth, &url).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(auth.refresh_count(), 1);
    let refreshes = token_log()
        .await
        .into_iter()
        .filter(|e| e["grant_type"] == "refresh_token")
        .count();
    assert_eq!(refreshes, 1);
}

#[tokio::test]
#[ignore = "needs the real OAuth server; run by cargo xtask test"]
async fn public_client_with_pkce_only() {
    clear_token_log().await;
    let issuer = issuer();
    let config = Config::new("sipgate-public")
        .unwrap()
        .with_redirect_uri("http://127.0.0.1:0/oauth")
        .unwrap()
        .with_endpoints(
            &format!("{issuer}/auth"),
            &format!("{issuer}/token"),
            &format!("{issuer}/v2/account"),
        )
        .unwrap();
    let client = OAuthClient::new(config).unwrap();
    let tokens = login(&client).await;
    let log = token_log().await;
    assert_eq!(log[0]["client_auth"], "none");
    assert_eq!(log[0]["has_code_verifier"], true);
    client
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
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
