//! `TokenCache` behaviour under concurrency, failures and time (tokio's paused clock).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pbx_auth_core::{
    AccessToken, Error, ErrorKind, Issued, RefreshPolicy, TokenCache, TokenSource,
};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// What the next fetch does.
#[derive(Debug, Clone, Copy)]
enum Next {
    Succeed,
    Fail,
}

/// A source that counts fetches, takes 50 ms (paused clock) and succeeds or fails on demand.
#[derive(Debug)]
struct Counting {
    fetches: AtomicUsize,
    revokes: AtomicUsize,
    lifetime: Duration,
    next: Mutex<Next>,
}

impl Counting {
    fn new(lifetime: Duration) -> Arc<Self> {
        Arc::new(Self {
            fetches: AtomicUsize::new(0),
            revokes: AtomicUsize::new(0),
            lifetime,
            next: Mutex::new(Next::Succeed),
        })
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    async fn set(&self, next: Next) {
        *self.next.lock().await = next;
    }
}

#[derive(Debug, Clone)]
struct Shared(Arc<Counting>);

impl TokenSource for Shared {
    type Token = AccessToken;

    async fn fetch(&self, _previous: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        let n = self.0.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        match *self.0.next.lock().await {
            Next::Succeed => Ok(Issued::new(
                AccessToken::new(format!("token-{n}")),
                Some(self.0.lifetime),
            )),
            Next::Fail => Err(Error::new(ErrorKind::Transport, "server unreachable")),
        }
    }

