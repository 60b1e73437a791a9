//! `Session` against the in-process Kalliope PBX mock: salt caching, fresh headers,
//! refusal handling, salt reply formats and failures, redirects and URL rules.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use kalliope_auth::{Body, Error, Session};
use pbx_mock::kalliope::KalliopeMock;
use pbx_mock::{Fault, FaultRule, MockServer};

fn start(mock: &KalliopeMock) -> MockServer {
    MockServer::start(mock.clone())
}

fn host(server: &MockServer) -> &str {
    server.url().trim_start_matches("http://")
}

fn session(server: &MockServer, userinfo: &str) -> Session {
    Session::new(&format!("http://{userinfo}@{}/default", host(server))).unwrap()
}

fn nonce_of(req: &pbx_mock::MockRequest) -> String {
    let value = req.header("x-authenticate").expect("a header");
    let start = value.find("Nonce=\"").unwrap() + 7;
    value[start..start + 32].to_owned()
}

#[tokio::test]
async fn two_requests_get_two_fresh_headers() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    assert_eq!(s.get("/rest/dashboard").await.unwrap().status(), 200);
    assert_eq!(s.get("rest/account").await.unwrap().status(), 200);
    let headers: Vec<_> = server
        .journal()
        .iter()
        .filter_map(|r| r.request.header("x-authenticate").map(str::to_owned))
        .collect();
    assert_eq!(headers.len(), 2);
    assert_ne!(headers[0], headers[1]);
    assert_eq!(server.count("/rest/salt/default"), 1);
    let salt_req = &server.requests_to("/rest/salt/default")[0];
    assert_eq!(salt_req.header("accept"), Some("application/json"));
    assert!(salt_req.header("x-authenticate").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn salt_fetched_once_for_100_concurrent_requests() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = Arc::new(session(&server, "admin:admin"));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.get("/rest/account").await.map(|r| r.status()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    assert_eq!(server.count("/rest/salt/*"), 1);
    let nonces: HashSet<String> = server
        .requests_to("/rest/account")
        .iter()
        .map(nonce_of)
        .collect();
    assert_eq!(nonces.len(), 100);
    assert!(mock.rejections().is_empty(), "{:?}", mock.rejections());
}

#[tokio::test]
async fn refusal_refetches_the_salt_and_retries_once() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
    mock.rotate_salt("default", "00112233445566778899aabbccddeeff");
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
    assert_eq!(server.count("/rest/salt/default"), 2);
    assert_eq!(server.count("/rest/account"), 3);
    assert_eq!(mock.rejections(), vec!["digest mismatch".to_owned()]);
    let attempts = server.requests_to("/rest/account");
    assert_ne!(nonce_of(&attempts[1]), nonce_of(&attempts[2]));
}

#[tokio::test]
async fn clock_skew_is_learned_from_date_on_refusal() {
    let mock = KalliopeMock::new().clock_offset(3600);
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
    assert_eq!(
        mock.rejections(),
        vec!["created outside the window".to_owned()]
    );
    // The offset is remembered: the next request passes at once.
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
    assert_eq!(server.count("/rest/account"), 3);
}

#[tokio::test]
async fn still_refused_after_retry_is_unauthorized() {
    for status in [401u16, 403] {
        let mock = KalliopeMock::new().failure_status(status);
        let server = start(&mock);
        let s = session(&server, "admin:wrong-password");
        let err = s.get("/rest/account").await.unwrap_err();
        assert!(
            matches!(err, Error::Unauthorized { status: got, .. } if got == status),
            "{err:?}"
        );
        assert_eq!(server.count("/rest/account"), 2);
        assert_eq!(server.count("/rest/salt/default"), 2);
    }
}

#[tokio::test]
async fn xml_salt_reply() {
    let mock = KalliopeMock::new().xml_salt(true);
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
}

