//! [`Auth`]: the seed's standalone header generator, for callers who bring their own salt.

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;
use pbx_auth_core::nonce::SharedNonceSource;
use pbx_auth_core::{Password, SharedClock, SystemClock};

use crate::credentials::{Credentials, SigningKey};
use crate::error::Error;
use crate::nonce::ThreadNonce;
use crate::signer::XAuthSigner;

/// Generates `X-authenticate` values from a username, password, domain and salt, like the
/// seed's `Auth(user, password, domain, salt)`.
///
/// Every call to [`xauth`](Self::xauth) (and every `Display`) builds a new header with a
/// fresh nonce and `Created`; nothing is remembered between calls, so printing an `Auth`
/// never freezes the next header (the seed's bug 6) and threads can share one freely (bug
/// 7). `Display` and `Debug` never show the password or the derived `digestPassword`.
#[derive(Clone)]
pub struct Auth {
    credentials: Credentials,
    key: Option<SigningKey>,
    clock: SharedClock,
    nonce: SharedNonceSource,
}

impl Auth {
    /// An `Auth` with an optional salt (set it later with [`set_salt`](Self::set_salt)).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] for unusable values or salt.
    pub fn new(
        username: impl Into<String>,
        password: impl Into<Password>,
        domain: impl Into<String>,
        salt: Option<&str>,
    ) -> Result<Self, Error> {
        let credentials = Credentials::new(username, password, domain)?;
        let key = salt
            .map(|s| SigningKey::derive(&credentials, s))
            .transpose()?;
        Ok(Self {
            credentials,
            key,
            clock: Arc::new(SystemClock::default()),
            nonce: Arc::new(ThreadNonce::default()),
        })
    }

    /// Sets (or replaces) the salt; the key is derived once here, not per header.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] for an empty salt or one with braces.
    pub fn set_salt(&mut self, salt: &str) -> Result<(), Error> {
        self.key = Some(SigningKey::derive(&self.credentials, salt)?);
        Ok(())
    }

    /// Uses `clock` for `Created` (tests pin it with a `FixedClock`).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `nonce` for nonces (tests pin it with a `FixedNonce`).
    #[must_use]
    pub fn with_nonce_source(mut self, nonce: SharedNonceSource) -> Self {
        self.nonce = nonce;
        self
    }

    /// The derived key, once a salt is set.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.key.as_ref()
    }

    fn key(&self) -> Result<&SigningKey, Error> {
        self.key
            .as_ref()
            .ok_or(Error::InvalidCredentials("the salt is not set"))
    }

    /// A fresh header value (new nonce, `Created` = now).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] without a salt, [`Error::Signing`] when the clock is
    /// outside the years 0000 to 9999.
    pub fn xauth(&self) -> Result<HeaderValue, Error> {
        XAuthSigner::fresh_value(self.key()?, &*self.nonce, self.clock.now())
    }

    /// A header value with a pinned nonce and `Created` (as text), for vectors and interop
    /// checks.
    ///
    /// # Errors
    ///
    /// As for [`xauth`](Self::xauth), and [`Error::Signing`] for a nonce that is not 8 to
    /// 128 hex characters or a `created` that is not `YYYY-MM-DDThh:mm:ssZ`.
    pub fn xauth_with(&self, nonce: &str, created: &str) -> Result<HeaderValue, Error> {
        XAuthSigner::value_with_created_text(self.key()?, nonce, created)
    }

    /// `X-authenticate: <fresh value>`, the line the seed prints for `print(auth)`.
    ///
    /// # Errors
    ///
    /// As for [`xauth`](Self::xauth).
    pub fn header_line(&self) -> Result<String, Error> {
        let value = self.xauth()?;
        Ok(format!(
            "X-authenticate: {}",
            String::from_utf8_lossy(value.as_bytes())
        ))
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.header_line() {
            Ok(line) => f.write_str(&line),
            Err(e) => write!(f, "X-authenticate: (unavailable: {e})"),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("credentials", &self.credentials)
            .field("has_salt", &self.key.is_some())
            .finish_non_exhaustive()
    }
}
