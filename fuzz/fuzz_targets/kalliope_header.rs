//! The `X-authenticate` parsers (strict and lenient) and the verifier: no input may panic;
//! whatever the strict grammar accepts the lenient one reads identically; a header that
//! verifies once is refused the second time. The first byte picks raw bytes or a header
//! signed with a known key around fuzzed nonce and `Created` text, so acceptance is
//! reached too.

#![no_main]

use std::sync::Arc;

use kalliope_auth::verifier::{
    RejectReason, Verifier, VerifierConfig, parse_lenient, parse_strict,
};
use kalliope_auth::{Credentials, SigningKey, XAuthSigner};
use libfuzzer_sys::fuzz_target;
use pbx_auth_core::FixedClock;

const SALT: &str = "b5a8fdcf2f8d5acdad33c4a072a97d7a";
/// 2016-04-29T15:48:26Z, the documentation's example time.
const NOW: u64 = 1_461_944_906;

fn verifier(lenient: bool, before_digest: bool) -> (Verifier, SigningKey) {
    let credentials = Credentials::new("admin", "admin", "default").expect("valid credentials");
    let key = SigningKey::derive(&credentials, SALT).expect("valid salt");
    let mut verifier = Verifier::new(
        VerifierConfig::default()
            .with_lenient(lenient)
            .with_insert_before_digest(before_digest),
    )
    .with_clock(Arc::new(FixedClock::from_unix(NOW)));
    verifier.add_key(&key);
    (verifier, key)
}

fn verify_twice(verifier: &Verifier, value: &[u8]) {
    if verifier.verify_value(value).is_ok() {
        let again = verifier.verify_value(value);
        assert_eq!(
            again.map(|_| ()).map_err(|e| e.reason()),
            Err(RejectReason::Replayed)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (verifier, key) = verifier(mode & 1 == 1, mode & 2 == 2);
    if mode & 4 == 0 {
        let strict = parse_strict(rest);
        let lenient = parse_lenient(rest);
        if let Ok(parsed) = &strict {
            assert_eq!(lenient.as_ref(), Ok(parsed));
        }
        verify_twice(&verifier, rest);
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_bytes(rest) {
            headers.insert("x-authenticate", value);
            let _ = verifier.verify_headers(&headers);
        }
    } else {
        // A signed header around fuzzed parts: `nonce|created`.
        let text = String::from_utf8_lossy(rest);
        let (nonce, created) = text
            .split_once('|')
            .unwrap_or((&text, "2016-04-29T15:48:26Z"));
        if let Ok(value) = XAuthSigner::value_with_created_text(&key, nonce, created) {
            verify_twice(&verifier, value.as_bytes());
        }
    }
});
