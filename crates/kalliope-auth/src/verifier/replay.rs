//! The replay cache: every accepted nonce is kept until `created + skew`, the last moment
//! its header could still pass the time window, then forgotten.
//!
//! Keys are the first 16 bytes of a SHA-256 over the nonce (and, per user, the user and
//! domain), so every entry has the same small size whatever the nonce length. A false
//! match would need a 128-bit collision.
//!
//! The table is split into 256 shards by the key's first byte, and the sweep of expired
//! entries (every ten seconds) walks the shards a few at a time, about 4096 entries per
//! request, so no single request pays for a scan of the whole cache: with one table, the
//! request that triggered the sweep held the lock for milliseconds at a million entries.
//! A small cache is still swept in one go. A full cache only scans the shards whose
//! earliest expiry has passed, so refusing a request costs no scan at all.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::MutexGuard;

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

/// How many shards the table is split into (one per value of the key's first byte).
const SHARDS: usize = 256;

/// How often (in seconds of the verifier's clock) a sweep of expired entries starts.
const SWEEP_EVERY: i64 = 10;

/// Entries one request may scan for a sweep in progress (at least one shard).
const SWEEP_BUDGET: usize = 4096;

/// Whether an entry kept until `until` still counts at `now`. A one-second margin: the
/// window check uses sub-second time, this whole seconds.
fn live(until: i64, now: i64) -> bool {
    until.saturating_add(1) >= now
}

struct Shard {
    /// Key -> the Unix second after which the entry may be dropped.
    entries: HashMap<ReplayKey, i64>,
    /// No entry expires before this (`i64::MAX` when empty; may be early after an
    /// overwrite, which only costs a needless sweep).
    earliest: i64,
}

impl Shard {
    fn new() -> Self {
        Self {
            entries: HashMap::new(),
            earliest: i64::MAX,
        }
    }

    /// Drops expired entries; returns how many.
    fn sweep(&mut self, now: i64) -> usize {
        let before = self.entries.len();
        let mut earliest = i64::MAX;
        self.entries.retain(|_, until| {
            let keep = live(*until, now);
            if keep {
                earliest = earliest.min(*until);
            }
            keep
        });
        self.earliest = earliest;
        before - self.entries.len()
    }

    fn heap_bytes(&self) -> usize {
        let capacity = self.entries.capacity();
        if capacity == 0 {
            return 0;
        }
        // hashbrown allocates a power-of-two bucket count at most 8/7 above capacity.
        let buckets = (capacity * 8 / 7).next_power_of_two().max(4);
        buckets * (size_of::<(ReplayKey, i64)>() + 1)
    }
}

struct State {
    shards: Vec<Shard>,
    /// Entries over all shards.
    len: usize,
    /// When the next sweep starts.
    next_sweep: i64,
    /// The next shard the sweep in progress cleans (`SHARDS`: none in progress).
    cursor: usize,
}

impl State {
    /// Starts a sweep when one is due, then cleans shards of the sweep in progress until
    /// `SWEEP_BUDGET` entries have been scanned.
    fn sweep_some(&mut self, now: i64) {
        if self.cursor == SHARDS && now >= self.next_sweep {
            self.cursor = 0;
            self.next_sweep = now.saturating_add(SWEEP_EVERY);
        }
        let mut scanned = 0;
        while self.cursor < SHARDS && scanned < SWEEP_BUDGET {
            let shard = &mut self.shards[self.cursor];
            scanned += shard.entries.len();
            self.len -= shard.sweep(now);
            self.cursor += 1;
        }
    }

    /// Drops whatever has expired anywhere; shards with nothing expired are skipped
    /// without a scan.
    fn sweep_expired(&mut self, now: i64) {
        for shard in &mut self.shards {
            if !live(shard.earliest, now) {
                self.len -= shard.sweep(now);
            }
        }
    }
}

/// Nonces seen recently, with an atomic check-and-insert.
pub(crate) struct ReplayCache {
    state: Mutex<State>,
    max_entries: Option<usize>,
}

