//! The response-handling matrix (spec section 11 item 2) against wiremock: success codes,
//! every error status with both error formats, HTML and empty bodies, decode failures,
//! redirects, timeouts and refused connections.

use std::time::Duration;

use serde_json::json;
use wazo_auth_client::api::users::UserRequest;
use wazo_auth_client::{
    AccessToken, Client, ClientBuilder, Error, ErrorBody, ListParams, NewToken, Password,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const K: &str = "77777777-7777-7777-7777-777777777777";
const U: &str = "11111111-1111-1111-1111-111111111111";

/// A client with the default 10 s timeout; a loaded machine never gets near it.
fn client(server: &MockServer) -> Client {
    client_with_timeout(server, Duration::from_secs(10))
}

fn client_with_timeout(server: &MockServer, timeout: Duration) -> Client {
    ClientBuilder::from_url(&server.uri())
        .expect("mock URL")
        .prefix("")
        .credentials("alice", Password::new("pw"))
        .token(AccessToken::new("TOKEN"))
        .timeout(Some(timeout))
        .build()
        .expect("client")
}

async fn answer(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    server.reset().await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

fn bodies(status: u16) -> Vec<(&'static str, ResponseTemplate)> {
    vec![
        (
            "api",
            ResponseTemplate::new(status).set_body_json(json!({
                "message": "Nope", "error_id": "nope", "details": {"invalid_token": K}, "timestamp": 1.5
            })),
        ),
        (
            "legacy",
            ResponseTemplate::new(status)
                .set_body_json(json!({"reason": ["Nope"], "timestamp": [1.5], "status_code": status})),
        ),
        ("html", ResponseTemplate::new(status).set_body_raw("<html>Nope</html>", "text/html")),
        ("empty", ResponseTemplate::new(status)),
    ]
}

fn assert_http(err: &Error, status: u16, kind: &str) {
    let Error::Http { status: got, body } = err else {
        panic!("expected an HTTP error, got {err:?}");
    };
    assert_eq!(got.as_u16(), status);
    match (kind, &**body) {
        ("api", ErrorBody::Api(api)) => {
            assert_eq!(api.error_id.as_deref(), Some("nope"));
            assert_eq!(api.details["invalid_token"], "<redacted>");
        }
        ("legacy", ErrorBody::Legacy(l)) => assert_eq!(l.reason, vec!["Nope"]),
        ("html", ErrorBody::Other { text, content_type }) => {
            assert!(text.contains("Nope"));
            assert_eq!(content_type.as_deref(), Some("text/html"));
        }
        ("empty", ErrorBody::Empty) => {}
        (kind, body) => panic!("{kind}: unexpected body {body:?}"),
    }
    assert!(err.to_string().contains(&status.to_string()));
}

const ERRORS: &[u16] = &[400, 401, 403, 404, 409, 429, 500, 503];

#[tokio::test]
async fn error_statuses_and_bodies_for_each_shape_of_call() {
    let server = MockServer::start().await;
    let c = client(&server);
    let user_route = format!("/0.1/users/{U}");
    for &status in ERRORS {
        for (kind, response) in bodies(status) {
            answer(&server, "POST", "/0.1/token", response.clone()).await;
            assert_http(
                &c.token().create(&NewToken::new()).await.unwrap_err(),
                status,
                kind,
            );
            answer(&server, "GET", &user_route, response.clone()).await;
            assert_http(&c.users().get(U, None).await.unwrap_err(), status, kind);
            answer(&server, "DELETE", &user_route, response.clone()).await;
            assert_http(&c.users().delete(U, None).await.unwrap_err(), status, kind);
            answer(&server, "GET", "/0.1/policies", response.clone()).await;
            assert_http(
                &c.policies()
                    .list(&ListParams::new(), None)
                    .await
                    .unwrap_err(),
                status,
                kind,
            );
            answer(&server, "HEAD", "/0.1/status", response.clone()).await;
            let head = c.status().check().await.unwrap_err();
            // HEAD answers have no body whatever the server meant to send.
            assert_http(&head, status, "empty");
        }
    }
}

#[tokio::test]
async fn success_codes_and_empty_bodies() {
    let server = MockServer::start().await;
    let c = client(&server);
    let user = json!({"uuid": U, "username": "a", "emails": [], "new_field": 1});
    for status in [200, 201] {
        answer(
            &server,
            "POST",
            "/0.1/users",
            ResponseTemplate::new(status).set_body_json(&user),
        )
        .await;
        let created = c
            .users()
            .create(&UserRequest::new().username("a"), None)
            .await
            .unwrap();
        assert_eq!(created.uuid, U);
        assert_eq!(created.extra["new_field"], 1);
    }
    let route = format!("/0.1/users/{U}");
    for response in [
        ResponseTemplate::new(204),
        ResponseTemplate::new(200).set_body_raw("\"\"", "application/json"),
        ResponseTemplate::new(200),
    ] {
        answer(&server, "DELETE", &route, response).await;
        c.users().delete(U, None).await.unwrap();
    }
    answer(
        &server,
        "POST",
        "/0.1/external/google/config",
        ResponseTemplate::new(201).set_body_raw("\"\"", "application/json"),
    )
    .await;
    c.external()
        .create_config("google", &json!({}), None)
        .await
        .unwrap();
    answer(&server, "HEAD", "/0.1/status", ResponseTemplate::new(200)).await;
    c.status().check().await.unwrap();
    answer(
        &server,
        "GET",
        "/0.1/policies",
        ResponseTemplate::new(200).set_body_json(json!({"total": 0, "items": []})),
    )
    .await;
    let page = c.policies().list(&ListParams::new(), None).await.unwrap();
    assert_eq!((page.total, page.filtered), (0, None));
}

#[tokio::test]
async fn decode_failures_and_redirects() {
    let server = MockServer::start().await;
    let c = client(&server);
    let route = format!("/0.1/users/{U}");
    for body in ["not json", "", "\"\"", "[]"] {
        answer(
            &server,
            "GET",
            &route,
            ResponseTemplate::new(200).set_body_raw(body, "application/json"),
        )
        .await;
        let err = c.users().get(U, None).await.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{body}: {err:?}");
    }
    answer(
        &server,
        "GET",
        &route,
        ResponseTemplate::new(302).insert_header("location", "https://elsewhere/"),
    )
    .await;
    assert_eq!(
        c.users()
            .get(U, None)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(302)
    );
    answer(
        &server,
        "POST",
        "/0.1/saml/acs",
        ResponseTemplate::new(302).insert_header("location", "https://app/?ok"),
    )
    .await;
    assert_eq!(c.saml().acs("r", "s").await.unwrap(), "https://app/?ok");
    answer(
        &server,
        "GET",
        "/0.1/saml/logout",
        ResponseTemplate::new(200).set_body_json(json!({"location": "https://idp/logout"})),
    )
    .await;
    assert_eq!(c.saml().logout().await.unwrap(), "https://idp/logout");
}

#[tokio::test]
async fn check_and_is_valid_follow_the_spec() {
    let server = MockServer::start().await;
    let c = client(&server);
    let route = format!("/0.1/token/{K}");
    // wazo-auth labels its HEAD answers `application/json`; a 404 without that is not
    // wazo-auth's (a wrong base URL or prefix).
    let cases: &[(u16, bool, &str, Option<bool>)] = &[
        (204, true, "ok", Some(true)),
        (200, true, "false", Some(false)),
        (403, true, "missing", Some(false)),
        (404, true, "invalid", Some(false)),
        (404, false, "not-wazo", None),
        (401, true, "http", None),
        (500, true, "http", None),
        (503, true, "http", None),
    ];
    for &(status, json, check, valid) in cases {
        let mut template = ResponseTemplate::new(status);
        if json {
            template = template.insert_header("content-type", "application/json");
        }
        answer(&server, "HEAD", &route, template).await;
        let got = c.token().check(K, Some("a.b"), None).await;
        match (check, got) {
            ("ok", Ok(true)) | ("false", Ok(false)) => {}
            ("missing", Err(Error::MissingPermissions)) | ("invalid", Err(Error::InvalidToken)) => {
            }
            ("http", Err(e)) => assert_eq!(e.status().map(|s| s.as_u16()), Some(status)),
            ("not-wazo", Err(Error::NotWazo { .. })) => {}
            (want, got) => panic!("{status}: want {want}, got {got:?}"),
        }
        let got = c.token().is_valid(K, None, None).await;
        match (valid, got) {
            (Some(v), Ok(g)) => assert_eq!(v, g, "{status}"),
            (None, Err(Error::NotWazo { .. })) if check == "not-wazo" => {}
            (None, Err(e)) => assert_eq!(e.status().map(|s| s.as_u16()), Some(status)),
            (want, got) => panic!("{status}: want {want:?}, got {got:?}"),
        }
    }
}

#[tokio::test]
async fn revoke_accepts_gone_tokens_only() {
    let server = MockServer::start().await;
    let c = client(&server);
    let route = format!("/0.1/token/{K}");
    for status in [200, 204] {
        answer(&server, "DELETE", &route, ResponseTemplate::new(status)).await;
        c.token().revoke(K).await.unwrap();
    }
    // A wazo-auth 404 (JSON) means the token is gone; an HTML one means a wrong base URL,
    // and the token was not revoked.
    let gone = ResponseTemplate::new(404).set_body_json(
        json!({"reason": ["No such token"], "timestamp": [1.5], "status_code": 404}),
    );
    answer(&server, "DELETE", &route, gone).await;
    c.token().revoke(K).await.unwrap();
    let html = ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html");
    answer(&server, "DELETE", &route, html).await;
    assert!(matches!(
        c.token().revoke(K).await,
        Err(Error::NotWazo { .. })
    ));
    for status in [401, 500] {
        answer(&server, "DELETE", &route, ResponseTemplate::new(status)).await;
        assert!(c.token().revoke(K).await.is_err());
    }
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_errors_not_invalid() {
    let server = MockServer::start().await;
    // The answer is delayed far beyond the timeout, so the outcome does not depend on
    // how fast the machine is.
    let c = client_with_timeout(&server, Duration::from_secs(1));
    let route = format!("/0.1/token/{K}");
    answer(
        &server,
        "HEAD",
        &route,
        ResponseTemplate::new(204).set_delay(Duration::from_secs(120)),
    )
    .await;
    assert!(matches!(
        c.token().is_valid(K, None, None).await,
        Err(Error::Transport(e)) if e.is_timeout()
    ));
    assert!(matches!(
        c.token().check(K, None, None).await,
        Err(Error::Transport(e)) if e.is_timeout()
    ));
    let refused = Client::builder("127.0.0.1")
        .port(9)
        .danger_plain_http()
        .build()
        .unwrap();
    assert!(matches!(
        refused.token().is_valid(K, None, None).await,
        Err(Error::Transport(e)) if e.is_connect()
    ));
    assert!(matches!(
        refused.users().get(U, None).await,
        Err(Error::Transport(e)) if e.is_connect()
    ));
    assert!(refused.token().revoke(K).await.unwrap_err().is_transient());
    assert!(!refused.is_server_reachable().await);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_without_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = Client::builder("127.0.0.1")
        .port(port)
        .danger_plain_http()
        .build()
        .unwrap();
    // A token in the path, and one in the query string (`?token=canary-secret`).
    let path_token = "ca4a7e5e-c4e7-4ca4-a7e5-ec4e7ca4a7e5";
    let in_path = refused
        .token()
        .is_valid(path_token, None, None)
        .await
        .unwrap_err();
    let in_query = refused
        .users()
        .list(&ListParams::new().filter("token", "canary-secret"), None)
        .await
        .unwrap_err();
    for err in [in_path, in_query] {
        assert!(
            matches!(&err, Error::Transport(e) if e.is_connect()),
            "{err:?}"
        );
        let mut text = format!("{err} {err:?}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            text.push_str(&format!(" | {s} {s:?}"));
            source = s.source();
        }
        for leak in ["canary-secret", "token=", path_token] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
}
