//! The replay cache: every accepted nonce is kept until its header can no longer pass the
//! time window, then forgotten.
//!
//! "No longer" is decided on two clocks: an entry goes only once the wall clock is past
//! `created + skew` AND the monotonic clock has run for as long as that was ahead at
//! insertion. The wall clock alone could be stepped forward (entries swept) and back
//! (the header inside the window again): a replay would pass. The monotonic clock alone
//! misses a wall clock stepped back after insertion. Both together keep an entry for as
//! long as either clock says its header could still be accepted.
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
//!
//! Entries recorded for requests that did not verify (the `insert_before_digest` mode)
//! are marked and limited to a quarter of the cache, so unauthenticated junk can never
//! take the room of verified requests.

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

/// When an entry may go: both clocks must be past their mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expiry {
    /// Unix second (wall clock) after which the header is outside the window.
    pub(crate) wall: i64,
    /// Monotonic second (see [`Now::mono`]) reached after as long as `wall` was ahead.
    pub(crate) mono: u64,
}

/// "Now" on both clocks, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Now {
    /// Unix seconds of the wall clock.
    pub(crate) wall: i64,
    /// Seconds of the monotonic clock (any fixed origin).
    pub(crate) mono: u64,
}

impl Now {
    /// The expiry of an entry whose header leaves the window at wall second `wall_until`.
    pub(crate) fn expiry(self, wall_until: i64) -> Expiry {
        let ahead = u64::try_from(wall_until.saturating_sub(self.wall)).unwrap_or(0);
        Expiry {
            wall: wall_until,
            mono: self.mono.saturating_add(ahead),
        }
    }
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
const SWEEP_EVERY: u64 = 10;

/// Entries one request may scan for a sweep in progress (at least one shard).
const SWEEP_BUDGET: usize = 4096;

/// Whether an entry still counts at `now`: until both clocks are past their mark. A
/// one-second margin: the window check uses sub-second time, this whole seconds.
fn live(until: Expiry, now: Now) -> bool {
    until.wall.saturating_add(1) >= now.wall || until.mono.saturating_add(1) >= now.mono
}

/// One remembered nonce.
#[derive(Debug, Clone, Copy)]
struct Entry {
    until: Expiry,
    /// Recorded for a request whose digest verified (else it counts against the junk
    /// budget).
    verified: bool,
}

/// Entries removed by a sweep: all, and those of unverified requests.
#[derive(Debug, Default, Clone, Copy)]
struct Dropped {
    all: usize,
    unverified: usize,
}

struct Shard {
    entries: HashMap<ReplayKey, Entry>,
    /// No entry's wall mark is before this (`i64::MAX` when empty; may be early after an
    /// overwrite, which only costs a needless sweep).
    earliest_wall: i64,
    /// The same for the monotonic mark.
    earliest_mono: u64,
}

impl Shard {
    fn new() -> Self {
        Self {
            entries: HashMap::new(),
            earliest_wall: i64::MAX,
            earliest_mono: u64::MAX,
        }
    }

    /// Whether some entry may have expired: nothing has while either earliest mark is
    /// still ahead.
    fn may_have_expired(&self, now: Now) -> bool {
        !live(
            Expiry {
                wall: self.earliest_wall,
                mono: self.earliest_mono,
            },
            now,
        )
    }

    fn note(&mut self, until: Expiry) {
        self.earliest_wall = self.earliest_wall.min(until.wall);
        self.earliest_mono = self.earliest_mono.min(until.mono);
    }

    /// Drops expired entries.
    fn sweep(&mut self, now: Now) -> Dropped {
        let mut dropped = Dropped::default();
        let mut earliest_wall = i64::MAX;
        let mut earliest_mono = u64::MAX;
        self.entries.retain(|_, entry| {
            let keep = live(entry.until, now);
            if keep {
                earliest_wall = earliest_wall.min(entry.until.wall);
                earliest_mono = earliest_mono.min(entry.until.mono);
            } else {
                dropped.all += 1;
                dropped.unverified += usize::from(!entry.verified);
            }
            keep
        });
        self.earliest_wall = earliest_wall;
        self.earliest_mono = earliest_mono;
        dropped
    }

    fn heap_bytes(&self) -> usize {
        let capacity = self.entries.capacity();
        if capacity == 0 {
            return 0;
        }
        // hashbrown allocates a power-of-two bucket count at most 8/7 above capacity.
        let buckets = (capacity * 8 / 7).next_power_of_two().max(4);
        buckets * (size_of::<(ReplayKey, Entry)>() + 1)
    }
}

struct State {
    shards: Vec<Shard>,
    /// Entries over all shards.
    len: usize,
    /// Of those, entries of requests that did not verify.
    unverified: usize,
    /// When the next sweep starts (monotonic seconds).
    next_sweep: u64,
    /// The next shard the sweep in progress cleans (`SHARDS`: none in progress).
    cursor: usize,
}

impl State {
    /// Starts a sweep when one is due, then cleans shards of the sweep in progress until
    /// `SWEEP_BUDGET` entries have been scanned.
    fn sweep_some(&mut self, now: Now) {
        if self.cursor == SHARDS && now.mono >= self.next_sweep {
            self.cursor = 0;
            self.next_sweep = now.mono.saturating_add(SWEEP_EVERY);
        }
        let mut scanned = 0;
        while self.cursor < SHARDS && scanned < SWEEP_BUDGET {
            let shard = &mut self.shards[self.cursor];
            scanned += shard.entries.len();
            let dropped = shard.sweep(now);
            self.forget(dropped);
            self.cursor += 1;
        }
    }

