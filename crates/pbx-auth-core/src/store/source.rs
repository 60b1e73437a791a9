//! [`SharedSource`]: the L2 between a process's [`TokenCache`](crate::TokenCache) and the
//! real [`TokenSource`]. One credential per key for the whole fleet; one process refreshes
//! it at a time.
//!
//! Flow when the L1 asks (it already runs one fetch at a time per process):
//! load → fresh? hand it out → take the lease (or wait for the holder's result) → load
//! again → fetch from the real source with the stored credential as `previous` → write
//! with compare-and-set on the version, fenced by the lease → release the lease.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::record::Record;
use super::{Lease, SharedStore, StoredToken, WriteOutcome};
use crate::clock::{SharedClock, SystemClock};
use crate::error::{Error, ErrorKind};
use crate::token::{Issued, TokenSource};

/// How a [`SharedSource`] shares its credential.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SharedOptions {
    /// How long a refresh lease lasts (default 30 s). Keep it longer than the source's
    /// request timeout: a holder still waiting for the server when its lease runs out
    /// could be overtaken, and with rotating refresh tokens two refreshes end the grant.
    pub lease_ttl: Duration,
    /// A stored credential counts as fresh until this fraction of its lifetime has passed
    /// (default 0.75). Every process judges by the same stored instants, so they agree on
    /// when one refresh is due.
    pub refresh_fraction: f64,
    /// How often a process waiting for another's refresh looks at the store again
    /// (default 25 ms, doubling up to eight times that).
    pub poll_interval: Duration,
    /// The longest a process waits for other processes' refreshes before giving up with a
    /// timeout (default: twice the lease TTL, so a dead holder's lease runs out first).
    pub max_wait: Option<Duration>,
}

impl Default for SharedOptions {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(30),
            refresh_fraction: 0.75,
            poll_interval: Duration::from_millis(25),
            max_wait: None,
        }
    }
}

impl SharedOptions {
    /// Sets [`lease_ttl`](Self::lease_ttl).
    #[must_use]
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Sets [`refresh_fraction`](Self::refresh_fraction), clamped to `0.0..=1.0`.
    #[must_use]
    pub fn with_refresh_fraction(mut self, fraction: f64) -> Self {
        self.refresh_fraction = fraction.clamp(0.0, 1.0);
        self
    }

    /// Sets [`poll_interval`](Self::poll_interval).
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets `max_wait`.
    #[must_use]
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = Some(wait);
        self
    }

    fn wait_limit(&self) -> Duration {
        self.max_wait.unwrap_or(self.lease_ttl * 2)
    }
}

/// A [`TokenSource`] that shares its credential through a [`SharedStore`]: wrap the real
/// source in it and put a [`TokenCache`](crate::TokenCache) in front.
///
/// ```
/// use std::sync::Arc;
/// use pbx_auth_core::store::{InMemoryStore, SharedOptions, SharedSource};
/// use pbx_auth_core::{AccessToken, Error, Issued, TokenCache, TokenSource};
///
/// #[derive(Debug)]
/// struct Login;
/// impl TokenSource for Login {
///     type Token = AccessToken;
///     async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
///         Ok(Issued::new(AccessToken::new("t"), Some(std::time::Duration::from_secs(300))))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let store = Arc::new(InMemoryStore::new());
/// let cache = TokenCache::new(SharedSource::new(Login, store, "login:alice", SharedOptions::default()));
/// assert_eq!(cache.get().await?.expose_secret(), "t");
/// # Ok(()) }
/// ```
pub struct SharedSource<S> {
    inner: S,
    store: Arc<dyn SharedStore>,
    key: String,
    options: SharedOptions,
    /// The version last handed to the L1 (0: none yet).
    handed_out: AtomicU64,
    /// Set by [`reject_current`](Self::reject_current) for the next fetch.
    forced: AtomicBool,
    fetches: AtomicU64,
    store_calls: AtomicU64,
    clock: SharedClock,
}

impl<S: fmt::Debug> fmt::Debug for SharedSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSource")
            .field("inner", &self.inner)
            .field("store", &self.store)
            .field("key", &self.key)
            .field("options", &self.options)
            .field("fetches", &self.fetch_count())
            .finish_non_exhaustive()
    }
}

