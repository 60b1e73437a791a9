//! The replay cache under a steady load: its memory at 1,000,000 live nonces (printed as
//! `figure` lines) and the cost of one accepted verification, whose nonce is inserted while
//! expired ones are evicted, at 10k, 100k and 1M live entries.
//!
//! The workspace forbids `unsafe` in every target, benches included, so a counting global
//! allocator is out: memory is read as the process's resident set (`VmRSS`, the counter
//! `/proc/self/statm` also shows) before and after filling the cache, next to the cache's
//! own estimate of its table.

#![allow(clippy::print_stdout, missing_docs)]

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use http::HeaderValue;
use kalliope_auth::verifier::{Verifier, VerifierConfig};
use kalliope_auth::{Credentials, SigningKey, XAuthSigner};
use pbx_auth_core::Clock;
use pbx_auth_core::nonce::SeqNonce;

const T0: u64 = 1_700_000_000;
/// The verifier's default window: entries live `created + 300 s`.
const WINDOW_SECS: u64 = 300;

/// A clock the load generator sets, so the verifier sees the headers' own time.
#[derive(Debug, Default)]
struct SetClock(AtomicU64);

impl Clock for SetClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::Relaxed))
    }

    // Simulated time passes on both clocks (replay entries expire on both).
    fn monotonic(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::Relaxed))
    }
}

/// One verifier fed fresh, valid headers at a rate that keeps `live` nonces in its cache:
/// `live / 301` headers per clock second, so the oldest expire as new ones arrive.
struct Steady {
    verifier: Verifier,
    clock: Arc<SetClock>,
    key: SigningKey,
    nonces: SeqNonce,
    per_second: u64,
    sent: Cell<u64>,
}

impl Steady {
    fn new(live: u64, key: &SigningKey, first_nonce: u64) -> Self {
        let clock = Arc::new(SetClock(AtomicU64::new(T0)));
        let mut verifier =
            // Unbounded: the bench measures the cache at its load, not the refusal when full.
            Verifier::new(
                VerifierConfig::default()
                    .with_skew(Duration::from_secs(WINDOW_SECS))
                    .with_max_entries(None),
            )
                .with_clock(Arc::clone(&clock) as _);
        verifier.add_key(key);
        Self {
            verifier,
            clock,
            key: key.clone(),
            nonces: SeqNonce::starting_at(first_nonce),
            per_second: (live / (WINDOW_SECS + 1)).max(1),
            sent: Cell::new(0),
        }
    }

    /// The next header (fresh nonce, `Created` = now), moving the clock one second every
    /// `per_second` headers.
    fn next_header(&self) -> HeaderValue {
        let n = self.sent.get();
        self.sent.set(n + 1);
        let secs = T0 + n / self.per_second;
        self.clock.0.store(secs, Ordering::Relaxed);
        XAuthSigner::fresh_value(
            &self.key,
            &self.nonces,
            UNIX_EPOCH + Duration::from_secs(secs),
        )
        .expect("signs")
    }

    fn verify(&self, header: &HeaderValue) -> bool {
        self.verifier.verify_value(header.as_bytes()).is_ok()
    }

    /// Sends headers until the cache holds `live` nonces (its steady size).
    fn fill(&self, live: u64) {
        for _ in 0..live {
            let header = self.next_header();
            assert!(self.verify(&header), "every header is fresh and valid");
        }
    }
}

fn key() -> SigningKey {
    let credentials = Credentials::new("admin", "admin", "default").expect("valid credentials");
    SigningKey::derive(&credentials, "b5a8fdcf2f8d5acdad33c4a072a97d7a").expect("valid salt")
}

/// The process's resident memory in bytes (`VmRSS` in `/proc/self/status`).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[allow(clippy::cast_precision_loss)]
fn per(total: u64, count: usize) -> f64 {
    total as f64 / count.max(1) as f64
}

