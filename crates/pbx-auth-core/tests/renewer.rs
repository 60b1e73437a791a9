//! The token renewer on a paused clock: schedule (on the cache's `RefreshPolicy`),
//! backoff, subscribers, stop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbx_auth_core::{Error, ErrorKind, Issued, RefreshPolicy, TokenRenewer, TokenSource};
use tokio::time::Instant;

/// The reference's schedule: renew at 0.8 of the lifetime, no jitter, no minimum margin.
fn reference() -> RefreshPolicy {
    RefreshPolicy::default()
        .with_refresh_fraction(0.8)
        .with_jitter(0.0)
        .with_min_remaining(Duration::ZERO)
}

fn renewer(source: &Scripted) -> TokenRenewer<Scripted> {
    TokenRenewer::new(source.clone()).policy(reference())
}

/// A source that answers from a script and records when it was asked.
#[derive(Debug, Clone, Default)]
struct Scripted {
    script: Arc<Mutex<VecDeque<bool>>>,
    calls: Arc<Mutex<Vec<Instant>>>,
    revoked: Arc<Mutex<Vec<String>>>,
    issued: Arc<AtomicUsize>,
}

impl Scripted {
    fn new(script: &[bool]) -> Self {
        let s = Self::default();
        s.script
            .lock()
            .expect("lock")
            .extend(script.iter().copied());
        s
    }

    /// Call times in seconds since `start`.
    fn offsets(&self, start: Instant) -> Vec<u64> {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .map(|t| (*t - start).as_secs())
            .collect()
    }
}

impl TokenSource for Scripted {
    type Token = String;

    async fn fetch(&self, _previous: Option<&String>) -> Result<Issued<String>, Error> {
        self.calls.lock().expect("lock").push(Instant::now());
        let ok = self
            .script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(true);
        if ok {
            let n = self.issued.fetch_add(1, Ordering::SeqCst);
            Ok(Issued::new(
                format!("token-{n}"),
                Some(Duration::from_secs(100)),
            ))
        } else {
            Err(Error::new(ErrorKind::Transport, "down"))
        }
    }

    async fn revoke(&self, token: &String) -> Result<(), Error> {
        self.revoked.lock().expect("lock").push(token.clone());
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn renews_at_the_policys_refresh_point() {
    let source = Scripted::new(&[]);
    let start = Instant::now();
    let handle = renewer(&source).start().await;
    assert_eq!(
        handle.token().as_deref().map(String::as_str),
        Some("token-0")
    );
    tokio::time::sleep(Duration::from_secs(250)).await;
    assert_eq!(source.offsets(start), vec![0, 80, 160, 240]);
    handle.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn backs_off_then_resets_after_a_success() {
    // First try fails, then 6 more failures, then success, then one failure.
    let source = Scripted::new(&[false, false, false, false, false, false, false, true, false]);
    let start = Instant::now();
    let handle = renewer(&source).start().await;
    assert!(handle.token().is_none());
    tokio::time::sleep(Duration::from_secs(200)).await;
    // 0, +1, +2, +4, +8, +16, +32, +32 (success at 95), +80 (fails at 175), +1 (176).
    assert_eq!(
        source.offsets(start),
        vec![0, 1, 3, 7, 15, 31, 63, 95, 175, 176]
    );
    assert_eq!(
        handle.token().as_deref().map(String::as_str),
        Some("token-1")
    );
    handle.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn subscribers_see_tokens_and_a_panicking_one_breaks_nothing() {
    let source = Scripted::new(&[]);
    let handle = renewer(&source).start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let once = Arc::new(Mutex::new(Vec::new()));
    handle.subscribe(|_: &String| panic!("a broken subscriber"));
    let s = Arc::clone(&seen);
    handle.subscribe(move |t: &String| s.lock().expect("lock").push(t.clone()));
    let o = Arc::clone(&once);
    handle.subscribe_next(move |t: &String| o.lock().expect("lock").push(t.clone()));
    let mut watch = handle.watch();
    tokio::time::sleep(Duration::from_secs(170)).await;
    assert_eq!(*seen.lock().expect("lock"), vec!["token-1", "token-2"]);
    assert_eq!(*once.lock().expect("lock"), vec!["token-1"]);
    assert_eq!(
        watch.borrow_and_update().as_deref().map(String::as_str),
        Some("token-2")
    );
    handle.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn stop_ends_the_task_and_can_revoke() {
    let source = Scripted::new(&[]);
    let handle = renewer(&source).revoke_on_stop(true).start().await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    handle.stop().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1000)).await;
    assert_eq!(source.calls.lock().expect("lock").len(), 1);
    assert_eq!(*source.revoked.lock().expect("lock"), vec!["token-0"]);

    let quiet = Scripted::new(&[]);
    renewer(&quiet).start().await.stop().await.unwrap();
    assert!(quiet.revoked.lock().expect("lock").is_empty());
}

#[tokio::test(start_paused = true)]
async fn custom_backoff_repeats_its_last_delay() {
    let source = Scripted::new(&[false, false, false, false]);
    let start = Instant::now();
    let handle = renewer(&source)
        .backoff(vec![Duration::from_secs(5), Duration::from_secs(7)])
        .start()
        .await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(source.offsets(start), vec![0, 5, 12, 19, 26]);
    handle.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_default_policy_is_the_caches() {
    // Default policy, 100 s tokens: the margin is max(25 s, 60 s) capped at half the
    // lifetime, 50 s, plus up to 20% of it as jitter: a renewal between 40 s and 50 s.
    let source = Scripted::new(&[]);
    let start = Instant::now();
    let handle = TokenRenewer::new(source.clone()).start().await;
    tokio::time::sleep(Duration::from_secs(51)).await;
    let offsets = source.offsets(start);
    assert_eq!(offsets.len(), 2, "{offsets:?}");
    assert!((40..=50).contains(&offsets[1]), "{offsets:?}");
    handle.stop().await.unwrap();
}

/// A source whose credentials never expire.
#[derive(Debug, Clone, Default)]
struct Eternal(Arc<AtomicUsize>);

impl TokenSource for Eternal {
    type Token = String;

    async fn fetch(&self, _previous: Option<&String>) -> Result<Issued<String>, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Issued::non_expiring("forever".to_owned()))
    }
}

#[tokio::test(start_paused = true)]
async fn a_credential_without_lifetime_is_not_renewed() {
    let source = Eternal::default();
    let handle = TokenRenewer::new(source.clone()).start().await;
    tokio::time::sleep(Duration::from_secs(1_000_000)).await;
    assert_eq!(source.0.load(Ordering::SeqCst), 1);
    handle.stop().await.unwrap();
}
