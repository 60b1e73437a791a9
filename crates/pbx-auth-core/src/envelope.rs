//! [`Envelope`]: protocols that transform whole bodies instead of signing headers.

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use crate::error::Error;

/// Seals and opens message bodies (authnzerver's Fernet layer is one). Symmetric: a client
/// seals requests and opens responses, a server opens requests and seals responses.
pub trait Envelope: Send + Sync + Debug {
    /// Seals `plaintext`, stamping it with `now` where the format carries a time.
    ///
    /// # Errors
    ///
    /// Returns an error when the plaintext cannot be sealed.
    fn seal(&self, plaintext: &[u8], now: SystemTime) -> Result<Vec<u8>, Error>;

    /// Opens `sealed`; with `ttl`, refuses messages stamped more than `ttl` before `now`.
    ///
    /// # Errors
    ///
    /// Returns an error for tampered, truncated, expired or otherwise invalid input.
    fn open(&self, sealed: &[u8], now: SystemTime, ttl: Option<Duration>)
    -> Result<Vec<u8>, Error>;
}
