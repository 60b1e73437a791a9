//! Redaction of server text kept in errors: a server page or `error_description` may echo
//! the request, and with it a password, a token or a client secret. What a protocol crate
//! keeps of such text goes through [`redact_credentials`] first.
//!
//! The rules are deliberately broad (a redacted word too many costs a little context in a
//! log; one too few leaks a credential):
//! - the caller's own secrets, wherever they appear;
//! - the word after an HTTP authentication scheme (`Bearer`, `Basic`, `Digest`, `Token`,
//!   `Negotiate`);
//! - the value after a credential-like name (`password=`, `"access_token": "`, `secret:`,
//!   `X-Auth-Token: ` ...);
//! - any opaque run of 20 or more token characters that mixes letters and digits (tokens,
//!   UUIDs, JWTs, base64 keys), with or without separators.

/// What replaces a redacted part.
pub const REDACTED: &str = "[redacted]";

/// Names whose value is a credential (matched case-insensitively as part of a name).
const CREDENTIAL_NAMES: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "auth",
    "key",
    "code",
    "session",
    "cookie",
    "credential",
    "signature",
    "digest",
    "nonce",
    "salt",
];

/// HTTP authentication schemes: the word after one is a credential.
const SCHEMES: &[&str] = &["bearer", "basic", "digest", "token", "negotiate"];

/// Shortest opaque run treated as a token.
const OPAQUE_MIN: usize = 20;

/// Returns `text` with everything credential-shaped and every one of `own_secrets` (the
/// client's password, secret, tokens; empty or very short ones are ignored) replaced by
/// [`REDACTED`].
pub fn redact_credentials(text: &str, own_secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in own_secrets {
        if secret.len() >= 4 {
            out = out.replace(secret, REDACTED);
        }
    }
    redact_words(&out)
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=' | '~' | '%')
}

/// One pass over the text: tokens are runs of token characters; a run is redacted when
/// it is opaque, when it follows a scheme word, or when it is the value of a credential
/// name.
fn redact_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Whether the next run is a value to redact (after a scheme or a credential name).
    let mut redact_next = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if is_token_char(c) {
            let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
            let (run, after) = rest.split_at(end);
            let (name, value) = split_assignment(run);
            if redact_next && is_scheme(run) {
                // `Authorization: Basic xyz`: the scheme stays, the word after it goes.
                out.push_str(run);
            } else if redact_next || is_opaque(run) {
                out.push_str(REDACTED);
                redact_next = false;
            } else if let Some(value) = value {
                // `name=value` inside one run.
                out.push_str(name);
                out.push('=');
                if is_credential_name(name) || is_opaque(value) {
                    out.push_str(REDACTED);
                } else {
                    out.push_str(value);
                }
            } else {
                out.push_str(run);
                redact_next = is_scheme(run)
                    || (is_credential_name(run) && (run.ends_with('=') || value_follows(after)));
            }
            rest = after;
        } else {
            // Separators keep a pending redaction only while a value can still follow
            // (`"password": "x"`, `token = x`, `Bearer x`).
            if !matches!(c, ' ' | '\t' | ':' | '"' | '\'' | '=') {
                redact_next = false;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Splits `name=value` at the first `=` that is not at the end (base64 padding).
fn split_assignment(run: &str) -> (&str, Option<&str>) {
    match run.find('=') {
        Some(at) if at > 0 && at + 1 < run.len() && !run[at + 1..].starts_with('=') => {
            (&run[..at], Some(&run[at + 1..]))
        }
        _ => (run, None),
    }
}

/// Whether the text after a name starts like a value assignment (`:` or `=`, possibly
/// after quotes and spaces).
fn value_follows(after: &str) -> bool {
    after
        .trim_start_matches(['"', '\'', ' ', '\t'])
        .starts_with([':', '='])
}

fn is_scheme(word: &str) -> bool {
    SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
}

fn is_credential_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CREDENTIAL_NAMES.iter().any(|n| lower.contains(n))
}

/// Long, and mixing letters and digits: what tokens look like and words do not.
fn is_opaque(run: &str) -> bool {
    run.len() >= OPAQUE_MIN
        && run.chars().any(|c| c.is_ascii_digit())
        && run.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_names_and_opaque_runs() {
        let r = |t: &str| redact_credentials(t, &[]);
        assert_eq!(
            r("Authorization: Basic dXNlcjpwYXNz"),
            "Authorization: Basic [redacted]"
        );
        assert_eq!(r("got bearer abc.def"), "got bearer [redacted]");
        assert_eq!(
            r("password=hunter2&user=bob"),
            "password=[redacted]&user=bob"
        );
        assert_eq!(
            r(r#"{"access_token": "s3cr3t"}"#),
            r#"{"access_token": "[redacted]"}"#
        );
        assert_eq!(r("X-Auth-Token: abc"), "X-Auth-Token: [redacted]");
        assert_eq!(
            r("token 2f3b1c4e-6a7d-4e8f-9a0b-1c2d3e4f5a6b is unknown"),
            "token [redacted] is unknown"
        );
        assert_eq!(
            r("id 2f3b1c4e-6a7d-4e8f-9a0b-1c2d3e4f5a6b"),
            "id [redacted]"
        );
        assert_eq!(
            r("invalid_grant: Code not valid"),
            "invalid_grant: Code not valid"
        );
        assert_eq!(r("the user is disabled"), "the user is disabled");
    }

    #[test]
    fn own_secrets_anywhere() {
        assert_eq!(
            redact_credentials("echo: pw is zz-Sekret-zz!", &["zz-Sekret-zz", "", "ab"]),
            "echo: pw is [redacted]!"
        );
    }
}
