//! [`Authenticator`]: the one trait transports see, [`SharedAuthenticator`] to share one,
//! and [`Cached`], the stock composition of a cache, a signer and a refusal policy.

use std::any::Any;
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
use crate::refusal::{RefusalPolicy, StaleOn401, Verdict};
use crate::signer::{RequestSigner, SignContext};
use crate::token::TokenSource;

/// What a transport should do after seeing the response to an authorized request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthAction {
    /// Hand the response to the caller.
    Done,
    /// Authorize a pristine copy of the request again and send it once more (after a
    /// refusal that invalidated the credential as stale). The exchange retries at most once.
    RetryOnce,
}

/// What authorizing one request used. The transport keeps it beside the request and hands
/// it back with the response, so a refusal is pinned on the credential that was actually
/// sent, never on a newer one that arrived meanwhile.
///
/// Making one costs no allocation: it holds a serial number, or a shared (`Arc`)
/// credential. `Debug` shows only what kind of thing was recorded.
#[derive(Clone, Default)]
pub struct Receipt(Recorded);

#[derive(Clone, Default)]
enum Recorded {
    #[default]
    Nothing,
    Serial(u64),
    Shared(Arc<dyn Any + Send + Sync>),
}

impl Receipt {
    /// A receipt recording nothing: the request was left as the caller made it, or the
    /// authenticator keeps no per-request state.
    pub fn none() -> Self {
        Self(Recorded::Nothing)
    }

    /// A receipt recording `used`.
    pub fn new<T: Any + Send + Sync>(used: Arc<T>) -> Self {
        Self(Recorded::Shared(used))
    }

    /// A receipt recording a serial number, such as [`TokenCache::with_fresh`] reports. It
    /// is the cheapest receipt: nothing shared is touched to make or drop it.
    pub fn from_serial(serial: u64) -> Self {
        Self(Recorded::Serial(serial))
    }

    /// The credential recorded with [`new`](Self::new), if it is a `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        match &self.0 {
            Recorded::Shared(used) => Arc::clone(used).downcast().ok(),
            _ => None,
        }
    }

    /// The serial number recorded with [`from_serial`](Self::from_serial).
    pub fn serial(&self) -> Option<u64> {
        match self.0 {
            Recorded::Serial(serial) => Some(serial),
            _ => None,
        }
    }

    /// Whether anything was recorded.
    pub fn is_some(&self) -> bool {
        !matches!(self.0, Recorded::Nothing)
    }
}

impl fmt::Debug for Receipt {
    // What is recorded is usually a credential: only its kind is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let recorded = match self.0 {
            Recorded::Nothing => "nothing",
            Recorded::Serial(_) => "serial",
            Recorded::Shared(_) => "credential",
        };
        f.debug_struct("Receipt")
            .field("recorded", &recorded)
            .finish()
    }
}

/// Authenticates requests: async, because getting the credential may need I/O.
///
/// The trait is object safe, so [`SharedAuthenticator`] can erase it. Only
/// [`authorize`](Self::authorize) returns a boxed future, and the exchange calls it only when
/// [`authorize_now`](Self::authorize_now) cannot answer: a warm cache allocates no future.
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// Adds authentication to a request. A request that already carries this scheme's
    /// header is left as the caller made it.
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Receipt, Error>>;

    /// Authorizes at once when that needs no waiting (typically: the credential is cached
    /// and fresh), and returns `None`, with `parts` untouched, when [`authorize`] has work
    /// to do. It must never block. The default always returns `None`.
    ///
    /// [`authorize`]: Authenticator::authorize
    fn authorize_now(
        &self,
        _parts: &mut Parts,
        _body: Option<&[u8]>,
    ) -> Option<Result<Receipt, Error>> {
        None
    }

    /// Whether authorizing reads `parts.uri`. When it is `false`, transports that would
    /// have to build a `Uri` for it (the reqwest adapters) leave `/` there instead. The
    /// default is `true`.
    fn reads_uri(&self) -> bool {
        true
    }

    /// Whether [`on_response`](Self::on_response) wants a prefix of this response's body
    /// (see [`RefusalPolicy::wants_body`]). The default is `false`.
    fn wants_body(&self, _status: StatusCode, _headers: &HeaderMap) -> bool {
        false
    }

    /// Looks at the response to a request this authenticator authorized, with the
    /// [`Receipt`] its authorization returned and, when [`wants_body`](Self::wants_body)
    /// asked for it, a prefix of the body. The default never retries.
    fn on_response(
        &self,
        _receipt: &Receipt,
        _status: StatusCode,
        _headers: &HeaderMap,
        _body: Option<&[u8]>,
    ) -> AuthAction {
        AuthAction::Done
    }
}

/// A boxed future, as [`Authenticator::authorize`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A cheaply clonable, type-erased authenticator.
#[derive(Clone)]
pub struct SharedAuthenticator(Arc<dyn Authenticator>);