#[tokio::test]
async fn salt_failures_are_distinct_errors() {
    let mock = KalliopeMock::new();
    let server = start(&mock);

    server.inject(FaultRule::new("/rest/salt/*", Fault::status(500)).times(1));
    let err = session(&server, "admin:admin")
        .get("/rest/account")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SaltStatus { status: 500, .. }),
        "{err:?}"
    );

    server.inject(
        FaultRule::new(
            "/rest/salt/*",
            Fault::html(200, "<html><body>Welcome</body></html>"),
        )
        .times(1),
    );
    let err = session(&server, "admin:admin")
        .get("/rest/account")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SaltUnparseable(_)), "{err:?}");

    server.inject(
        FaultRule::new("/rest/salt/*", Fault::html(502, "<html>Bad gateway</html>")).times(1),
    );
    let err = session(&server, "admin:admin")
        .get("/rest/account")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SaltStatus { status: 502, .. }),
        "{err:?}"
    );

    server.inject(FaultRule::new("/rest/salt/*", Fault::Delay(Duration::from_secs(120))).times(1));
    let slow = Session::builder(&format!("http://admin:admin@{}/", host(&server)))
        .unwrap()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let err = slow.get("/rest/account").await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_timeout()),
        "{err:?}"
    );
    assert!(err.is_transient());

    // Unknown tenant: the mock answers 404 for its salt.
    let s = Session::new(&format!(
        "http://admin:admin@{}/nosuchtenant",
        host(&server)
    ))
    .unwrap();
    let err = s.get("/rest/account").await.unwrap_err();
    assert!(
        matches!(err, Error::SaltStatus { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn unreachable_server() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = Session::new(&format!("http://admin:canary-pass@127.0.0.1:{port}")).unwrap();
    let err = s
        .get("/rest/account?token=canary-secret")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_connect()),
        "{err:?}"
    );
    // Neither the message, the `Debug` nor any error of the chain names the URL.
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    for leak in ["canary-secret", "canary-pass", "?token"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

#[tokio::test]
async fn without_credentials_requests_are_unauthenticated_until_login() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = Session::new(host(&server)).unwrap();
    assert!(!s.is_authenticated());
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 401);
    assert!(
        server.requests_to("/rest/account")[0]
            .header("x-authenticate")
            .is_none()
    );
    s.login("admin", "admin", None).await.unwrap();
    assert_eq!(server.count("/rest/salt/default"), 1);
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
    s.logout();
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 401);

    let err = s
        .login("admin", "admin", Some("nosuchtenant"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SaltStatus { status: 404, .. }),
        "{err:?}"
    );
    assert!(!s.is_authenticated());
    s.login("mario.rossi", "S3cret!", Some("tenant1.example.com"))
        .await
        .unwrap();
    let who: serde_json::Value = s.get("/rest/whoami").await.unwrap().json().await.unwrap();
    assert_eq!(who["domain"], "tenant1.example.com");
}

#[tokio::test]
async fn unicode_username_goes_out_as_utf8() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = Session::new(host(&server)).unwrap();
    s.login("josé.müller", "pässwörd€", None).await.unwrap();
    let who: serde_json::Value = s.get("/rest/whoami").await.unwrap().json().await.unwrap();
    assert_eq!(who["username"], "josé.müller");
}

#[tokio::test]
async fn pbx_admin_scope() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = Session::builder(host(&server))
        .unwrap()
        .pbx_admin()
        .credentials("pbxadmin", "pbxadmin")
        .build()
        .unwrap();
    assert_eq!(s.get("/rest/dashboard").await.unwrap().status(), 200);
    assert_eq!(server.count("/rest/salt/pbxAdmin"), 1);
}

