//! The server-side verifier: time window, replay rules, uniform failures, options.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kalliope_auth::verifier::{ParseError, RejectReason, ReplayScope, Verifier, VerifierConfig};
use kalliope_auth::{Credentials, SigningKey, XAuthSigner};
use pbx_auth_core::FixedClock;

const SALT: &str = "b5a8fdcf2f8d5acdad33c4a072a97d7a";
const T0: u64 = 1_700_000_000;

fn key(user: &str, password: &str) -> SigningKey {
    SigningKey::derive(&Credentials::new(user, password, "default").unwrap(), SALT).unwrap()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn verifier(config: VerifierConfig, now: u64) -> Verifier {
    let mut v = Verifier::new(config).with_clock(Arc::new(FixedClock::from_unix(now)));
    v.add_user("admin", "default", "admin", SALT).unwrap();
    v.add_user("bob", "default", "bob-pw", SALT).unwrap();
    v
}

fn header(k: &SigningKey, nonce: &str, created: u64) -> Vec<u8> {
    XAuthSigner::value_with(k, nonce, at(created))
        .unwrap()
        .as_bytes()
        .to_vec()
}

fn reason(v: &Verifier, value: &[u8]) -> RejectReason {
    v.verify_value(value).unwrap_err().reason()
}

#[test]
fn window_is_inclusive_both_ways() {
    let k = key("admin", "admin");
    let v = verifier(VerifierConfig::default(), T0);
    assert!(
        v.verify_value(&header(&k, "0000000000000001", T0 - 300))
            .is_ok()
    );
    assert!(
        v.verify_value(&header(&k, "0000000000000002", T0 + 300))
            .is_ok()
    );
    assert_eq!(
        reason(&v, &header(&k, "0000000000000003", T0 - 301)),
        RejectReason::OutsideWindow
    );
    assert_eq!(
        reason(&v, &header(&k, "0000000000000004", T0 + 301)),
        RejectReason::OutsideWindow
    );
    let strict = verifier(VerifierConfig::default().with_reject_future(true), T0);
    assert_eq!(
        reason(&strict, &header(&k, "0000000000000005", T0 + 1)),
        RejectReason::Future
    );
}

#[test]
fn replay_is_refused_and_bad_digests_do_not_burn_nonces() {
    let k = key("admin", "admin");
    let wrong = key("admin", "not-admin");
    let v = verifier(VerifierConfig::default(), T0);
    let good = header(&k, "abcdef0123456789", T0);
    let bad = header(&wrong, "abcdef0123456789", T0);
    assert_eq!(reason(&v, &bad), RejectReason::BadDigest);
    assert!(v.verify_value(&good).is_ok());
    assert_eq!(reason(&v, &good), RejectReason::Replayed);
    assert_eq!(v.replay_entries(), 1);

    // Cookbook mode: the nonce is burned before the digest check.
    let burn = verifier(
        VerifierConfig::default().with_insert_before_digest(true),
        T0,
    );
    assert_eq!(reason(&burn, &bad), RejectReason::BadDigest);
    assert_eq!(reason(&burn, &good), RejectReason::Replayed);
}

/// A clock whose wall and monotonic readings the test sets: both advance together unless
/// the test steps the wall clock alone.
#[derive(Debug)]
struct Step {
    wall: std::sync::atomic::AtomicU64,
    mono: std::sync::atomic::AtomicU64,
}

impl Step {
    fn at(secs: u64) -> Self {
        Self {
            wall: std::sync::atomic::AtomicU64::new(secs),
            mono: std::sync::atomic::AtomicU64::new(secs),
        }
    }

    /// Real time passes: both clocks move.
    fn store(&self, secs: u64) {
        let before = self.wall.swap(secs, std::sync::atomic::Ordering::SeqCst);
        self.mono.fetch_add(
            secs.saturating_sub(before),
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// Someone sets the wall clock: only it moves.
    fn step_wall(&self, secs: u64) {
        self.wall.store(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl pbx_auth_core::Clock for Step {
    fn now(&self) -> SystemTime {
        at(self.wall.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn monotonic(&self) -> Duration {
        Duration::from_secs(self.mono.load(std::sync::atomic::Ordering::SeqCst))
    }
}

// Issue 13, item 9: the replay cache expired entries on the wall clock, so a clock
// stepped forward past the window (one sweep) and back let a replay through.
#[test]
fn a_wall_clock_stepped_forward_and_back_does_not_let_a_replay_through() {
    let k = key("admin", "admin");
    let clock = Arc::new(Step::at(T0));
    let mut v = Verifier::default().with_clock(clock.clone());
    v.add_key(&k);
    let value = header(&k, "abcdabcdabcdabcd", T0);
    assert!(v.verify_value(&value).is_ok());
    // The wall clock jumps an hour ahead; requests keep coming (and sweeping).
    clock.step_wall(T0 + 3_600);
    for i in 0..50 {
        let other = header(&k, &format!("{i:016x}"), T0 + 3_600);
        assert!(v.verify_value(&other).is_ok());
    }
    // Stepped back: the header is inside the window again, and still refused.
    clock.step_wall(T0 + 1);
    assert_eq!(reason(&v, &value), RejectReason::Replayed);
}

#[test]
fn default_cache_is_bounded() {
    assert_eq!(
        VerifierConfig::default().max_entries,
        Some(kalliope_auth::verifier::DEFAULT_MAX_REPLAY_ENTRIES)
    );
}

// Issue 13, item 9: in `insert_before_digest` mode every bad header took a cache slot, so
// junk filled a bounded cache and locked out verified requests.
#[test]
fn junk_cannot_fill_the_cache_in_insert_before_digest_mode() {
    let k = key("admin", "admin");
    let stranger = key("mallory", "x");
    let v = verifier(
        VerifierConfig::default()
            .with_insert_before_digest(true)
            .with_max_entries(Some(40)),
        T0,
    );
    for i in 0..1_000u32 {
        let junk = header(&stranger, &format!("{i:016x}"), T0);
        assert_eq!(reason(&v, &junk), RejectReason::UnknownUser);
    }
    assert!(v.replay_entries() <= 10, "{}", v.replay_entries());
    for i in 0..30u32 {
        let good = header(&k, &format!("{:016x}", 1_000_000 + i), T0);
        assert!(v.verify_value(&good).is_ok(), "{i}");
    }
    // A nonce burned by a bad header stays burned for a good one.
    assert_eq!(
        reason(&v, &header(&k, &format!("{:016x}", 0), T0)),
        RejectReason::Replayed
    );
}

#[test]
fn nonce_is_kept_until_created_plus_skew() {
    let k = key("admin", "admin");
    // A header stamped 300 s ahead, received now, replayed 500 s later: still refused,
    // because its nonce is kept until created + 300 s, not receipt + 300 s.
    let value = header(&k, "1111222233334444", T0 + 300);
    let clock = Arc::new(Step::at(T0));
    let mut v = Verifier::default().with_clock(clock.clone());
    v.add_key(&k);
    assert!(v.verify_value(&value).is_ok());
    clock.store(T0 + 500);
    assert_eq!(reason(&v, &value), RejectReason::Replayed);
    clock.store(T0 + 700);
    assert_eq!(reason(&v, &value), RejectReason::OutsideWindow);
    // Expired entries are swept.
    let other = header(&k, "5555666677778888", T0 + 700);
    assert!(v.verify_value(&other).is_ok());
    assert_eq!(v.replay_entries(), 1);
}

#[test]
fn replay_scopes() {
    let admin = key("admin", "admin");
    let bob = key("bob", "bob-pw");
    let global = verifier(VerifierConfig::default(), T0);
    assert!(
        global
            .verify_value(&header(&admin, "0123456789abcdef", T0))
            .is_ok()
    );
    assert_eq!(
        reason(&global, &header(&bob, "0123456789abcdef", T0)),
        RejectReason::Replayed
    );
    let per_user = verifier(
        VerifierConfig::default().with_replay_scope(ReplayScope::PerUser),
        T0,
    );
    assert!(
        per_user
            .verify_value(&header(&admin, "0123456789abcdef", T0))
            .is_ok()
    );
    assert!(
        per_user
            .verify_value(&header(&bob, "0123456789abcdef", T0))
            .is_ok()
    );
}

#[test]
fn bounded_cache_fails_closed() {
    let k = key("admin", "admin");
    let v = verifier(VerifierConfig::default().with_max_entries(Some(2)), T0);
    assert!(v.verify_value(&header(&k, "00000001", T0)).is_ok());
    assert!(v.verify_value(&header(&k, "00000002", T0)).is_ok());
    assert_eq!(
        reason(&v, &header(&k, "00000003", T0)),
        RejectReason::ReplayCacheFull
    );
}

#[test]
fn unknown_users_and_headers() {
    let stranger = key("mallory", "x");
    let v = verifier(VerifierConfig::default(), T0);
    assert_eq!(
        reason(&v, &header(&stranger, "00000000aaaa", T0)),
        RejectReason::UnknownUser
    );
    let mut headers = http::HeaderMap::new();
    assert_eq!(
        v.verify_headers(&headers).unwrap_err().reason(),
        RejectReason::Missing
    );
    let k = key("admin", "admin");
    let value = http::HeaderValue::from_bytes(&header(&k, "00000000bbbb", T0)).unwrap();
    headers.append("X-Authenticate", value.clone());
    assert!(v.verify_headers(&headers).is_ok());
    headers.append("x-authenticate", value);
    assert_eq!(
        v.verify_headers(&headers).unwrap_err().reason(),
        RejectReason::Duplicate
    );
    assert_eq!(
        reason(&v, b"Basic YWRtaW46YWRtaW4="),
        RejectReason::Malformed(ParseError::Scheme)
    );
}

#[test]
fn lenient_mode_accepts_reordered_fields() {
    let k = key("admin", "admin");
    let canonical = String::from_utf8(header(&k, "00000000cccc", T0)).unwrap();
    let fields: Vec<&str> = canonical
        .trim_start_matches("RestApiUsernameToken ")
        .split(", ")
        .collect();
    let reordered = format!(
        "RestApiUsernameToken {}",
        fields
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>()
            .join(" ,  ")
    );
    let strict = verifier(VerifierConfig::default(), T0);
    assert!(matches!(
        reason(&strict, reordered.as_bytes()),
        RejectReason::Malformed(_)
    ));
    let lenient = verifier(VerifierConfig::default().with_lenient(true), T0);
    assert!(lenient.verify_value(reordered.as_bytes()).is_ok());
}

#[test]
fn failures_look_the_same_to_the_client() {
    let v = verifier(VerifierConfig::default(), T0);
    let k = key("admin", "admin");
    let texts: Vec<String> = [
        b"nonsense".to_vec(),
        header(&key("mallory", "x"), "00000000dddd", T0),
        header(&key("admin", "bad"), "00000000eeee", T0),
        header(&k, "00000000ffff", T0 - 1000),
    ]
    .iter()
    .map(|h| v.verify_value(h).unwrap_err().to_string())
    .collect();
    assert!(
        texts.iter().all(|t| t == "authentication failed"),
        "{texts:?}"
    );
}

#[test]
fn concurrent_replays_pass_once() {
    let k = key("admin", "admin");
    let v = Arc::new(verifier(VerifierConfig::default(), T0));
    let value = Arc::new(header(&k, "0f0f0f0f0f0f0f0f", T0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let v = Arc::clone(&v);
            let value = Arc::clone(&value);
            std::thread::spawn(move || v.verify_value(&value).is_ok())
        })
        .collect();
    let passed = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(passed, 1);
    assert_eq!(v.replay_entries(), 1);
}
