//! Issue 13 regressions for this crate: bounded bodies (item 5), no credentials in
//! `Config`'s `Debug` (item 7), and the canary sweep over errors built from a server that
//! echoes the request back. (Items 1, 4 and 10 are tested in `store.rs`, `flow.rs` and
//! `callback.rs`.)

#![allow(clippy::unwrap_used)] // Helpers outside #[test] fns unwrap like the tests do.

use pbx_mock::{MockRequest, MockResponse, MockServer};
use sipgate_oauth::{
    AccessToken, Config, Error, MAX_ACCOUNT_RESPONSE_BYTES, MAX_TOKEN_RESPONSE_BYTES, OAuthClient,
    RefreshToken, TokenSet, TokenStore, account,
};

const SECRET: &str = "Canary-Secret-7f3a9e";
const REFRESH: &str = "Canary-Refresh-5b2c1d";
const ACCESS: &str = "Canary-Access-9d8e7f";
const URL_PASSWORD: &str = "Canary-UrlPw-3c4d5e";

fn client(base: &str) -> OAuthClient {
    let config = Config::new("client-1")
        .unwrap()
        .with_client_secret(SECRET)
        .with_endpoints(
            &format!("{base}/auth"),
            &format!("{base}/token"),
            &format!("{base}/v2/account"),
        )
        .unwrap();
    OAuthClient::new(config).unwrap()
}

fn assert_clean(label: &str, err: &Error) {
    let core: pbx_auth_core::Error = err.clone().into();
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{err:#?}"),
        format!("{core}"),
        format!("{core:?}"),
        format!("{core:#?}"),
    ] {
        for secret in [SECRET, REFRESH, ACCESS, URL_PASSWORD] {
            assert!(!text.contains(secret), "{label}: {text}");
        }
    }
}

/// The request as text: line, headers, body.
fn request_text(req: &MockRequest) -> String {
    let mut text = format!("{} {}\n", req.method, req.path);
    for (name, value) in &req.headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&String::from_utf8_lossy(&req.body));
    text
}

async fn account_error(base: &str) -> Error {
    let client = client(base);
    let store = TokenStore::in_memory();
    let tokens = TokenSet::new(
        AccessToken::new(ACCESS),
        Some(RefreshToken::new(REFRESH)),
        None,
    );
    let auth = sipgate_oauth::bearer_auth_from_login(client.clone(), store, &tokens)
        .await
        .unwrap();
    account(
        &reqwest::Client::new(),
        &auth,
        &client.config().test_api_endpoint,
    )
    .await
    .unwrap_err()
}

// Issue 13, item 5: token and account bodies were read whole, whatever their size.
#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let big = MockServer::start(|req: &MockRequest| {
        let len = if req.path == "/token" {
            MAX_TOKEN_RESPONSE_BYTES + 1
        } else {
            MAX_ACCOUNT_RESPONSE_BYTES + 1
        };
        MockResponse::text(200, "application/json", vec![b' '; len])
    });
    let err = client(big.url())
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit } if limit == MAX_TOKEN_RESPONSE_BYTES),
        "{err:?}"
    );
    let err = account_error(big.url()).await;
    assert!(
        matches!(err, Error::ResponseTooLarge { limit } if limit == MAX_ACCOUNT_RESPONSE_BYTES),
        "{err:?}"
    );
}

// Issue 13, item 7: `Config`'s `Debug` printed URLs with their `user:password@`.
#[test]
fn config_debug_hides_url_credentials() {
    let base = format!("https://user:{URL_PASSWORD}@login.example");
    let config = Config::new("client-1")
        .unwrap()
        .with_client_secret(SECRET)
        .with_endpoints(
            &format!("{base}/auth"),
            &format!("{base}/token"),
            &format!("{base}/v2/account"),
        )
        .unwrap()
        .with_revocation_url(&format!("{base}/revoke"))
        .unwrap();
    for text in [format!("{config:?}"), format!("{config:#?}")] {
        assert!(!text.contains(URL_PASSWORD), "{text}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("user:"), "{text}");
        assert!(text.contains("login.example"), "{text}");
    }
}

// Issue 13, item 7 and the canary sweep: a server that echoes the request (form with the
// client secret and the refresh token, the bearer token) into its error description.
#[tokio::test]
async fn errors_from_an_echoing_server_carry_no_secret() {
    for status in [400, 401, 500] {
        let server = MockServer::start(move |req: &MockRequest| {
            MockResponse::json(
                status,
                &serde_json::json!({
                    "error": "invalid_request",
                    "error_description": request_text(req),
                    "message": request_text(req),
                }),
            )
        });
        let err = client(server.url())
            .refresh(&RefreshToken::new(REFRESH))
            .await
            .unwrap_err();
        assert_clean(&format!("refresh, HTTP {status}"), &err);
        let err = account_error(server.url()).await;
        assert_clean(&format!("account, HTTP {status}"), &err);
        let plain = MockServer::start(move |req: &MockRequest| {
            MockResponse::text(status, "text/plain", request_text(req))
        });
        let err = client(plain.url())
            .refresh(&RefreshToken::new(REFRESH))
            .await
            .unwrap_err();
        assert_clean(&format!("refresh, plain HTTP {status}"), &err);
        let err = account_error(plain.url()).await;
        assert_clean(&format!("account, plain HTTP {status}"), &err);
    }
    // The callback's error description comes from the browser's URL: same rule.
    let client = client("http://127.0.0.1:9");
    let request = client.authorization_request().unwrap();
    let state = request
        .url()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let pasted = format!(
        "http://localhost:8080/oauth?state={state}&error=access_denied&error_description=password%3D{SECRET}+Bearer+{ACCESS}"
    );
    let err = request.verify_pasted_url(&pasted).unwrap_err();
    assert!(matches!(err, Error::AuthorizationDenied { .. }), "{err:?}");
    assert_clean("callback", &err);
}
