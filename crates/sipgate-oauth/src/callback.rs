//! Checking the redirect back from the authorization server, shared by the loopback
//! listener and the paste-the-URL mode.

use std::borrow::Cow;
use std::fmt;

use subtle::ConstantTimeEq as _;

use crate::error::Error;

/// A verified callback: the state matched and a code came back.
pub struct Callback {
    code: String,
    issuer: Option<String>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &"[redacted]")
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl Callback {
    /// The `iss` parameter (RFC 9207), when the server sent one.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    pub(crate) fn into_code(self) -> String {
        self.code
    }
}

/// `state` first — an error redirect with a wrong state is not ours to report — then
/// `error`, then `code`.
pub(crate) fn verify_callback<'a>(
    expected_state: &str,
    query: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> Result<Callback, Error> {
    let mut state = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    let mut issuer = None;
    let mut repeated = false;
    for (key, value) in query {
        let slot = match key.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            "iss" => &mut issuer,
            _ => continue,
        };
        // A repeated parameter is ambiguous (RFC 6749 §3.1); refuse rather than pick one.
        // Noted, not returned yet: a request that does not carry our state must be
        // reported as not ours, whatever else is wrong with it, so the listener can ignore
        // it and keep waiting.
        if slot.replace(value.into_owned()).is_some() {
            repeated = true;
        }
    }
    let state_ok = !repeated
        && state
            .as_deref()
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected_state.as_bytes())));
    if !state_ok {
        return Err(Error::StateMismatch);
    }
    if let Some(error) = error {
        return Err(Error::AuthorizationDenied {
            error: printable(&error),
            description: description.as_deref().map(printable),
        });
    }
    match code {
        Some(code) if !code.is_empty() => Ok(Callback { code, issuer }),
        _ => Err(Error::InvalidCallback("the callback carries no code")),
    }
}

/// Server-supplied text ends up in messages and pages: keep it short and printable, and
/// without anything credential-shaped (a server may echo the request).
/// Redacted before it is cut, so a token at the cut is not left as a short, unrecognised
/// tail.
pub(crate) fn printable(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    pbx_auth_core::redact::redact_credentials(&clean, &[])
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&'static str, &'static str)]) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
        pairs
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect()
    }

    #[test]
    fn good_callback() {
        let cb = verify_callback("s1", q(&[("code", "c"), ("state", "s1"), ("iss", "i")])).unwrap();
        assert_eq!(cb.issuer(), Some("i"));
        assert_eq!(cb.into_code(), "c");
    }

    #[test]
    fn state_is_checked_before_error() {
        let err = verify_callback("s1", q(&[("error", "access_denied"), ("state", "zz")]));
        assert!(matches!(err, Err(Error::StateMismatch)));
        let err = verify_callback("s1", q(&[("error", "access_denied")]));
        assert!(matches!(err, Err(Error::StateMismatch)));
    }

    #[test]
    fn error_after_good_state() {
        let err = verify_callback(
            "s1",
            q(&[
                ("error", "access_denied"),
                ("error_description", "no"),
                ("state", "s1"),
            ]),
        );
        assert!(
            matches!(err, Err(Error::AuthorizationDenied { error, description }) if error == "access_denied" && description.as_deref() == Some("no"))
        );
    }

    #[test]
    fn missing_code_and_duplicates() {
        assert!(matches!(
            verify_callback("s1", q(&[("state", "s1")])),
            Err(Error::InvalidCallback(_))
        ));
        assert!(matches!(
            verify_callback("s1", q(&[("state", "s1"), ("code", "a"), ("code", "b")])),
            Err(Error::StateMismatch)
        ));
        assert!(matches!(
            verify_callback("s1", q(&[("state", "s1"), ("state", "s1"), ("code", "a")])),
            Err(Error::StateMismatch)
        ));
    }

    #[test]
    fn debug_hides_the_code() {
        let cb = verify_callback("s", q(&[("code", "secret-code"), ("state", "s")])).unwrap();
        assert!(!format!("{cb:?}").contains("secret-code"));
    }
}
