//! Nonce sources: cryptographic randomness by default, deterministic ones for tests.

use std::fmt::{self, Debug};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fills buffers with nonce bytes.
pub trait NonceSource: Send + Sync + Debug {
    /// Fills `buf` with fresh bytes.
    fn fill(&self, buf: &mut [u8]);

    /// `len` fresh bytes as lowercase hex (`2 * len` characters).
    fn hex(&self, len: usize) -> String {
        let mut buf = vec![0u8; len];
        self.fill(&mut buf);
        hex::encode(buf)
    }
}

/// A shared, type-erased nonce source.
pub type SharedNonceSource = Arc<dyn NonceSource>;

impl<T: NonceSource + ?Sized> NonceSource for Arc<T> {
    fn fill(&self, buf: &mut [u8]) {
        (**self).fill(buf);
    }
}

/// Bytes from the operating system's cryptographic random number generator.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct OsNonce;

impl NonceSource for OsNonce {
    fn fill(&self, buf: &mut [u8]) {
        // The OS generator failing means the machine cannot produce secrets at all;
        // handing out a predictable nonce instead would be worse than stopping.
        #[allow(clippy::expect_used)]
        getrandom::fill(buf).expect("the operating system's random number generator failed");
    }
}

/// A deterministic counter: each call yields the next big-endian counter value,
/// left-padded with zeros. For tests only: it is predictable by design.
#[derive(Debug, Default)]
pub struct SeqNonce(AtomicU64);

impl SeqNonce {
    /// Starts counting at `first`.
    pub fn starting_at(first: u64) -> Self {
        Self(AtomicU64::new(first))
    }
}

impl NonceSource for SeqNonce {
    fn fill(&self, buf: &mut [u8]) {
        let n = self.0.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        buf.fill(0);
        let take = buf.len().min(n.len());
        let start = buf.len() - take;
        buf[start..].copy_from_slice(&n[n.len() - take..]);
    }
}

/// Hands out the given byte strings in order, then repeats the last one. For pinning a
/// nonce to a test vector.
pub struct FixedNonce {
    queue: Mutex<(Vec<Vec<u8>>, usize)>,
}

impl FixedNonce {
    /// A source that always yields `bytes` (truncated or zero-padded to the request).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self::sequence(vec![bytes.into()])
    }

    /// A source that yields each entry once, in order, then repeats the last.
    pub fn sequence(values: Vec<Vec<u8>>) -> Self {
        Self {
            queue: Mutex::new((values, 0)),
        }
    }

    /// A source that yields the bytes the hex string `hex_value` encodes.
    ///
    /// # Errors
    ///
    /// Returns the decoding error when `hex_value` is not valid hex.
    pub fn from_hex(hex_value: &str) -> Result<Self, hex::FromHexError> {
        Ok(Self::new(hex::decode(hex_value)?))
    }
}

impl Debug for FixedNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FixedNonce")
    }
}

impl NonceSource for FixedNonce {
    fn fill(&self, buf: &mut [u8]) {
        let mut guard = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (values, next) = &mut *guard;
        buf.fill(0);
        if values.is_empty() {
            return;
        }
        let index = (*next).min(values.len() - 1);
        *next += 1;
        let value = &values[index];
        let take = buf.len().min(value.len());
        buf[..take].copy_from_slice(&value[..take]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn os_nonces_differ() {
        let seen: HashSet<String> = (0..1000).map(|_| OsNonce.hex(16)).collect();
        assert_eq!(seen.len(), 1000);
        assert!(seen.iter().all(|n| n.len() == 32));
    }

    #[test]
    fn seq_counts() {
        let s = SeqNonce::starting_at(1);
        assert_eq!(s.hex(4), "00000001");
        assert_eq!(s.hex(4), "00000002");
        assert_eq!(s.hex(16), "00000000000000000000000000000003");
    }

    #[test]
    fn fixed_repeats_last() {
        let f = FixedNonce::sequence(vec![vec![0xab], vec![0xcd]]);
        assert_eq!(f.hex(1), "ab");
        assert_eq!(f.hex(1), "cd");
        assert_eq!(f.hex(1), "cd");
        assert_eq!(FixedNonce::from_hex("0a0b").unwrap().hex(2), "0a0b");
    }
}
