//! [`Authenticator`]: the one trait transports see, its object-safe twin, and [`Cached`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderMap, StatusCode};

use crate::cache::TokenCache;
use crate::clock::{Clock, SharedClock, SystemClock, parse_http_date};
use crate::error::Error;
use crate::nonce::{NonceSource, OsNonce, SharedNonceSource};
use crate::signer::{RequestSigner, SignContext};
use crate::token::TokenSource;

/// What a transport should do after seeing the response to an authorized request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthAction {
    /// Hand the response to the caller.
    Done,
    /// Authorize a pristine copy of the request again and send it once more (after a 401
    /// that invalidated the credential). Transports retry at most once.
    RetryOnce,
}

/// Authenticates requests: async, because getting the credential may need I/O.
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// Adds authentication to a request. A request that already carries this scheme's
    /// header is left as the caller made it.
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;

    /// Looks at the response to a request this authenticator authorized (`request` is that
    /// request's head as authorized). The default never retries.
    fn on_response(
        &self,
        _request: &Parts,
        _status: StatusCode,
        _headers: &HeaderMap,
    ) -> AuthAction {
        AuthAction::Done
    }
}

impl<A: Authenticator + ?Sized> Authenticator for Arc<A> {
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a {
        (**self).authorize(parts, body)
    }

    fn on_response(&self, request: &Parts, status: StatusCode, headers: &HeaderMap) -> AuthAction {
        (**self).on_response(request, status, headers)
    }
}

/// A boxed future, as the object-safe twin returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[allow(unnameable_types)] // the sealed-trait pattern: nameable by nobody on purpose
mod private {
    pub trait Sealed {}
}

/// The object-safe twin of [`Authenticator`], implemented for every authenticator. Use it
/// through [`SharedAuthenticator`].
pub trait DynAuthenticator: private::Sealed + Send + Sync + fmt::Debug {
    /// [`Authenticator::authorize`], boxed.
    fn authorize_dyn<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// [`Authenticator::on_response`].
    fn on_response_dyn(
        &self,
        request: &Parts,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> AuthAction;
}

impl<T: Authenticator> private::Sealed for T {}

impl<T: Authenticator> DynAuthenticator for T {
    fn authorize_dyn<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.authorize(parts, body))
    }

    fn on_response_dyn(
        &self,
        request: &Parts,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> AuthAction {
        self.on_response(request, status, headers)
    }
}

/// A cheaply clonable, type-erased authenticator.
#[derive(Clone)]
pub struct SharedAuthenticator(Arc<dyn DynAuthenticator>);

impl SharedAuthenticator {
    /// Erases the type of `authenticator`.
    pub fn new(authenticator: impl Authenticator + 'static) -> Self {
        Self(Arc::new(authenticator))
    }
}

impl fmt::Debug for SharedAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedAuthenticator").field(&self.0).finish()
    }
}

impl Authenticator for SharedAuthenticator {
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a {
        self.0.authorize_dyn(parts, body)
    }

    fn on_response(&self, request: &Parts, status: StatusCode, headers: &HeaderMap) -> AuthAction {
        self.0.on_response_dyn(request, status, headers)
    }
}

/// Records, in the request's extensions, which credential authorized it, so a 401 can
/// invalidate exactly that one.
struct UsedCredential<T>(Arc<T>);

impl<T> Clone for UsedCredential<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

/// The stock composition: a [`TokenCache`] for the credential and a [`RequestSigner`] to
/// apply it. On a 401 it learns the server's clock from `Date`, invalidates the credential
/// that was used and asks for one retry.
pub struct Cached<S: TokenSource, G> {
    cache: TokenCache<S>,
    signer: G,
    clock: SharedClock,
    nonce: SharedNonceSource,
}

impl<S: TokenSource, G: fmt::Debug> fmt::Debug for Cached<S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("cache", &self.cache)
            .field("signer", &self.signer)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource, G: RequestSigner<S::Token>> Cached<S, G> {
    /// Combines a cache and a signer, with the system clock and OS nonces.
    pub fn new(cache: TokenCache<S>, signer: G) -> Self {
        Self {
            cache,
            signer,
            clock: Arc::new(SystemClock),
            nonce: Arc::new(OsNonce),
        }
    }

    /// Uses `clock` for signing times (a skew-adjusted clock learns from 401 replies).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Uses an already shared clock.
    #[must_use]
    pub fn with_shared_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `nonce` for nonces.
    #[must_use]
    pub fn with_nonce_source(mut self, nonce: impl NonceSource + 'static) -> Self {
        self.nonce = Arc::new(nonce);
        self
    }

    /// The cache, for `force_refresh`, `revoke` or seeding.
    pub fn cache(&self) -> &TokenCache<S> {
        &self.cache
    }

    /// The signer.
    pub fn signer(&self) -> &G {
        &self.signer
    }

    /// The clock used for signing.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
}

impl<S: TokenSource, G: RequestSigner<S::Token>> Authenticator for Cached<S, G> {
    async fn authorize(&self, parts: &mut Parts, body: Option<&[u8]>) -> Result<(), Error> {
        if parts.headers.contains_key(self.signer.header_name()) {
            return Ok(());
        }
        let token = self.cache.get().await?;
        let ctx = SignContext::new(self.clock.now(), &*self.nonce);
        self.signer.sign(&token, parts, body, &ctx)?;
        parts.extensions.insert(UsedCredential(token));
        Ok(())
    }

    fn on_response(&self, request: &Parts, status: StatusCode, headers: &HeaderMap) -> AuthAction {
        if status != StatusCode::UNAUTHORIZED {
            return AuthAction::Done;
        }
        let Some(used) = request.extensions.get::<UsedCredential<S::Token>>() else {
            // The caller signed this request itself; its credential is not ours to drop.
            return AuthAction::Done;
        };
        if let Some(server_now) = headers.get(http::header::DATE).and_then(parse_http_date) {
            self.clock.observe_server_time(server_now);
        }
        self.cache.invalidate(&used.0);
        AuthAction::RetryOnce
    }
}
