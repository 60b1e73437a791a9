//! Authentication overhead per request, end to end: each scheme's authenticator through
//! plain reqwest, the reqwest-middleware adapter and hyper with the tower layer, against an
//! in-process mock, beside the same requests unauthenticated, at concurrency 1 and 64.
//! The report divides each `auth` time by its `plain` twin.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::adapters::reqwest::execute;
use pbx_auth_core::adapters::tower::AuthLayer;
use pbx_auth_core::{Authenticator, SharedAuthenticator};
use pbx_mock::{MockRequest, MockResponse, MockServer};
use tower::{Service, ServiceBuilder, ServiceExt};

mod schemes;

const CONCURRENCY: [usize; 2] = [1, 64];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs `n` copies of `one` concurrently and waits for all.
async fn fan_out<F, Fut>(n: usize, one: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    futures_util::future::join_all((0..n).map(|_| one())).await;
}

fn bench_scheme(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    server: &MockServer,
    name: &str,
    auth: &SharedAuthenticator,
) {
    let url = format!("{}/bench", server.url());
    let client = reqwest::Client::new();
    let middleware = reqwest_middleware::ClientBuilder::new(client.clone())
        .with(AuthMiddleware::new(auth.clone()))
        .build();
    let bare_middleware = reqwest_middleware::ClientBuilder::new(client.clone()).build();
    let hyper: HyperClient<HttpConnector, Empty<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    let tower_auth = ServiceBuilder::new()
        .layer(AuthLayer::new(auth.clone()))
        .service(hyper.clone());
    let uri: http::Uri = url.parse().expect("uri");

    let mut group = c.benchmark_group(format!("overhead/{name}"));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in CONCURRENCY {
        group.bench_function(BenchmarkId::new("reqwest/auth", n), |b| {
            b.to_async(rt).iter(|| {
                fan_out(n, || async {
                    let req = client.get(&url).build().expect("request");
                    let res = execute(&client, auth, req).await.expect("send");
                    black_box(res.bytes().await.expect("body"));
                })
            });
        });
        group.bench_function(BenchmarkId::new("reqwest/plain", n), |b| {
            b.to_async(rt).iter(|| {
                fan_out(n, || async {
                    let res = client.get(&url).send().await.expect("send");
                    black_box(res.bytes().await.expect("body"));
                })
            });
        });
        group.bench_function(BenchmarkId::new("middleware/auth", n), |b| {
            b.to_async(rt).iter(|| {
                fan_out(n, || async {
                    let res = middleware.get(&url).send().await.expect("send");
                    black_box(res.bytes().await.expect("body"));
                })
            });
        });
        group.bench_function(BenchmarkId::new("middleware/plain", n), |b| {
            b.to_async(rt).iter(|| {
                fan_out(n, || async {
                    let res = bare_middleware.get(&url).send().await.expect("send");
                    black_box(res.bytes().await.expect("body"));
                })
            });
        });
        group.bench_function(BenchmarkId::new("tower/auth", n), |b| {
            b.to_async(rt).iter(|| {
                fan_out(n, || async {
                    let req = http::Request::get(uri.clone())
                        .body(Empty::new())
                        .expect("request");
                    let res = tower_auth.clone().oneshot(req).await.expect("send");
                    black_box(res.into_body().collect().await.expect("body"));
                })
            });
        });
        group.bench_function(BenchmarkId::new("tower/plain", n), |b| {
            b.to_async(rt).iter(|| {
                fan_out(n, || async {
                    let req = http::Request::get(uri.clone())
                        .body(Empty::new())
                        .expect("request");
                    let res = hyper.clone().call(req).await.expect("send");
                    black_box(res.into_body().collect().await.expect("body"));
                })
            });
        });
    }
    group.finish();
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    // Accepts every request: the bench measures the client side, not a verifier.
    let server = MockServer::start(|_: &MockRequest| MockResponse::text(200, "text/plain", "ok"));
    server.set_recording(false);
    let (_peers, schemes) = rt.block_on(async { schemes::all() });
    for (name, auth) in schemes {
        // Warm the cache so the figure is the cached path.
        let (mut parts, ()) = http::Request::new(()).into_parts();
        rt.block_on(auth.authorize(&mut parts, None))
            .expect("warm the cache");
        bench_scheme(c, &rt, &server, name, &auth);
    }
}

criterion_group!(benches, overhead);
criterion_main!(benches);
