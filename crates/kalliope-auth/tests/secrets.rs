//! Provokes every kind of error and checks that neither `{}` nor `{:?}` of it (nor of the
//! types holding secrets) shows the test password or the derived key.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kalliope_auth::verifier::Verifier;
use kalliope_auth::{Auth, Credentials, Session, SigningKey, parse_connection_string};
use pbx_mock::kalliope::KalliopeMock;
use pbx_mock::{Fault, FaultRule, MockServer};

const SECRET: &str = "Sup3r-Secret-PW";
const SALT: &str = "b5a8fdcf2f8d5acdad33c4a072a97d7a";

fn assert_clean(label: &str, text: &str) {
    let key = kalliope_auth::digest::digest_password(SECRET, SALT);
    let key = std::str::from_utf8(&key).unwrap();
    assert!(!text.contains(SECRET), "{label} shows the password: {text}");
    assert!(
        !text.contains(key),
        "{label} shows the digest password: {text}"
    );
    assert!(!text.contains(SALT), "{label} shows the salt: {text}");
}

fn check_err(label: &str, e: &(impl std::fmt::Display + std::fmt::Debug)) {
    assert_clean(label, &format!("{e} / {e:?}"));
}

#[tokio::test]
async fn no_error_or_debug_output_reveals_secrets() {
    for bad in [
        format!("ftp://admin:{SECRET}@h"),
        format!("http://:{SECRET}@h"),
        format!("http://admin:{SECRET}@h:99999"),
        format!("http://admin:{SECRET}@h/a/b"),
        format!("http://admin:{SECRET}@"),
    ] {
        check_err(
            "connection string",
            &parse_connection_string(&bad).unwrap_err(),
        );
    }
    let info = parse_connection_string(&format!("http://admin:{SECRET}@h")).unwrap();
    assert_clean("ConnectionInfo", &format!("{info:?}"));

    let creds = Credentials::new("admin", SECRET, "default").unwrap();
    let key = SigningKey::derive(&creds, SALT).unwrap();
    assert_clean("Credentials/SigningKey", &format!("{creds:?} {key:?}"));
    check_err("bad salt", &SigningKey::derive(&creds, "").unwrap_err());

    let auth = Auth::new("admin", SECRET, "default", Some(SALT)).unwrap();
    assert_clean("Auth", &format!("{auth} {auth:?}"));
    check_err(
        "bad nonce",
        &auth.xauth_with("zz", "2016-04-29T15:48:26Z").unwrap_err(),
    );
    let unsalted = Auth::new("admin", SECRET, "default", None).unwrap();
    assert_clean("Auth without salt", &format!("{unsalted} {unsalted:?}"));

    let mock = KalliopeMock::new().with_user("default", SALT, "eve", "other");
    let server = MockServer::start(mock);
    let host = server.url().trim_start_matches("http://");
    let session = Session::builder(&format!("http://admin:{SECRET}@{host}/default"))
        .unwrap()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_clean("Session", &format!("{session:?}"));
    check_err("refused", &session.get("/rest/account").await.unwrap_err());
    assert_clean(
        "authenticator",
        &format!("{:?}", session.authenticator().unwrap()),
    );
    for fault in [
        Fault::status(500),
        Fault::html(200, "<p>x</p>"),
        Fault::Drop,
    ] {
        server.inject(FaultRule::new("/rest/salt/*", fault).times(1));
        let fresh = Session::new(&format!("http://admin:{SECRET}@{host}/default")).unwrap();
        check_err(
            "salt failure",
            &fresh.get("/rest/account").await.unwrap_err(),
        );
    }
    server.inject(FaultRule::new("/rest/salt/*", Fault::Delay(Duration::from_secs(60))).times(1));
    check_err(
        "timeout",
        &session.login("admin", SECRET, None).await.unwrap_err(),
    );
    check_err(
        "foreign",
        &session.get("http://elsewhere/").await.unwrap_err(),
    );

    let mut verifier = Verifier::default();
    verifier.add_user("admin", "default", SECRET, SALT).unwrap();
    assert_clean("Verifier", &format!("{verifier:?}"));
    let refused = verifier
        .verify_value(b"RestApiUsernameToken nonsense")
        .unwrap_err();
    check_err("rejected", &refused);
    assert_eq!(refused.to_string(), "authentication failed");
}
