//! The L2 flow of `SharedSource` over the in-memory store: many caches (standing in for
//! processes) share one credential, refresh it once per expiry, never lose a rotated
//! refresh token, and wait for a lease holder instead of fetching alongside it.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on failure too

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use pbx_auth_core::store::{
    InMemoryStore, SharedOptions, SharedSource, SharedStore, StoredToken, WriteOutcome,
};
use pbx_auth_core::{Clock, Error, ErrorKind, Issued, RefreshPolicy, TokenCache, TokenSource};

/// A server with rotating refresh tokens: the token is "generation n"; refreshing from
/// anything but the newest generation is reuse and revokes the grant.
#[derive(Debug, Default)]
struct RotatingServer {
    generation: AtomicU64,
    refreshes: AtomicU64,
    reuse: AtomicU64,
    delay: Duration,
}

#[derive(Debug, Clone, PartialEq)]
struct Gen(u64);

impl StoredToken for Gen {
    fn to_stored(&self) -> Vec<u8> {
        self.0.to_be_bytes().to_vec()
    }
    fn from_stored(bytes: &[u8]) -> Result<Self, Error> {
        let b: [u8; 8] = bytes
            .try_into()
            .map_err(|_| Error::new(ErrorKind::Protocol, "bad"))?;
        Ok(Self(u64::from_be_bytes(b)))
    }
}

#[derive(Debug)]
struct Source(Arc<RotatingServer>, Duration);

impl TokenSource for Source {
    type Token = Gen;
    async fn fetch(&self, previous: Option<&Gen>) -> Result<Issued<Gen>, Error> {
        let server = &self.0;
        tokio::time::sleep(server.delay).await;
        let newest = server.generation.load(Ordering::SeqCst);
        if previous.map_or(0, |g| g.0) != newest {
            server.reuse.fetch_add(1, Ordering::SeqCst);
            return Err(Error::new(ErrorKind::InvalidCredentials, "invalid_grant"));
        }
        server.refreshes.fetch_add(1, Ordering::SeqCst);
        let next = server.generation.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Issued::new(Gen(next), Some(self.1)))
    }
}

/// Wall-clock time that follows tokio's (paused) clock, as the system clock follows real
/// time.
#[derive(Debug)]
struct PausedClock {
    wall: SystemTime,
    at: tokio::time::Instant,
}

impl Default for PausedClock {
    fn default() -> Self {
        Self {
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            at: START.with(|s| *s),
        }
    }
}

thread_local! {
    // One origin per test runtime, so every clone agrees.
    static START: tokio::time::Instant = tokio::time::Instant::now();
}

impl Clock for PausedClock {
    fn now(&self) -> SystemTime {
        self.wall + self.at.elapsed()
    }
}