impl<S> SharedSource<S> {
    /// Shares `inner`'s credential under `key` in `store`. Every process of the fleet must
    /// use the same key for the same login (and different keys for different ones).
    pub fn new(
        inner: S,
        store: Arc<dyn SharedStore>,
        key: impl Into<String>,
        options: SharedOptions,
    ) -> Self {
        Self {
            inner,
            store,
            key: key.into(),
            options,
            handed_out: AtomicU64::new(0),
            forced: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
            store_calls: AtomicU64::new(0),
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` for the wall-clock instants kept in the store (tests drive it). Every
    /// process of a fleet must see roughly the same time: keep hosts synchronised.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The key in the store.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The options.
    pub fn options(&self) -> &SharedOptions {
        &self.options
    }

    /// Makes the next fetch refresh the version this process holds even while it is fresh
    /// by [`SharedOptions::refresh_fraction`] (unless another process stored a newer one
    /// meanwhile): call it before `TokenCache::force_refresh`, which alone would be handed
    /// the same stored credential again.
    pub fn reject_current(&self) {
        self.forced.store(true, Ordering::Relaxed);
    }

    /// How many times this process asked the wrapped source (the real server).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// How many store operations this process has issued (a warm L1 issues none).
    pub fn store_calls(&self) -> u64 {
        self.store_calls.load(Ordering::Relaxed)
    }
}

/// A stored record with its version; `record` is `None` when the credential was cleared
/// (an empty value, see [`clear_token`]).
struct Current {
    version: u64,
    record: Option<Record>,
}

/// Reads what `store` holds under `key`.
async fn load_current(store: &dyn SharedStore, key: &str) -> Result<Option<Current>, Error> {
    let Some(stored) = store.load(key).await? else {
        return Ok(None);
    };
    let record = if stored.value.is_empty() {
        None
    } else {
        Some(Record::decode(&stored.value)?)
    };
    Ok(Some(Current {
        version: stored.version,
        record,
    }))
}

/// Takes the refresh lease for `key`, waiting (polling) while another process holds it, for
/// at most `options`' wait limit.
async fn acquire_waiting(
    store: &dyn SharedStore,
    key: &str,
    options: &SharedOptions,
) -> Result<Lease, Error> {
    let deadline = Instant::now() + options.wait_limit();
    loop {
        if let Some(lease) = store.acquire(key, options.lease_ttl).await? {
            return Ok(lease);
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Timeout,
                "another process held the refresh lease for too long",
            ));
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}

/// Replaces what `key` holds with `value` under the refresh lease, so no refresh runs
/// meanwhile. Returns the new version.
async fn replace(
    store: &dyn SharedStore,
    key: &str,
    options: &SharedOptions,
    value: &[u8],
) -> Result<u64, Error> {
    let lease = acquire_waiting(store, key, options).await?;
    let result = async {
        let current = store.load(key).await?.map(|v| v.version);
        store.write(key, current, &lease, value).await
    }
    .await;
    // A failed release is harmless: the lease runs out on its own.
    let _ = store.release(key, &lease).await;
    match result? {
        WriteOutcome::Written(version) => Ok(version),
        _ => Err(Error::new(
            ErrorKind::Transport,
            "the credential could not be stored: the refresh lease ran out",
        )),
    }
}

/// The record of `issued`, with wall-clock instants as `clock` sees them.
fn record_of<T: StoredToken>(issued: &Issued<T>, clock: &SharedClock) -> Record {
    let issued_at = wall(clock.now(), issued.received_at);
    Record {
        issued_at,
        expires_at: issued.lifetime.map(|l| issued_at + l),
        credential: issued.token.to_stored(),
    }
}

/// The credential stored under `key` (as a [`SharedSource`] over the same store and key
/// keeps it) and its remaining lifetime, without refreshing anything. `None` when nothing
/// is stored or it was cleared.
///
/// # Errors
///
/// The store's error, or [`ErrorKind::Protocol`] when the stored bytes are not such a
/// credential.
pub async fn load_token<T: StoredToken>(
    store: &dyn SharedStore,
    key: &str,
) -> Result<Option<Issued<T>>, Error> {
    let Some(Current {
        record: Some(record),
        ..
    }) = load_current(store, key).await?
    else {
        return Ok(None);
    };
    let token = T::from_stored(&record.credential)?;
    Ok(Some(match record.expires_at {
        Some(at) => Issued::expiring_at(token, at, SystemTime::now()),
        None => Issued::non_expiring(token),
    }))
}

/// Stores a credential obtained elsewhere (a fresh login) under `key`, replacing what is
/// stored, under the refresh lease so no refresh runs meanwhile; what a [`SharedSource`]
/// over the same store and key hands out from then on. Returns the new version.
///
/// # Errors
///
/// The store's error, or [`ErrorKind::Timeout`] when another process holds the lease for
/// longer than the options' wait limit.
pub async fn store_token<T: StoredToken>(
    store: &dyn SharedStore,
    key: &str,
    options: &SharedOptions,
    issued: &Issued<T>,
) -> Result<u64, Error> {
    let clock: SharedClock = Arc::new(SystemClock);
    replace(store, key, options, &record_of(issued, &clock).encode()).await
}

/// Forgets the credential under `key` (a logout): writes an empty value, under the lease
/// and with a new version, so a process refreshing meanwhile cannot write the old login
/// back.
///
/// # Errors
///
/// As [`store_token`].
pub async fn clear_token(
    store: &dyn SharedStore,
    key: &str,
    options: &SharedOptions,
) -> Result<(), Error> {
    replace(store, key, options, &[]).await.map(drop)
}

/// The wall-clock moment a monotonic instant stands for.
fn wall(now: SystemTime, at: Instant) -> SystemTime {
    let ago = Instant::now().saturating_duration_since(at);
    now.checked_sub(ago).unwrap_or(SystemTime::UNIX_EPOCH)
}

impl<S> SharedSource<S>
where
    S: TokenSource,
    S::Token: StoredToken,
{
    async fn load(&self) -> Result<Option<Current>, Error> {
        self.store_calls.fetch_add(1, Ordering::Relaxed);
        load_current(&*self.store, &self.key).await
    }

    /// Whether `current` can be handed out instead of refreshing.
    fn usable(&self, current: &Current, rejected: Option<u64>) -> bool {
        let Some(record) = current.record.as_ref() else {
            return false;
        };
        if rejected == Some(current.version) {
            return false;
        }
        let Some(expires_at) = record.expires_at else {
            return true;
        };
        let lifetime = expires_at
            .duration_since(record.issued_at)
            .unwrap_or(Duration::ZERO);
        let refresh_at = record.issued_at + lifetime.mul_f64(self.options.refresh_fraction);
        self.clock.now() < refresh_at
    }

    /// Hands out `current`, which [`usable`](Self::usable) accepted.
    fn hand_out(&self, current: &Current) -> Result<Issued<S::Token>, Error> {
        let Some(record) = current.record.as_ref() else {
            return Err(Error::new(
                ErrorKind::Protocol,
                "the shared store holds no credential",
            ));
        };
        let token = S::Token::from_stored(&record.credential)?;
        self.handed_out.store(current.version, Ordering::Relaxed);
        Ok(match record.expires_at {
            Some(at) => Issued::expiring_at(token, at, self.clock.now()),
            None => Issued::non_expiring(token),
        })
    }

    /// With the lease held: look again, else fetch and write.
    async fn refresh_holding(
        &self,
        lease: &Lease,
        rejected: Option<u64>,
        previous: Option<&S::Token>,
    ) -> Result<Issued<S::Token>, Error> {
        let current = self.load().await?;
        if let Some(current) = current.as_ref().filter(|c| self.usable(c, rejected)) {
            tracing::debug!(key = %self.key, version = current.version, "another process stored a fresh credential meanwhile");
            return self.hand_out(current);
        }
        // The stored credential is newer than the L1's (it may hold a rotated refresh
        // token the L1 never saw), so it is what the real source refreshes from.
        let stored = current
            .as_ref()
            .and_then(|c| c.record.as_ref())
            .map(|r| S::Token::from_stored(&r.credential))
            .transpose()?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            key = %self.key,
            replaces_version = current.as_ref().map(|c| c.version),
            "holding the lease; fetching a credential for the fleet"
        );
        // A cleared login stays cleared: the L1's copy of it is not brought back.
        let cleared = current.as_ref().is_some_and(|c| c.record.is_none());
        let previous = if cleared { None } else { previous };
        let issued = self.inner.fetch(stored.as_ref().or(previous)).await?;
        let record = record_of(&issued, &self.clock);
        self.store_calls.fetch_add(1, Ordering::Relaxed);
        let outcome = self
            .store
            .write(
                &self.key,
                current.map(|c| c.version),
                lease,
                &record.encode(),
            )
            .await?;
        match outcome {
            WriteOutcome::Written(version) => {
                tracing::debug!(key = %self.key, version, "credential stored for the fleet");
                self.handed_out.store(version, Ordering::Relaxed);
                Ok(issued)
            }
            // Our lease ran out and a successor wrote: its credential is the fleet's.
            _ => match self.load().await? {
                Some(current) if self.usable(&current, rejected) => {
                    tracing::warn!(
                        key = %self.key,
                        version = current.version,
                        "write refused (lease lost or version moved); taking the stored credential"
                    );
                    self.hand_out(&current)
                }
                _ => {
                    tracing::warn!(
                        key = %self.key,
                        "write refused: the refresh lease ran out before the credential was stored"
                    );
                    Err(Error::new(
                        ErrorKind::Transport,
                        "the refresh lease ran out before the new credential was stored",
                    ))
                }
            },
        }
    }
}

impl<S> SharedSource<S>
where
    S: TokenSource,
    S::Token: StoredToken,
{
    /// Stores a credential obtained elsewhere (a fresh login) as the fleet's, replacing
    /// what is stored, under the refresh lease so no refresh runs meanwhile. Returns the
    /// new version.
    ///
    /// # Errors
    ///
    /// The store's error, or [`ErrorKind::Timeout`] when another process holds the lease
    /// for longer than `SharedOptions::max_wait`.
    pub async fn seed(&self, issued: &Issued<S::Token>) -> Result<u64, Error> {
        let record = record_of(issued, &self.clock);
        replace(&*self.store, &self.key, &self.options, &record.encode()).await
    }
}

impl<S> TokenSource for SharedSource<S>
where
    S: TokenSource,
    S::Token: StoredToken,
{
    type Token = S::Token;

    async fn fetch(&self, previous: Option<&S::Token>) -> Result<Issued<S::Token>, Error> {
        // The L1 asks with no previous token after it dropped one on a 401, and a forced
        // refresh was announced by `reject_current`: the version we handed it is then not
        // to be handed out again, whatever its expiry says.
        let last = self.handed_out.load(Ordering::Relaxed);
        let forced = self.forced.swap(false, Ordering::Relaxed);
        let rejected = match (forced, last) {
            // Forced before this process had any: the stored version is the one to replace.
            (true, 0) => self.load().await?.map(|c| c.version),
            (true, last) => Some(last),
            (false, last) => (previous.is_none() && last != 0).then_some(last),
        };
        let deadline = Instant::now() + self.options.wait_limit();
        let mut pause = self.options.poll_interval;
        loop {
            if let Some(current) = self.load().await?
                && self.usable(&current, rejected)
            {
                tracing::trace!(key = %self.key, version = current.version, "the stored credential is fresh");
                return self.hand_out(&current);
            }
            self.store_calls.fetch_add(1, Ordering::Relaxed);
            if let Some(lease) = self
                .store
                .acquire(&self.key, self.options.lease_ttl)
                .await?
            {
                tracing::debug!(key = %self.key, rejected_version = rejected, "refresh lease taken");
                let result = self.refresh_holding(&lease, rejected, previous).await;
                // A failed release is harmless: the lease runs out on its own.
                self.store_calls.fetch_add(1, Ordering::Relaxed);
                match self.store.release(&self.key, &lease).await {
                    Ok(_) => tracing::debug!(key = %self.key, "refresh lease released"),
                    Err(error) => {
                        tracing::warn!(key = %self.key, %error, "refresh lease not released; it runs out on its own");
                    }
                }
                return result;
            }
            // Another process is refreshing: wait for its result, never fetch alongside it.
            tracing::debug!(
                key = %self.key,
                pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                "another process holds the refresh lease; waiting for its result"
            );
            if Instant::now() >= deadline {
                tracing::warn!(key = %self.key, "gave up waiting for the refresh lease holder");
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "another process held the refresh lease for too long",
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.options.poll_interval * 8);
        }
    }

    async fn revoke(&self, token: &S::Token) -> Result<(), Error> {
        self.inner.revoke(token).await
    }
}
