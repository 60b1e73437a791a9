//! [`TokenCache`]: refresh-ahead, single-flight caching in front of a [`TokenSource`].
//!
//! The rules, in the order `get()` applies them:
//! 1. A fresh token (before its refresh point) is returned from a short read lock.
//! 2. A soft-stale token (past the refresh point, not expired) is still returned; the one
//!    caller that wins a `try_lock` refreshes, and if that fails the old token keeps being
//!    served. Nobody waits.
//! 3. With no valid token, callers queue on the refresh lock. The first fetches; the rest
//!    re-check and take its token, or its error. An error is kept for the backoff window so
//!    a failing server is not hammered.
//!
//! Refreshes run in a spawned task when a tokio runtime is present, and the task holds the
//! refresh lock. A caller dropping its future therefore cannot abandon a refresh halfway,
//! which matters for servers that rotate refresh tokens.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use crate::token::{Issued, TokenSource};

/// When to refresh and how to behave after a failure.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Refresh once this fraction of the lifetime has passed (default 0.75).
    pub refresh_fraction: f64,
    /// Refresh at least this long before expiry (default 60 s), but never before half of
    /// the lifetime has passed, so short-lived tokens are not refreshed on every call.
    pub min_remaining: Duration,
    /// Move the refresh point earlier by up to this fraction of the margin, at random, so
    /// many clients do not refresh in lockstep (default 0.2).
    pub jitter: f64,
    /// How long a failed fetch is remembered and returned without asking again (default 5 s).
    pub failure_backoff: Duration,
    /// Lifetime assumed for tokens that come without one; `None` treats them as eternal.
    pub default_lifetime: Option<Duration>,
    /// Run fetches in a spawned task so a dropped caller cannot cancel them (default true;
    /// only effective inside a tokio runtime).
    pub detached: bool,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_fraction: 0.75,
            min_remaining: Duration::from_secs(60),
            jitter: 0.2,
            failure_backoff: Duration::from_secs(5),
            default_lifetime: None,
            detached: true,
        }
    }
}

impl RefreshPolicy {
    /// Sets [`refresh_fraction`](Self::refresh_fraction), clamped to `0.0..=1.0`.
    #[must_use]
    pub fn with_refresh_fraction(mut self, fraction: f64) -> Self {
        self.refresh_fraction = fraction.clamp(0.0, 1.0);
        self
    }

    /// Sets [`min_remaining`](Self::min_remaining).
    #[must_use]
    pub fn with_min_remaining(mut self, margin: Duration) -> Self {
        self.min_remaining = margin;
        self
    }

    /// Sets [`jitter`](Self::jitter), clamped to `0.0..=0.5`.
    #[must_use]
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 0.5);
        self
    }

    /// Sets [`failure_backoff`](Self::failure_backoff).
    #[must_use]
    pub fn with_failure_backoff(mut self, backoff: Duration) -> Self {
        self.failure_backoff = backoff;
        self
    }

    /// Sets [`default_lifetime`](Self::default_lifetime).
    #[must_use]
    pub fn with_default_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Sets [`detached`](Self::detached).
    #[must_use]
    pub fn with_detached(mut self, detached: bool) -> Self {
        self.detached = detached;
        self
    }

    /// The instant after which a token received at `received_at` and living `lifetime`
    /// should be refreshed (the cache and the renewer both ask this).
    pub(crate) fn refresh_point(&self, received_at: Instant, lifetime: Duration) -> Instant {
        let lifetime = lifetime.min(MAX_LIFETIME);
        let fraction_margin = lifetime.mul_f64(1.0 - self.refresh_fraction);
        let margin = fraction_margin.max(self.min_remaining).min(lifetime / 2);
        let jitter = margin.mul_f64(self.jitter * unit_random());
        let early = (margin + jitter).min(lifetime);
        received_at + (lifetime - early)
    }
}

/// The longest lifetime the cache reckons with. A source may report any `Duration` (a
/// corrupted file, a server answering `expires_in` in the billions); adding that to an
/// `Instant` would overflow and panic, and a century is "never expires" for a process.
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A uniformly distributed value in `[0, 1)`, from the OS generator.
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.0;
    }
    // 53 random bits fill an f64 mantissa exactly.
    #[allow(clippy::cast_precision_loss)]
    let value = (u64::from_le_bytes(bytes) >> 11) as f64;
    value / (1u64 << 53) as f64
}

