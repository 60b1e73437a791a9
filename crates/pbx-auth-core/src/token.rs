//! Where tokens come from: the [`TokenSource`] trait and the [`Issued`] record.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::error::{Error, ErrorKind};

/// Acquires, refreshes and revokes one kind of credential. Does the I/O; caching is the
/// [`TokenCache`](crate::TokenCache)'s job.
pub trait TokenSource: Send + Sync + Debug + 'static {
    /// The credential this source produces (an access token, a derived key, ...).
    type Token: Send + Sync + Debug + 'static;

    /// Acquires a new credential. `previous` is the last one issued, if any, so sources with
    /// refresh tokens can use it.
    fn fetch(
        &self,
        previous: Option<&Self::Token>,
    ) -> impl Future<Output = Result<Issued<Self::Token>, Error>> + Send;

    /// Revokes a credential at the server. The default says revocation is not offered.
    fn revoke(&self, _token: &Self::Token) -> impl Future<Output = Result<(), Error>> + Send {
        async {
            Err(Error::new(
                ErrorKind::Unsupported,
                "this credential cannot be revoked",
            ))
        }
    }
}

/// A freshly issued credential and how long it lives, measured from when it was received.
///
/// The expiry is kept as a monotonic instant (receipt time plus lifetime) so a server whose
/// wall clock differs from ours cannot make tokens look expired or eternal.
#[derive(Debug)]
#[non_exhaustive]
pub struct Issued<T> {
    /// The credential.
    pub token: T,
    /// How long it is valid after `received_at`; `None` means it does not expire.
    pub lifetime: Option<Duration>,
    /// When the response carrying it arrived.
    pub received_at: Instant,
}

impl<T> Issued<T> {
    /// A credential received now, valid for `lifetime`.
    pub fn new(token: T, lifetime: Option<Duration>) -> Self {
        Self {
            token,
            lifetime,
            received_at: Instant::now(),
        }
    }

    /// A credential that does not expire.
    pub fn non_expiring(token: T) -> Self {
        Self::new(token, None)
    }

    /// A credential received at `received_at`, valid for `lifetime`.
    pub fn received(token: T, lifetime: Option<Duration>, received_at: Instant) -> Self {
        Self {
            token,
            lifetime,
            received_at,
        }
    }

    /// A stored credential whose absolute expiry is known (seeding a cache from disk).
    /// `now` is the current wall-clock time; an expiry in the past gives a zero lifetime.
    pub fn expiring_at(token: T, expires_at: SystemTime, now: SystemTime) -> Self {
        let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        Self::new(token, Some(remaining))
    }

    /// The monotonic instant at which the credential expires, if it does.
    pub fn expires_at(&self) -> Option<Instant> {
        self.lifetime.map(|l| self.received_at + l)
    }
}
