//! Criterion benches for the token cache: warm `get` alone and with every core calling it,
//! a cold-cache stampede, and a cached `authorize`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pbx_auth_core::{
    AccessToken, Authenticator, Cached, Error, HeaderToken, Issued, TokenCache, TokenSource,
};

#[derive(Debug, Default)]
struct Static {
    fetches: AtomicUsize,
}

#[derive(Debug, Clone, Default)]
struct Source(Arc<Static>);

impl TokenSource for Source {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        self.0.fetches.fetch_add(1, Ordering::Relaxed);
        // A token endpoint answers in about a millisecond on a LAN.
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(Issued::new(
            AccessToken::new("0123456789abcdef0123456789abcdef"),
            Some(Duration::from_secs(3600)),
        ))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn warm_get(c: &mut Criterion) {
    let rt = runtime();
    let cache = TokenCache::new(Source::default());
    rt.block_on(cache.get()).expect("first fetch");
    let mut group = c.benchmark_group("token_cache");
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_warm_uncontended", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(cache.get().await.expect("token")) });
    });

    // Every core calling `get` at once: the time per call across all threads. If the cache
    // serialised on a lock this would grow with the thread count instead of staying flat.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    group.throughput(Throughput::Elements(threads as u64));
    group.bench_function("get_warm_all_cores", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| {
                        let local = tokio::runtime::Builder::new_current_thread()
                            .build()
                            .expect("runtime");
                        local.block_on(async {
                            for _ in 0..iters {
                                black_box(cache.get().await.expect("token"));
                            }
                        });
                    });
                }
            });
            start.elapsed()
        });
    });
    group.finish();
}

fn stampede(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("token_cache");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("cold_stampede_10000_tasks", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let source = Source::default();
                let cache = TokenCache::new(source.clone());
                let start = Instant::now();
                rt.block_on(async {
                    let mut set = tokio::task::JoinSet::new();
                    for _ in 0..10_000 {
                        let cache = cache.clone();
                        set.spawn(async move { cache.get().await.map(|_| ()) });
                    }
                    while let Some(r) = set.join_next().await {
                        r.expect("task").expect("token");
                    }
                });
                total += start.elapsed();
                assert_eq!(source.0.fetches.load(Ordering::Relaxed), 1, "one fetch");
            }
            total
        });
    });
    group.finish();
}

fn authorize(c: &mut Criterion) {
    let rt = runtime();
    let cache = TokenCache::new(Source::default());
    rt.block_on(cache.get()).expect("first fetch");
    let auth = Cached::new(cache, HeaderToken::x_auth_token());
    c.bench_function("cached_authorize_x_auth_token", |b| {
        b.to_async(&rt).iter(|| async {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            auth.authorize(&mut parts, None).await.expect("authorize");
            black_box(parts)
        });
    });
}

criterion_group!(benches, warm_get, stampede, authorize);
criterion_main!(benches);
