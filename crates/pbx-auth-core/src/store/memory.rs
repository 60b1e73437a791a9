//! [`InMemoryStore`]: the shared-store seams in one process's memory, for tests and for
//! single-process users who want the same code path as a fleet.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::{Lease, ReplayStore, SharedStore, StoreFuture, Versioned, WriteOutcome};

#[derive(Default)]
struct Slot {
    value: Option<Versioned>,
    /// The newest fencing number granted for this key.
    fence: u64,
    /// The live lease, if any, and when it runs out.
    lease: Option<(Lease, Instant)>,
}

#[derive(Default)]
struct State {
    slots: HashMap<String, Slot>,
    /// Spent one-time keys and when they may be forgotten.
    spent: HashMap<Vec<u8>, Instant>,
}

/// A [`SharedStore`] and [`ReplayStore`] in memory. Clone an `Arc` of it to share it
/// between the sources of one process. Time is tokio's, so paused-clock tests can let
/// leases run out.
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("InMemoryStore")
            .field("keys", &state.slots.len())
            .field("spent", &state.spent.len())
            .finish()
    }
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update below is complete before the guard drops, so a poisoned lock holds
        // consistent data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SharedStore for InMemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Versioned>> {
        let value = self.state().slots.get(key).and_then(|s| s.value.clone());
        Box::pin(async move { Ok(value) })
    }

    fn acquire<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<Lease>> {
        let result = Lease::random_holder().map(|holder| {
            let now = Instant::now();
            let mut state = self.state();
            let slot = state.slots.entry(key.to_owned()).or_default();
            if slot.lease.as_ref().is_some_and(|(_, until)| now < *until) {
                return None;
            }
            slot.fence += 1;
            let lease = Lease::new(slot.fence, holder);
            slot.lease = Some((lease.clone(), now + ttl));
            Some(lease)
        });
        Box::pin(async move { result })
    }

    fn write<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        lease: &'a Lease,
        value: &'a [u8],
    ) -> StoreFuture<'a, WriteOutcome> {
        let outcome = {
            let mut state = self.state();
            let slot = state.slots.entry(key.to_owned()).or_default();
            if lease.fence() < slot.fence {
                WriteOutcome::Fenced
            } else if slot.value.as_ref().map(|v| v.version) != expected {
                WriteOutcome::VersionChanged
            } else {
                let version = expected.unwrap_or(0) + 1;
                slot.value = Some(Versioned::new(version, value.to_vec()));
                WriteOutcome::Written(version)
            }
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a Lease) -> StoreFuture<'a, bool> {
        let released = {
            let mut state = self.state();
            match state.slots.get_mut(key) {
                Some(slot) if slot.lease.as_ref().is_some_and(|(l, _)| l == lease) => {
                    slot.lease = None;
                    true
                }
                _ => false,
            }
        };
        Box::pin(async move { Ok(released) })
    }
}

impl ReplayStore for InMemoryStore {
    fn insert_once<'a>(&'a self, key: &'a [u8], ttl: Duration) -> StoreFuture<'a, bool> {
        let fresh = {
            let now = Instant::now();
            let mut state = self.state();
            // Forget what has run out first, so the map stays as small as the window.
            state.spent.retain(|_, until| now < *until);
            match state.spent.entry(key.to_vec()) {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(now + ttl);
                    true
                }
            }
        };
        Box::pin(async move { Ok(fresh) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn lease_excludes_then_expires_and_fences_the_old_holder() {
        let store = InMemoryStore::new();
        let ttl = Duration::from_secs(10);
        let first = store.acquire("k", ttl).await.unwrap().unwrap();
        assert!(store.acquire("k", ttl).await.unwrap().is_none());
        tokio::time::advance(ttl + Duration::from_millis(1)).await;
        let second = store.acquire("k", ttl).await.unwrap().unwrap();
        assert!(second.fence() > first.fence());
        // The paused holder wakes up and writes: refused.
        assert_eq!(
            store.write("k", None, &first, b"old").await.unwrap(),
            WriteOutcome::Fenced
        );
        assert_eq!(
            store.write("k", None, &second, b"new").await.unwrap(),
            WriteOutcome::Written(1)
        );
        // Its release does not free the successor's lease.
        assert!(!store.release("k", &first).await.unwrap());
        assert!(store.acquire("k", ttl).await.unwrap().is_none());
        assert!(store.release("k", &second).await.unwrap());
        assert!(store.acquire("k", ttl).await.unwrap().is_some());
        assert_eq!(store.load("k").await.unwrap().unwrap().value, b"new");
    }

    #[tokio::test]
    async fn compare_and_set_on_the_version() {
        let store = InMemoryStore::new();
        let lease = store
            .acquire("k", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.write("k", Some(3), &lease, b"x").await.unwrap(),
            WriteOutcome::VersionChanged
        );
        assert_eq!(
            store.write("k", None, &lease, b"a").await.unwrap(),
            WriteOutcome::Written(1)
        );
        assert_eq!(
            store.write("k", None, &lease, b"b").await.unwrap(),
            WriteOutcome::VersionChanged
        );
        assert_eq!(
            store.write("k", Some(1), &lease, b"b").await.unwrap(),
            WriteOutcome::Written(2)
        );
        let debug = format!("{:?}", store.load("k").await.unwrap());
        assert!(!debug.contains("98"), "{debug}");
    }

    #[tokio::test(start_paused = true)]
    async fn replay_keys_are_spent_once_until_their_ttl() {
        let store = InMemoryStore::new();
        let ttl = Duration::from_secs(600);
        assert!(store.insert_once(b"n1", ttl).await.unwrap());
        assert!(!store.insert_once(b"n1", ttl).await.unwrap());
        assert!(store.insert_once(b"n2", ttl).await.unwrap());
        tokio::time::advance(ttl).await;
        assert!(store.insert_once(b"n1", ttl).await.unwrap());
    }
}
