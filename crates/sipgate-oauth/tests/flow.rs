//! The whole login against the in-process sipgate mock: listener, scripted browser, code
//! exchange, account call, refresh with rotation, and the failure paths of the flow. The
//! scenarios in `common::scenarios` run here against the mock and in `interop.rs` against
//! the real OAuth server.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use std::sync::Arc;
use std::time::Duration;

use pbx_mock::MockServer;
use pbx_mock::sipgate::{CLIENT_ID, CLIENT_SECRET, ClientAuthMethod, SipgateMock};
use sipgate_oauth::{
    BearerAuthExt as _, ClientAuth, Config, Error, OAuthClient, TokenStore, account, bearer_auth,
    bearer_auth_from_login,
};
use url::Url;

mod common;
use common::server::Server;
use common::{agent, browser, scenarios};

const LONG: Duration = Duration::from_secs(60);

fn config(mock: &MockServer) -> Config {
    let base = mock.url();
    Config::new(CLIENT_ID)
        .unwrap()
        .with_client_secret(CLIENT_SECRET)
        .with_redirect_uri("http://127.0.0.1:0/oauth")
        .unwrap()
        .with_endpoints(
            &format!("{base}/auth"),
            &format!("{base}/token"),
            &format!("{base}/v2/account"),
        )
        .unwrap()
        .with_revocation_url(&format!("{base}/revoke"))
        .unwrap()
}

#[tokio::test]
async fn full_flow_account_refresh_and_rotation() {
    let handle = SipgateMock::new().with_required_pkce();
    let mock = MockServer::start(handle.clone());
    let client = OAuthClient::new(config(&mock)).unwrap();
    let (open, mut pages) = browser(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("Login successful"));
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.expires_in, Some(Duration::from_secs(300)));

    // The secret never went into the authorization URL; PKCE did.
    let auth = &mock.requests_to("/auth")[0];
    let query = auth.query.clone().unwrap();
    assert!(!query.contains(CLIENT_SECRET));
    assert!(query.contains("code_challenge_method=S256"));
    assert!(query.contains("scope=account%3Aread"));
    // The secret went into the body of the token request (client_secret_post).
    let token_req = &mock.requests_to("/token")[0];
    let form: Vec<(String, String)> = token_req.form_pairs();
    assert!(
        form.iter()
            .any(|(k, v)| k == "client_secret" && v == CLIENT_SECRET)
    );
    assert!(form.iter().any(|(k, _)| k == "code_verifier"));
    assert!(token_req.header("authorization").is_none());

    let store = TokenStore::in_memory();
    let auth = bearer_auth_from_login(client.clone(), store.clone(), &tokens)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let me = account(&http, &auth, &client.config().test_api_endpoint)
        .await
        .unwrap();
    assert_eq!(me.main_product_type, "TEAM");
    assert_eq!(auth.refresh_count(), 0);

    // Refresh: the new refresh token is stored, the old one is refused.
    let old_refresh = tokens.refresh_token.clone().unwrap();
    auth.force_refresh().await.unwrap();
    let stored = store.load().await.unwrap().unwrap();
    assert_ne!(
        stored.refresh_token.as_ref().unwrap().expose_secret(),
        old_refresh.expose_secret()
    );
    assert!(matches!(
        client.refresh(&old_refresh).await,
        Err(Error::InvalidGrant { .. })
    ));
    let me = account(&http, &auth, &client.config().test_api_endpoint)
        .await
        .unwrap();
    assert!(me.verified);
}

