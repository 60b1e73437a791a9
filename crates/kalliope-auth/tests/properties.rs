//! Property tests: sign-then-verify round-trips for arbitrary Unicode credentials, and no
//! parser panics on any input.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use kalliope_auth::verifier::{Verifier, VerifierConfig, parse_lenient, parse_strict};
use kalliope_auth::{Credentials, SigningKey, XAuthSigner, parse_connection_string, parse_salt};
use pbx_auth_core::FixedClock;
use pbx_auth_core::nonce::SeqNonce;
use proptest::prelude::*;

/// Header-safe names: any Unicode except `"`, `@` and control characters.
fn name() -> impl Strategy<Value = String> {
    "[^\"@\\p{Cc}]{1,24}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sign_then_verify_round_trips(
        user in name(),
        domain in name(),
        password in "\\PC{1,32}",
        salt in "[0-9a-f]{32}",
        secs in 0u64..253_402_300_799,
        start in any::<u64>(),
    ) {
        let credentials = Credentials::new(user.clone(), password, domain.clone()).unwrap();
        let key = SigningKey::derive(&credentials, &salt).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(secs);
        let value = XAuthSigner::fresh_value(&key, &SeqNonce::starting_at(start), now).unwrap();
        let mut verifier = Verifier::default().with_clock(Arc::new(FixedClock::new(now)));
        verifier.add_key(&key);
        let verified = verifier.verify_value(value.as_bytes()).unwrap();
        prop_assert_eq!(&verified.username, &user);
        prop_assert_eq!(&verified.domain, &domain);
        // The lenient parser reads canonical headers the same way.
        prop_assert_eq!(parse_lenient(value.as_bytes()).unwrap(), parse_strict(value.as_bytes()).unwrap());
        // And a second verification is a replay.
        prop_assert!(verifier.verify_value(value.as_bytes()).is_err());
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_strict(&bytes);
        let _ = parse_lenient(&bytes);
        let _ = parse_salt(&bytes);
        let verifier = Verifier::new(VerifierConfig::default().with_lenient(true));
        let _ = verifier.verify_value(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = parse_connection_string(text);
        }
    }

    #[test]
    fn near_miss_headers_never_panic(
        prefix in "(RestApiUsernameToken|restapiusernametoken)?[ ,=\"]{0,3}",
        fields in proptest::collection::vec(
            ("(Username|Domain|Digest|Nonce|Created|X)", "[ -~é€]{0,50}"), 0..7),
    ) {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let value = format!("{prefix} {}", body.join(", "));
        let _ = parse_strict(value.as_bytes());
        let _ = parse_lenient(value.as_bytes());
    }

    #[test]
    fn connection_strings_never_panic(s in "\\PC{0,60}") {
        let _ = parse_connection_string(&s);
        let _ = parse_connection_string(&format!("http://{s}"));
    }
}

/// Any text, with the characters the grammar is about over-represented.
fn any_field() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[a-z\"@\\x00-\\x1f\\x7f é]{0,8}",
        Just(String::new()),
    ]
}

fn any_nonce() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9a-fA-F]{0,140}", "[0-9a-gA-G ]{6,12}", "\\PC{0,10}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// One grammar: the signer builds a header exactly when the verifier's parser accepts
    /// one with the same values.
    #[test]
    fn the_signer_builds_what_the_verifier_accepts(
        user in any_field(),
        domain in any_field(),
        nonce in any_nonce(),
        secs in 0u64..253_402_300_799,
    ) {
        let created = UNIX_EPOCH + Duration::from_secs(secs);
        let signed = Credentials::new(user.clone(), "pw", domain.clone())
            .and_then(|c| SigningKey::derive(&c, "s4lt"))
            .and_then(|key| XAuthSigner::value_with(&key, &nonce, created));
        let created_raw = kalliope_auth::created::format_created(created).unwrap();
        let created_text = std::str::from_utf8(&created_raw).unwrap();
        let digest = "A".repeat(43) + "=";
        let by_hand = format!(
            "RestApiUsernameToken Username=\"{user}\", Domain=\"{domain}\", \
             Digest=\"{digest}\", Nonce=\"{nonce}\", Created=\"{created_text}\""
        );
        let accepted = parse_strict(by_hand.as_bytes()).is_ok();
        prop_assert_eq!(signed.is_ok(), accepted, "{:?}", by_hand);
        if let Ok(value) = signed {
            prop_assert!(parse_strict(value.as_bytes()).is_ok());
        }
    }
}
