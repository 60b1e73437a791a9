//! Criterion benches for the hot path: a warm `TokenCache::get` and a cached `authorize`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pbx_auth_core::{
    AccessToken, Authenticator, Cached, Error, HeaderToken, Issued, TokenCache, TokenSource,
};

#[derive(Debug)]
struct Static;

impl TokenSource for Static {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        Ok(Issued::new(
            AccessToken::new("0123456789abcdef0123456789abcdef"),
            Some(Duration::from_secs(3600)),
        ))
    }
}

fn warm_cache(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cache = TokenCache::new(Static);
    rt.block_on(cache.get()).expect("first fetch");
    c.bench_function("token_cache_get_warm", |b| {
        b.iter(|| rt.block_on(async { black_box(cache.get().await.expect("token")) }));
    });
    let auth = Cached::new(cache.clone(), HeaderToken::x_auth_token());
    c.bench_function("cached_authorize_x_auth_token", |b| {
        b.iter(|| {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            rt.block_on(auth.authorize(&mut parts, None))
                .expect("authorize");
            black_box(parts)
        });
    });
}

criterion_group!(benches, warm_cache);
criterion_main!(benches);
