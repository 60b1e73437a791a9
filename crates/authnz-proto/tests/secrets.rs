//! Errors and `Debug` output never contain keys, passwords or tokens.

#![allow(clippy::unwrap_used)] // Helpers shared by tests unwrap like the tests do.

use authnz_proto::server::{ReplayGuard, open_request, seal_response};
use authnz_proto::*;
use pbx_auth_core::{AccessToken, Password};

const SECRET_KEY: &str = "HOOPb4ez5AiJQRyJBY2gX9exHTK6iATqapxgF92mt3o=";
const SECRET_PASSWORD: &str = "hunter2-Very-Secret-pw";
const SECRET_TOKEN: &str = "tok-SECRETSECRETSECRET";

fn assert_clean(what: &str, text: &str) {
    for secret in [SECRET_KEY, &SECRET_KEY[..20], SECRET_PASSWORD, SECRET_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks a secret: {text}");
    }
}

fn check_error(e: &Error) {
    assert_clean("Display", &e.to_string());
    assert_clean("Debug", &format!("{e:?}"));
    let core: pbx_auth_core::Error = Error::Config("x").into();
    assert_clean("core", &format!("{core:?}"));
}

#[test]
fn key_errors_do_not_print_the_key() {
    let broken = format!("{}!!", &SECRET_KEY[..40]);
    check_error(&FernetKey::from_text(&broken).unwrap_err());
    check_error(&FernetKey::from_text(&SECRET_KEY[..43].replace('H', "*")).unwrap_err());
    let key = FernetKey::from_text(SECRET_KEY).unwrap();
    assert_clean("key Debug", &format!("{key:?}"));
    assert_clean("envelope Debug", &format!("{:?}", FernetEnvelope::new(key)));
    check_error(&FernetKey::from_env("AUTHNZ_PROTO_TEST_UNSET_VARIABLE").unwrap_err());
    check_error(&FernetKey::from_file("/nonexistent/authnz/key").unwrap_err());
}

#[test]
fn bodies_and_request_errors_do_not_print_secrets() {
    let login = UserLogin {
        session_token: AccessToken::new(SECRET_TOKEN),
        email: "a@example.org".into(),
        password: Password::new(SECRET_PASSWORD),
    };
    assert_clean("body Debug", &format!("{login:?}"));
    let request = AuthnzRequest::from(login);
    assert_clean("typed Debug", &format!("{request:?}"));

    // A password of the wrong type: the error must not quote the body.
    let bad = serde_json::json!({"session_token": SECRET_TOKEN, "email": "a", "password": [SECRET_PASSWORD]});
    check_error(&AuthnzRequest::from_parts("user-login", bad).unwrap_err());
    let bad = serde_json::json!({"session_token": 5, "email": SECRET_PASSWORD});
    check_error(&AuthnzRequest::from_parts("user-login", bad).unwrap_err());

    // Envelope and JSON errors on a sealed secret.
    let env = FernetEnvelope::new(FernetKey::from_text(SECRET_KEY).unwrap());
    let sealed = env.seal(format!("{{\"password\": \"{SECRET_PASSWORD}\"").as_bytes());
    check_error(&open_request(&env, &sealed, std::time::SystemTime::now(), None).unwrap_err());
    let mut tampered = sealed;
    tampered[100] = if tampered[100] == b'A' { b'B' } else { b'A' };
    check_error(&open_request(&env, &tampered, std::time::SystemTime::now(), None).unwrap_err());
}

#[test]
fn server_helpers_open_typed_requests_and_seal_0_1_3_replies() {
    let env = FernetEnvelope::new(FernetKey::from_text(SECRET_KEY).unwrap());
    let now = std::time::SystemTime::now();
    let plain =
        br#"{"request": "session-exists", "body": {"session_token": "abc"}, "reqid": "r-1"}"#;
    let incoming = open_request(&env, &env.seal(plain), now, None).unwrap();
    assert_eq!(incoming.reqid, ReqId::from("r-1"));
    assert!(matches!(incoming.request, AuthnzRequest::SessionExists(_)));

    for (plain, want) in [
        (&br#"{"request": "echo", "body": {}, "reqid": 1}"#[..], 400),
        (
            br#"{"request": "session-exists", "body": {}, "reqid": null}"#,
            400,
        ),
        (
            br#"{"request": "session-exists", "body": [], "reqid": 2}"#,
            400,
        ),
        (br#"{"request": "session-exists", "reqid": 3}"#, 400),
        (
            br#"{"request": "user-login", "body": {"email": "x"}, "reqid": 4}"#,
            400,
        ),
        (br#"{"body": {}, "reqid": 5}"#, 500),
        (br#"[1, 2]"#, 500),
        (br#"{}"#, 401),
        (br#"not json"#, 401),
    ] {
        let err = open_request(&env, &env.seal(plain), now, None).unwrap_err();
        assert_eq!(err.http_status(), want, "{err}");
    }

    let sealed = seal_response(
        &env,
        &ReqId::Int(9),
        false,
        &["Session look up failed.".to_owned()],
        &SessionExistsResponse::default(),
        now,
    )
    .unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&env.open(&sealed).unwrap()).unwrap();
    assert_eq!(reply["message"][0], "Session look up failed.");
    assert_eq!(reply["response"]["success"], false);
    assert_eq!(reply["response"]["session_info"], serde_json::Value::Null);

    let mut guard = ReplayGuard::new(2);
    assert!(guard.check_and_record(&ReqId::Int(1)));
    assert!(!guard.check_and_record(&ReqId::Int(1)));
    assert!(guard.check_and_record(&ReqId::Int(2)));
    assert!(guard.check_and_record(&ReqId::Int(3)));
    assert!(
        guard.check_and_record(&ReqId::Int(1)),
        "forgotten after capacity"
    );
}
