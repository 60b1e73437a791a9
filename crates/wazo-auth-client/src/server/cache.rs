//! A small bounded map whose entries expire, for positive decisions and token details.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Entries live `ttl` from insertion; at most `capacity` are kept (expired ones are
/// dropped first, then arbitrary ones), so memory stays bounded whatever callers send.
#[derive(Debug)]
pub(crate) struct TtlMap<K, V> {
    map: Mutex<HashMap<K, (Instant, V)>>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let now = Instant::now();
        let map = self.lock();
        let (deadline, value) = map.get(key)?;
        (*deadline > now).then(|| value.clone())
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= self.capacity && !map.contains_key(&key) {
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
        map.insert(key, (now + self.ttl, value));
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