/// The serial number of the last token any cache published. Shared by all caches, so a
/// receipt handed to the wrong authenticator names no token there.
static SERIALS: AtomicU64 = AtomicU64::new(0);

struct Entry<T> {
    token: Arc<T>,
    /// Unique among the tokens this cache published: a cheap, copyable name for this one.
    serial: u64,
    expires_at: Option<Instant>,
    refresh_at: Option<Instant>,
}

impl<T> Entry<T> {
    fn is_fresh(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }

    fn is_valid(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

struct Failure {
    error: Error,
    at: Instant,
}

struct Inner<S: TokenSource> {
    source: S,
    policy: RefreshPolicy,
    /// The current token. Readers never take a lock, so a warm cache scales with cores.
    entry: ArcSwapOption<Entry<S::Token>>,
    /// The last failure, touched only off the fast path.
    failure: StdMutex<Option<Failure>>,
    refresh: Arc<Mutex<()>>,
}

impl<S: TokenSource> Inner<S> {
    fn failure(&self) -> MutexGuard<'_, Option<Failure>> {
        // Every write is a single assignment, so a poisoned lock holds no half-written state.
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn recent_failure(&self, now: Instant) -> Option<Error> {
        self.failure()
            .as_ref()
            .filter(|f| now.saturating_duration_since(f.at) < self.policy.failure_backoff)
            .map(|f| f.error.clone())
    }

    fn publish(&self, issued: Issued<S::Token>) -> Arc<S::Token> {
        let lifetime = issued
            .lifetime
            .or(self.policy.default_lifetime)
            .map(|l| l.min(MAX_LIFETIME));
        let token = Arc::new(issued.token);
        let serial = SERIALS.fetch_add(1, Ordering::Relaxed) + 1;
        // The serial and lifetime only: the token itself never reaches a log.
        tracing::debug!(
            serial,
            lifetime_secs = lifetime.map(|l| l.as_secs()),
            "credential cached"
        );
        let entry = Entry {
            token: Arc::clone(&token),
            serial,
            expires_at: lifetime.map(|l| issued.received_at + l),
            refresh_at: lifetime.map(|l| self.policy.refresh_point(issued.received_at, l)),
        };
        self.entry.store(Some(Arc::new(entry)));
        *self.failure() = None;
        token
    }

    fn record_failure(&self, error: &Error) {
        *self.failure() = Some(Failure {
            error: error.clone(),
            at: Instant::now(),
        });
    }
}

/// A cache in front of a [`TokenSource`]: refresh ahead of expiry, one fetch at a time.
///
/// Cloning gives another handle to the same cache.
pub struct TokenCache<S: TokenSource> {
    inner: Arc<Inner<S>>,
}

impl<S: TokenSource> Clone for TokenCache<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: TokenSource> fmt::Debug for TokenCache<S> {
    // Never prints the token, only whether one is held.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.inner.source)
            .field("policy", &self.inner.policy)
            .field("has_token", &self.inner.entry.load().is_some())
            .field(
                "last_failure",
                &self.inner.failure().as_ref().map(|f| f.error.kind()),
            )
            .finish()
    }
}

impl<S: TokenSource> TokenCache<S> {
    /// A cache with the default [`RefreshPolicy`].
    pub fn new(source: S) -> Self {
        Self::with_policy(source, RefreshPolicy::default())
    }