    async fn revoke(&self, _token: &AccessToken) -> Result<(), Error> {
        self.0.revokes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn policy() -> RefreshPolicy {
    RefreshPolicy::default()
        .with_jitter(0.0)
        .with_refresh_fraction(0.75)
        .with_min_remaining(Duration::from_secs(10))
        .with_failure_backoff(Duration::from_secs(5))
}

#[tokio::test(start_paused = true)]
async fn thousand_concurrent_gets_on_a_cold_cache_fetch_once() {
    let source = Counting::new(Duration::from_secs(3600));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    let mut set = JoinSet::new();
    for _ in 0..1000 {
        let cache = cache.clone();
        set.spawn(async move { cache.get().await });
    }
    let mut tokens = Vec::new();
    while let Some(result) = set.join_next().await {
        tokens.push(result.unwrap().unwrap());
    }
    assert_eq!(source.fetches(), 1);
    assert_eq!(tokens.len(), 1000);
    assert!(tokens.iter().all(|t| Arc::ptr_eq(t, &tokens[0])));
}

#[tokio::test(start_paused = true)]
async fn failed_refresh_inside_the_window_keeps_serving_the_old_token() {
    let source = Counting::new(Duration::from_secs(100));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    let first = cache.get().await.unwrap();
    assert_eq!(first.expose_secret(), "token-1");

    // Past the refresh point (75 s), before expiry (100 s).
    tokio::time::advance(Duration::from_secs(80)).await;
    source.set(Next::Fail).await;
    let mut set = JoinSet::new();
    for _ in 0..50 {
        let cache = cache.clone();
        set.spawn(async move { cache.get().await });
    }
    while let Some(result) = set.join_next().await {
        let token = result.unwrap().expect("no caller sees the refresh failure");
        assert_eq!(token.expose_secret(), "token-1");
    }
    assert_eq!(
        source.fetches(),
        2,
        "one refresh attempt, not one per caller"
    );

    // Within the backoff the failing refresh is not retried.
    assert_eq!(cache.get().await.unwrap().expose_secret(), "token-1");
    assert_eq!(source.fetches(), 2);

    // After the backoff, a working server gives a new token.
    tokio::time::advance(Duration::from_secs(6)).await;
    source.set(Next::Succeed).await;
    let refreshed = cache.get().await.unwrap();
    assert_eq!(
        refreshed.expose_secret(),
        "token-3",
        "the refreshing caller gets the new token"
    );
    assert_eq!(cache.get().await.unwrap().expose_secret(), "token-3");
}

#[tokio::test(start_paused = true)]
async fn failure_with_no_token_reaches_every_waiter_and_is_cached_for_the_backoff() {
    let source = Counting::new(Duration::from_secs(100));
    source.set(Next::Fail).await;
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    let mut set = JoinSet::new();
    for _ in 0..100 {
        let cache = cache.clone();
        set.spawn(async move { cache.get().await });
    }
    while let Some(result) = set.join_next().await {
        let err = result.unwrap().expect_err("every waiter sees the failure");
        assert_eq!(err.kind(), ErrorKind::Transport);
    }
    assert_eq!(source.fetches(), 1);

    tokio::time::advance(Duration::from_secs(4)).await;
    assert!(cache.get().await.is_err());
    assert_eq!(source.fetches(), 1, "no second fetch inside the backoff");

    tokio::time::advance(Duration::from_secs(2)).await;
    source.set(Next::Succeed).await;
    assert_eq!(cache.get().await.unwrap().expose_secret(), "token-2");
    assert_eq!(source.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn invalidate_with_a_stale_token_is_a_no_op() {
    let source = Counting::new(Duration::from_secs(3600));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    let old = cache.get().await.unwrap();
    cache.invalidate(&old);
    let new = cache.get().await.unwrap();
    assert_eq!(new.expose_secret(), "token-2");

    // A late 401 for the old token must not drop the new one.
    cache.invalidate(&old);
    assert!(Arc::ptr_eq(&cache.get().await.unwrap(), &new));
    assert_eq!(source.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn serial_numbers_name_tokens_and_invalidate_only_their_own() {
    let source = Counting::new(Duration::from_secs(3600));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    assert!(cache.with_fresh(|_, _| ()).is_none(), "nothing cached yet");
    cache.get().await.unwrap();
    let (first, serial) = cache
        .with_fresh(|t, serial| (t.expose_secret().to_owned(), serial))
        .unwrap();
    assert_eq!(first, "token-1");
    assert_eq!(
        cache.with_fresh(|_, s| s),
        Some(serial),
        "stable while cached"
    );

    cache.invalidate_serial(serial);
    assert!(cache.with_fresh(|_, _| ()).is_none(), "dropped");
    cache.get().await.unwrap();
    let newer = cache.with_fresh(|_, s| s).unwrap();
    assert_ne!(newer, serial);

    // A late 401 for the old token must not drop the new one.
    cache.invalidate_serial(serial);
    assert_eq!(cache.with_fresh(|_, s| s), Some(newer));
    assert_eq!(source.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn with_fresh_leaves_a_token_past_its_refresh_point_to_get() {
    let source = Counting::new(Duration::from_secs(100));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    cache.get().await.unwrap();
    assert!(cache.with_fresh(|_, _| ()).is_some());
    tokio::time::advance(Duration::from_secs(99)).await;
    assert!(
        cache.with_fresh(|_, _| ()).is_none(),
        "soft-stale: get() refreshes"
    );
    assert!(cache.cached().is_some(), "but still valid");
}

#[tokio::test(start_paused = true)]
async fn expired_token_is_refetched_and_callers_wait_for_it() {
    let source = Counting::new(Duration::from_secs(100));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(101)).await;
    assert!(cache.cached().is_none(), "an expired token is never served");
    assert_eq!(cache.get().await.unwrap().expose_secret(), "token-2");
}

#[tokio::test(start_paused = true)]
async fn force_refresh_revoke_and_seed() {
    let source = Counting::new(Duration::from_secs(3600));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    cache.set(Issued::new(
        AccessToken::new("stored"),
        Some(Duration::from_secs(60)),
    ));
    assert_eq!(cache.get().await.unwrap().expose_secret(), "stored");
    assert_eq!(source.fetches(), 0, "a seeded token needs no fetch");

    assert_eq!(
        cache.force_refresh().await.unwrap().expose_secret(),
        "token-1"
    );
    cache.revoke().await.unwrap();
    assert_eq!(source.revokes.load(Ordering::SeqCst), 1);
    assert!(cache.cached().is_none());
    cache.revoke().await.unwrap();
    assert_eq!(
        source.revokes.load(Ordering::SeqCst),
        1,
        "nothing cached, nothing revoked"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_caller_does_not_abandon_the_fetch() {
    let source = Counting::new(Duration::from_secs(3600));
    let cache = TokenCache::with_policy(Shared(Arc::clone(&source)), policy());
    let pending = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get().await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    pending.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The detached fetch finished and published its token.
    assert_eq!(cache.cached().unwrap().expose_secret(), "token-1");
    assert_eq!(source.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn short_lifetimes_are_not_refreshed_on_every_call() {
    let source = Counting::new(Duration::from_secs(4));
    let cache = TokenCache::with_policy(
        Shared(Arc::clone(&source)),
        policy().with_min_remaining(Duration::from_secs(60)),
    );
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    cache.get().await.unwrap();
    assert_eq!(
        source.fetches(),
        1,
        "refreshes start at half the lifetime at the earliest"
    );
}

// A source may report any lifetime (a corrupted token file, a server's `expires_in` in the
// billions): the cache must neither panic adding it to the clock nor refresh at once.
#[tokio::test(start_paused = true)]
async fn an_absurd_lifetime_is_served_as_long_lived() {
    let source = Counting::new(Duration::MAX);
    let cache = TokenCache::new(Shared(Arc::clone(&source)));
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(365 * 24 * 60 * 60)).await;
    cache.get().await.unwrap();
    assert_eq!(source.fetches(), 1);
}
