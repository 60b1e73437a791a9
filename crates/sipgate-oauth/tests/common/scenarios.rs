//! The scenarios run against both servers, each written once: `flow.rs` runs them against
//! the mock, `interop.rs` against the real OAuth server. Where the two differ, the
//! difference lives in [`Server`], not here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sipgate_oauth::{
    BearerAuthExt as _, ClientAuth, Error, OAuthClient, TokenSet, TokenStore, account,
    bearer_auth_from_login,
};
use url::Url;

use super::server::Server;
use super::{agent, browser, listen};

const LONG: Duration = Duration::from_secs(60);

/// The browser that goes through a full login, for the scenarios that need a grant.
async fn login(client: &OAuthClient) -> TokenSet {
    login_seen(client).await.0
}

/// A full login; also hands back the authorization URL the browser was sent to.
async fn login_seen(client: &OAuthClient) -> (TokenSet, Url) {
    let seen = Arc::new(Mutex::new(None));
    let seen_by_browser = Arc::clone(&seen);
    let (open, mut pages) = browser(move |url| {
        *seen_by_browser.lock().unwrap() = Some(url.clone());
    });
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Login successful"));
    let url = seen.lock().unwrap().take().unwrap();
    (tokens, url)
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

/// The whole login through the loopback listener with `client_secret_post`: PKCE and the
/// scope go into the authorization URL and the secret does not; the code is exchanged with
/// the verifier and the secret in the body; the token opens the account endpoint.
pub(crate) async fn full_flow_with_pkce_and_client_secret_post(server: &Server) {
    server.clear_token_log().await;
    let client = OAuthClient::new(server.config()).unwrap();
    let (tokens, url) = login_seen(&client).await;
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.expires_in, Some(server.access_ttl()));

    let query = url.query().unwrap();
    assert!(query.contains("code_challenge_method=S256"), "{query}");
    assert!(query.contains("scope=account%3Aread"), "{query}");
    assert!(!url.query_pairs().any(|(k, _)| k == "client_secret"));

    let log = server.token_requests().await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].grant_type, "authorization_code");
    assert_eq!(log[0].client_auth, "client_secret_post");
    assert!(log[0].has_code_verifier);

    let auth = bearer_auth_from_login(client.clone(), TokenStore::in_memory(), &tokens)
        .await
        .unwrap();
    let me = account(
        &reqwest::Client::new(),
        &auth,
        &client.config().test_api_endpoint,
    )
    .await
    .unwrap();
    assert_eq!(me.main_product_type, "TEAM");
    assert!(me.verified);
    assert_eq!(auth.refresh_count(), 0);
}

/// PKCE is enforced: without it the authorization request comes back as an error
/// redirect, and a code redeemed with another request's verifier is refused. (The mock
/// enforces it when built `with_required_pkce`; the real server always does.)
pub(crate) async fn pkce_is_required_and_verified(server: &Server) {
    let client = OAuthClient::new(server.config().with_pkce(false)).unwrap();
    let (open, _pages) = browser(|_| {});
    let err = client.login(&open, &|_| {}, LONG).await.unwrap_err();
    assert!(
        matches!(&err, Error::AuthorizationDenied { error, .. } if error == "invalid_request"),
        "{err}"
    );

    let client = OAuthClient::new(server.config()).unwrap();
    let (listener, request) = listen(&client).await;
    let other = client
        .authorization_request_for(listener.redirect_uri())
        .unwrap();
    let url = request.url().clone();
    tokio::spawn(async move { agent().get(url).send().await });
    let callback = listener.wait_for(&request).await.unwrap();
    let err = client.exchange_code(other, callback).await.unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err}");
}

/// `client_secret_basic` for the exchange and the refresh, and nothing in the body; the
/// body method for a client registered for Basic is refused as `invalid_client`.
pub(crate) async fn client_secret_basic(server: &Server) {
    server.clear_token_log().await;
    let client = OAuthClient::new(server.basic_config()).unwrap();
    let tokens = login(&client).await;
    client
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    server
        .assert_code_then_refresh_by("client_secret_basic")
        .await;

    let wrong = OAuthClient::new(
        server
            .basic_config()
            .with_client_auth(ClientAuth::RequestBody),
    )
    .unwrap();
    let (open, _pages) = browser(|_| {});
    let err = wrong.login(&open, &|_| {}, LONG).await.unwrap_err();
    assert!(matches!(err, Error::InvalidClient { .. }), "{err}");
}

/// A refresh rotates the refresh token: the store holds the new one, the access token
/// works, and the old refresh token is refused.
pub(crate) async fn refresh_rotates_and_the_old_refresh_token_is_refused(server: &Server) {
    let client = OAuthClient::new(server.config()).unwrap();
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

/// A hundred concurrent requests after the access token expired cause one refresh, seen by
/// the authenticator and by the server (single flight). How the token expires differs per
/// server; see [`Server::expire_access_tokens`].
pub(crate) async fn hundred_requests_across_an_expiry_cause_one_refresh(server: &Server) {
    let client = OAuthClient::new(server.config()).unwrap();
    let tokens = login(&client).await;
    let auth = Arc::new(
        bearer_auth_from_login(client.clone(), TokenStore::in_memory(), &tokens)
            .await
            .unwrap(),
    );
    let url = client.config().test_api_endpoint.clone();
    account(&reqwest::Client::new(), &*auth, &url)
        .await
        .unwrap();

    server.expire_access_tokens().await;
    server.clear_token_log().await;
    // A new client: the real server's keep-alive (5 s) may be closing the old one's
    // connections while we waited.
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
    assert_eq!(server.token_grants("refresh_token").await, 1);
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
    assert!(server.token_requests().await.is_empty());
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
    let (listener, request) = listen(&client).await;
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

/// Issue 13, item 4: a request with a wrong `state` used to end the login (any local
/// program or web page could abort every login). Now each forged callback is answered and
/// ignored, and the real redirect that follows still completes the login with one code
/// exchange.
pub(crate) async fn wrong_state_is_ignored_and_the_login_goes_on(server: &Server) {
    server.clear_token_log().await;
    let client = OAuthClient::new(server.config()).unwrap();
    let (tx, mut pages) = tokio::sync::mpsc::unbounded_channel();
    let open = move |url: &Url| {
        let url = url.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let redirect = url
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .map(|(_, v)| Url::parse(&v).unwrap())
                .unwrap();
            for query in [
                "code=forged-code&state=forged",
                "error=access_denied",
                "code=x",
                "state=forged&state=forged&code=x",
            ] {
                let mut forged = redirect.clone();
                forged.set_query(Some(query));
                let response = agent().get(forged).send().await.expect("the page loads");
                let _ = tx.send((response.status().as_u16(), response.text().await.unwrap()));
            }
            let response = agent().get(url).send().await.expect("the page loads");
            let _ = tx.send((response.status().as_u16(), response.text().await.unwrap()));
        });
        Ok::<(), String>(())
    };
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    assert!(tokens.refresh_token.is_some());
    for _ in 0..4 {
        let (status, page) = pages.recv().await.unwrap();
        assert_eq!(status, 400);
        assert!(page.contains("Not this login"), "{page}");
    }
    assert_eq!(pages.recv().await.unwrap().0, 200);
    let log = server.token_requests().await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].grant_type, "authorization_code");
}