    /// A cache with an explicit policy.
    pub fn with_policy(source: S, policy: RefreshPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                source,
                policy,
                entry: ArcSwapOption::empty(),
                failure: StdMutex::new(None),
                refresh: Arc::new(Mutex::new(())),
            }),
        }
    }

    /// The token source.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// The refresh policy.
    pub fn policy(&self) -> &RefreshPolicy {
        &self.inner.policy
    }

    /// A valid token, fetching or refreshing as needed.
    ///
    /// # Errors
    ///
    /// Returns the source's error when there is no valid token and fetching fails; the same
    /// error is returned to every caller within the failure backoff.
    pub async fn get(&self) -> Result<Arc<S::Token>, Error> {
        let now = Instant::now();
        let current = {
            let guard = self.inner.entry.load();
            match &*guard {
                Some(entry) if entry.is_fresh(now) => return Ok(Arc::clone(&entry.token)),
                Some(entry) if entry.is_valid(now) => {
                    if self.inner.recent_failure(now).is_some() {
                        return Ok(Arc::clone(&entry.token));
                    }
                    Some((Arc::clone(entry), true))
                }
                Some(entry) => Some((Arc::clone(entry), false)),
                None => None,
            }
        };
        match current {
            Some((entry, true)) => Ok(self.refresh_soft(entry).await),
            Some((entry, false)) => {
                self.refresh_hard(Some(Arc::clone(&entry.token)), Some(entry.serial))
                    .await
            }
            None => self.refresh_hard(None, None).await,
        }
    }

    /// Runs `f` with the fresh token and its serial number (see
    /// [`invalidate_serial`](Self::invalidate_serial)), or returns `None` when `get()` has
    /// work to do. The token is borrowed, not cloned: its reference count, which every
    /// thread would otherwise write on every request, is left alone. Keep `f` short.
    pub fn with_fresh<R>(&self, f: impl FnOnce(&S::Token, u64) -> R) -> Option<R> {
        let guard = self.inner.entry.load();
        let entry = guard.as_ref().filter(|e| e.is_fresh(Instant::now()))?;
        Some(f(&entry.token, entry.serial))
    }

    /// The cached token if it is still valid, without fetching.
    pub fn cached(&self) -> Option<Arc<S::Token>> {
        let now = Instant::now();
        self.inner
            .entry
            .load()
            .as_ref()
            .filter(|e| e.is_valid(now))
            .map(|e| Arc::clone(&e.token))
    }

    /// Stale-while-revalidate: whoever wins the lock refreshes, everyone keeps the old token.
    async fn refresh_soft(&self, entry: Arc<Entry<S::Token>>) -> Arc<S::Token> {
        let Ok(guard) = Arc::clone(&self.inner.refresh).try_lock_owned() else {
            return Arc::clone(&entry.token);
        };
        // Someone may have refreshed between our read and the lock.
        if let Some(current) = self.current_if(|e| e.is_fresh(Instant::now())) {
            return current;
        }
        let previous = Some(Arc::clone(&entry.token));
        match self
            .run_fetch(
                guard,
                previous,
                "refresh ahead of expiry",
                Some(entry.serial),
            )
            .await
        {
            Ok(token) => token,
            // The failure is recorded for the backoff; the old token is still valid.
            Err(error) => {
                tracing::warn!(
                    serial = entry.serial,
                    %error,
                    "credential refresh failed; serving the cached credential until it expires"
                );
                Arc::clone(&entry.token)
            }
        }
    }

    /// No valid token: queue on the lock, re-check, then fetch.
    async fn refresh_hard(
        &self,
        previous: Option<Arc<S::Token>>,
        replaces: Option<u64>,
    ) -> Result<Arc<S::Token>, Error> {
        if let Some(error) = self.inner.recent_failure(Instant::now()) {
            return Err(error);
        }
        let guard = Arc::clone(&self.inner.refresh).lock_owned().await;
        // Whoever held the lock before us may have fetched a token, or failed to.
        let now = Instant::now();
        if let Some(token) = self.current_if(|e| e.is_valid(now)) {
            return Ok(token);
        }
        if let Some(error) = self.inner.recent_failure(now) {
            return Err(error);
        }
        let why = if replaces.is_some() {
            "cached credential expired"
        } else {
            "no cached credential"
        };
        self.run_fetch(guard, previous, why, replaces).await
    }

    fn current_if(&self, keep: impl Fn(&Entry<S::Token>) -> bool) -> Option<Arc<S::Token>> {
        self.inner
            .entry
            .load()
            .as_ref()
            .filter(|e| keep(e))
            .map(|e| Arc::clone(&e.token))
    }

    /// Fetches while holding `guard`, publishing the result. Runs in a spawned task when
    /// possible so the fetch finishes even if this caller goes away.
    async fn run_fetch(
        &self,
        guard: OwnedMutexGuard<()>,
        previous: Option<Arc<S::Token>>,
        why: &'static str,
        replaces: Option<u64>,
    ) -> Result<Arc<S::Token>, Error> {
        let inner = Arc::clone(&self.inner);
        tracing::debug!(why, replaces, "fetching a credential");
        let task = async move {
            let _guard = guard;
            match inner.source.fetch(previous.as_deref()).await {
                Ok(issued) => Ok(inner.publish(issued)),
                Err(error) => {
                    tracing::warn!(why, replaces, kind = ?error.kind(), %error, "credential fetch failed");
                    inner.record_failure(&error);
                    Err(error)
                }
            }
        };
        let handle = self
            .inner
            .policy
            .detached
            .then(tokio::runtime::Handle::try_current)
            .and_then(Result::ok);
        match handle {
            Some(handle) => match handle.spawn(task).await {
                Ok(result) => result,
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(_) => Err(Error::new(
                    ErrorKind::Transport,
                    "the token refresh was cancelled because the runtime is shutting down",
                )),
            },
            None => task.await,
        }
    }

    /// Drops the cached token, but only if it is still `seen` (the token the caller used).
    /// A late 401 for an old token therefore cannot throw away a newer one.
    pub fn invalidate(&self, seen: &Arc<S::Token>) {
        // Compare-and-swap, so a token published between our look and our store survives.
        let current = self.inner.entry.load_full();
        if current
            .as_ref()
            .is_some_and(|e| Arc::ptr_eq(&e.token, seen))
        {
            let previous = self.inner.entry.compare_and_swap(&current, None);
            if previous
                .as_ref()
                .zip(current.as_ref())
                .is_some_and(|(p, c)| Arc::ptr_eq(p, c))
            {
                tracing::debug!(
                    serial = current.as_ref().map(|e| e.serial),
                    "cached credential invalidated"
                );
                *self.inner.failure() = None;
            }
        }
    }

    /// [`invalidate`](Self::invalidate) by serial number: drops the cached token only if it
    /// is still the one [`with_fresh`](Self::with_fresh) reported as `serial`.
    pub fn invalidate_serial(&self, serial: u64) {
        let current = self.inner.entry.load_full();
        if let Some(entry) = current.as_ref().filter(|e| e.serial == serial) {
            let seen = Arc::clone(&entry.token);
            self.invalidate(&seen);
        }
    }

    /// Fetches a new token now, even if the cached one is fresh.
    ///
    /// # Errors
    ///
    /// Returns the source's error. A still-valid cached token is kept on failure.
    pub async fn force_refresh(&self) -> Result<Arc<S::Token>, Error> {
        let guard = Arc::clone(&self.inner.refresh).lock_owned().await;
        let (previous, replaces) = self
            .inner
            .entry
            .load()
            .as_ref()
            .map(|e| (Arc::clone(&e.token), e.serial))
            .unzip();
        self.run_fetch(guard, previous, "refresh forced", replaces)
            .await
    }

    /// Removes the cached token and revokes it at the server. Nothing cached is a no-op.
    ///
    /// # Errors
    ///
    /// Returns the source's revocation error (the token is dropped from the cache anyway).
    pub async fn revoke(&self) -> Result<(), Error> {
        let _guard = Arc::clone(&self.inner.refresh).lock_owned().await;
        let entry = self.inner.entry.swap(None);
        match entry {
            Some(entry) => {
                tracing::debug!(serial = entry.serial, "revoking the cached credential");
                let result = self.inner.source.revoke(&entry.token).await;
                if let Err(error) = &result {
                    tracing::warn!(serial = entry.serial, %error, "revocation failed");
                }
                result
            }
            None => Ok(()),
        }
    }

    /// Seeds the cache with a token obtained elsewhere (for example read from a store).
    pub fn set(&self, issued: Issued<S::Token>) -> Arc<S::Token> {
        self.inner.publish(issued)
    }
}
