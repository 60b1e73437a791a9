//! A real browser: headless Chromium opens the authorization URL of the real OAuth server
//! (started by `cargo xtask e2e` with `OAUTH_ISSUER` and `CHROMIUM` set), goes through the
//! provider's redirects with its own cookies to the loopback listener, and shows the
//! listener's page, which it dumps for the test to check.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sipgate_oauth::{
    BearerAuthExt as _, Config, Error, OAuthClient, TokenStore, account, bearer_auth_from_login,
};
use tokio::sync::oneshot;
use url::Url;

const LONG: Duration = Duration::from_secs(120);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests need the real OAuth server and Chromium that `cargo xtask e2e` provides")
    })
}

fn config() -> Config {
    let issuer = env("OAUTH_ISSUER");
    Config::new("sipgate-post")
        .unwrap()
        .with_client_secret("post-secret-0123456789abcdef")
        .with_redirect_uri("http://127.0.0.1:0/oauth")
        .unwrap()
        .with_endpoints(
            &format!("{issuer}/auth"),
            &format!("{issuer}/token"),
            &format!("{issuer}/v2/account"),
        )
        .unwrap()
}

/// A new empty profile per run, so no earlier session can log us in silently.
fn profile_dir() -> PathBuf {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).unwrap();
    std::env::temp_dir().join(format!("sipgate-chromium-{}", hex::encode(suffix)))
}

/// Opens the URL in headless Chromium and sends back the DOM of the page it ends on.
fn chromium(
    tweak: impl Fn(&mut Url) + Send + Sync + 'static,
) -> (
    impl Fn(&Url) -> Result<(), String> + Send + Sync,
    oneshot::Receiver<String>,
) {
    let (tx, rx) = oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let open = move |url: &Url| {
        let mut url = url.clone();
        tweak(&mut url);
        let tx = tx.lock().unwrap().take().ok_or("opened twice")?;
        let profile = profile_dir();
        let mut child = tokio::process::Command::new(env("CHROMIUM"))
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(url.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start Chromium: {e}"))?;
        tokio::spawn(async move {
            let mut stdout = child.stdout.take().unwrap();
            let mut stderr = child.stderr.take().unwrap();
            let (mut dom, mut log) = (String::new(), String::new());
            let read = async {
                tokio::join!(
                    tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut dom),
                    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut log),
                )
            };
            let _ = tokio::time::timeout(LONG, read).await;
            let _ = child.kill().await;
            let _ = std::fs::remove_dir_all(&profile);
            // Chromium's own messages go along, for the failure message.
            let _ = tx.send(format!("{dom}\n--- chromium stderr ---\n{log}"));
        });
        Ok(())
    };
    (open, rx)
}

#[tokio::test]
#[ignore = "needs the real OAuth server and Chromium; run by cargo xtask e2e"]
async fn chromium_logs_in_through_the_loopback_listener() {
    let client = OAuthClient::new(config()).unwrap();
    let (open, dom) = chromium(|_| {});
    let tokens = client.login(&open, &|_| {}, LONG).await.unwrap();
    let dom = dom.await.unwrap();
    assert!(dom.contains("Login successful"), "Chromium showed: {dom}");

    assert!(tokens.refresh_token.is_some());
    let store = TokenStore::in_memory();
    let auth = bearer_auth_from_login(client.clone(), store.clone(), &tokens)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let me = account(&http, &auth, &client.config().test_api_endpoint)
        .await
        .unwrap();
    assert_eq!(me.main_product_type, "TEAM");
    auth.force_refresh().await.unwrap();
    account(&http, &auth, &client.config().test_api_endpoint)
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs the real OAuth server and Chromium; run by cargo xtask e2e"]
async fn chromium_shows_the_failure_page_when_access_is_denied() {
    let client = OAuthClient::new(config()).unwrap();
    let (open, dom) = chromium(|url| {
        url.query_pairs_mut().append_pair("login_hint", "deny");
    });
    let err = client.login(&open, &|_| {}, LONG).await.unwrap_err();
    assert!(
        matches!(&err, Error::AuthorizationDenied { error, .. } if error == "access_denied"),
        "{err}"
    );
    let dom = dom.await.unwrap();
    assert!(dom.contains("Login failed"), "Chromium showed: {dom}");
}
