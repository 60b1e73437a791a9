//! Every error path of the token endpoint, the revocation endpoint and the account call,
//! against wiremock — and that no error text ever carries a token or secret.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use sipgate_oauth::{
    AccessToken, BearerAuthExt as _, Config, Error, OAuthClient, PersonalAccessToken, RefreshToken,
    TokenSet, TokenStore, account, bearer_auth, bearer_auth_from_login,
};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "client-secret-SHOULD-NOT-LEAK";
const REFRESH: &str = "refresh-token-SHOULD-NOT-LEAK";
const ACCESS: &str = "access-token-SHOULD-NOT-LEAK";

fn client(server: &MockServer) -> OAuthClient {
    let base = server.uri();
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

fn assert_no_secrets(err: &Error) {
    let text = format!("{err} {err:?}");
    for secret in [SECRET, REFRESH, ACCESS] {
        assert!(!text.contains(secret), "{text}");
    }
    let core: pbx_auth_core::Error = err.clone().into();
    let text = format!("{core} {core:?}");
    for secret in [SECRET, REFRESH, ACCESS] {
        assert!(!text.contains(secret), "{text}");
    }
}

async fn refresh_answer(response: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(response)
        .mount(&server)
        .await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert_no_secrets(&err);
    err
}

fn oauth(status: u16, error: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "error": error,
        "error_description": format!("{error} happened"),
    }))
}

#[tokio::test]
async fn refresh_sends_the_sipgate_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(
            "client_secret=client-secret-SHOULD-NOT-LEAK",
        ))
        .and(body_string_contains("client_id=client-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "new-access", "token_type": "bearer", "expires_in": 300,
        })))
        .mount(&server)
        .await;
    let tokens = client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "new-access");
    // No new refresh token sent: the old one is kept.
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), REFRESH);
}

#[tokio::test]
async fn oauth_errors_are_typed() {
    assert!(matches!(
        refresh_answer(oauth(400, "invalid_grant")).await,
        Error::InvalidGrant { description: Some(d) } if d == "invalid_grant happened"
    ));
    assert!(matches!(
        refresh_answer(oauth(401, "invalid_client")).await,
        Error::InvalidClient { error, .. } if error == "invalid_client"
    ));
    assert!(matches!(
        refresh_answer(oauth(400, "unauthorized_client")).await,
        Error::InvalidClient { error, .. } if error == "unauthorized_client"
    ));
    for code in ["invalid_scope", "unsupported_grant_type", "invalid_request"] {
        assert!(matches!(
            refresh_answer(oauth(400, code)).await,
            Error::OAuth { error, .. } if error == code
        ));
    }
}

#[tokio::test]
async fn malformed_answers_are_unexpected_responses() {
    // An HTML error page (Keycloak behind a proxy) — the body is not quoted.
    let err = refresh_answer(
        ResponseTemplate::new(502).set_body_raw(format!("<html>{REFRESH}</html>"), "text/html"),
    )
    .await;
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    // An empty error body.
    let err = refresh_answer(ResponseTemplate::new(500)).await;
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    // A success without a token.
    let err = refresh_answer(ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "token_type": "bearer", "refresh_token": REFRESH,
    })))
    .await;
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    // A token that is not a bearer token.
    let err = refresh_answer(ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": ACCESS, "token_type": "mac",
    })))
    .await;
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    // `expires_in` as a string.
    let err = refresh_answer(ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": ACCESS, "token_type": "Bearer", "expires_in": "300",
    })))
    .await;
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
}

#[tokio::test]
async fn redirects_from_the_token_endpoint_are_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/steal", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert_no_secrets(&err);
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    // wiremock pools its servers, so a dropped one may still answer: use a closed port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let config = Config::new("client-1")
        .unwrap()
        .with_client_secret(SECRET)
        .with_endpoints(
            &format!("{base}/auth"),
            &format!("{base}/token?token=canary-secret"),
            &format!("{base}/v2/account"),
        )
        .unwrap();
    let client = OAuthClient::new(config).unwrap();
    let err = client
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_connect()),
        "{err:?}"
    );
    assert_no_secrets(&err);
    // Neither the message, the `Debug` nor any error of the chain names the URL's query.
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    for leak in ["canary-secret", "?token"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

#[tokio::test]
async fn revocation_needs_an_endpoint_and_maps_errors() {
    let server = MockServer::start().await;
    let err = client(&server)
        .revoke_refresh_token(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)));

    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(oauth(400, "unsupported_token_type"))
        .mount(&server)
        .await;
    let base = server.uri();
    let config = client(&server)
        .config()
        .clone()
        .with_revocation_url(&format!("{base}/revoke"))
        .unwrap();
    let err = OAuthClient::new(config)
        .unwrap()
        .revoke_access_token(&AccessToken::new(ACCESS))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OAuth { error, .. } if error == "unsupported_token_type"),
        "{err:?}"
    );
    assert_no_secrets(&err);
}

