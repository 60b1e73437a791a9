//! Conformance: every vector in the JSON file named by `KALLIOPE_VECTORS` (else the repo's
//! copy of the shared vectors) through the digest functions, the signer and the verifier.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use kalliope_auth::created::parse_created;
use kalliope_auth::digest::{digest, digest_password};
use kalliope_auth::verifier::Verifier;
use kalliope_auth::{Credentials, SigningKey, XAuthSigner};
use pbx_auth_core::nonce::FixedNonce;
use pbx_auth_core::{FixedClock, RequestSigner, SignContext};
use serde_json::Value;

fn vectors() -> (PathBuf, Vec<Value>) {
    let path = std::env::var_os("KALLIOPE_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors.json"),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).expect("the vectors file is JSON");
    let list = json["vectors"]
        .as_array()
        .expect("a `vectors` array")
        .clone();
    assert!(!list.is_empty(), "no vectors in {}", path.display());
    (path, list)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: `{key}` is not a string", v["id"]))
}

/// The vector's `created` as a time: its first 19 characters, so vectors with fractions
/// still give the verifier a clock near their time.
fn pinned_now(v: &Value) -> FixedClock {
    let created = s(v, "created");
    let whole = format!("{}Z", created.get(..19).unwrap_or(created));
    FixedClock::new(parse_created(&whole).expect("a usable created time"))
}

#[test]
fn digests_match_every_vector() {
    let (path, list) = vectors();
    for v in &list {
        let dp = digest_password(s(v, "password"), s(v, "salt"));
        assert_eq!(
            std::str::from_utf8(&dp).unwrap(),
            s(v, "digest_password"),
            "{} ({})",
            v["id"],
            path.display()
        );
        let d = digest(
            s(v, "nonce"),
            &dp,
            s(v, "username"),
            s(v, "domain"),
            s(v, "created"),
        );
        assert_eq!(d, s(v, "digest"), "{}", v["id"]);
        if let Some(alt) = v.get("alt_if_empty_salt_merges_to_bare_password") {
            // The Symfony-style reading hashes the bare password; document that we differ.
            assert_ne!(s(alt, "digest_password"), s(v, "digest_password"));
        }
    }
}

#[test]
fn signer_and_verifier_follow_strict_format_check() {
    let (_, list) = vectors();
    let mut accepted = 0;
    let mut rejected = 0;
    for v in &list {
        let id = &v["id"];
        let ok = v["strict_format_check"]["ok"]
            .as_bool()
            .expect("strict_format_check.ok");
        let header = s(v, "header_value");
        let key = Credentials::new(s(v, "username"), s(v, "password"), s(v, "domain"))
            .and_then(|c| SigningKey::derive(&c, s(v, "salt")));
        let mut verifier = Verifier::default().with_clock(Arc::new(pinned_now(v)));
        if let Ok(key) = &key {
            verifier.add_key(key);
        }
        if ok {
            let key = key.unwrap_or_else(|e| panic!("{id}: {e}"));
            // Pinned nonce and created through the explicit API.
            let value = XAuthSigner::value_with_created_text(&key, s(v, "nonce"), s(v, "created"))
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(value.as_bytes(), header.as_bytes(), "{id}");
            // And through the core RequestSigner where the nonce is what we generate.
            let nonce = s(v, "nonce");
            if nonce.len() == 32
                && nonce
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            {
                let fixed = FixedNonce::from_hex(nonce).unwrap();
                let now = parse_created(s(v, "created")).unwrap();
                let ctx = SignContext::new(now, &fixed);
                let (mut parts, ()) = http::Request::new(()).into_parts();
                XAuthSigner::default()
                    .sign(&key, &mut parts, None, &ctx)
                    .unwrap();
                assert_eq!(
                    parts.headers["x-authenticate"].as_bytes(),
                    header.as_bytes(),
                    "{id}"
                );
            }
            let verified = verifier
                .verify_value(header.as_bytes())
                .unwrap_or_else(|e| panic!("{id}: {:?}", e.reason()));
            assert_eq!(verified.username, s(v, "username"));
            accepted += 1;
        } else {
            let refused = verifier.verify_value(header.as_bytes());
            assert!(
                refused.is_err(),
                "{id}: the verifier accepted a rejected vector"
            );
            // The signer refuses to build it too (as the vendor's helper does).
            let built = key.and_then(|k| {
                XAuthSigner::value_with_created_text(&k, s(v, "nonce"), s(v, "created"))
            });
            assert!(built.is_err(), "{id}: the signer built a rejected vector");
            rejected += 1;
        }
    }
    assert!(accepted > 0 && rejected > 0);
}

#[test]
fn header_line_matches() {
    let (_, list) = vectors();
    for v in list
        .iter()
        .filter(|v| v["strict_format_check"]["ok"] == true)
    {
        let auth = kalliope_auth::Auth::new(
            s(v, "username"),
            s(v, "password"),
            s(v, "domain"),
            Some(s(v, "salt")),
        )
        .unwrap();
        let value = auth.xauth_with(s(v, "nonce"), s(v, "created")).unwrap();
        let line = format!(
            "{}: {}",
            s(v, "header_name"),
            std::str::from_utf8(value.as_bytes()).unwrap()
        );
        assert_eq!(line, s(v, "header_line"), "{}", v["id"]);
    }
}