impl SharedAuthenticator {
    /// Erases the type of `authenticator`.
    pub fn new(authenticator: impl Authenticator + 'static) -> Self {
        Self(Arc::new(authenticator))
    }

    /// Erases the type of an authenticator that is already shared.
    pub fn from_arc(authenticator: Arc<dyn Authenticator>) -> Self {
        Self(authenticator)
    }
}

impl fmt::Debug for SharedAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedAuthenticator").field(&self.0).finish()
    }
}

// The one forwarding impl of the crate: everything else that shares an authenticator goes
// through this type.
impl Authenticator for SharedAuthenticator {
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Receipt, Error>> {
        self.0.authorize(parts, body)
    }

    fn authorize_now(
        &self,
        parts: &mut Parts,
        body: Option<&[u8]>,
    ) -> Option<Result<Receipt, Error>> {
        self.0.authorize_now(parts, body)
    }

    fn reads_uri(&self) -> bool {
        self.0.reads_uri()
    }

    fn wants_body(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        self.0.wants_body(status, headers)
    }

    fn on_response(
        &self,
        receipt: &Receipt,
        status: StatusCode,
        headers: &HeaderMap,
        body: Option<&[u8]>,
    ) -> AuthAction {
        self.0.on_response(receipt, status, headers, body)
    }
}

/// The stock composition: a [`TokenCache`] for the credential, a [`RequestSigner`] to
/// apply it and the protocol's [`RefusalPolicy`] to read refusals (by default
/// [`StaleOn401`]).
///
/// On a [`Verdict::Stale`] it learns the server's clock from `Date`, invalidates exactly the
/// credential named in the [`Receipt`] and asks for one retry; on [`Verdict::Rejected`] it
/// invalidates it and asks for none; on [`Verdict::Forbidden`] it keeps it.
pub struct Cached<S: TokenSource, G, P = StaleOn401> {
    cache: TokenCache<S>,
    signer: G,
    policy: P,
    clock: SharedClock,
    nonce: SharedNonceSource,
}

impl<S: TokenSource, G: fmt::Debug, P: fmt::Debug> fmt::Debug for Cached<S, G, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("cache", &self.cache)
            .field("signer", &self.signer)
            .field("policy", &self.policy)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource, G: RequestSigner<S::Token>> Cached<S, G> {
    /// Combines a cache and a signer, with the system clock, OS nonces and the
    /// [`StaleOn401`] policy.
    pub fn new(cache: TokenCache<S>, signer: G) -> Self {
        Self {
            cache,
            signer,
            policy: StaleOn401,
            clock: Arc::new(SystemClock),
            nonce: Arc::new(OsNonce),
        }
    }
}

impl<S: TokenSource, G: RequestSigner<S::Token>, P: RefusalPolicy> Cached<S, G, P> {
    /// Reads refusals with `policy`, the protocol's.
    pub fn with_refusal_policy<Q: RefusalPolicy>(self, policy: Q) -> Cached<S, G, Q> {
        Cached {
            cache: self.cache,
            signer: self.signer,
            policy,
            clock: self.clock,
            nonce: self.nonce,
        }
    }

