//! Fuzzes the `X-authenticate` parsers (strict and lenient), the verifier and the salt
//! reply parser: no input may panic, and whatever the strict grammar accepts the lenient
//! one must read identically.

#![no_main]

use kalliope_auth::verifier::{Verifier, VerifierConfig, parse_lenient, parse_strict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let strict = parse_strict(data);
    let lenient = parse_lenient(data);
    if let Ok(parsed) = &strict {
        assert_eq!(lenient.as_ref(), Ok(parsed));
    }
    let verifier = Verifier::new(VerifierConfig::default().with_lenient(true));
    let _ = verifier.verify_value(data);
    let _ = kalliope_auth::parse_salt(data);
});
