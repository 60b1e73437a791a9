//! Interop with the Python `kalliopepbx` 0.0.3 package (the seed). `cargo xtask test` runs
//! the package in a venv, writes what it produced to a JSON file and runs this test with
//! `KALLIOPE_PY_HEADERS` naming that file:
//! - `pinned`: headers made with a pinned nonce and created; ours must be byte-identical;
//! - `fresh`: headers made with the package's own nonce and clock; our verifier must
//!   accept each once.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use kalliope_auth::Auth;
use kalliope_auth::verifier::{Verifier, VerifierConfig};
use pbx_auth_core::SystemClock;
use serde_json::Value;

fn python_output() -> Value {
    let Some(path) = std::env::var_os("KALLIOPE_PY_HEADERS") else {
        panic!(
            "KALLIOPE_PY_HEADERS is not set: this test reads the headers the Python \
             kalliopepbx package produced; run it with `cargo xtask test`"
        );
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.to_string_lossy()));
    serde_json::from_str(&text).expect("the Python output is JSON")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` missing in {v}"))
}

#[test]
#[ignore = "needs the Python kalliopepbx package; run by cargo xtask test"]
fn pinned_headers_are_byte_identical() {
    let out = python_output();
    let cases = out["pinned"].as_array().expect("a `pinned` array");
    assert!(cases.len() >= 10, "too few pinned cases: {}", cases.len());
    for case in cases {
        let auth = Auth::new(
            s(case, "username"),
            s(case, "password"),
            s(case, "domain"),
            Some(s(case, "salt")),
        )
        .unwrap();
        let value = auth
            .xauth_with(s(case, "nonce"), s(case, "created"))
            .unwrap();
        let ours = format!(
            "X-authenticate: {}",
            std::str::from_utf8(value.as_bytes()).unwrap()
        );
        assert_eq!(ours, s(case, "line"), "case {}", case["id"]);
    }
}

#[test]
#[ignore = "needs the Python kalliopepbx package; run by cargo xtask test"]
fn fresh_python_headers_pass_our_verifier() {
    let out = python_output();
    let cases = out["fresh"].as_array().expect("a `fresh` array");
    assert!(!cases.is_empty());
    for case in cases {
        // One verifier per case: several vectors share a username with different
        // passwords or salts.
        let mut verifier =
            Verifier::new(VerifierConfig::default()).with_clock(Arc::new(SystemClock::default()));
        verifier
            .add_user(
                s(case, "username"),
                s(case, "domain"),
                s(case, "password"),
                s(case, "salt"),
            )
            .unwrap();
        let value = s(case, "value");
        let verified = verifier
            .verify_value(value.as_bytes())
            .unwrap_or_else(|e| panic!("{value}: {:?}", e.reason()));
        assert_eq!(verified.username, s(case, "username"));
        assert!(
            verifier.verify_value(value.as_bytes()).is_err(),
            "replay accepted"
        );
    }
}
