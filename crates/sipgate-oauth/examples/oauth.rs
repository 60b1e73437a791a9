//! The sipgate.io OAuth example, in Rust: log in through the browser, call `/v2/account`,
//! refresh the tokens, call it again.
//!
//! ```sh
//! cargo run -p sipgate-oauth --example oauth [path/to/.env]
//! ```
//!
//! The `.env` file has the keys of sipgate's example (`CLIENT_ID`, `CLIENT_SECRET`,
//! `REDIRECT_URI`, `OAUTH_SCOPE`, `PORT`, `AUTH_URL`, `TOKEN_URL`, `TEST_API_ENDPOINT`).
//! `BROWSER_MODE` picks how the authorization URL is opened: `system` (default), `print`
//! (only print it), `paste` (print it and read the redirected URL from standard input) or
//! `scripted` (a cookie-keeping HTTP client follows it — for the automated demo).
//! `TOKEN_FILE` keeps the tokens in a 0600 JSON file instead of memory.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use sipgate_oauth::{
    BearerAuthExt as _, BrowserOpener, Config, NoBrowser, OAuthClient, TokenStore, account,
    bearer_auth_from_login, default_opener,
};
use url::Url;

/// Prints the URL (as the original does), then hands it to the real opener; the login's
/// own fallback then has nothing left to show.
struct PrintThenOpen(Box<dyn BrowserOpener>);

impl BrowserOpener for PrintThenOpen {
    fn open(&self, url: &Url) -> Result<(), String> {
        show_url(url);
        self.0.open(url)
    }
}

/// A scripted browser for the demo: follows redirects and keeps cookies like a browser,
/// and shows what the loopback listener answered.
struct ScriptedBrowser;

impl BrowserOpener for ScriptedBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let agent = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .map_err(|e| e.to_string())?;
        let url = url.clone();
        tokio::spawn(async move {
            match agent.get(url).send().await {
                Ok(page) => {
                    let status = page.status();
                    let text = page.text().await.unwrap_or_default();
                    let title = text
                        .split("<h1 id=\"result\">")
                        .nth(1)
                        .and_then(|t| t.split('<').next())
                        .unwrap_or("(no page)");
                    println!("[browser] the listener answered HTTP {status}: {title}");
                }
                Err(e) => eprintln!("[browser] {e}"),
            }
        });
        Ok(())
    }
}

/// The library never prints: the example tells the user where to go itself.
fn show_url(url: &Url) {
    println!("Please open the following URL in your browser:\n{url}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env_file = std::env::args().nth(1).unwrap_or_else(|| ".env".to_owned());
    let config = if std::path::Path::new(&env_file).exists() {
        Config::from_env_file(&env_file)?
    } else {
        Config::from_env()?
    };
    let client = OAuthClient::new(config)?;
    let timeout = Duration::from_secs(300);

    let mode = std::env::var("BROWSER_MODE").unwrap_or_else(|_| "system".to_owned());
    let tokens = match mode.as_str() {
        "paste" => {
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            let show = |url: &Url| {
                show_url(url);
                println!(
                    "After logging in, paste the full URL from the browser's address bar here:"
                );
            };
            client.login_with_pasted_url(show, stdin).await?
        }
        "scripted" => client.login(&ScriptedBrowser, &show_url, timeout).await?,
        "print" => {
            client
                .login(&NoBrowser::default(), &show_url, timeout)
                .await?
        }
        _ => {
            client
                .login(&PrintThenOpen(default_opener()), &|_| {}, timeout)
                .await?
        }
    };
    // The original prints the tokens; this port says only what it got.
    println!(
        "received tokens: access token valid for {} s, refresh token {}",
        tokens.expires_in.map_or(0, |d| d.as_secs()),
        if tokens.refresh_token.is_some() {
            "present"
        } else {
            "absent"
        },
    );

    let store = match std::env::var("TOKEN_FILE") {
        Ok(path) => TokenStore::file(path),
        Err(_) => TokenStore::in_memory(),
    };
    let auth = bearer_auth_from_login(client.clone(), store, &tokens).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let endpoint = &client.config().test_api_endpoint;

    let me = account(&http, &auth, endpoint).await?;
    println!("{}", serde_json::to_string_pretty(&me)?);

    // Refreshing rotates the refresh token; the new one is stored before it is used.
    auth.force_refresh().await?;
    println!(
        "refreshed the tokens ({} refresh so far)",
        auth.refresh_count()
    );

    let me = account(&http, &auth, endpoint).await?;
    println!("{}", serde_json::to_string_pretty(&me)?);
    Ok(())
}
