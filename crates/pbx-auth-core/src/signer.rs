//! Applying a credential to one request: the pure, synchronous [`RequestSigner`].

use std::fmt::{self, Debug};
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;

use http::HeaderName;
use http::HeaderValue;
use http::request::Parts;

use crate::error::{Error, ErrorKind};
use crate::nonce::NonceSource;
use crate::secret::AccessToken;

/// What a signer may use besides the credential: the (skew-corrected) time and nonces.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SignContext<'a> {
    /// The current time as the server sees it.
    pub now: SystemTime,
    /// Where fresh nonces come from.
    pub nonce: &'a dyn NonceSource,
}

impl<'a> SignContext<'a> {
    /// A context at `now` drawing nonces from `nonce`.
    pub fn new(now: SystemTime, nonce: &'a dyn NonceSource) -> Self {
        Self { now, nonce }
    }
}

/// Writes the authentication of one request from a credential. Pure and synchronous: no
/// I/O, time and randomness only from the context, so it is deterministic under test.
pub trait RequestSigner<T: ?Sized>: Send + Sync + Debug {
    /// The header this signer writes. A request that already carries it is left alone.
    fn header_name(&self) -> &HeaderName;

    /// Whether [`sign`](Self::sign) reads the request's URI. Transports that must build a
    /// `Uri` just for the signer (reqwest keeps a `Url`, so its adapters parse one per
    /// request) skip that when this is `false` and hand over `/` instead. The default is
    /// `true`; schemes that sign only a credential, a time and a nonce say `false`.
    fn reads_uri(&self) -> bool {
        true
    }

    /// Signs `parts` (and `body`, for schemes that cover it) with `credential`.
    ///
    /// # Errors
    ///
    /// Returns an error when the credential cannot be encoded into the request.
    fn sign(
        &self,
        credential: &T,
        parts: &mut Parts,
        body: Option<&[u8]>,
        ctx: &SignContext<'_>,
    ) -> Result<(), Error>;
}

/// Puts a token in a header, optionally behind a prefix: `Authorization: Bearer <t>` or
/// `X-Auth-Token: <t>`. The header is marked sensitive.
pub struct HeaderToken {
    name: HeaderName,
    prefix: &'static str,
    /// The value built for the token seen last. A cached token is signed on every request,
    /// and building its value anew each time (an allocation and a copy) was most of this
    /// signer's cost; a clone of the kept value shares its bytes.
    last: ArcSwapOption<HeaderValue>,
}

impl Clone for HeaderToken {
    fn clone(&self) -> Self {
        Self::custom(self.name.clone(), self.prefix)
    }
}

impl Debug for HeaderToken {
    // The kept value holds a token: it is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderToken")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl HeaderToken {
    /// `Authorization: Bearer <token>`.
    pub fn bearer() -> Self {
        Self::custom(http::header::AUTHORIZATION, "Bearer ")
    }

    /// `X-Auth-Token: <token>`, as wazo-auth expects.
    pub fn x_auth_token() -> Self {
        Self::custom(HeaderName::from_static("x-auth-token"), "")
    }

    /// Any header and prefix.
    pub fn custom(name: HeaderName, prefix: &'static str) -> Self {
        Self {
            name,
            prefix,
            last: ArcSwapOption::empty(),
        }
    }

    /// The header value for `token`, marked sensitive.
    ///
    /// # Errors
    ///
    /// Returns a [`ErrorKind::Signing`] error when the token has bytes a header cannot hold.
    pub fn value_for(&self, token: &str) -> Result<HeaderValue, Error> {
        let mut value = HeaderValue::try_from(format!("{}{token}", self.prefix)).map_err(|_| {
            Error::new(
                ErrorKind::Signing,
                "the token contains characters not allowed in a header",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// [`value_for`](Self::value_for), reusing the value built last time when `token` is
    /// the same. The check compares the bytes, not the address, so a new token that happens
    /// to live where an old one did is never mistaken for it.
    fn cached_value_for(&self, token: &str) -> Result<HeaderValue, Error> {
        if let Some(last) = &*self.last.load() {
            let bytes = last.as_bytes();
            if bytes.strip_prefix(self.prefix.as_bytes()) == Some(token.as_bytes()) {
                return Ok(HeaderValue::clone(last));
            }
        }
        let value = self.value_for(token)?;
        self.last.store(Some(Arc::new(value.clone())));
        Ok(value)
    }
}

impl<T: AsRef<AccessToken> + ?Sized> RequestSigner<T> for HeaderToken {
    fn header_name(&self) -> &HeaderName {
        &self.name
    }

    fn reads_uri(&self) -> bool {
        false
    }

    fn sign(
        &self,
        credential: &T,
        parts: &mut Parts,
        _body: Option<&[u8]>,
        _ctx: &SignContext<'_>,
    ) -> Result<(), Error> {
        let value = self.cached_value_for(credential.as_ref().expose_secret())?;
        parts.headers.insert(self.name.clone(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nonce::OsNonce;

    #[test]
    fn bearer_header_is_sensitive() {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let ctx = SignContext::new(SystemTime::now(), &OsNonce);
        HeaderToken::bearer()
            .sign(&AccessToken::new("abc"), &mut parts, None, &ctx)
            .unwrap();
        let value = &parts.headers[http::header::AUTHORIZATION];
        assert_eq!(value, "Bearer abc");
        assert!(value.is_sensitive());
    }

    #[test]
    fn a_new_token_gets_a_new_value() {
        let signer = HeaderToken::bearer();
        let ctx = SignContext::new(SystemTime::now(), &OsNonce);
        for token in ["abc", "abc", "abd", "ab", "abc"] {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            signer
                .sign(&AccessToken::new(token), &mut parts, None, &ctx)
                .unwrap();
            let value = &parts.headers[http::header::AUTHORIZATION];
            assert_eq!(value, format!("Bearer {token}").as_str());
            assert!(value.is_sensitive());
        }
    }

    #[test]
    fn debug_leaves_the_kept_value_out() {
        let signer = HeaderToken::x_auth_token();
        let ctx = SignContext::new(SystemTime::now(), &OsNonce);
        let (mut parts, ()) = http::Request::new(()).into_parts();
        signer
            .sign(&AccessToken::new("s3cret-token"), &mut parts, None, &ctx)
            .unwrap();
        assert!(!format!("{signer:?}").contains("s3cret"));
    }

    #[test]
    fn bad_token_is_an_error_not_a_panic() {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let ctx = SignContext::new(SystemTime::now(), &OsNonce);
        let err = HeaderToken::x_auth_token()
            .sign(&AccessToken::new("a\nb"), &mut parts, None, &ctx)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Signing);
        assert!(!err.to_string().contains("a\nb"));
    }
}
