//! The `RequireAcl` layer with a warm cache against the same axum app without it: 64
//! requests in flight per iteration, in process (no sockets), so the figure is the
//! layer's own cost. The goal is at most 5 % more time per request.

#![allow(missing_docs)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::future::join_all;
use http::Request;
use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use tower::ServiceExt as _;
use wazo_auth_client::server::TokenVerifier;
use wazo_auth_client::{ClientBuilder, NewToken, Password};

const CONCURRENCY: u64 = 64;

async fn user() -> &'static str {
    "ok"
}

fn requests(router: &Router, token: &str) -> impl Future<Output = ()> + use<> {
    let calls: Vec<_> = (0..CONCURRENCY)
        .map(|i| {
            let req = Request::get(format!("/users/u-{}", i % 4))
                .header("X-Auth-Token", token)
                .body(Body::empty())
                .expect("request");
            router.clone().oneshot(req)
        })
        .collect();
    async move {
        for res in join_all(calls).await {
            assert_eq!(res.expect("infallible").status(), 200);
        }
    }
}

fn server(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let wazo = WazoMock::new();
    wazo.add_user("reader", "pw", &["confd.users.*.read"]);
    let mock = MockServer::start(wazo);
    let builder = || {
        ClientBuilder::from_url(mock.url())
            .expect("mock URL")
            .prefix("")
    };
    let login = builder()
        .credentials("reader", Password::new("pw"))
        .build()
        .expect("client");
    let token = rt
        .block_on(login.token().create(&NewToken::new()))
        .expect("token")
        .token
        .expose_secret()
        .to_owned();
    let verifier = TokenVerifier::builder(builder().build().expect("client"))
        // Warm for the whole run: the bench measures hits.
        .cache_ttl(Duration::from_secs(24 * 3600))
        .build();
    let bare = Router::new().route("/users/{user_uuid}", get(user));
    let layered = Router::new().route(
        "/users/{user_uuid}",
        get(user).route_layer(
            verifier
                .require_acl("/users/{user_uuid}", "confd.users.{user_uuid}.read")
                .expect("template"),
        ),
    );
    rt.block_on(requests(&layered, &token));

    let mut group = c.benchmark_group("wazo_server");
    group.throughput(Throughput::Elements(CONCURRENCY));
    group.bench_function("bare_app_c64", |b| {
        b.to_async(&rt).iter(|| requests(&bare, &token));
    });
    group.bench_function("require_acl_warm_c64", |b| {
        b.to_async(&rt).iter(|| requests(&layered, &token));
    });
    group.finish();
    assert_eq!(
        verifier.remote_checks(),
        4,
        "one check per distinct access, then hits"
    );
}

criterion_group!(benches, server);
criterion_main!(benches);