#[tokio::test]
async fn expired_access_token_is_refreshed_once_and_retried() {
    let handle = SipgateMock::new();
    let mock = MockServer::start(handle.clone());
    let client = OAuthClient::new(config(&mock)).unwrap();
    let (open, _pages) = browser(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let auth = Arc::new(
        bearer_auth_from_login(client.clone(), TokenStore::in_memory(), &tokens)
            .await
            .unwrap(),
    );
    // The server considers the token expired although the client still thinks it is
    // fresh: the 401 makes the authenticator refresh once and retry.
    handle.expire_access_tokens();
    let http = reqwest::Client::new();
    let url = client.config().test_api_endpoint.clone();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (auth, http, url) = (Arc::clone(&auth), http.clone(), url.clone());
        tasks.push(tokio::spawn(
            async move { account(&http, &*auth, &url).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Single flight: every 401 for the same token leads to one refresh.
    assert_eq!(handle.refresh_count(), 1);
    assert_eq!(auth.refresh_count(), 1);
}

#[tokio::test]
async fn client_secret_basic() {
    let handle = SipgateMock::new().with_client_auth(ClientAuthMethod::Basic);
    let mock = MockServer::start(handle);
    let client = OAuthClient::new(config(&mock).with_client_auth(ClientAuth::Basic)).unwrap();
    let (open, _pages) = browser(|_| {});
    client.login(&open, &|_| {}, LONG).await.unwrap();
    let token_req = &mock.requests_to("/token")[0];
    assert!(
        token_req
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(
        !token_req
            .form_pairs()
            .iter()
            .any(|(k, _)| k == "client_secret")
    );

    // The post method against a Basic-only client is refused as invalid_client.
    let post = OAuthClient::new(config(&mock)).unwrap();
    let (open, _pages) = browser(|_| {});
    assert!(matches!(
        post.login(&open, &|_| {}, LONG).await,
        Err(Error::InvalidClient { .. })
    ));
}

#[tokio::test]
async fn listener_serves_only_its_path_and_one_callback() {
    let mock = MockServer::start(SipgateMock::new());
    let client = OAuthClient::new(config(&mock)).unwrap();
    let listener = sipgate_oauth::LoopbackListener::bind(&client.config().redirect_uri)
        .await
        .unwrap()
        .with_timeout(LONG);
    let request = client
        .authorization_request_for(listener.redirect_uri())
        .unwrap();
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
    let mock = MockServer::start(SipgateMock::new());
    // The registered URI with a fixed port where nothing listens: the user copies the
    // address bar instead.
    let config = config(&mock)
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
    let before = mock.count("/token");
    let input = tokio::io::BufReader::new(&b"http://localhost:9/elsewhere?code=1\n"[..]);
    assert!(matches!(
        client.login_with_pasted_url(|_| {}, input).await,
        Err(Error::InvalidCallback(_))
    ));
    assert_eq!(mock.count("/token"), before);
}

#[tokio::test]
async fn file_store_survives_a_restart_and_revocation_clears_it() {
    let handle = SipgateMock::new();
    let mock = MockServer::start(handle.clone());
    let client = OAuthClient::new(config(&mock)).unwrap();
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
    let mock = MockServer::start(SipgateMock::new());
    let client = OAuthClient::new(config(&mock)).unwrap();
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

#[tokio::test]
async fn access_denied() {
    scenarios::access_denied(&Server::mock(SipgateMock::new())).await;
}

#[tokio::test]
async fn wrong_state_is_ignored_and_never_reaches_the_token_endpoint() {
    scenarios::wrong_state_is_ignored_and_never_reaches_the_token_endpoint(&Server::mock(
        SipgateMock::new(),
    ))
    .await;
}

#[tokio::test]
async fn unregistered_redirect_uri_never_reaches_the_listener() {
    scenarios::unregistered_redirect_uri_never_reaches_the_listener(&Server::mock(
        SipgateMock::new(),
    ))
    .await;
}

#[tokio::test]
async fn expired_code_is_refused() {
    scenarios::expired_code_is_refused(&Server::mock(SipgateMock::new())).await;
}

#[tokio::test]
async fn revocation_ends_the_grant() {
    scenarios::revocation_ends_the_grant(&Server::mock(SipgateMock::new())).await;
}

// Issue 13, item 4: a request with a wrong `state` used to end the login (any local
// program or web page could abort every login). Now it is answered and ignored, and the
// real redirect that follows still completes the login.
#[tokio::test]
async fn wrong_state_is_ignored_and_the_login_goes_on() {
    let mock = MockServer::start(SipgateMock::new());
    let client = OAuthClient::new(config(&mock)).unwrap();
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
    assert_eq!(mock.count("/token"), 1);
}
