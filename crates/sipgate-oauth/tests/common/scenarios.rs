//! The scenarios run against both servers, each written once: `flow.rs` runs them against
//! the mock, `interop.rs` against the real OAuth server.

use std::time::Duration;

use sipgate_oauth::{
    BearerAuthExt as _, Error, LoopbackListener, OAuthClient, TokenStore, bearer_auth_from_login,
};
use url::Url;

use super::server::Server;
use super::{agent, browser};

const LONG: Duration = Duration::from_secs(60);

/// The browser that goes through a full login, for the scenarios that need a grant.
async fn login(client: &OAuthClient) -> sipgate_oauth::TokenSet {
    let (open, mut pages) = browser(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Login successful"));
    tokens
}

fn replace_param(url: &mut Url, name: &str, value: &str) {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

/// The user refuses consent: the error redirect is reported, after the state check.
pub(crate) async fn access_denied(server: &Server) {
    let client = OAuthClient::new(server.config()).unwrap();
    let (open, mut pages) = browser(|url| {
        url.query_pairs_mut().append_pair("login_hint", "deny");
    });
    let err = client.login(&open, &|_| {}, LONG).await.unwrap_err();
    assert!(
        matches!(&err, Error::AuthorizationDenied { error, .. } if error == "access_denied"),
        "{err}"
    );
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 400);
    assert!(page.contains("Login failed"));
    if server.is_mock() {
        assert!(page.contains("access_denied"));
    }
}

/// A forged `state` is answered and ignored (issue 13: any local program could otherwise
/// abort every login): the listener keeps waiting, so with no real redirect the login times
/// out, and no token is ever requested.
pub(crate) async fn wrong_state_is_ignored_and_never_reaches_the_token_endpoint(server: &Server) {
    server.clear_token_log().await;
    let client = OAuthClient::new(server.config()).unwrap();
    let (open, mut pages) = browser(|url| replace_param(url, "state", "forged-state"));
    let err = client
        .login(&open, &|_| {}, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 400);
    assert!(page.contains("Not this login"), "{page}");
    assert_eq!(server.token_request_count().await, 0);
}

/// A redirect URI the server does not know: the server shows an error page, the listener
/// never gets a callback, and the timeout says why.
pub(crate) async fn unregistered_redirect_uri_never_reaches_the_listener(server: &Server) {
    let config = server
        .config()
        .with_redirect_uri("http://127.0.0.1:0/not-registered")
        .unwrap();
    let client = OAuthClient::new(config).unwrap();
    let (open, mut pages) = browser(|_| {});
    let err = client
        .login(&open, &|_| {}, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout(m) if m.contains("redirect_uri")),
        "{err}"
    );
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 400);
    assert!(page.contains("redirect_uri"), "{page}");
    if server.is_mock() {
        assert!(page.contains("invalid parameter: redirect_uri"));
    }
}

/// A code redeemed after it expired is an `invalid_grant`.
pub(crate) async fn expired_code_is_refused(server: &Server) {
    let client = OAuthClient::new(server.config()).unwrap();
    let listener = LoopbackListener::bind(&client.config().redirect_uri)
        .await
        .unwrap()
        .with_timeout(LONG);
    let request = client
        .authorization_request_for(listener.redirect_uri())
        .unwrap();
    let url = request.url().clone();
    tokio::spawn(async move { agent().get(url).send().await });
    let callback = listener.wait_for(&request).await.unwrap();
    server.expire_codes().await;
    let err = client.exchange_code(request, callback).await.unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err}");
}

/// Revocation clears the store and ends the grant: the refresh token is refused after.
pub(crate) async fn revocation_ends_the_grant(server: &Server) {
    let client = OAuthClient::new(server.config()).unwrap();
    let tokens = login(&client).await;
    let store = TokenStore::in_memory();
    let auth = bearer_auth_from_login(client.clone(), store.clone(), &tokens)
        .await
        .unwrap();
    auth.revoke().await.unwrap();
    assert!(store.load().await.unwrap().is_none());
    let err = client
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err}");
}