fn fleet(
    server: &Arc<RotatingServer>,
    store: &Arc<InMemoryStore>,
    n: usize,
    lifetime: Duration,
) -> Vec<TokenCache<SharedSource<Source>>> {
    (0..n)
        .map(|_| {
            let store: Arc<dyn SharedStore> = store.clone();
            TokenCache::with_policy(
                SharedSource::new(
                    Source(Arc::clone(server), lifetime),
                    store,
                    "fleet:test",
                    SharedOptions::default().with_poll_interval(Duration::from_millis(5)),
                )
                .with_clock(Arc::new(PausedClock::default())),
                RefreshPolicy::default().with_jitter(0.0),
            )
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn cold_fleet_fetches_once_and_refreshes_once_per_expiry() {
    let server = Arc::new(RotatingServer {
        delay: Duration::from_millis(50),
        ..RotatingServer::default()
    });
    let store = Arc::new(InMemoryStore::new());
    let lifetime = Duration::from_secs(4);
    let caches = fleet(&server, &store, 8, lifetime);
    let all = futures_join(&caches).await;
    assert!(all.iter().all(|t| *t == Gen(1)), "{all:?}");
    assert_eq!(server.refreshes.load(Ordering::SeqCst), 1);

    // Ten lifetimes of steady traffic from every member.
    for _ in 0..400 {
        tokio::time::advance(Duration::from_millis(100)).await;
        for cache in &caches {
            cache.get().await.unwrap();
        }
    }
    let refreshes = server.refreshes.load(Ordering::SeqCst);
    assert_eq!(server.reuse.load(Ordering::SeqCst), 0);
    // 40 s of 4 s tokens refreshed at three quarters: one refresh per 3 s, not eight.
    assert!((13..=15).contains(&refreshes), "{refreshes} refreshes");
    let fetched: u64 = caches.iter().map(|c| c.source().fetch_count()).sum();
    assert_eq!(fetched, refreshes);
}

async fn futures_join(caches: &[TokenCache<SharedSource<Source>>]) -> Vec<Gen> {
    let mut handles = Vec::new();
    for cache in caches {
        let cache = cache.clone();
        handles.push(tokio::spawn(async move { cache.get().await.unwrap() }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push((*h.await.unwrap()).clone());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_warm_l1_never_touches_the_store() {
    let server = Arc::new(RotatingServer::default());
    let store = Arc::new(InMemoryStore::new());
    let caches = fleet(&server, &store, 1, Duration::from_secs(3600));
    caches[0].get().await.unwrap();
    let calls = caches[0].source().store_calls();
    for _ in 0..1000 {
        caches[0].get().await.unwrap();
    }
    assert_eq!(caches[0].source().store_calls(), calls);
}

#[tokio::test(start_paused = true)]
async fn a_dead_holders_lease_runs_out_and_another_takes_over() {
    let server = Arc::new(RotatingServer::default());
    let store = Arc::new(InMemoryStore::new());
    // A holder that took the lease and died before writing.
    let ttl = Duration::from_secs(30);
    let dead = store.acquire("fleet:test", ttl).await.unwrap().unwrap();
    let caches = fleet(&server, &store, 2, Duration::from_secs(60));
    let started = tokio::time::Instant::now();
    let token = caches[0].get().await.unwrap();
    assert_eq!(*token, Gen(1));
    // It waited for the lease to run out rather than fetching alongside its holder.
    assert!(started.elapsed() >= ttl);
    assert_eq!(server.refreshes.load(Ordering::SeqCst), 1);
    // The dead holder, back from its pause, is fenced off.
    assert_eq!(
        store
            .write("fleet:test", Some(1), &dead, b"stale")
            .await
            .unwrap(),
        WriteOutcome::Fenced
    );
    assert_eq!(*caches[1].get().await.unwrap(), Gen(1));
}

#[tokio::test(start_paused = true)]
async fn an_invalidated_credential_is_refreshed_once_for_the_fleet() {
    let server = Arc::new(RotatingServer::default());
    let store = Arc::new(InMemoryStore::new());
    let caches = fleet(&server, &store, 2, Duration::from_secs(3600));
    let first = caches[0].get().await.unwrap();
    let second = caches[1].get().await.unwrap();
    // Both saw a 401 for generation 1.
    caches[0].invalidate(&first);
    caches[1].invalidate(&second);
    assert_eq!(*caches[0].get().await.unwrap(), Gen(2));
    assert_eq!(*caches[1].get().await.unwrap(), Gen(2));
    assert_eq!(server.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(server.reuse.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_garbage_record_is_a_typed_error() {
    let server = Arc::new(RotatingServer::default());
    let store = Arc::new(InMemoryStore::new());
    let lease = store
        .acquire("fleet:test", Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    store
        .write("fleet:test", None, &lease, b"junk")
        .await
        .unwrap();
    store.release("fleet:test", &lease).await.unwrap();
    let caches = fleet(&server, &store, 1, Duration::from_secs(60));
    let err = caches[0].get().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[tokio::test]
async fn a_stored_login_is_handed_out_and_a_cleared_one_stays_cleared() {
    let store = Arc::new(InMemoryStore::new());
    let options = SharedOptions::default();
    assert!(
        pbx_auth_core::store::load_token::<Gen>(&*store, "k")
            .await
            .unwrap()
            .is_none()
    );
    // The server is at generation 1; asking it with no refresh token is refused.
    let server = Arc::new(RotatingServer::default());
    server.generation.store(1, Ordering::SeqCst);
    let v1 = pbx_auth_core::store::store_token(
        &*store,
        "k",
        &options,
        &Issued::new(Gen(1), Some(Duration::from_secs(300))),
    )
    .await
    .unwrap();
    let loaded = pbx_auth_core::store::load_token::<Gen>(&*store, "k")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.token, Gen(1));
    assert!(loaded.lifetime.unwrap() <= Duration::from_secs(300));
    // A cache over the same key uses the stored login without asking the server.
    let cache = TokenCache::new(SharedSource::new(
        Source(Arc::clone(&server), Duration::from_secs(300)),
        Arc::clone(&store) as Arc<dyn SharedStore>,
        "k",
        options.clone(),
    ));
    assert_eq!(*cache.get().await.unwrap(), Gen(1));
    assert_eq!(server.refreshes.load(Ordering::SeqCst), 0);
    pbx_auth_core::store::clear_token(&*store, "k", &options)
        .await
        .unwrap();
    let cleared = store.load("k").await.unwrap().unwrap();
    assert!(cleared.version > v1 && cleared.value.is_empty());
    assert!(
        pbx_auth_core::store::load_token::<Gen>(&*store, "k")
            .await
            .unwrap()
            .is_none()
    );
    // A refresh after the logout does not bring the old login back from an L1.
    let err = cache.force_refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCredentials);
    assert!(store.load("k").await.unwrap().unwrap().value.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_waiter_takes_over_one_poll_step_after_the_lease_runs_out_and_gives_up_at_max_wait() {
    let server = Arc::new(RotatingServer::default());
    let store = Arc::new(InMemoryStore::new());
    let ttl = Duration::from_secs(30);
    let _dead = store.acquire("fleet:test", ttl).await.unwrap().unwrap();
    let caches = fleet(&server, &store, 1, Duration::from_secs(60));
    let started = tokio::time::Instant::now();
    caches[0].get().await.unwrap();
    // Polling backs off to eight poll intervals (5 ms here) at most.
    let waited = started.elapsed();
    assert!(
        waited >= ttl && waited <= ttl + Duration::from_millis(40 + 5),
        "{waited:?}"
    );

    // A lease that outlives `max_wait`: the waiter gives up with a transient timeout and
    // never fetches alongside the holder.
    let store = Arc::new(InMemoryStore::new());
    let _held = store
        .acquire("fleet:test", Duration::from_secs(3600))
        .await
        .unwrap()
        .unwrap();
    let source = SharedSource::new(
        Source(Arc::clone(&server), Duration::from_secs(60)),
        Arc::clone(&store) as Arc<dyn SharedStore>,
        "fleet:test",
        SharedOptions::default().with_max_wait(Duration::from_secs(2)),
    );
    let before = server.refreshes.load(Ordering::SeqCst);
    let started = tokio::time::Instant::now();
    let err = source.fetch(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_transient());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited <= Duration::from_millis(2200),
        "{waited:?}"
    );
    assert_eq!(server.refreshes.load(Ordering::SeqCst), before);
}
