//! [`ThreadNonce`]: the default nonce source, a per-thread cryptographic generator that
//! survives `fork()`.
//!
//! Each thread's generator is `rand`'s `ThreadRng`: a `ChaCha12` stream cipher seeded from
//! the operating system and reseeded every 64 KiB of output, so a nonce costs a few
//! nanoseconds of cipher instead of a `getrandom` system call.
//!
//! A user-space generator is copied by `fork()`: a pre-forking server would send the same
//! nonces from parent and children. `rand` 0.8's `ThreadRng` guards against that: it
//! registers a `pthread_atfork` handler that bumps a fork counter, and reseeds from the
//! operating system before its next output in a process whose counter moved. That costs
//! one atomic load per call, where reading the process id (`getpid`) would cost a system
//! call per nonce and put the header past its cost goal (see `docs/security.md`). A child
//! made by a raw `clone` system call, which skips the `fork()` wrapper and its handlers, is
//! not detected; no pre-forking server does that.

use pbx_auth_core::NonceSource;
use rand::RngCore as _;

/// Nonce bytes from a per-thread CSPRNG seeded by the operating system, reseeded after a
/// fork.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ThreadNonce;

impl NonceSource for ThreadNonce {
    fn fill(&self, buf: &mut [u8]) {
        rand::thread_rng().fill_bytes(buf);
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
