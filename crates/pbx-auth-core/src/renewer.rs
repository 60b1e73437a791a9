//! [`TokenRenewer`]: keeps a fresh credential of any [`TokenSource`] at hand in a
//! background task (the behaviour of the `TokenRenewer` of `xivo-lib-python`, generalised).
//!
//! - The first credential is fetched by [`TokenRenewer::start`] itself.
//! - After a success the next renewal is at the refresh point of the same
//!   [`RefreshPolicy`] a [`TokenCache`](crate::TokenCache) uses: one fraction (default 0.75
//!   of the lifetime), one minimum margin, one jitter. A credential without a lifetime
//!   takes the policy's `default_lifetime`, or is never renewed when that is `None`.
//! - After a failure it retries after 1, 2, 4, 8, 16, then 32 s forever. Unlike the
//!   reference, whose backoff never resets, the backoff starts again at 1 s after a
//!   success: a failure hours later is a new incident, not the continuation of an old one.
//! - Subscribers see each new token: a [`watch`] channel and callbacks. A panicking
//!   callback is caught and does not stop the others or the renewer.
//! - [`RenewerHandle::stop`] ends the task and, if asked, revokes the current token.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::cache::RefreshPolicy;
use crate::error::Error;
use crate::token::TokenSource;

type Callback<T> = Arc<dyn Fn(&T) + Send + Sync>;
type OnceCallback<T> = Box<dyn FnOnce(&T) + Send>;

/// Builds and starts a renewer.
#[must_use]
pub struct TokenRenewer<S: TokenSource> {
    source: Arc<S>,
    backoff: Vec<Duration>,
    policy: RefreshPolicy,
    revoke_on_stop: bool,
}

impl<S: TokenSource> fmt::Debug for TokenRenewer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRenewer")
            .field("source", &self.source)
            .field("backoff", &self.backoff)
            .field("policy", &self.policy)
            .field("revoke_on_stop", &self.revoke_on_stop)
            .finish_non_exhaustive()
    }
}

struct Subscribers<T> {
    persistent: Vec<Callback<T>>,
    once: Vec<OnceCallback<T>>,
}

/// A running renewer. Dropping it stops the task without revoking.
pub struct RenewerHandle<S: TokenSource> {
    source: Arc<S>,
    current: watch::Receiver<Option<Arc<S::Token>>>,
    subscribers: Arc<Mutex<Subscribers<S::Token>>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    revoke_on_stop: bool,
}

impl<S: TokenSource> fmt::Debug for RenewerHandle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenewerHandle")
            .field("has_token", &self.current.borrow().is_some())
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> TokenRenewer<S> {
    /// A renewer getting its credentials from `source`, on the default [`RefreshPolicy`].
    pub fn new(source: S) -> Self {
        Self {
            source: Arc::new(source),
            backoff: [1, 2, 4, 8, 16, 32].map(Duration::from_secs).to_vec(),
            policy: RefreshPolicy::default(),
            revoke_on_stop: false,
        }
    }

    /// When to renew: the same policy a [`TokenCache`](crate::TokenCache) takes (its
    /// `failure_backoff` and `detached` do not apply here; see [`backoff`](Self::backoff)).
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The retry delays after consecutive failures; the last one repeats. Empty means
    /// the default 1, 2, 4, 8, 16, 32 s.
    pub fn backoff(mut self, delays: Vec<Duration>) -> Self {
        if !delays.is_empty() {
            self.backoff = delays;
        }
        self
    }

    /// The lifetime assumed for credentials the source gives without one (the policy's
    /// [`default_lifetime`](RefreshPolicy::default_lifetime)).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.policy.default_lifetime = Some(lifetime);
        self
    }

    /// Revoke the current token when [`RenewerHandle::stop`] is called.
    pub fn revoke_on_stop(mut self, revoke: bool) -> Self {
        self.revoke_on_stop = revoke;
        self
    }

    /// Fetches the first token now (a failure only schedules a retry, as in the
    /// reference), then renews in a spawned task. Must run inside a tokio runtime.
    pub async fn start(self) -> RenewerHandle<S> {
        let (tx, rx) = watch::channel(None);
        let subscribers = Arc::new(Mutex::new(Subscribers {
            persistent: Vec::new(),
            once: Vec::new(),
        }));
        let mut state = Loop {
            source: Arc::clone(&self.source),
            backoff: self.backoff,
            failures: 0,
            policy: self.policy,
            tx,
            subscribers: Arc::clone(&subscribers),
        };
        let mut wait = state.renew().await;
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                let Some(delay) = wait else {
                    // A credential that never expires: nothing to do until stopped.
                    let _ = (&mut stop_rx).await;
                    break;
                };
                tokio::select! {
                    _ = &mut stop_rx => break,
                    () = tokio::time::sleep(delay) => wait = state.renew().await,
                }
            }
        });
        RenewerHandle {
            source: self.source,
            current: rx,
            subscribers,
            stop: Some(stop_tx),
            task: Some(task),
            revoke_on_stop: self.revoke_on_stop,
        }
    }
}

