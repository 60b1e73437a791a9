//! The whole login against the in-process sipgate mock. The scenarios in
//! `common::scenarios` (the flow with PKCE and either client authentication, refresh with
//! rotation, single-flight refresh across an expiry, the failure paths of the flow) run
//! here against the mock and in `interop.rs` against the real OAuth server, each written
//! once. What stays here needs no particular server, only one that answers: the loopback
//! listener's own behaviour, the pasted-URL mode, the file store across a restart, and the
//! URL handed to the caller when no browser opens.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use std::time::Duration;

use pbx_mock::sipgate::{ClientAuthMethod, SipgateMock};
use sipgate_oauth::{
    BearerAuthExt as _, Error, OAuthClient, TokenStore, account, bearer_auth,
    bearer_auth_from_login,
};
use url::Url;

mod common;
use common::server::Server;
use common::{agent, browser, listen, scenarios};

const LONG: Duration = Duration::from_secs(60);

/// A fresh mock with its defaults.
fn mock() -> Server {
    Server::mock(SipgateMock::new())
}

#[tokio::test]
async fn full_flow_with_pkce_and_client_secret_post() {
    scenarios::full_flow_with_pkce_and_client_secret_post(&mock()).await;
}

#[tokio::test]
async fn pkce_is_required_and_verified() {
    scenarios::pkce_is_required_and_verified(&Server::mock(
        SipgateMock::new().with_required_pkce(),
    ))
    .await;
}