/// Fills a cache to `live` nonces on a quiet heap and prints its bytes per entry, both
/// as measured (resident memory grown) and as the cache estimates its own table.
fn memory_figures(live: u64, key: &SigningKey, print: bool) -> Steady {
    let steady = Steady::new(live, key, 1 << 48);
    let before = resident_bytes();
    steady.fill(live);
    let after = resident_bytes();
    let entries = steady.verifier.replay_entries();
    let estimate = per(steady.verifier.replay_heap_bytes() as u64, entries);
    if print {
        println!("figure kalliope replay-live-entries: {entries} entries");
        if let (Some(before), Some(after)) = (before, after) {
            let measured = per(after.saturating_sub(before), entries);
            println!("figure kalliope replay-rss-bytes-per-entry: {measured:.1} bytes");
        }
        println!("figure kalliope replay-estimate-bytes-per-entry: {estimate:.1} bytes");
    }
    steady
}

/// Passes over which the tail figures take their minimum.
const TAIL_PASSES: usize = 5;

/// The slowest single verification, the 99.9th percentile and the median over `count`
/// steady-state headers: the tail is where a sweep of expired entries shows (criterion's
/// mean spreads it over every iteration). Each figure is the lowest of `TAIL_PASSES`
/// passes: a sweep recurs in every pass, while the scheduler preempting the thread on a
/// shared machine does not.
fn tail_figures(steady: &Steady, live: u64, count: u64, print: bool) {
    let mut best = [f64::INFINITY; 3];
    for _ in 0..TAIL_PASSES {
        let mut times: Vec<Duration> = (0..count)
            .map(|_| {
                let header = steady.next_header();
                let start = Instant::now();
                let ok = steady.verify(&header);
                let took = start.elapsed();
                assert!(ok, "every header is fresh and valid");
                took
            })
            .collect();
        times.sort_unstable();
        for (slot, q) in best.iter_mut().zip([1.0, 0.999, 0.5]) {
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let i = ((times.len() - 1) as f64 * q) as usize;
            *slot = slot.min(times[i].as_secs_f64() * 1e6);
        }
    }
    if print {
        let [worst, p999, median] = best;
        println!("figure kalliope replay-worst-verify-{live}: {worst:.1} us");
        println!("figure kalliope replay-p999-verify-{live}: {p999:.2} us");
        println!("figure kalliope replay-median-verify-{live}: {median:.3} us");
    }
}

fn eviction(c: &mut Criterion, steady_caches: &[(u64, &Steady)]) {
    let mut group = c.benchmark_group("kalliope_replay");
    group.throughput(Throughput::Elements(1));
    for &(live, steady) in steady_caches {
        group.bench_with_input(
            BenchmarkId::new("insert_evicting", live),
            steady,
            |b, steady| {
                b.iter_batched(
                    || steady.next_header(),
                    |h| black_box(steady.verify(black_box(&h))),
                    BatchSize::SmallInput,
                );
            },
        );
    }
    group.finish();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then (in a debug
    // build) small sizes keep the run short while still going through every step.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let sizes: [u64; 3] = if bench_mode {
        [10_000, 100_000, 1_000_000]
    } else {
        [100, 1_000, 3_000]
    };
    let key = key();
    // The largest cache first, while the heap holds nothing else that could move.
    let large = memory_figures(sizes[2], &key, bench_mode);
    let small = Steady::new(sizes[0], &key, 1 << 40);
    small.fill(sizes[0]);
    let medium = Steady::new(sizes[1], &key, 1 << 44);
    medium.fill(sizes[1]);

    let mut c = Criterion::default().configure_from_args();
    eviction(
        &mut c,
        &[(sizes[0], &small), (sizes[1], &medium), (sizes[2], &large)],
    );
    c.final_summary();

    // Enough headers per pass to cross several sweeps (every 10 clock seconds).
    for (live, steady) in [(sizes[0], &small), (sizes[1], &medium), (sizes[2], &large)] {
        let count = if bench_mode {
            (steady.per_second * 40).max(100_000)
        } else {
            1_000
        };
        tail_figures(steady, live, count, bench_mode);
    }
}
