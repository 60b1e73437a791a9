//! [`ThreadNonce`]: the default nonce source, a per-thread cryptographic generator.
//!
//! Each thread's generator is a `ChaCha12` stream cipher seeded from the operating system and reseeded
//! regularly (`rand`'s `ThreadRng`), so a nonce costs a few nanoseconds instead of a system
//! call per header (a system call costs more than the whole rest of the header).
//!
//! Caveat: like any user-space generator it is not reseeded by `fork()`. A program that
//! forks and keeps signing in both processes without `exec` should use the core's
//! `OsNonce` (one system call per header) instead.

use pbx_auth_core::NonceSource;
use rand::Rng as _;

/// Nonce bytes from a per-thread CSPRNG seeded by the operating system.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ThreadNonce;

impl NonceSource for ThreadNonce {
    fn fill(&self, buf: &mut [u8]) {
        rand::rng().fill_bytes(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nonces_differ_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..500).map(|_| ThreadNonce.hex(16)).collect::<Vec<_>>())
            })
            .collect();
        let all: HashSet<String> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        assert_eq!(all.len(), 2000);
    }
}
