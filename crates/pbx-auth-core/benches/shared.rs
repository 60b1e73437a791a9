//! The L2 on the warm path: a `TokenCache` over `SharedSource` (with the in-memory store)
//! against the same cache over the bare source. The warm path never reaches the L2, so the
//! two should be indistinguishable.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pbx_auth_core::store::{InMemoryStore, SharedOptions, SharedSource};
use pbx_auth_core::{AccessToken, Error, Issued, TokenCache, TokenSource};

#[derive(Debug)]
struct Source;

impl TokenSource for Source {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        Ok(Issued::new(
            AccessToken::new("0123456789abcdef0123456789abcdef"),
            Some(Duration::from_secs(3600)),
        ))
    }
}

fn warm(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let plain = TokenCache::new(Source);
    let shared = TokenCache::new(SharedSource::new(
        Source,
        Arc::new(InMemoryStore::new()),
        "bench",
        SharedOptions::default(),
    ));
    rt.block_on(plain.get()).expect("first fetch");
    rt.block_on(shared.get()).expect("first fetch");
    let calls = shared.source().store_calls();

    let mut group = c.benchmark_group("fleet_l2");
    group.bench_function("get_warm_plain", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(plain.get().await.expect("token")) });
    });
    group.bench_function("get_warm_shared", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(shared.get().await.expect("token")) });
    });
    group.bench_function("with_fresh_plain", |b| {
        b.iter(|| black_box(plain.with_fresh(|t, s| t.expose_secret().len() + s as usize)));
    });
    group.bench_function("with_fresh_shared", |b| {
        b.iter(|| black_box(shared.with_fresh(|t, s| t.expose_secret().len() + s as usize)));
    });
    group.finish();
    assert_eq!(
        shared.source().store_calls(),
        calls,
        "the warm path reached the shared store"
    );
}

criterion_group!(benches, warm);
criterion_main!(benches);