impl ReplayCache {
    pub(crate) fn new(max_entries: Option<usize>) -> Self {
        Self {
            state: Mutex::new(State {
                shards: (0..SHARDS).map(|_| Shard::new()).collect(),
                len: 0,
                next_sweep: i64::MIN,
                cursor: SHARDS,
            }),
            max_entries,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_full(&self, len: usize) -> bool {
        self.max_entries.is_some_and(|max| len >= max)
    }

    /// Records `key` until `keep_until` unless it is already there. One lock covers the
    /// check and the insert, so two requests with one nonce cannot both pass.
    pub(crate) fn check_and_insert(&self, key: ReplayKey, keep_until: i64, now: i64) -> Insert {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.sweep_some(now);
        if self.is_full(state.len) {
            // Before refusing, drop whatever has expired anywhere.
            state.sweep_expired(now);
        }
        let len = state.len;
        let shard = &mut state.shards[usize::from(key[0])];
        if let Some(until) = shard.entries.get(&key)
            && live(*until, now)
        {
            return Insert::Replayed;
        }
        if self.is_full(len) {
            return Insert::Full;
        }
        if shard.entries.insert(key, keep_until).is_none() {
            state.len += 1;
        }
        shard.earliest = shard.earliest.min(keep_until);
        Insert::Fresh
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len
    }

    /// Heap bytes the tables hold: their buckets (key and expiry) plus one control byte
    /// each, and the shard headers.
    pub(crate) fn heap_bytes(&self) -> usize {
        let state = self.lock();
        let tables: usize = state.shards.iter().map(Shard::heap_bytes).sum();
        tables + state.shards.capacity() * size_of::<Shard>()
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

    /// Keys that land in `count` different shards.
    fn keys_in_distinct_shards(count: usize) -> Vec<ReplayKey> {
        let mut seen = std::collections::HashSet::new();
        (0u32..)
            .map(|i| replay_key(&[&i.to_string()]))
            .filter(|k| seen.insert(k[0]))
            .take(count)
            .collect()
    }

    #[test]
    fn full_cache_frees_expired_entries_in_other_shards() {
        let keys = keys_in_distinct_shards(3);
        let cache = ReplayCache::new(Some(2));
        assert_eq!(cache.check_and_insert(keys[0], 10, 0), Insert::Fresh);
        assert_eq!(cache.check_and_insert(keys[1], 100, 0), Insert::Fresh);
        // Nothing has expired: refused, and nothing is lost.
        assert_eq!(cache.check_and_insert(keys[2], 100, 5), Insert::Full);
        assert_eq!(cache.check_and_insert(keys[1], 100, 5), Insert::Replayed);
        // keys[0] expired in its own shard; the full path sweeps it out.
        assert_eq!(cache.check_and_insert(keys[2], 100, 12), Insert::Fresh);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.check_and_insert(keys[1], 100, 12), Insert::Replayed);
    }

    #[test]
    fn a_large_cache_is_swept_a_few_shards_per_request() {
        let cache = ReplayCache::new(None);
        let keys: Vec<_> = (0..4 * SWEEP_BUDGET)
            .map(|i| replay_key(&[&i.to_string()]))
            .collect();
        for key in &keys {
            assert_eq!(cache.check_and_insert(*key, 10, 0), Insert::Fresh);
        }
        assert_eq!(cache.len(), keys.len());
        // Once everything has expired, each request cleans only part of the table...
        let fresh = replay_key(&["fresh"]);
        assert_eq!(cache.check_and_insert(fresh, 100, 20), Insert::Fresh);
        let after_one = cache.len();
        assert!(after_one > 1 && after_one < keys.len(), "{after_one}");
        // ...and a few more finish the sweep, keeping only the live entry.
        for i in 0..SHARDS {
            let replayed = cache.check_and_insert(fresh, 100, 20 + i64::try_from(i).unwrap() % 5);
            assert_eq!(replayed, Insert::Replayed);
        }
        assert_eq!(cache.len(), 1);
        assert!(cache.heap_bytes() > 0);
    }

    #[test]
    fn keys_are_length_prefixed() {
        assert_ne!(replay_key(&["ab", "c"]), replay_key(&["a", "bc"]));
    }
}
