//! The replay cache: every accepted nonce is kept until `created + skew`, the last moment
//! its header could still pass the time window, then forgotten.
//!
//! Keys are the first 16 bytes of a SHA-256 over the nonce (and, per user, the user and
//! domain), so every entry has the same small size whatever the nonce length. A false
//! match would need a 128-bit collision.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

/// A fixed-size key for one nonce in its scope.
pub(crate) type ReplayKey = [u8; 16];

/// Builds the key: length-prefixed parts, so `("ab", "c")` and `("a", "bc")` differ.
pub(crate) fn replay_key(parts: &[&str]) -> ReplayKey {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let full = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&full[..16]);
    key
}

/// What happened to a check-and-insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insert {
    /// The nonce was new and is now recorded.
    Fresh,
    /// The nonce was seen before and has not expired.
    Replayed,
    /// The cache is at its size limit even after dropping expired entries (fail closed).
    Full,
}

struct State {
    /// Key -> the Unix second after which the entry may be dropped.
    entries: HashMap<ReplayKey, i64>,
    /// When expired entries are next swept out.
    next_sweep: i64,
}

/// Nonces seen recently, with an atomic check-and-insert.
pub(crate) struct ReplayCache {
    state: Mutex<State>,
    max_entries: Option<usize>,
}

/// How often (in seconds of the verifier's clock) expired entries are swept.
const SWEEP_EVERY: i64 = 10;

impl ReplayCache {
    pub(crate) fn new(max_entries: Option<usize>) -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                next_sweep: i64::MIN,
            }),
            max_entries,
        }
    }

    /// Records `key` until `keep_until` unless it is already there. One lock covers the
    /// check and the insert, so two requests with one nonce cannot both pass.
    pub(crate) fn check_and_insert(&self, key: ReplayKey, keep_until: i64, now: i64) -> Insert {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let full = self
            .max_entries
            .is_some_and(|max| state.entries.len() >= max);
        if now >= state.next_sweep || full {
            // A one-second margin: the window check uses sub-second time, this whole seconds.
            state.entries.retain(|_, until| *until + 1 >= now);
            state.next_sweep = now.saturating_add(SWEEP_EVERY);
        }
        if let Some(until) = state.entries.get(&key)
            && *until + 1 >= now
        {
            return Insert::Replayed;
        }
        if self
            .max_entries
            .is_some_and(|max| state.entries.len() >= max)
        {
            return Insert::Full;
        }
        state.entries.insert(key, keep_until);
        Insert::Fresh
    }

    pub(crate) fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .len()
    }

    /// Heap bytes the table holds: its buckets (key and expiry) plus one control byte each.
    pub(crate) fn heap_bytes(&self) -> usize {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let capacity = state.entries.capacity();
        // hashbrown allocates a power-of-two bucket count at most 8/7 above capacity.
        let buckets = (capacity * 8 / 7).next_power_of_two().max(4);
        buckets * (size_of::<(ReplayKey, i64)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_are_caught_until_expiry() {
        let cache = ReplayCache::new(None);
        let k = replay_key(&["abcdef01"]);
        assert_eq!(cache.check_and_insert(k, 100, 0), Insert::Fresh);
        assert_eq!(cache.check_and_insert(k, 100, 50), Insert::Replayed);
        assert_eq!(cache.check_and_insert(k, 100, 101), Insert::Replayed);
        assert_eq!(cache.check_and_insert(k, 300, 102), Insert::Fresh);
    }

    #[test]
    fn full_cache_fails_closed_then_recovers() {
        let cache = ReplayCache::new(Some(2));
        assert_eq!(
            cache.check_and_insert(replay_key(&["a"]), 10, 0),
            Insert::Fresh
        );
        assert_eq!(
            cache.check_and_insert(replay_key(&["b"]), 10, 0),
            Insert::Fresh
        );
        assert_eq!(
            cache.check_and_insert(replay_key(&["c"]), 10, 0),
            Insert::Full
        );
        assert_eq!(
            cache.check_and_insert(replay_key(&["c"]), 10, 20),
            Insert::Fresh
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn keys_are_length_prefixed() {
        assert_ne!(replay_key(&["ab", "c"]), replay_key(&["a", "bc"]));
    }
}