    /// The refusal policy.
    pub fn refusal_policy(&self) -> &P {
        &self.policy
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

    /// Uses an already shared nonce source.
    #[must_use]
    pub fn with_shared_nonce_source(mut self, nonce: SharedNonceSource) -> Self {
        self.nonce = nonce;
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

    /// Signs `parts` with `token`.
    fn sign(&self, token: &S::Token, parts: &mut Parts, body: Option<&[u8]>) -> Result<(), Error> {
        let ctx = SignContext::with_clock(&*self.clock, &*self.nonce);
        self.signer.sign(token, parts, body, &ctx)
    }
}

impl<S, G, P> Cached<S, G, P>
where
    S: TokenSource,
    G: RequestSigner<S::Token>,
    P: RefusalPolicy,
{
    /// Drops the credential `receipt` names, if it is still cached. `false` when the
    /// receipt names none: the caller signed the request itself, and its credential is not
    /// ours to drop.
    fn drop_credential(&self, receipt: &Receipt) -> bool {
        if let Some(serial) = receipt.serial() {
            self.cache.invalidate_serial(serial);
        } else if let Some(used) = receipt.get::<S::Token>() {
            self.cache.invalidate(&used);
        } else {
            return false;
        }
        true
    }
}

impl<S, G, P> Authenticator for Cached<S, G, P>
where
    S: TokenSource,
    G: RequestSigner<S::Token>,
    P: RefusalPolicy,
{
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Receipt, Error>> {
        Box::pin(async move {
            if let Some(done) = self.authorize_now(parts, body) {
                return done;
            }
            // A soft-stale token, served while a refresh runs, is not fresh enough for the
            // fast path: the receipt then holds the token itself.
            let token = self.cache.get().await?;
            self.sign(&token, parts, body)?;
            Ok(Receipt::new(token))
        })
    }

    fn authorize_now(
        &self,
        parts: &mut Parts,
        body: Option<&[u8]>,
    ) -> Option<Result<Receipt, Error>> {
        // An empty map (the common case) needs no lookup, whose hashing costs as much as
        // the rest of the check.
        if !parts.headers.is_empty() && parts.headers.contains_key(self.signer.header_name()) {
            // The caller signed this request itself; its credential is not ours to drop.
            return Some(Ok(Receipt::none()));
        }
        // Borrowed, and named by its serial number: no reference count is written, so
        // threads signing at once do not contend on the token.
        self.cache.with_fresh(|token, serial| {
            self.sign(token, parts, body)
                .map(|()| Receipt::from_serial(serial))
        })
    }

    fn reads_uri(&self) -> bool {
        self.signer.reads_uri()
    }

    fn wants_body(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        self.policy.wants_body(status, headers)
    }

    fn on_response(
        &self,
        receipt: &Receipt,
        status: StatusCode,
        headers: &HeaderMap,
        body: Option<&[u8]>,
    ) -> AuthAction {
        let verdict = self.policy.classify(status, headers, body);
        if verdict != Verdict::Accepted {
            // Off the warm path: only a refusal is worth an event. The serial names the
            // credential; a credential the caller supplied has none.
            tracing::debug!(
                ?verdict,
                status = status.as_u16(),
                serial = receipt.serial(),
                "request refused"
            );
        }
        if !matches!(verdict, Verdict::Stale | Verdict::Rejected) || !self.drop_credential(receipt)
        {
            return AuthAction::Done;
        }
        // A refused signature may be a matter of clocks: learn the server's.
        if let Some(server_now) = headers.get(http::header::DATE).and_then(parse_http_date) {
            self.clock.observe_server_time(server_now);
        }
        if verdict == Verdict::Stale {
            AuthAction::RetryOnce
        } else {
            AuthAction::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::Issued;
    use crate::secret::AccessToken;
    use crate::signer::HeaderToken;

    #[test]
    fn receipts_say_what_they_hold_and_show_no_more() {
        let secret = Arc::new(String::from("s3cret"));
        let shared = Receipt::new(Arc::clone(&secret));
        assert!(Arc::ptr_eq(&shared.get::<String>().unwrap(), &secret));
        assert!(shared.get::<u32>().is_none());
        assert_eq!(shared.serial(), None);
        assert!(!format!("{shared:?}").contains("s3cret"));

        let serial = Receipt::from_serial(7);
        assert_eq!(serial.serial(), Some(7));
        assert!(serial.get::<String>().is_none());
        assert!(serial.is_some());
        assert!(!Receipt::none().is_some());
    }

    /// A clock that counts how often it is read.
    #[derive(Debug, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl Clock for Counting {
        fn now(&self) -> SystemTime {
            self.0.fetch_add(1, Ordering::Relaxed);
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        }
    }

    #[derive(Debug)]
    struct Fixed;

    impl TokenSource for Fixed {
        type Token = AccessToken;
        async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
            Ok(Issued::new(
                AccessToken::new("t"),
                Some(Duration::from_secs(3600)),
            ))
        }
    }

    /// A signer that puts the time it was given in a header.
    #[derive(Debug)]
    struct Dated;

    static DATED: http::HeaderName = http::HeaderName::from_static("x-dated");

    impl RequestSigner<AccessToken> for Dated {
        fn header_name(&self) -> &http::HeaderName {
            &DATED
        }

        fn sign(
            &self,
            _: &AccessToken,
            parts: &mut Parts,
            _: Option<&[u8]>,
            ctx: &SignContext<'_>,
        ) -> Result<(), Error> {
            let secs = ctx
                .now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            let value = http::HeaderValue::from(secs.as_secs());
            parts.headers.insert(DATED.clone(), value);
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_clock_is_read_only_by_signers_that_ask_for_the_time() {
        let reads = Arc::new(AtomicUsize::new(0));
        let token = Cached::new(TokenCache::new(Fixed), HeaderToken::x_auth_token())
            .with_clock(Counting(Arc::clone(&reads)));
        let dated =
            Cached::new(TokenCache::new(Fixed), Dated).with_clock(Counting(Arc::clone(&reads)));
        for _ in 0..3 {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            token.authorize(&mut parts, None).await.unwrap();
            assert_eq!(parts.headers["x-auth-token"], "t");
        }
        assert_eq!(
            reads.load(Ordering::Relaxed),
            0,
            "a token header read the clock"
        );
        let (mut parts, ()) = http::Request::new(()).into_parts();
        dated.authorize(&mut parts, None).await.unwrap();
        assert_eq!(parts.headers["x-dated"], "1700000000");
        assert_eq!(reads.load(Ordering::Relaxed), 1);
    }
}
