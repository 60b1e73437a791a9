//! Applying a credential to one request: the pure, synchronous [`RequestSigner`].

use std::fmt::Debug;
use std::time::SystemTime;

use http::HeaderName;
use http::HeaderValue;
use http::request::Parts;

use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::nonce::NonceSource;
use crate::secret::AccessToken;

/// What a signer may use besides the credential: the (skew-corrected) time and nonces.
///
/// The time is read only when a signer asks for it ([`now`](Self::now)): token headers never
/// do, and reading the clock is a system call's worth of work on every request.
#[derive(Debug, Clone, Copy)]
pub struct SignContext<'a> {
    time: Time<'a>,
    nonce: &'a dyn NonceSource,
}

/// Where [`SignContext::now`] comes from.
#[derive(Debug, Clone, Copy)]
enum Time<'a> {
    At(SystemTime),
    Clock(&'a dyn Clock),
}

impl<'a> SignContext<'a> {
    /// A context at the fixed time `now` drawing nonces from `nonce` (tests, vectors).
    pub fn new(now: SystemTime, nonce: &'a dyn NonceSource) -> Self {
        Self {
            time: Time::At(now),
            nonce,
        }
    }

    /// A context that reads `clock` when a signer asks for the time.
    pub fn with_clock(clock: &'a dyn Clock, nonce: &'a dyn NonceSource) -> Self {
        Self {
            time: Time::Clock(clock),
            nonce,
        }
    }

    /// The current time as the server sees it.
    pub fn now(&self) -> SystemTime {
        match self.time {
            Time::At(now) => now,
            Time::Clock(clock) => clock.now(),
        }
    }

    /// Where fresh nonces come from.
    pub fn nonce(&self) -> &'a dyn NonceSource {
        self.nonce
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
#[derive(Debug, Clone)]
pub struct HeaderToken {
    name: HeaderName,
    prefix: &'static str,
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
        Self { name, prefix }
    }

    /// The header value for `token`, marked sensitive.
    ///
    /// # Errors
    ///
    /// Returns a [`ErrorKind::Signing`] error when the token has bytes a header cannot hold.
    pub fn value_for(&self, token: &str) -> Result<HeaderValue, Error> {
        // Built fresh for every request on purpose: a value kept and cloned would share one
        // reference count among all threads, and that contention cost more than this copy.
        let mut bytes = Vec::with_capacity(self.prefix.len() + token.len());
        bytes.extend_from_slice(self.prefix.as_bytes());
        bytes.extend_from_slice(token.as_bytes());
        let mut value = HeaderValue::try_from(bytes).map_err(|_| {
            Error::new(
                ErrorKind::Signing,
                "the token contains characters not allowed in a header",
            )
        })?;
        value.set_sensitive(true);
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
        let value = self.value_for(credential.as_ref().expose_secret())?;
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