#[tokio::test]
async fn client_secret_basic() {
    scenarios::client_secret_basic(&Server::mock(
        SipgateMock::new().with_client_auth(ClientAuthMethod::Basic),
    ))
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_is_refused() {
    scenarios::refresh_rotates_and_the_old_refresh_token_is_refused(&mock()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_requests_across_an_expiry_cause_one_refresh() {
    scenarios::hundred_requests_across_an_expiry_cause_one_refresh(&mock()).await;
}

#[tokio::test]
async fn access_denied() {
    scenarios::access_denied(&mock()).await;
}

#[tokio::test]
async fn wrong_state_is_ignored_and_never_reaches_the_token_endpoint() {
    scenarios::wrong_state_is_ignored_and_never_reaches_the_token_endpoint(&mock()).await;
}

#[tokio::test]
async fn wrong_state_is_ignored_and_the_login_goes_on() {
    scenarios::wrong_state_is_ignored_and_the_login_goes_on(&mock()).await;
}

#[tokio::test]
async fn unregistered_redirect_uri_never_reaches_the_listener() {
    scenarios::unregistered_redirect_uri_never_reaches_the_listener(&mock()).await;
}

#[tokio::test]
async fn expired_code_is_refused() {
    scenarios::expired_code_is_refused(&mock()).await;
}

#[tokio::test]
async fn revocation_ends_the_grant() {
    scenarios::revocation_ends_the_grant(&mock()).await;
}

#[tokio::test]
async fn listener_serves_only_its_path_and_one_callback() {
    let server = mock();
    let client = OAuthClient::new(server.config()).unwrap();
    let (listener, request) = listen(&client).await;
    let base = listener.redirect_uri().clone();
    let auth_url = request.url().clone();
    let poke = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut other = base.clone();
        other.set_path("/favicon.ico");
        let status = http.get(other).send().await.unwrap().status();
        assert_eq!(status, 404);
        let status = http.post(base.clone()).send().await.unwrap().status();
        assert_eq!(status, 405);
        // Now the real browser.
        let page = agent().get(auth_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
    });
    let callback = listener.wait_for(&request).await.unwrap();
    poke.await.unwrap();
    client.exchange_code(request, callback).await.unwrap();
}

#[tokio::test]
async fn pasted_redirect_url_mode() {
    let server = mock();
    // The registered URI with a fixed port where nothing listens: the user copies the
    // address bar instead.
    let config = server
        .config()
        .with_redirect_uri("http://localhost:9/oauth")
        .unwrap();
    let client = OAuthClient::new(config).unwrap();
    let request = client.authorization_request().unwrap();
    let no_redirects = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut next = request.url().clone();
    let pasted = loop {
        let response = no_redirects.get(next.clone()).send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let target = next.join(&location).unwrap();
        if target.path() == "/oauth" {
            break target;
        }
        next = target;
    };
    assert!(matches!(
        request.verify_pasted_url("http://evil.example/oauth?code=x&state=y"),
        Err(Error::InvalidCallback(_))
    ));
    let callback = request.verify_pasted_url(pasted.as_str()).unwrap();
    client.exchange_code(request, callback).await.unwrap();

    // The async reader variant: a wrong URL is refused before any token request.
    server.clear_token_log().await;
    let input = tokio::io::BufReader::new(&b"http://localhost:9/elsewhere?code=1\n"[..]);
    assert!(matches!(
        client.login_with_pasted_url(|_| {}, input).await,
        Err(Error::InvalidCallback(_))
    ));
    assert!(server.token_requests().await.is_empty());
}

#[tokio::test]
async fn file_store_survives_a_restart_and_revocation_clears_it() {
    let server = mock();
    let client = OAuthClient::new(server.config()).unwrap();
    let (open, _pages) = browser(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let dir = std::env::temp_dir().join(format!("sipgate-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    {
        let store = TokenStore::file(&path);
        bearer_auth_from_login(client.clone(), store, &tokens)
            .await
            .unwrap();
    }
    // "Restart": a new authenticator from the file uses the stored access token.
    let store = TokenStore::file(&path);
    let auth = bearer_auth(client.clone(), store.clone());
    let http = reqwest::Client::new();
    account(&http, &auth, &client.config().test_api_endpoint)
        .await
        .unwrap();
    assert_eq!(auth.refresh_count(), 0);
    auth.revoke().await.unwrap();
    assert!(store.load().await.unwrap().is_none());
    assert!(matches!(
        client.refresh(tokens.refresh_token.as_ref().unwrap()).await,
        Err(Error::InvalidGrant { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn listener_binds_loopback_only() {
    // `localhost` binds IPv4 and, where the machine has it, IPv6 loopback on one port.
    let listener =
        sipgate_oauth::LoopbackListener::bind(&Url::parse("http://localhost:0/oauth").unwrap())
            .await
            .unwrap();
    let addrs = listener.local_addrs();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    assert!(addrs.iter().any(std::net::SocketAddr::is_ipv4));
    assert!(addrs.iter().all(|a| a.port() == addrs[0].port()));
    assert_eq!(listener.redirect_uri().port(), Some(addrs[0].port()));
    drop(listener);

    for bad in [
        "http://0.0.0.0:0/oauth",
        "http://example.com:0/oauth",
        "https://127.0.0.1:0/oauth",
        "http://192.168.1.1:0/oauth",
    ] {
        let err = sipgate_oauth::LoopbackListener::bind(&Url::parse(bad).unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config {
                    key: "REDIRECT_URI",
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }

    // A port in use is a configuration error naming REDIRECT_URI, not a panic.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = sipgate_oauth::LoopbackListener::bind(
        &Url::parse(&format!("http://127.0.0.1:{port}/oauth")).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config {
                key: "REDIRECT_URI",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn login_hands_the_url_to_the_caller_when_no_browser_opens() {
    let server = mock();
    let client = OAuthClient::new(server.config()).unwrap();
    // The opener fails; the library prints nothing but hands the URL to the caller's
    // callback, and still waits (and here times out) instead of failing.
    let failing = |_: &Url| Err("no browser here".to_owned());
    let shown = std::sync::Mutex::new(Vec::<Url>::new());
    let show = |url: &Url| shown.lock().unwrap().push(url.clone());
    let err = client
        .login(&failing, &show, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
    let shown = shown.into_inner().unwrap();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].query_pairs().any(|(k, _)| k == "state"),
        "{}",
        shown[0]
    );
    assert!(shown[0].query_pairs().any(|(k, _)| k == "code_challenge"));

    // The paste variant shows the URL through its callback before reading the input.
    let mut pasted_shown = None;
    let input = tokio::io::BufReader::new(&b"not a url\n"[..]);
    let err = client
        .login_with_pasted_url(|url| pasted_shown = Some(url.clone()), input)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCallback(_)), "{err}");
    let pasted_shown = pasted_shown.unwrap();
    assert!(
        pasted_shown.query_pairs().any(|(k, _)| k == "state"),
        "{pasted_shown}"
    );
}
