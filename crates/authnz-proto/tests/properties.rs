//! Properties: sealing round-trips any bytes, and opening never panics on any input.

#![allow(clippy::unwrap_used)] // Helpers shared by tests unwrap like the tests do.

use std::time::{Duration, SystemTime};

use authnz_proto::{AuthnzRequest, FernetEnvelope, FernetKey, Timestamp};
use pbx_auth_core::Envelope;
use proptest::prelude::*;

fn envelope() -> FernetEnvelope {
    FernetEnvelope::new(
        FernetKey::from_text("HOOPb4ez5AiJQRyJBY2gX9exHTK6iATqapxgF92mt3o=").unwrap(),
    )
}

proptest! {
    #[test]
    fn seal_then_open_is_identity(plain in proptest::collection::vec(any::<u8>(), 0..600)) {
        let env = envelope();
        let dyn_env: &dyn Envelope = &env;
        let now = SystemTime::now();
        let sealed = dyn_env.seal(&plain, now).unwrap();
        prop_assert_eq!(dyn_env.open(&sealed, now, Some(Duration::from_secs(60))).unwrap(), plain);
    }

    #[test]
    fn opening_garbage_is_an_error_not_a_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let env = envelope();
        prop_assert!(env.open(&body).is_err());
    }

    #[test]
    fn opening_a_damaged_token_is_an_error(index in 0usize..200, byte in any::<u8>()) {
        let env = envelope();
        let mut sealed = env.seal(b"{\"request\": \"session-delete\"}");
        let i = index % sealed.len();
        prop_assume!(sealed[i] != byte);
        sealed[i] = byte;
        prop_assert!(env.open(&sealed).is_err());
    }

    #[test]
    fn request_bodies_never_panic(name in "[a-z-]{0,30}", body in any::<Option<u32>>()) {
        let body = body.map_or(serde_json::json!([]), |n| serde_json::json!({"user_id": n}));
        let _ = AuthnzRequest::from_parts(&name, body);
    }

    #[test]
    fn timestamps_parse_what_they_print(micros in 0u64..4_000_000_000_000_000) {
        let t = Timestamp::from_system_time(SystemTime::UNIX_EPOCH + Duration::from_micros(micros));
        prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
    }
}