struct Loop<S: TokenSource> {
    source: Arc<S>,
    backoff: Vec<Duration>,
    failures: usize,
    policy: RefreshPolicy,
    tx: watch::Sender<Option<Arc<S::Token>>>,
    subscribers: Arc<Mutex<Subscribers<S::Token>>>,
}

impl<S: TokenSource> Loop<S> {
    /// One renewal; returns how long to wait before the next (`None`: never).
    async fn renew(&mut self) -> Option<Duration> {
        let previous = self.tx.borrow().clone();
        match self.source.fetch(previous.as_deref()).await {
            Ok(issued) => {
                self.failures = 0;
                let lifetime = issued.lifetime.or(self.policy.default_lifetime);
                let received_at = issued.received_at;
                let token = Arc::new(issued.token);
                self.tx.send_replace(Some(Arc::clone(&token)));
                self.notify(&token);
                let next = lifetime.map(|l| {
                    self.policy
                        .refresh_point(received_at, l)
                        .saturating_duration_since(Instant::now())
                });
                // The lifetime and the schedule only, never the credential.
                tracing::debug!(
                    lifetime_secs = lifetime.map(|l| l.as_secs()),
                    next_renewal_secs = next.map(|d| d.as_secs()),
                    "credential renewed"
                );
                next
            }
            Err(error) => {
                let index = self.failures.min(self.backoff.len().saturating_sub(1));
                self.failures += 1;
                let delay = self
                    .backoff
                    .get(index)
                    .copied()
                    .unwrap_or(Duration::from_secs(32));
                tracing::warn!(
                    failures = self.failures,
                    retry_in_secs = delay.as_secs(),
                    %error,
                    "credential renewal failed"
                );
                Some(delay)
            }
        }
    }

    fn notify(&self, token: &S::Token) {
        // Snapshot under the lock, call outside it, so callbacks may subscribe others.
        let (persistent, once) = {
            let mut subs = self
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (subs.persistent.clone(), std::mem::take(&mut subs.once))
        };
        for callback in persistent {
            let _ = catch_unwind(AssertUnwindSafe(|| callback(token)));
        }
        for callback in once {
            let _ = catch_unwind(AssertUnwindSafe(|| callback(token)));
        }
    }
}

impl<S: TokenSource> RenewerHandle<S> {
    /// The current token, if one was obtained.
    pub fn token(&self) -> Option<Arc<S::Token>> {
        self.current.borrow().clone()
    }

    /// A receiver that sees every new token.
    pub fn watch(&self) -> watch::Receiver<Option<Arc<S::Token>>> {
        self.current.clone()
    }

    /// Calls `callback` with every new token.
    pub fn subscribe(&self, callback: impl Fn(&S::Token) + Send + Sync + 'static) {
        self.lock().persistent.push(Arc::new(callback));
    }

    /// Calls `callback` with the next new token only.
    pub fn subscribe_next(&self, callback: impl FnOnce(&S::Token) + Send + 'static) {
        self.lock().once.push(Box::new(callback));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Subscribers<S::Token>> {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops renewing (waiting for a renewal in progress to finish) and, when configured,
    /// revokes the current token.
    ///
    /// # Errors
    ///
    /// Returns the revocation error; the task is stopped anyway.
    pub async fn stop(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        match (self.revoke_on_stop, self.token()) {
            (true, Some(token)) => {
                tracing::debug!("revoking the renewed credential on stop");
                let result = self.source.revoke(&token).await;
                if let Err(error) = &result {
                    tracing::warn!(%error, "revocation on stop failed");
                }
                result
            }
            _ => Ok(()),
        }
    }
}

impl<S: TokenSource> Drop for RenewerHandle<S> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