async fn account_answer(response: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(response)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(oauth(400, "invalid_grant"))
        .mount(&server)
        .await;
    let client = client(&server);
    let store = TokenStore::in_memory();
    let tokens = TokenSet::new(
        AccessToken::new(ACCESS),
        Some(RefreshToken::new(REFRESH)),
        None,
    );
    let auth = bearer_auth_from_login(client.clone(), store, &tokens)
        .await
        .unwrap();
    let err = account(
        &reqwest::Client::new(),
        &auth,
        &client.config().test_api_endpoint,
    )
    .await
    .unwrap_err();
    assert_no_secrets(&err);
    err
}

#[tokio::test]
async fn account_errors() {
    // 401 → one refresh, which is refused: "log in again".
    assert!(matches!(
        account_answer(ResponseTemplate::new(401)).await,
        Error::Core(e) if e.kind() == pbx_auth_core::ErrorKind::InvalidCredentials
    ));
    assert!(matches!(
        account_answer(ResponseTemplate::new(403)).await,
        Error::Unauthorized { status: 403 }
    ));
    assert!(matches!(
        account_answer(ResponseTemplate::new(500)).await,
        Error::UnexpectedResponse(_)
    ));
    assert!(matches!(
        account_answer(ResponseTemplate::new(200).set_body_string(format!("{{\"x\":\"{ACCESS}\"")))
            .await,
        Error::UnexpectedResponse(_)
    ));
}

#[tokio::test]
async fn personal_access_token_is_basic() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .and(header(
            "authorization",
            "Basic dG9rZW4tQUJDMTIzOnNlY3JldA==",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "company": "c", "mainProductType": "TEAM", "logoUrl": null, "verified": false,
        })))
        .mount(&server)
        .await;
    let pat = PersonalAccessToken::new("token-ABC123", "secret").unwrap();
    let url = url::Url::parse(&format!("{}/v2/account", server.uri())).unwrap();
    let me = account(&reqwest::Client::new(), &pat, &url).await.unwrap();
    assert_eq!(me.company, "c");
    let wrong = PersonalAccessToken::new("token-ABC123", "wrong").unwrap();
    assert!(matches!(
        account(&reqwest::Client::new(), &wrong, &url).await,
        Err(Error::UnexpectedResponse(_))
    ));
}

#[tokio::test]
async fn no_refresh_token_means_log_in_again() {
    let server = MockServer::start().await;
    let store = TokenStore::in_memory();
    let auth = bearer_auth(client(&server), store);
    let err = auth.access_token().await.unwrap_err();
    assert_eq!(err.kind(), pbx_auth_core::ErrorKind::InvalidCredentials);
}

#[tokio::test]
async fn slow_token_endpoint_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(30)))
        .mount(&server)
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let client = OAuthClient::with_http(
        client(&server).config().clone(),
        sipgate_oauth::TokenHttpClient::from_reqwest(http),
    )
    .unwrap();
    let err = client
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_timeout()),
        "{err}"
    );
    assert_eq!(err.kind(), pbx_auth_core::ErrorKind::Timeout);
    assert_no_secrets(&err);
}

#[tokio::test]
async fn debug_output_carries_no_secrets() {
    let server = MockServer::start().await;
    let client = client(&server);
    let request = client.authorization_request().unwrap();
    let tokens = TokenSet::new(
        AccessToken::new(ACCESS),
        Some(RefreshToken::new(REFRESH)),
        None,
    );
    let text = format!("{client:?} {request:?} {tokens:?} {:?}", client.config());
    for secret in [SECRET, REFRESH, ACCESS] {
        assert!(!text.contains(secret), "{text}");
    }
    // The authorization URL never carries the client secret.
    assert!(!request.url().as_str().contains("SHOULD-NOT-LEAK"));
}
