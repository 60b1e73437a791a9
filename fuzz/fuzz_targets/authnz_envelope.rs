//! The authnzerver envelope and request opener: arbitrary bytes as a sealed body, and
//! valid seals (stamped with fuzzed times) around fuzzed JSON, opened with and without a
//! TTL. No panic, no overflow (the stamp is checked before the `fernet` crate adds to it),
//! and a valid seal always opens to its plaintext when no TTL applies.

#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authnz_proto::server::open_request;
use authnz_proto::{FernetEnvelope, FernetKey, Response};
use libfuzzer_sys::fuzz_target;

static ENVELOPE: LazyLock<FernetEnvelope> = LazyLock::new(|| {
    let key =
        FernetKey::from_text("x3QMZfH7tx6mCF5QDWiMr9VBETHhZiXKv6w-oL8M7Ew=").expect("a valid key");
    FernetEnvelope::new(key)
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let env = &*ENVELOPE;
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ttl = (mode & 1 == 1).then(|| Duration::from_secs(u64::from(mode) << 24));
    if mode & 2 == 0 {
        // Arbitrary bytes as a body.
        let _ = env.open_at(rest, now, ttl);
        let _ = open_request(env, rest, now, ttl);
    } else {
        // A valid seal around fuzzed JSON, stamped at a fuzzed time.
        let (stamp, json) = rest.split_at(rest.len().min(8));
        let mut secs = [0u8; 8];
        secs[..stamp.len()].copy_from_slice(stamp);
        let sealed_at = UNIX_EPOCH
            .checked_add(Duration::from_secs(u64::from_be_bytes(secs) >> 2))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let sealed = env.seal_at(json, sealed_at);
        assert_eq!(env.open_at(&sealed, now, None).expect("own seal"), json);
        let _ = env.open_at(&sealed, now, ttl);
        let _ = open_request(env, &sealed, now, ttl);
        let _ = serde_json::from_slice::<Response<serde_json::Value>>(json);
    }
});
