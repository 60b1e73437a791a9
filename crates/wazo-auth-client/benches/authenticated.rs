//! The cost of a cached authenticated request (automatic `X-Auth-Token` from the token
//! cache) against the same request without authentication, on an in-process mock.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pbx_mock::{MockRequest, MockResponse, MockServer};
use serde_json::json;
use wazo_auth_client::{ClientBuilder, NewToken, Password};

const U: &str = "11111111-1111-1111-1111-111111111111";

/// Answers a token to `POST /token` and a user to anything else, so both clients pay the
/// same server cost.
fn handler(req: &MockRequest) -> MockResponse {
    if req.method == http::Method::POST && req.path == "/0.1/token" {
        return MockResponse::json(
            200,
            &json!({ "data": {
                "token": "0123456789abcdef0123456789abcdef", "auth_id": U, "acl": ["#"],
                "utc_issued_at": "2026-01-01T00:00:00.000000",
                "utc_expires_at": "2026-01-01T02:00:00.000000",
            }}),
        );
    }
    MockResponse::json(
        200,
        &json!({ "uuid": U, "username": "alice", "emails": [] }),
    )
}

fn requests(c: &mut Criterion) {
    let server = MockServer::start(handler);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let builder = || {
        ClientBuilder::from_url(server.url())
            .expect("mock URL")
            .prefix("")
    };
    let plain = builder().build().expect("client");
    let authed = builder()
        .credentials("alice", Password::new("s3cre7"))
        .auto_token(NewToken::new())
        .build()
        .expect("client");
    rt.block_on(authed.users().get(U, None))
        .expect("warm-up fetches the token");

    let mut group = c.benchmark_group("wazo_request");
    group.bench_function("unauthenticated", |b| {
        b.iter(|| black_box(rt.block_on(plain.users().get(U, None)).expect("user")));
    });
    group.bench_function("cached_authenticated", |b| {
        b.iter(|| black_box(rt.block_on(authed.users().get(U, None)).expect("user")));
    });
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