    /// Drops whatever has expired anywhere; shards with nothing expired are skipped
    /// without a scan.
    fn sweep_expired(&mut self, now: Now) {
        for i in 0..SHARDS {
            if self.shards[i].may_have_expired(now) {
                let dropped = self.shards[i].sweep(now);
                self.forget(dropped);
            }
        }
    }

    fn forget(&mut self, dropped: Dropped) {
        self.len -= dropped.all;
        self.unverified -= dropped.unverified;
    }
}

/// Nonces seen recently, with an atomic check-and-insert.
pub(crate) struct ReplayCache {
    state: Mutex<State>,
    max_entries: Option<usize>,
    /// Most entries of unverified requests (a quarter of `max_entries`, or of
    /// [`UNVERIFIED_WITHOUT_LIMIT`] when the cache is unbounded).
    max_unverified: usize,
}

/// The junk budget of a cache configured without a limit: such a cache trusts its
/// verified traffic, never the unauthenticated kind.
const UNVERIFIED_WITHOUT_LIMIT: usize = 250_000;

impl ReplayCache {
    pub(crate) fn new(max_entries: Option<usize>) -> Self {
        Self {
            state: Mutex::new(State {
                shards: (0..SHARDS).map(|_| Shard::new()).collect(),
                len: 0,
                unverified: 0,
                next_sweep: 0,
                cursor: SHARDS,
            }),
            max_entries,
            max_unverified: max_entries.map_or(UNVERIFIED_WITHOUT_LIMIT, |max| max / 4),
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

    /// Records `key` until `until` unless it is already there. One lock covers the check
    /// and the insert, so two requests with one nonce cannot both pass.
    pub(crate) fn check_and_insert(&self, key: ReplayKey, until: Expiry, now: Now) -> Insert {
        self.insert(key, until, now, true)
    }

    /// Whether `key` is there (for the pre-digest check of `insert_before_digest`).
    pub(crate) fn contains(&self, key: ReplayKey, now: Now) -> bool {
        let state = self.lock();
        state.shards[usize::from(key[0])]
            .entries
            .get(&key)
            .is_some_and(|entry| live(entry.until, now))
    }

    /// Records the nonce of a request that did not verify, so it is burned too (the
    /// `insert_before_digest` mode). Within the junk budget only: beyond it the nonce is
    /// simply not recorded, which costs nothing but the burning.
    pub(crate) fn insert_unverified(&self, key: ReplayKey, until: Expiry, now: Now) {
        let _ = self.insert(key, until, now, false);
    }

    fn insert(&self, key: ReplayKey, until: Expiry, now: Now, verified: bool) -> Insert {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.sweep_some(now);
        let over_budget = |state: &State| {
            self.is_full(state.len) || (!verified && state.unverified >= self.max_unverified)
        };
        if over_budget(state) {
            // Before refusing, drop whatever has expired anywhere.
            state.sweep_expired(now);
        }
        let full = over_budget(state);
        let shard = &mut state.shards[usize::from(key[0])];
        if let Some(entry) = shard.entries.get(&key)
            && live(entry.until, now)
        {
            return Insert::Replayed;
        }
        if full {
            return Insert::Full;
        }
        let entry = Entry { until, verified };
        match shard.entries.insert(key, entry) {
            None => state.len += 1,
            Some(old) => state.unverified -= usize::from(!old.verified),
        }
        state.unverified += usize::from(!verified);
        shard.note(until);
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

    /// Both clocks at `t` (the usual case: neither was stepped).
    fn at(t: i64) -> Now {
        Now {
            wall: t,
            mono: u64::try_from(t).unwrap(),
        }
    }

    fn until(wall: i64, now: Now) -> Expiry {
        now.expiry(wall)
    }

    #[test]
    fn replays_are_caught_until_expiry() {
        let cache = ReplayCache::new(None);
        let k = replay_key(&["abcdef01"]);
        assert_eq!(
            cache.check_and_insert(k, until(100, at(0)), at(0)),
            Insert::Fresh
        );
        assert_eq!(
            cache.check_and_insert(k, until(100, at(50)), at(50)),
            Insert::Replayed
        );
        assert_eq!(
            cache.check_and_insert(k, until(100, at(101)), at(101)),
            Insert::Replayed
        );
        assert_eq!(
            cache.check_and_insert(k, until(300, at(102)), at(102)),
            Insert::Fresh
        );
    }

    // Issue 13, item 9: with expiry on the wall clock, a clock stepped forward past the
    // window swept the nonce, and stepped back let its replay through.
    #[test]
    fn a_stepped_wall_clock_does_not_expire_entries() {
        let cache = ReplayCache::new(None);
        let k = replay_key(&["abcdef01"]);
        let start = Now {
            wall: 1_000,
            mono: 5,
        };
        assert_eq!(
            cache.check_and_insert(k, start.expiry(1_300), start),
            Insert::Fresh
        );
        // Wall clock one hour ahead, one real second later: a sweep must keep the entry.
        let ahead = Now {
            wall: 4_600,
            mono: 6,
        };
        let other = replay_key(&["other"]);
        assert_eq!(
            cache.check_and_insert(other, ahead.expiry(4_900), ahead),
            Insert::Fresh
        );
        cache.lock().sweep_expired(ahead);
        // Wall clock back: the header would pass the window again, the nonce is known.
        let back = Now {
            wall: 1_001,
            mono: 7,
        };
        assert_eq!(
            cache.check_and_insert(k, back.expiry(1_300), back),
            Insert::Replayed
        );
        // A wall clock stepped back keeps the entry past its monotonic mark too.
        let later = Now {
            wall: 1_200,
            mono: 400,
        };
        assert_eq!(
            cache.check_and_insert(k, later.expiry(1_300), later),
            Insert::Replayed
        );
        // Once both clocks are past, it goes.
        let done = Now {
            wall: 1_302,
            mono: 400,
        };
        assert_eq!(
            cache.check_and_insert(k, done.expiry(1_600), done),
            Insert::Fresh
        );
    }

    #[test]
    fn full_cache_fails_closed_then_recovers() {
        let cache = ReplayCache::new(Some(2));
        let ins = |name: &str, now: i64| {
            cache.check_and_insert(replay_key(&[name]), until(10, at(now)), at(now))
        };
        assert_eq!(ins("a", 0), Insert::Fresh);
        assert_eq!(ins("b", 0), Insert::Fresh);
        assert_eq!(ins("c", 0), Insert::Full);
        assert_eq!(
            cache.check_and_insert(replay_key(&["c"]), until(30, at(20)), at(20)),
            Insert::Fresh
        );
        assert_eq!(cache.len(), 1);
    }

    // Issue 13, item 9: in `insert_before_digest` mode, unauthenticated junk could fill
    // the cache and lock out verified requests.
    #[test]
    fn unverified_entries_keep_to_their_budget() {
        let cache = ReplayCache::new(Some(8));
        for i in 0..100 {
            cache.insert_unverified(replay_key(&[&format!("junk{i}")]), until(100, at(0)), at(0));
        }
        assert_eq!(cache.len(), 2);
        for i in 0..6 {
            let key = replay_key(&[&format!("good{i}")]);
            assert_eq!(
                cache.check_and_insert(key, until(100, at(0)), at(0)),
                Insert::Fresh
            );
        }
        // A burned nonce stays burned.
        let burned = replay_key(&["junk0"]);
        assert!(cache.contains(burned, at(1)));
        assert_eq!(
            cache.check_and_insert(burned, until(100, at(1)), at(1)),
            Insert::Replayed
        );
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
        let ins = |k: ReplayKey, wall_until: i64, now: i64| {
            cache.check_and_insert(k, until(wall_until, at(now)), at(now))
        };
        assert_eq!(ins(keys[0], 10, 0), Insert::Fresh);
        assert_eq!(ins(keys[1], 100, 0), Insert::Fresh);
        // Nothing has expired: refused, and nothing is lost.
        assert_eq!(ins(keys[2], 100, 5), Insert::Full);
        assert_eq!(ins(keys[1], 100, 5), Insert::Replayed);
        // keys[0] expired in its own shard; the full path sweeps it out.
        assert_eq!(ins(keys[2], 100, 12), Insert::Fresh);
        assert_eq!(cache.len(), 2);
        assert_eq!(ins(keys[1], 100, 12), Insert::Replayed);
    }

    #[test]
    fn a_large_cache_is_swept_a_few_shards_per_request() {
        let cache = ReplayCache::new(None);
        let keys: Vec<_> = (0..4 * SWEEP_BUDGET)
            .map(|i| replay_key(&[&i.to_string()]))
            .collect();
        for key in &keys {
            assert_eq!(
                cache.check_and_insert(*key, until(10, at(0)), at(0)),
                Insert::Fresh
            );
        }
        assert_eq!(cache.len(), keys.len());
        // Once everything has expired, each request cleans only part of the table...
        let fresh = replay_key(&["fresh"]);
        assert_eq!(
            cache.check_and_insert(fresh, until(100, at(20)), at(20)),
            Insert::Fresh
        );
        let after_one = cache.len();
        assert!(after_one > 1 && after_one < keys.len(), "{after_one}");
        // ...and a few more finish the sweep, keeping only the live entry.
        for i in 0..SHARDS {
            let now = at(20 + i64::try_from(i).unwrap() % 5);
            let replayed = cache.check_and_insert(fresh, until(100, now), now);
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
