//! The `VerifyXAuth` layer against the bare verifier: one valid header with a fresh nonce
//! per request, through `Verifier::verify_headers` alone and through the layer around an
//! empty service. The goal is at least 80 % of the bare verifier's throughput.

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, Request, Response};
use kalliope_auth::server::VerifyXAuth;
use kalliope_auth::verifier::{Verifier, VerifierConfig};
use kalliope_auth::{Credentials, HEADER_NAME, SigningKey, XAuthSigner};
use pbx_auth_core::FixedClock;
use pbx_auth_core::nonce::SeqNonce;
use tower::{Layer as _, ServiceExt as _};

fn key() -> SigningKey {
    let credentials = Credentials::new("admin", "admin", "default").expect("valid credentials");
    SigningKey::derive(&credentials, "b5a8fdcf2f8d5acdad33c4a072a97d7a").expect("valid salt")
}

fn verifier(now: SystemTime) -> Verifier {
    // The clock stands still, so no nonce ever expires: without a limit, so that a run of
    // millions of iterations measures accepted headers, not a full store's refusals.
    let config = VerifierConfig::default()
        .with_skew(Duration::from_secs(300))
        .with_max_entries(None);
    let mut v = Verifier::new(config).with_clock(Arc::new(FixedClock::new(now)));
    v.add_key(&key());
    v
}

fn server(c: &mut Criterion) {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let key = key();
    let nonces = SeqNonce::starting_at(1);
    let fresh = || XAuthSigner::fresh_value(&key, &nonces, now).expect("signs");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("kalliope_server");
    group.throughput(Throughput::Elements(1));

    let bare = verifier(now);
    group.bench_function("bare_verifier", |b| {
        b.iter_batched(
            || {
                let mut headers = HeaderMap::new();
                headers.insert(HEADER_NAME, fresh());
                headers
            },
            |headers| assert!(bare.verify_headers(black_box(&headers)).is_ok()),
            BatchSize::SmallInput,
        );
    });

    let service =
        VerifyXAuth::new(verifier(now)).layer(tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::empty()))
        }));
    group.bench_function("layer", |b| {
        b.to_async(&rt).iter_batched(
            || {
                Request::get("/rest/account")
                    .header(HEADER_NAME, fresh())
                    .body(Body::empty())
                    .expect("request")
            },
            |req| {
                let service = service.clone();
                async move {
                    let res = service.oneshot(req).await.expect("infallible");
                    assert_eq!(res.status(), 200);
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, server);
criterion_main!(benches);
