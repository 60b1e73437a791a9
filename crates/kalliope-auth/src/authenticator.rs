//! [`KalliopeAuthenticator`]: the salt cache and the signer behind the core
//! [`Authenticator`] trait, for the reqwest-middleware and tower adapters.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderMap, StatusCode};
use pbx_auth_core::nonce::SharedNonceSource;
use pbx_auth_core::{
    AuthAction, Authenticator, Cached, NonceSource, Receipt, SharedClock, SkewAdjustedClock,
    TokenCache,
};
use url::Url;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::nonce::ThreadNonce;
use crate::salt::SaltSource;
use crate::signer::XAuthSigner;

/// Lets an already shared nonce source be handed to `Cached`, which takes one by value.
#[derive(Debug, Clone)]
pub(crate) struct SharedNonce(pub(crate) SharedNonceSource);

impl NonceSource for SharedNonce {
    fn fill(&self, buf: &mut [u8]) {
        self.0.fill(buf);
    }
}

/// Signs every request with a fresh `X-authenticate` header.
///
/// The salt is fetched once (one fetch even for many concurrent first requests) and the
/// key derived from it is cached. When the server refuses a header (401, and 403 unless
/// turned off) it learns the server's clock from `Date`, drops the key so the salt is
/// fetched again, and asks the transport to retry once with a new header.
pub struct KalliopeAuthenticator {
    inner: Cached<SaltSource, XAuthSigner>,
    retry_on_403: bool,
}

impl fmt::Debug for KalliopeAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KalliopeAuthenticator")
            .field("inner", &self.inner)
            .field("retry_on_403", &self.retry_on_403)
            .finish()
    }
}

impl KalliopeAuthenticator {
    /// An authenticator for the PBX at `base`, fetching the salt of the credentials'
    /// domain with `client`, using the system clock (corrected by the server's `Date` after
    /// a refusal) and the per-thread CSPRNG ([`ThreadNonce`](crate::ThreadNonce)) for nonces.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `base` cannot have a path.
    pub fn new(
        client: reqwest::Client,
        base: &Url,
        credentials: Credentials,
    ) -> Result<Self, Error> {
        let scope = credentials.domain().to_owned();
        Self::with_options(
            client,
            base,
            &scope,
            credentials,
            Arc::new(SkewAdjustedClock::default()),
            Arc::new(ThreadNonce::default()),
        )
    }

    /// Full control: the salt scope (for pbxadmin, [`PBX_ADMIN_SCOPE`](crate::PBX_ADMIN_SCOPE)),
    /// the clock and the nonce source.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `base` cannot have a path.
    pub fn with_options(
        client: reqwest::Client,
        base: &Url,
        salt_scope: &str,
        credentials: Credentials,
        clock: SharedClock,
        nonce: SharedNonceSource,
    ) -> Result<Self, Error> {
        let source = SaltSource::new(client, base, salt_scope, credentials)?;
        let inner = Cached::new(TokenCache::new(source), XAuthSigner)
            .with_shared_clock(clock)
            .with_nonce_source(SharedNonce(nonce));
        Ok(Self {
            inner,
            retry_on_403: true,
        })
    }

    /// Whether a 403 counts as a refused header (default true: the PBX's status for a
    /// failed authentication is undocumented, and its likely ancestor answers 403).
    #[must_use]
    pub fn retry_on_403(mut self, yes: bool) -> Self {
        self.retry_on_403 = yes;
        self
    }

    /// Whether `status` means the server refused the header.
    pub fn is_refusal(&self, status: StatusCode) -> bool {
        status == StatusCode::UNAUTHORIZED || (self.retry_on_403 && status == StatusCode::FORBIDDEN)
    }

    /// Fetches the salt now if it is not cached yet (a `login` that reports errors early).
    ///
    /// # Errors
    ///
    /// The salt fetch's error.
    pub async fn prefetch(&self) -> Result<(), Error> {
        self.inner
            .cache()
            .get()
            .await
            .map(drop)
            .map_err(Error::from_core)
    }

    /// The salt source.
    pub fn salt_source(&self) -> &SaltSource {
        self.inner.cache().source()
    }

    /// The clock used for `Created`.
    pub fn clock(&self) -> &SharedClock {
        self.inner.clock()
    }
}

impl Authenticator for KalliopeAuthenticator {
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> impl Future<Output = Result<Receipt, pbx_auth_core::Error>> + Send + 'a {
        self.inner.authorize(parts, body)
    }

    fn authorize_now(
        &self,
        parts: &mut Parts,
        body: Option<&[u8]>,
    ) -> Option<Result<Receipt, pbx_auth_core::Error>> {
        self.inner.authorize_now(parts, body)
    }

    fn reads_uri(&self) -> bool {
        self.inner.reads_uri()
    }

    fn on_response(
        &self,
        receipt: &Receipt,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> AuthAction {
        if !self.is_refusal(status) {
            return AuthAction::Done;
        }
        // The core treats only 401 as a refusal; a 403 we count as one is passed on as such.
        self.inner
            .on_response(receipt, StatusCode::UNAUTHORIZED, headers)
    }
}
