//! The recorded wire exchange and transcripts of a real authnzerver 0.1.3.

#![allow(clippy::unwrap_used)] // Helpers shared by tests unwrap like the tests do.

use std::time::{Duration, SystemTime};

use authnz_proto::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/vectors.json")).unwrap()
}

fn wire() -> (FernetEnvelope, Value) {
    let v = vectors();
    let wire = v["wire_example"].clone();
    let key = FernetKey::from_text(wire["key"].as_str().unwrap()).unwrap();
    (FernetEnvelope::new(key), wire)
}

#[test]
fn the_recorded_exchange_opens_to_the_recorded_plaintexts() {
    let (env, wire) = wire();
    for side in ["request", "response"] {
        let body = wire[format!("{side}_http_body")].as_str().unwrap();
        let token = wire[format!("{side}_fernet_token")].as_str().unwrap();
        assert_eq!(STANDARD.decode(body).unwrap(), token.as_bytes());
        let plain = env.open(body.as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            wire[format!("{side}_json")].as_str().unwrap()
        );
    }
    let reply: Response<NoFields> =
        serde_json::from_str(wire["response_json"].as_str().unwrap()).unwrap();
    assert!(reply.success);
    assert_eq!(reply.reqid, ReqId::Int(42));
    assert_eq!(reply.messages, ["Session deleted successfully."]);
}

#[test]
fn sealing_has_the_recorded_shape_and_opens_again() {
    let (env, wire) = wire();
    let plain = wire["request_json"].as_str().unwrap();
    let sealed = env.seal(plain.as_bytes());
    let recorded = wire["request_http_body"].as_str().unwrap();
    assert_eq!(sealed.len(), recorded.len());
    assert!(sealed.starts_with(b"Z0FBQUFB"));
    assert_eq!(env.open(&sealed).unwrap(), plain.as_bytes());
}

#[test]
fn the_old_vector_fails_a_ttl_check_but_opens_without_one() {
    let (env, wire) = wire();
    let body = wire["response_http_body"].as_str().unwrap().as_bytes();
    let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000);
    assert!(matches!(
        env.open_at(body, far_future, Some(Duration::from_secs(60))),
        Err(Error::Expired { .. })
    ));
    assert!(env.open_at(body, far_future, None).is_ok());
    // Long before the stamp: refused with a TTL, accepted without (as the server does).
    let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    assert!(matches!(
        env.open_at(body, past, Some(Duration::from_secs(60))),
        Err(Error::FromTheFuture { .. })
    ));
    assert!(env.open_at(body, past, None).is_ok());
}

#[test]
fn each_kind_of_damage_has_its_own_error() {
    let (env, wire) = wire();
    let body = wire["request_http_body"].as_str().unwrap();
    let token = wire["request_fernet_token"].as_str().unwrap();
    let reseal = |token: &[u8]| STANDARD.encode(token).into_bytes();

    assert!(matches!(env.open(b""), Err(Error::Empty)));
    assert!(matches!(env.open(b"not base64!"), Err(Error::NotBase64)));
    assert!(matches!(env.open(token.as_bytes()), Err(Error::NotBase64))); // `-`/`_` in it
    let unpadded = STANDARD_NO_PAD.encode(token.as_bytes());
    assert!(unpadded.len() % 4 != 0);
    assert!(matches!(
        env.open(unpadded.as_bytes()),
        Err(Error::MissingPadding)
    ));
    assert!(matches!(
        env.open(&reseal(b"gAAA*AAA")),
        Err(Error::MalformedToken)
    ));

    let mut raw = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).unwrap();
    let truncated = URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 10]);
    assert!(matches!(
        env.open(&reseal(truncated.as_bytes())),
        Err(Error::Truncated)
    ));
    let short = URL_SAFE_NO_PAD.encode(&raw[..40]);
    assert!(matches!(
        env.open(&reseal(short.as_bytes())),
        Err(Error::Truncated)
    ));

    raw[0] = 0x81;
    let version = URL_SAFE_NO_PAD.encode(&raw);
    assert!(matches!(
        env.open(&reseal(version.as_bytes())),
        Err(Error::UnsupportedVersion(0x81))
    ));
    raw[0] = 0x80;
    raw[40] ^= 1;
    let tampered = URL_SAFE_NO_PAD.encode(&raw);
    assert!(matches!(
        env.open(&reseal(tampered.as_bytes())),
        Err(Error::BadSignature)
    ));

    let other =
        FernetEnvelope::new(FernetKey::from_text(FernetKey::generate().expose_secret()).unwrap());
    assert!(matches!(
        other.open(body.as_bytes()),
        Err(Error::BadSignature)
    ));
}

