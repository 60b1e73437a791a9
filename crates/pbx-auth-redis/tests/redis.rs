//! `RedisStore` against a real `redis-server` (started by `cargo xtask test`, which sets
//! `PBX_REDIS_URL`): leases, fencing, compare-and-set, release, sealing at rest and the
//! shared replay cache.
//!
//! Run by hand: `redis-server --port 6390 --save ''` and
//! `PBX_REDIS_URL=redis://127.0.0.1:6390/ cargo test -p pbx-auth-redis --test redis --
//! --ignored`.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pbx_auth_core::store::{ReplayStore, SharedOptions, SharedSource, SharedStore, WriteOutcome};
use pbx_auth_core::{AccessToken, Error, Issued, TokenCache, TokenSource};
use pbx_auth_redis::{RedisStore, SealingKey};

fn url() -> String {
    std::env::var("PBX_REDIS_URL").unwrap_or_else(|_| {
        panic!("PBX_REDIS_URL is not set: these tests need the redis-server that `cargo xtask test` starts")
    })
}

/// A store under a prefix of its own, so tests do not see each other's keys.
async fn store(test: &str) -> RedisStore {
    let key = SealingKey::from_bytes([42; 32]);
    let url = format!("{}?prefix=test-{test}-{}", url(), std::process::id());
    RedisStore::connect(&url, key).await.unwrap()
}

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs a real Redis; run by cargo xtask test"]
async fn lease_fence_compare_and_set_and_release() {
    let store = store("lease").await;
    let ttl = Duration::from_millis(300);
    let first = store.acquire("k", ttl).await.unwrap().unwrap();
    assert!(store.acquire("k", ttl).await.unwrap().is_none());
    assert_eq!(
        store.write("k", None, &first, b"v1").await.unwrap(),
        WriteOutcome::Written(1)
    );
    assert_eq!(
        store.write("k", None, &first, b"again").await.unwrap(),
        WriteOutcome::VersionChanged
    );
    // The holder pauses past its TTL; a successor takes a newer lease.
    tokio::time::sleep(ttl * 2).await;
    let second = store.acquire("k", ttl).await.unwrap().unwrap();
    assert!(second.fence() > first.fence());
    // The old fencing number is refused even with the right version.
    assert_eq!(
        store.write("k", Some(1), &first, b"stale").await.unwrap(),
        WriteOutcome::Fenced
    );
    // Its release does not free the successor's lease.
    assert!(!store.release("k", &first).await.unwrap());
    assert!(store.acquire("k", ttl).await.unwrap().is_none());
    assert_eq!(
        store.write("k", Some(1), &second, b"v2").await.unwrap(),
        WriteOutcome::Written(2)
    );
    assert!(store.release("k", &second).await.unwrap());
    let loaded = store.load("k").await.unwrap().unwrap();
    assert_eq!((loaded.version, loaded.value.as_slice()), (2, &b"v2"[..]));
    assert!(store.load("other").await.unwrap().is_none());
}

#[tokio::test]
#[ignore = "needs a real Redis; run by cargo xtask test"]
async fn a_dump_shows_no_credential() {
    let store = store("sealed").await;
    let lease = store
        .acquire("login", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    let secret = b"access-token-that-must-not-leak";
    store.write("login", None, &lease, secret).await.unwrap();
    let mut conn = raw().await;
    let pattern = format!("{}:*", store.prefix());
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(&pattern)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        let dumped: Option<Vec<u8>> = redis::cmd("DUMP")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let dumped = dumped.unwrap();
        assert!(
            !dumped.windows(secret.len()).any(|w| w == secret),
            "{key} leaks"
        );
    }
    // Another sealing key cannot open it: a typed error, not garbage.
    let other = RedisStore::connect(
        &format!("{}?prefix={}", url(), store.prefix()),
        SealingKey::from_bytes([1; 32]),
    )
    .await
    .unwrap();
    let err = other.load("login").await.unwrap_err();
    assert_eq!(err.kind(), pbx_auth_core::ErrorKind::Protocol);
}

#[tokio::test]
#[ignore = "needs a real Redis; run by cargo xtask test"]
async fn replay_keys_are_spent_once_and_hashed() {
    let store = store("replay").await;
    let ttl = Duration::from_secs(600);
    assert!(store.insert_once(b"nonce-1", ttl).await.unwrap());
    assert!(!store.insert_once(b"nonce-1", ttl).await.unwrap());
    assert!(store.insert_once(b"nonce-2", ttl).await.unwrap());
    let mut conn = raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:nonce:*", store.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    for key in &keys {
        assert!(!key.contains("nonce-"), "{key}");
        let left: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(left > 0 && left <= 600, "{left}");
    }
}

#[derive(Debug, Default)]
struct Counting(AtomicU64);

impl TokenSource for Counting {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(Issued::new(
            AccessToken::new(format!("token-{n}")),
            Some(Duration::from_secs(300)),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real Redis; run by cargo xtask test"]
async fn eight_cold_caches_fetch_once() {
    let store: Arc<dyn SharedStore> = Arc::new(store("cold").await);
    let caches: Vec<_> = (0..8)
        .map(|_| {
            TokenCache::new(SharedSource::new(
                Counting::default(),
                Arc::clone(&store),
                "login",
                SharedOptions::default(),
            ))
        })
        .collect();
    let mut handles = Vec::new();
    for cache in &caches {
        let cache = cache.clone();
        handles.push(tokio::spawn(async move { cache.get().await.unwrap() }));
    }
    for handle in handles {
        assert_eq!(handle.await.unwrap().expose_secret(), "token-1");
    }
    let fetches: u64 = caches
        .iter()
        .map(|c| c.source().inner().0.load(Ordering::SeqCst))
        .sum();
    assert_eq!(fetches, 1);
}
