//! A small bounded map whose entries expire, for positive decisions and token details.
//!
//! Entries are found by a keyed hash of their key's parts and confirmed against the entry
//! itself, so a look-up borrows the request's token, access and tenant and allocates
//! nothing: it runs on every verified request.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::time::Instant;

/// A hasher for keys that are already hashes: it passes the `u64` through.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else still spreads well (FNV-1a).
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A fast keyed hash for the keys' parts (a token, an access, a tenant: a few dozen bytes),
/// eight bytes per multiply. The key is random per map; a collision only costs a miss,
/// since every hit is confirmed against its entry, and only verified tokens get entries.
#[derive(Debug, Clone, Copy)]
struct Keyed(u64);

/// An odd constant with well-spread bits (the golden ratio's).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl Keyed {
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.0 ^ word) * u128::from(MULTIPLIER);
        // Folding the high half in makes every input bit reach every output bit.
        #[allow(clippy::cast_possible_truncation)]
        {
            self.0 = (product as u64) ^ ((product >> 64) as u64);
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        // The length first, so zero padding of the tail cannot make two inputs equal.
        self.mix(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut word = [0; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn finish(self) -> u64 {
        let mut last = self;
        last.mix(MULTIPLIER);
        last.0
    }
}

type Entries<V> = HashMap<u64, (Instant, V), BuildHasherDefault<Prehashed>>;

/// Entries live `ttl` from insertion; at most `capacity` are kept (expired ones are
/// dropped first, then arbitrary ones), so memory stays bounded whatever callers send.
/// Keys are hashes under a per-map random key, so no caller can aim at collisions; a
/// collision only costs a miss, because every look-up confirms the entry is its key's.
#[derive(Debug)]
pub(crate) struct TtlMap<V> {
    map: RwLock<Entries<V>>,
    /// The hash key.
    seed: u64,
    ttl: Duration,
    capacity: usize,
}

impl<V: Clone> TtlMap<V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::default()),
            seed: RandomState::new().hash_one(0_u64),
            ttl,
            capacity,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries<V>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries<V>> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The hash a key is stored under. A key is up to three byte strings, some absent:
    /// each part is mixed in as its length then its bytes, an absent one as a length no
    /// byte string has, so parts cannot shift into each other. (Not `Hash`: the `str` and
    /// `Option` impls would mix a terminator and a discriminant per part, and this runs on
    /// every verified request.)
    pub(crate) fn hash_parts(&self, parts: [Option<&[u8]>; 3]) -> u64 {
        let mut hasher = Keyed(self.seed);
        for part in parts {
            match part {
                Some(bytes) => hasher.write(bytes),
                None => hasher.mix(u64::MAX),
            }
        }
        hasher.finish()
    }

    /// The live entry stored under `hash` for which `is_key` holds.
    pub(crate) fn get(&self, hash: u64, is_key: impl FnOnce(&V) -> bool) -> Option<V> {
        let now = Instant::now();
        let map = self.read();
        let (deadline, value) = map.get(&hash)?;
        (*deadline > now && is_key(value)).then(|| value.clone())
    }

    /// Stores `value` under `hash` (replacing whatever was there).
    pub(crate) fn insert(&self, hash: u64, value: V) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut map = self.write();
        if map.len() >= self.capacity && !map.contains_key(&hash) {
            map.retain(|_, (deadline, _)| *deadline > now);
            if map.len() >= self.capacity {
                // Still full of live entries: drop an eighth at once, so a flood of
                // distinct keys costs amortised O(1) per insert.
                let mut excess = map.len() + 1 - self.capacity + self.capacity / 8;
                map.retain(|_, _| {
                    if excess == 0 {
                        return true;
                    }
                    excess -= 1;
                    false
                });
            }
        }
        map.insert(hash, (now + self.ttl, value));
    }

    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(map: &TtlMap<impl Clone>, parts: [Option<&str>; 3]) -> u64 {
        map.hash_parts(parts.map(|p| p.map(str::as_bytes)))
    }

    #[test]
    fn a_colliding_hash_is_a_miss_not_a_wrong_hit() {
        let map = TtlMap::new(Duration::from_secs(60), 10);
        let h = key(&map, [Some("token"), Some("access"), None]);
        map.insert(h, "token/access".to_owned());
        assert_eq!(
            map.get(h, |v| v == "token/access").as_deref(),
            Some("token/access")
        );
        // Same slot, another key: the confirmation refuses it.
        assert_eq!(map.get(h, |v| v == "other/access"), None);
    }

    #[test]
    fn parts_cannot_shift_into_each_other() {
        let map = TtlMap::<()>::new(Duration::from_secs(60), 10);
        let h = |a, b, c| key(&map, [a, b, c]);
        assert_ne!(
            h(Some("ab"), Some("c"), None),
            h(Some("a"), Some("bc"), None)
        );
        assert_ne!(h(Some("a"), None, Some("b")), h(Some("a"), Some("b"), None));
        assert_ne!(h(Some("a"), Some(""), None), h(Some("a"), None, None));
    }

    #[test]
    fn zero_padding_does_not_collide() {
        let map = TtlMap::<()>::new(Duration::from_secs(60), 10);
        assert_ne!(
            key(&map, [Some("ab"), None, None]),
            key(&map, [Some("ab\0"), None, None])
        );
    }

    #[test]
    fn stays_bounded() {
        let map = TtlMap::new(Duration::from_secs(60), 16);
        for i in 0..1000_u32 {
            map.insert(map.hash_parts([Some(&i.to_le_bytes()), None, None]), i);
        }
        assert!(map.len() <= 16);
    }
}
