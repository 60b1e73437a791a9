//! The `X-authenticate` header: [`XAuthSigner`], the core [`RequestSigner`] that writes a
//! fresh header (new nonce, new `Created`) for every request it signs.

use std::time::SystemTime;

use http::request::Parts;
use http::{HeaderName, HeaderValue};
use pbx_auth_core::{NonceSource, RequestSigner, SignContext};

use crate::created::{CREATED_LEN, format_created, parse_created};
use crate::credentials::SigningKey;
use crate::digest::{DIGEST_LEN, digest_b64};
use crate::error::Error;
use crate::grammar::is_valid_nonce;

/// The header name, as the vendor documentation spells it. Header names are
/// case-insensitive; `http` stores them lowercase.
pub const HEADER_NAME: HeaderName = HeaderName::from_static("x-authenticate");

/// The same name as a static, so the signer can lend a reference to it.
static HEADER: HeaderName = HEADER_NAME;

/// Nonce bytes drawn per header: 16 bytes, sent as 32 lowercase hex characters.
pub const NONCE_BYTES: usize = 16;

/// Writes `X-authenticate: RestApiUsernameToken Username="…", Domain="…", Digest="…",
/// Nonce="…", Created="…"` with a nonce and time from the [`SignContext`].
///
/// Stateless: each call computes its header from local values only, so concurrent
/// requests can never mix one header's nonce with another's digest (the seed's bug 7).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct XAuthSigner;

impl XAuthSigner {
    /// A header value with a fresh nonce from `nonce` and `Created` from `now`.
    ///
    /// # Errors
    ///
    /// [`Error::Signing`] when `now` is outside the years 0000 to 9999.
    pub fn fresh_value(
        key: &SigningKey,
        nonce: &dyn NonceSource,
        now: SystemTime,
    ) -> Result<HeaderValue, Error> {
        let mut raw = [0u8; NONCE_BYTES];
        nonce.fill(&mut raw);
        let mut hex_nonce = [0u8; NONCE_BYTES * 2];
        // 16 bytes always fit 32 hex characters.
        let _ = hex::encode_to_slice(raw, &mut hex_nonce);
        let created = format_created(now).ok_or(Error::Signing(
            "the clock is outside the years 0000 to 9999",
        ))?;
        Ok(build_value(key, ascii(&hex_nonce), &created))
    }

    /// A header value with the given nonce and `Created` time, for test vectors and
    /// interop checks. Never reuse a nonce on the wire: the server refuses it.
    ///
    /// # Errors
    ///
    /// [`Error::Signing`] when `nonce` is not 8 to 128 hex characters or `created` is
    /// outside the years 0000 to 9999.
    pub fn value_with(
        key: &SigningKey,
        nonce: &str,
        created: SystemTime,
    ) -> Result<HeaderValue, Error> {
        if !is_valid_nonce(nonce) {
            return Err(Error::Signing("the nonce is not 8 to 128 hex characters"));
        }
        let created = format_created(created)
            .ok_or(Error::Signing("the time is outside the years 0000 to 9999"))?;
        Ok(build_value(key, nonce, &created))
    }

    /// Like [`value_with`](Self::value_with) with `Created` given as text.
    ///
    /// # Errors
    ///
    /// [`Error::Signing`] for a bad nonce or a `created` that is not a real
    /// `YYYY-MM-DDThh:mm:ssZ` time.
    pub fn value_with_created_text(
        key: &SigningKey,
        nonce: &str,
        created: &str,
    ) -> Result<HeaderValue, Error> {
        let at = parse_created(created)
            .map_err(|_| Error::Signing("created is not a real YYYY-MM-DDThh:mm:ssZ time"))?;
        Self::value_with(key, nonce, at)
    }
}

fn ascii(bytes: &[u8]) -> &str {
    // Only called on hex digits and formatted dates, which are ASCII.
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// What goes before, between and after the five field values of the canonical line.
const FIELD_SEPARATORS: [&str; 6] = [
    "RestApiUsernameToken Username=\"",
    "\", Domain=\"",
    "\", Digest=\"",
    "\", Nonce=\"",
    "\", Created=\"",
    "\"",
];

/// Assembles the canonical line. `Username` and `Domain` were checked when the key was
/// made, so the value is always a valid header; it carries the same UTF-8 bytes that were
/// hashed (the seed sent Latin-1, its bug 8).
fn build_value(key: &SigningKey, nonce: &str, created: &[u8; CREATED_LEN]) -> HeaderValue {
    let created = ascii(created);
    let digest: [u8; DIGEST_LEN] = digest_b64(
        nonce,
        key.expose_digest_password(),
        key.username(),
        key.domain(),
        created,
    );
    // The exact length: a `String` whose capacity equals its length becomes the header's
    // bytes without a second allocation.
    let len = FIELD_SEPARATORS.iter().map(|p| p.len()).sum::<usize>()
        + key.username().len()
        + key.domain().len()
        + DIGEST_LEN
        + nonce.len()
        + CREATED_LEN;
    let mut line = String::with_capacity(len);
    let fields = [key.username(), key.domain(), ascii(&digest), nonce, created];
    for (separator, field) in FIELD_SEPARATORS.iter().zip(fields) {
        line.push_str(separator);
        line.push_str(field);
    }
    line.push_str(FIELD_SEPARATORS[5]);
    debug_assert_eq!(line.len(), len, "the capacity estimate is exact");
    let mut value = HeaderValue::try_from(line)
        .unwrap_or_else(|_| HeaderValue::from_static("RestApiUsernameToken"));
    value.set_sensitive(true);
    value
}

impl RequestSigner<SigningKey> for XAuthSigner {
    fn header_name(&self) -> &HeaderName {
        &HEADER
    }

    /// The digest covers the nonce, the time and the key, never the request target.
    fn reads_uri(&self) -> bool {
        false
    }

    fn sign(
        &self,
        credential: &SigningKey,
        parts: &mut Parts,
        _body: Option<&[u8]>,
        ctx: &SignContext<'_>,
    ) -> Result<(), pbx_auth_core::Error> {
        let value = Self::fresh_value(credential, ctx.nonce(), ctx.now())?;
        parts.headers.insert(HEADER_NAME, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use pbx_auth_core::nonce::FixedNonce;
    use std::time::{Duration, UNIX_EPOCH};

    fn key() -> SigningKey {
        let c = Credentials::new("admin", "admin", "default").unwrap();
        SigningKey::derive(&c, "b5a8fdcf2f8d5acdad33c4a072a97d7a").unwrap()
    }

    #[test]
    fn official_vector() {
        let nonce = FixedNonce::from_hex("bfb79078ff44c35714af28b7412a702b").unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(1_461_944_906);
        let value = XAuthSigner::fresh_value(&key(), &nonce, at).unwrap();
        assert_eq!(
            value.to_str().unwrap(),
            "RestApiUsernameToken Username=\"admin\", Domain=\"default\", \
             Digest=\"+PJg7Tb3v98XnL6iJVv+v5hwhYjdzQ2tIWxvJB2cE40=\", \
             Nonce=\"bfb79078ff44c35714af28b7412a702b\", Created=\"2016-04-29T15:48:26Z\""
        );
        assert!(value.is_sensitive());
    }

    #[test]
    fn refuses_bad_nonces() {
        let at = UNIX_EPOCH;
        assert!(XAuthSigner::value_with(&key(), "nothexnonce12345", at).is_err());
        assert!(XAuthSigner::value_with(&key(), "abc", at).is_err());
        assert!(XAuthSigner::value_with(&key(), "ABCDEF01", at).is_ok());
    }
}