#[tokio::test]
async fn redirects_get_fresh_headers_and_never_leave_the_origin_with_one() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let other = MockServer::start(|_: &pbx_mock::MockRequest| pbx_mock::MockResponse::status(200));
    let s = session(&server, "admin:admin");

    let who: serde_json::Value = s
        .get("/rest/redirect/same")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = nonce_of(&server.requests_to("/rest/redirect/same")[0]);
    assert_eq!(who["nonce"].as_str().unwrap().len(), 32);
    assert_ne!(who["nonce"].as_str().unwrap(), first);

    let target = format!("{}/landing", other.url());
    let path = format!("/rest/redirect/foreign?to={target}");
    assert_eq!(s.get(&path).await.unwrap().status(), 200);
    let landed = other.requests_to("/landing");
    assert_eq!(landed.len(), 1);
    assert!(landed[0].header("x-authenticate").is_none());
}

#[tokio::test]
async fn foreign_urls_are_refused_and_same_origin_allowed() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    for bad in [
        "http://example.com/rest/account",
        "//example.com/rest/account",
        "https://127.0.0.1/x",
    ] {
        assert!(
            matches!(s.get(bad).await.unwrap_err(), Error::ForeignUrl),
            "{bad}"
        );
    }
    let own = format!("{}/rest/account", server.url());
    assert_eq!(s.get(&own).await.unwrap().status(), 200);
}

#[tokio::test]
async fn post_and_put_bodies() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    let body = Body::json(&serde_json::json!({"backup": {"filename": "b1"}})).unwrap();
    let r = s.post("/rest/echo", body).await.unwrap();
    assert_eq!(r.status(), 200);
    let echoed: serde_json::Value = r.json().await.unwrap();
    assert_eq!(echoed["backup"]["filename"], "b1");
    let r = s
        .put(
            "/rest/echo",
            Body::bytes("<a/>", "application/xml").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "<a/>");
    assert_eq!(s.delete("/rest/nothing").await.unwrap().status(), 404);
}

#[tokio::test]
async fn ipv6_literal_host() {
    let Ok(server) =
        MockServer::start_on(Arc::new(KalliopeMock::new()), "[::1]:0".parse().unwrap())
    else {
        // No IPv6 loopback on this machine: the parsing side is covered by unit tests.
        return;
    };
    assert!(server.url().starts_with("http://[::1]:"));
    let s = session(&server, "admin:admin");
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_refused_post_is_resent_with_its_body_and_a_fresh_header() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    s.login("admin", "admin", None).await.unwrap();
    mock.rotate_salt("default", "0123456789abcdef0123456789abcdef");
    let body = Body::json(&serde_json::json!({"n": 1})).unwrap();
    let r = s.post("/rest/echo", body).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["n"], 1);
    let attempts = server.requests_to("/rest/echo");
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].body, attempts[1].body);
    assert_ne!(nonce_of(&attempts[0]), nonce_of(&attempts[1]));
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = session(&server, "admin:admin");
    server.inject(FaultRule::new("/rest/account", Fault::Drop));
    let err = s.get("/rest/account").await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_transient());
}

/// A PBX that sends every request under `/go` to `target` with a 307.
fn redirecting_to(target: String) -> MockServer {
    MockServer::start(move |req: &pbx_mock::MockRequest| {
        if req.path.starts_with("/go") {
            pbx_mock::MockResponse::status(307).with_header("location", &target)
        } else {
            pbx_mock::MockResponse::status(200)
        }
    })
}

#[tokio::test]
async fn caller_headers_and_bodies_never_follow_a_redirect_to_another_origin() {
    let other = MockServer::start(|_: &pbx_mock::MockRequest| pbx_mock::MockResponse::status(200));
    let server = redirecting_to(format!("{}/landing", other.url()));
    let s = Session::builder(&format!("http://{}/default", host(&server)))
        .unwrap()
        .header("Authorization", "Bearer caller-secret")
        .unwrap()
        .header("Cookie", "session=caller-secret")
        .unwrap()
        .header("Proxy-Authorization", "Basic caller-secret")
        .unwrap()
        .build()
        .unwrap();

    // A GET is followed, without the caller's headers.
    assert_eq!(s.get("/go").await.unwrap().status(), 200);
    let first = &server.requests_to("/go")[0];
    assert_eq!(first.header("authorization"), Some("Bearer caller-secret"));
    let landed = other.requests_to("/landing");
    assert_eq!(landed.len(), 1);
    for name in ["authorization", "cookie", "proxy-authorization"] {
        assert!(
            landed[0].header(name).is_none(),
            "{name} reached another origin"
        );
    }

    // A 307 keeps the method and body: the body is not carried to another origin, the
    // redirect is handed back instead.
    let body = Body::bytes(b"caller-secret".to_vec(), "text/plain").unwrap();
    let response = s.post("/go/post", body).await.unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(other.requests_to("/landing").len(), 1);
}

