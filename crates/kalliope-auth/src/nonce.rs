//! [`ThreadNonce`]: the default nonce source, a per-thread cryptographic generator that
//! survives `fork()`.
//!
//! Each thread's generator is a `ChaCha12` stream cipher (`rand`'s `StdRng`) seeded from
//! the operating system and reseeded every 64 KiB of output, so a nonce costs a few
//! nanoseconds of cipher instead of a `getrandom` system call.
//!
//! A user-space generator is copied by `fork()`: a pre-forking server would send the same
//! nonces from parent and children. `StdRng` has no guard against that (and `rand` 0.9
//! dropped the one its `ThreadRng` had, asking callers to reseed after forking), so the generator
//! here remembers the process id it was seeded in and reseeds from the operating system
//! before handing out a single byte in a process with another id. The id is read on every
//! call (`getpid`, a cheap system call); the signing benchmark prices it against the
//! header cost goal (see `docs/security.md`).

use std::cell::RefCell;

use pbx_auth_core::NonceSource;
use rand::rngs::{OsRng, StdRng};
use rand::{RngCore as _, SeedableRng as _};

/// Output after which a thread's generator is reseeded anyway (defence in depth, as
/// `ThreadRng` does).
const RESEED_AFTER: usize = 64 * 1024;

/// Nonce bytes from a per-thread CSPRNG seeded by the operating system, reseeded after a
/// fork.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ThreadNonce;

impl NonceSource for ThreadNonce {
    fn fill(&self, buf: &mut [u8]) {
        let pid = std::process::id();
        GENERATOR.with_borrow_mut(|generator| match generator {
            Some(generator) => generator.fill(buf, pid, os_seeded),
            None => {
                let mut fresh = ForkAware::new(os_seeded(), pid);
                fresh.fill(buf, pid, os_seeded);
                *generator = Some(fresh);
            }
        });
    }
}

thread_local! {
    static GENERATOR: RefCell<Option<ForkAware>> = const { RefCell::new(None) };
}

/// A generator freshly seeded from the operating system.
fn os_seeded() -> StdRng {
    // The OS generator failing means the machine cannot produce secrets at all; handing
    // out a predictable nonce instead would be worse than stopping.
    #[allow(clippy::expect_used)]
    StdRng::from_rng(OsRng).expect("the operating system's random number generator failed")
}

/// A generator that knows which process seeded it.
struct ForkAware {
    rng: StdRng,
    /// The process the current seed belongs to.
    pid: u32,
    /// Bytes produced since the last seed.
    produced: usize,
}

impl ForkAware {
    fn new(rng: StdRng, pid: u32) -> Self {
        Self {
            rng,
            pid,
            produced: 0,
        }
    }

    /// Fills `buf`, first reseeding with `reseed` when running in another process than
    /// the one that seeded it (a fork copied it) or after [`RESEED_AFTER`] bytes.
    fn fill(&mut self, buf: &mut [u8], pid: u32, reseed: impl FnOnce() -> StdRng) {
        if pid != self.pid || self.produced >= RESEED_AFTER {
            self.rng = reseed();
            self.pid = pid;
            self.produced = 0;
        }
        self.rng.fill_bytes(buf);
        self.produced = self.produced.saturating_add(buf.len());
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

    /// Two copies of one generator, as `fork()` leaves them in parent and child.
    fn forked_pair(pid: u32) -> (ForkAware, ForkAware) {
        let seed = [7u8; 32];
        (
            ForkAware::new(StdRng::from_seed(seed), pid),
            ForkAware::new(StdRng::from_seed(seed), pid),
        )
    }

    // Issue 13, item 8: `ThreadNonce` gave parent and child of a fork the same stream.
    // A fork copies the generator's whole state, which two generators from one seed
    // reproduce exactly (the first half shows the copy collides without detection); the
    // child then runs under another process id and must not repeat a single nonce.
    #[test]
    fn a_forked_copy_reseeds_before_its_first_nonce() {
        let (mut parent, mut copy) = forked_pair(100);
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        parent.fill(&mut a, 100, os_seeded);
        copy.fill(&mut b, 100, os_seeded);
        assert_eq!(
            a, b,
            "the copy is the same stream while the pid is the same"
        );

        let (mut parent, mut child) = forked_pair(100);
        let parent_nonces: HashSet<[u8; 16]> = (0..1000)
            .map(|_| {
                let mut n = [0u8; 16];
                parent.fill(&mut n, 100, os_seeded);
                n
            })
            .collect();
        for _ in 0..1000 {
            let mut n = [0u8; 16];
            child.fill(&mut n, 101, os_seeded);
            assert!(!parent_nonces.contains(&n));
        }
        assert_eq!(child.pid, 101);
    }

    #[test]
    fn reseeds_after_its_output_budget() {
        let (mut a, mut b) = forked_pair(1);
        let mut x = vec![0u8; RESEED_AFTER];
        a.fill(&mut x, 1, os_seeded);
        b.fill(&mut x, 1, os_seeded);
        let (mut y, mut z) = ([0u8; 16], [0u8; 16]);
        a.fill(&mut y, 1, os_seeded);
        b.fill(&mut z, 1, os_seeded);
        assert_ne!(y, z);
    }
}