#[test]
fn envelope_errors_map_to_the_servers_statuses() {
    assert_eq!(Error::BadSignature.http_status(), 401);
    assert_eq!(Error::MissingPadding.http_status(), 401);
    assert_eq!(Error::UnknownRequest("echo".into()).http_status(), 400);
}

fn check_reply(name: &str, reply: &Value) {
    let text = reply.to_string();
    macro_rules! typed {
        ($t:ty) => {{
            let r: Response<$t> =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert!(!r.messages.is_empty(), "{name}");
        }};
    }
    match name.parse::<RequestName>().unwrap() {
        RequestName::SessionNew => typed!(SessionNewResponse),
        RequestName::SessionExists | RequestName::SessionSetinfo => typed!(SessionExistsResponse),
        RequestName::UserLogin | RequestName::UserLogout | RequestName::UserPasscheck => {
            typed!(UserIdResponse);
        }
        RequestName::UserNew => typed!(UserNewResponse),
        RequestName::UserChangepass | RequestName::UserDelete => typed!(UserEmailResponse),
        RequestName::UserList => typed!(UserListResponse),
        RequestName::UserEdit | RequestName::UserLock => typed!(UserInfoResponse),
        RequestName::UserVerifyEmailaddr => typed!(UserVerifyResponse),
        RequestName::UserSignupSendemail | RequestName::UserForgotpassSendemail => {
            typed!(SendEmailResponse);
        }
        RequestName::ApikeyNew => typed!(ApikeyNewResponse),
        _ => typed!(NoFields),
    }
}

#[test]
fn every_recorded_reply_fits_its_typed_response_and_every_request_its_body() {
    let v = vectors();
    let mut seen = 0;
    for list in ["roundtrip_transcript", "more_transcript"] {
        for step in v[list].as_array().unwrap() {
            let req = &step["request"];
            let name = req["request"].as_str().unwrap();
            let typed = AuthnzRequest::from_parts(name, req["body"].clone())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(typed.name().as_str(), name);
            // Typed bodies serialise back to the same JSON (dates keep their digits).
            assert_eq!(typed.body_json().unwrap(), req["body"], "{name}");
            if step["http_status"] == 200 {
                check_reply(name, &step["response"]);
                seen += 1;
            }
        }
    }
    assert!(seen > 40, "{seen}");
}

#[test]
fn the_api_key_string_parses_into_the_dict_verify_wants() {
    let v = vectors();
    let step = v["roundtrip_transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["request"]["request"] == "apikey-new")
        .unwrap();
    let reply: Response<ApikeyNewResponse> =
        serde_json::from_value(step["response"].clone()).unwrap();
    let dict = reply.response.dict().unwrap();
    assert_eq!(dict.uid, 4);
    let back = serde_json::to_value(ApikeyVerify { apikey_dict: dict }).unwrap();
    let original: Value =
        serde_json::from_str(reply.response.apikey.unwrap().expose_secret()).unwrap();
    assert_eq!(back["apikey_dict"], original);
}

#[test]
fn recorded_failure_replies_with_nulls_fit_their_types() {
    let v = vectors();
    let mut checked = 0;
    for case in v["error_cases"].as_array().unwrap() {
        if case["status"] != 200 {
            continue;
        }
        let reply = &case["response"];
        let inner = &reply["response"];
        let text = reply.to_string();
        let name = if inner.get("session_token").is_some() {
            "session-new"
        } else if inner.get("session_info").is_some() {
            "session-exists"
        } else if inner.get("user_email").is_some() {
            "user-new"
        } else if inner.get("verifyemail_sent_datetime").is_some() {
            "user-signup-sendemail"
        } else if inner.get("user_id").is_some() {
            "user-login"
        } else {
            "user-check-access"
        };
        check_reply(name, reply);
        let raw: Response = serde_json::from_str(&text).unwrap();
        assert_eq!(
            raw.reqid,
            serde_json::from_value(reply["reqid"].clone()).unwrap()
        );
        checked += 1;
    }
    assert!(checked > 20, "{checked}");
}
