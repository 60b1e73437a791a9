//! Stores shared by a fleet of processes: the [`SharedStore`] seam that holds one credential
//! for all of them (versioned, with a refresh lease and fencing numbers), the
//! [`ReplayStore`] seam that remembers spent nonces across processes, an in-memory
//! implementation of both ([`InMemoryStore`]) and the L2 [`SharedSource`] that puts a
//! shared store behind any [`TokenSource`](crate::TokenSource).
//!
//! The process-local [`TokenCache`](crate::TokenCache) stays in front (L1): a warm request
//! never reaches the shared store. Only when the L1 refreshes does [`SharedSource`] look at
//! the store, and only the process holding the lease asks the real server.
//!
//! [`load_token`], [`store_token`] and [`clear_token`] read and write a key outside a
//! refresh (a login, a logout) by the same rules. A cleared key holds an empty value.

mod memory;
mod record;
mod source;
mod stored;

use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use memory::InMemoryStore;
pub use source::{SharedOptions, SharedSource, clear_token, load_token, store_token};
pub use stored::StoredToken;

use crate::error::Error;

/// The boxed future the store traits return, so they stay object-safe (`Arc<dyn ...>`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A stored value and its version. Versions start at 1 and grow by one on every write.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Versioned {
    /// The version of this value.
    pub version: u64,
    /// The value (an encoded credential: treat it as secret).
    pub value: Vec<u8>,
}

impl Versioned {
    /// A value at `version`.
    pub fn new(version: u64, value: Vec<u8>) -> Self {
        Self { version, value }
    }
}

impl Debug for Versioned {
    // The value is a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Versioned")
            .field("version", &self.version)
            .field(
                "value",
                &format_args!("[redacted; {} bytes]", self.value.len()),
            )
            .finish()
    }
}

/// A refresh lease: the right to fetch a new credential for one key until its TTL runs
/// out. The fencing number grows with every lease granted for the key; the store refuses
/// a write whose fencing number is older than the newest granted, so a holder that was
/// paused past its TTL cannot overwrite what its successor wrote.
#[derive(Clone, PartialEq, Eq)]
pub struct Lease {
    fence: u64,
    holder: [u8; 16],
}

impl Lease {
    /// A lease with fencing number `fence` held by `holder` (a random name, unique to this
    /// grant, so release can compare and delete).
    pub fn new(fence: u64, holder: [u8; 16]) -> Self {
        Self { fence, holder }
    }

    /// A fresh random holder name from the OS generator.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the OS generator fails.
    pub fn random_holder() -> Result<[u8; 16], Error> {
        let mut holder = [0u8; 16];
        getrandom::fill(&mut holder).map_err(|_| {
            Error::new(
                crate::ErrorKind::Config,
                "the operating system's random generator failed",
            )
        })?;
        Ok(holder)
    }

    /// The fencing number.
    pub fn fence(&self) -> u64 {
        self.fence
    }

    /// The holder's name.
    pub fn holder(&self) -> &[u8; 16] {
        &self.holder
    }
}

impl Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

/// What a fenced compare-and-set did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteOutcome {
    /// Written; the value now has this version.
    Written(u64),
    /// Refused: the stored version was not the expected one.
    VersionChanged,
    /// Refused: a newer lease has been granted since this one (its fencing number is old).
    Fenced,
}

/// A credential store shared by many processes.
///
/// Implementations must make [`write`](Self::write) and [`release`](Self::release) atomic
/// (one script, one transaction, one lock), and must report an unreachable store as a
/// transient error ([`ErrorKind::Transport`](crate::ErrorKind::Transport) or
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout)).
pub trait SharedStore: Send + Sync + Debug + 'static {
    /// The current value under `key` and its version, if any.
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Versioned>>;

    /// Takes the refresh lease for `key` for `ttl`, or `None` while someone else holds a
    /// live one. A lease whose holder died expires after its TTL.
    fn acquire<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<Lease>>;

    /// Writes `value` if the stored version is still `expected` (`None`: nothing stored)
    /// and no newer lease than `lease` has been granted.
    fn write<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        lease: &'a Lease,
        value: &'a [u8],
    ) -> StoreFuture<'a, WriteOutcome>;

    /// Gives the lease back if it is still ours (compare and delete). Returns whether it
    /// was.
    fn release<'a>(&'a self, key: &'a str, lease: &'a Lease) -> StoreFuture<'a, bool>;
}

/// A store of spent one-time values (nonces) shared by many processes.
pub trait ReplayStore: Send + Sync + Debug + 'static {
    /// Records `key` for `ttl` unless it is already recorded. Returns `true` when it was
    /// new (the request may proceed), `false` when it was seen before (a replay).
    ///
    /// Callers pass keys they derived themselves (hashes), never client input.
    fn insert_once<'a>(&'a self, key: &'a [u8], ttl: Duration) -> StoreFuture<'a, bool>;
}
