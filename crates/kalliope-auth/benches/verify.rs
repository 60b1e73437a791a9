//! Verifier throughput (valid headers, bad digests, parsing alone), and verifications per
//! second on one thread with a fresh nonce each, printed as a `figure` line. The replay
//! cache's memory and eviction cost are in `benches/replay.rs`.

#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use kalliope_auth::verifier::{Verifier, VerifierConfig, parse_strict};
use kalliope_auth::{Credentials, SigningKey, XAuthSigner};
use pbx_auth_core::Clock;
use pbx_auth_core::nonce::SeqNonce;

const T0: u64 = 1_700_000_000;

/// A clock that moves one second every 4096 readings, so replay entries expire during a
/// long run and the cache stays the size a steady load would give it.
#[derive(Debug, Default)]
struct Ticking(AtomicU64);

impl Clock for Ticking {
    fn now(&self) -> SystemTime {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        UNIX_EPOCH + Duration::from_secs(T0 + n / 4096)
    }

    // Simulated time passes on both clocks (replay entries expire on both).
    fn monotonic(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::Relaxed) / 4096)
    }
}

fn key(password: &str) -> SigningKey {
    let credentials = Credentials::new("admin", password, "default").expect("valid credentials");
    SigningKey::derive(&credentials, "b5a8fdcf2f8d5acdad33c4a072a97d7a").expect("valid salt")
}

fn verifier(clock: Arc<Ticking>) -> Verifier {
    let mut v = Verifier::new(VerifierConfig::default().with_skew(Duration::from_secs(5)))
        .with_clock(clock);
    v.add_key(&key("admin"));
    v
}

fn verify(c: &mut Criterion) {
    let good_key = key("admin");
    let bad_key = key("not-admin");
    let nonces = SeqNonce::starting_at(1);
    let mut group = c.benchmark_group("kalliope_verify");
    group.throughput(Throughput::Elements(1));

    let clock = Arc::new(Ticking::default());
    let v = verifier(Arc::clone(&clock));
    group.bench_function("valid_header", |b| {
        b.iter_batched(
            || XAuthSigner::fresh_value(&good_key, &nonces, clock.now()).expect("signs"),
            |h| v.verify_value(black_box(h.as_bytes())).is_ok(),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("bad_digest", |b| {
        b.iter_batched(
            || XAuthSigner::fresh_value(&bad_key, &nonces, clock.now()).expect("signs"),
            |h| v.verify_value(black_box(h.as_bytes())).is_err(),
            BatchSize::SmallInput,
        );
    });
    let sample = XAuthSigner::fresh_value(&good_key, &nonces, clock.now()).expect("signs");
    group.bench_function("parse_strict_only", |b| {
        b.iter(|| parse_strict(black_box(sample.as_bytes())).is_ok());
    });
    group.finish();
}

/// Verifications per second through one verifier on one thread, every header valid and
/// with a fresh nonce (so each one is also inserted into the replay cache).
fn figures(print: bool) {
    let good_key = key("admin");
    let nonces = SeqNonce::starting_at(1 << 40);
    let now = UNIX_EPOCH + Duration::from_secs(T0);
    let count = if print { 100_000 } else { 1_000 };
    let headers: Vec<_> = (0..count)
        .map(|_| XAuthSigner::fresh_value(&good_key, &nonces, now).expect("signs"))
        .collect();
    let mut v = Verifier::default().with_clock(Arc::new(pbx_auth_core::FixedClock::new(now)));
    v.add_key(&good_key);
    let start = Instant::now();
    let accepted = headers
        .iter()
        .filter(|h| v.verify_value(h.as_bytes()).is_ok())
        .count();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(accepted, headers.len(), "every header is fresh and valid");
    #[allow(clippy::cast_precision_loss)]
    let rate = accepted as f64 / secs;
    if print {
        println!("figure kalliope verify-per-second: {rate:.0} verifications/s");
    }
}

criterion_group!(benches, verify);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes `--bench`; under `cargo test --benches` the figure is not printed.
    figures(std::env::args().any(|a| a == "--bench"));
}