// The exchange's scenarios through the session (the stale case is
// `refusal_refetches_the_salt_and_retries_once`; session bodies are bytes, always copyable).

#[tokio::test]
async fn a_403_read_as_a_permission_refusal_is_returned_with_no_salt_fetch_and_no_retry() {
    let mock = KalliopeMock::new().failure_status(403);
    let server = start(&mock);
    let s = Session::builder(&format!("http://admin:wrong@{}/default", host(&server)))
        .unwrap()
        .retry_on_403(false)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(s.get("/rest/account").await.unwrap().status(), 403);
    }
    assert_eq!(server.count("/rest/account"), 3);
    assert_eq!(server.count("/rest/salt/default"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refusals_of_one_key_make_one_salt_fetch() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let s = Arc::new(session(&server, "admin:admin"));
    assert_eq!(s.get("/rest/account").await.unwrap().status(), 200);
    mock.rotate_salt("default", "00112233445566778899aabbccddeeff");
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.get("/rest/account").await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(server.count("/rest/salt/default"), 2);
}

/// A session against the mock behind HTTPS, built by `tweak`.
fn https_session(
    front: &pbx_mock::TlsFront,
    tweak: impl FnOnce(kalliope_auth::SessionBuilder) -> kalliope_auth::SessionBuilder,
) -> Result<Session, Error> {
    let url = format!("{}/default", front.url());
    tweak(
        Session::builder(&url)?
            .credentials("admin", "admin")
            .timeout(Duration::from_secs(30)),
    )
    .build()
}

#[tokio::test]
async fn tls_is_verified_by_default_and_a_ca_bundle_extends_the_roots() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let front = pbx_mock::TlsFront::start(server.addr()).unwrap();

    // Verification is on: the test CA is not a system root, so the handshake fails before
    // the salt is asked for.
    let err = https_session(&front, |b| b)
        .unwrap()
        .get("/rest/dashboard")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_connect()),
        "{err:?}"
    );
    assert_eq!(server.total(), 0, "nothing reached the PBX");

    let s = https_session(&front, |b| b.ca_bundle_pem(pbx_mock::TEST_CA_PEM)).unwrap();
    assert_eq!(s.get("/rest/dashboard").await.unwrap().status(), 200);
    let root = reqwest::Certificate::from_pem(pbx_mock::TEST_CA_PEM).unwrap();
    let s = https_session(&front, |b| b.add_root_certificate(root)).unwrap();
    assert_eq!(s.get("/rest/dashboard").await.unwrap().status(), 200);
    assert_eq!(server.count("/rest/dashboard"), 2);
}

#[tokio::test]
async fn danger_accept_invalid_certs_skips_verification() {
    let mock = KalliopeMock::new();
    let server = start(&mock);
    let front = pbx_mock::TlsFront::start(server.addr()).unwrap();
    let s = https_session(
        &front,
        kalliope_auth::SessionBuilder::danger_accept_invalid_certs,
    )
    .unwrap();
    assert_eq!(s.get("/rest/dashboard").await.unwrap().status(), 200);
}

#[test]
fn a_ca_bundle_without_a_certificate_is_a_config_error() {
    let err = Session::builder("https://pbx.example.com")
        .unwrap()
        .ca_bundle_pem(b"not a certificate")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
