//! One scenario suite for the core's authorized exchange, run through every generic
//! transport (the reqwest helper, the reqwest-middleware middleware, the tower layer):
//!
//! - a stale credential: one refresh, one retry;
//! - a permission refusal: no refresh, no retry, no new credential;
//! - a body that cannot be copied: one send, the refusal returned as it is;
//! - concurrent refusals of one credential: one refresh.
//!
//! The protocol clients run the same scenarios against their own stand-ins:
//! `wazo-auth-client/tests/exchange.rs` and `kalliope-auth/tests/session.rs`.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt as _;
use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::adapters::reqwest::execute;
use pbx_auth_core::adapters::tower::AuthLayer;
use pbx_auth_core::{
    AccessToken, Cached, Error, HeaderToken, Issued, RefusalPolicy, SharedAuthenticator,
    TokenCache, TokenSource, Verdict,
};
use pbx_mock::{MockRequest, MockResponse, MockServer};
use tower::{ServiceBuilder, ServiceExt as _};

/// Hands out `t1`, `t2`, ... and counts them.
#[derive(Debug, Clone, Default)]
struct Source(Arc<AtomicUsize>);

impl TokenSource for Source {
    type Token = AccessToken;

    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Issued::new(
            AccessToken::new(format!("t{n}")),
            Some(Duration::from_secs(3600)),
        ))
    }
}

/// 401: the token is stale; 403: a permission is missing.
#[derive(Debug)]
struct Policy;

impl RefusalPolicy for Policy {
    fn classify(&self, status: StatusCode, _: &HeaderMap, _: Option<&[u8]>) -> Verdict {
        match status {
            StatusCode::UNAUTHORIZED => Verdict::Stale,
            StatusCode::FORBIDDEN => Verdict::Forbidden,
            _ => Verdict::Accepted,
        }
    }
}

/// `/stale` refuses `t1` as revoked; `/forbidden` refuses every token.
fn server() -> MockServer {
    MockServer::start(|req: &MockRequest| match req.path.as_str() {
        "/stale" if req.header("authorization") == Some("Bearer t1") => MockResponse::status(401),
        "/forbidden" => MockResponse::status(403),
        _ => MockResponse::status(200),
    })
}

struct Case {
    server: MockServer,
    fetches: Arc<AtomicUsize>,
    auth: SharedAuthenticator,
}

impl Case {
    fn new() -> Self {
        let source = Source::default();
        let fetches = Arc::clone(&source.0);
        let auth =
            Cached::new(TokenCache::new(source), HeaderToken::bearer()).with_refusal_policy(Policy);
        Self {
            server: server(),
            fetches,
            auth: SharedAuthenticator::new(auth),
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    Reqwest,
    Middleware,
    Tower,
}

const TRANSPORTS: [Transport; 3] = [Transport::Reqwest, Transport::Middleware, Transport::Tower];

/// A body reqwest (and the tower layer) cannot copy: a stream.
fn stream_body() -> http_body_util::combinators::BoxBody<Bytes, Infallible> {
    http_body_util::Full::new(Bytes::from_static(b"payload")).boxed()
}

/// Sends a request to `path` through `transport`; `copyable` says whether the body can be
/// copied. Returns the final status.
async fn send(transport: Transport, case: &Case, path: &str, copyable: bool) -> u16 {
    let url = format!("{}{path}", case.server.url());
    let client = reqwest::Client::new();
    let body = || -> reqwest::Body {
        if copyable {
            reqwest::Body::from("payload")
        } else {
            reqwest::Body::wrap(stream_body())
        }
    };
    match transport {
        Transport::Reqwest => {
            let request = client.post(&url).body(body()).build().unwrap();
            execute(&client, &case.auth, request)
                .await
                .unwrap()
                .status()
                .as_u16()
        }
        Transport::Middleware => reqwest_middleware::ClientBuilder::new(client)
            .with(AuthMiddleware::new(case.auth.clone()))
            .build()
            .post(&url)
            .body(body())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        Transport::Tower if copyable => {
            let request = http::Request::post(&url)
                .body(String::from("payload"))
                .unwrap();
            tower_send(case, client, request).await
        }
        Transport::Tower => {
            let request = http::Request::post(&url).body(stream_body()).unwrap();
            tower_send(case, client, request).await
        }
    }
}

/// The tower layer over a service that forwards to reqwest.
async fn tower_send<B>(case: &Case, client: reqwest::Client, request: http::Request<B>) -> u16
where
    B: http_body::Body<Data = Bytes, Error = Infallible> + Send + Sync + 'static,
{
    let inner = tower::service_fn(move |req: http::Request<B>| {
        let client = client.clone();
        async move {
            let (parts, body) = req.into_parts();
            let url = parts.uri.to_string();
            let response = client
                .request(parts.method, url)
                .headers(parts.headers)
                .body(reqwest::Body::wrap(body))
                .send()
                .await?;
            let mut out = http::Response::new(());
            *out.status_mut() = response.status();
            Ok::<_, reqwest::Error>(out)
        }
    });
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(case.auth.clone()))
        .service(inner);
    service.oneshot(request).await.unwrap().status().as_u16()
}

/// Makes the case's cache hold `t1`.
async fn warm(transport: Transport, case: &Case) {
    assert_eq!(send(transport, case, "/ok", true).await, 200);
    assert_eq!(case.fetches(), 1);
}

#[tokio::test]
async fn a_stale_credential_is_refreshed_once_and_the_request_retried_once() {
    for transport in TRANSPORTS {
        let case = Case::new();
        warm(transport, &case).await;
        assert_eq!(
            send(transport, &case, "/stale", true).await,
            200,
            "{transport:?}"
        );
        assert_eq!(case.fetches(), 2, "{transport:?}");
        assert_eq!(case.server.count("/stale"), 2, "{transport:?}");
    }
}

#[tokio::test]
async fn a_permission_refusal_is_returned_with_no_refresh_and_no_retry() {
    for transport in TRANSPORTS {
        let case = Case::new();
        warm(transport, &case).await;
        for _ in 0..3 {
            assert_eq!(send(transport, &case, "/forbidden", true).await, 403);
        }
        assert_eq!(case.fetches(), 1, "{transport:?}");
        assert_eq!(case.server.count("/forbidden"), 3, "{transport:?}");
        let tokens: Vec<_> = case
            .server
            .requests_to("/forbidden")
            .iter()
            .map(|r| r.header("authorization").map(str::to_owned))
            .collect();
        assert!(
            tokens.iter().all(|t| t.as_deref() == Some("Bearer t1")),
            "{transport:?}"
        );
    }
}

#[tokio::test]
async fn a_body_that_cannot_be_copied_is_sent_once() {
    for transport in TRANSPORTS {
        let case = Case::new();
        warm(transport, &case).await;
        // The refusal comes back as it is ...
        assert_eq!(
            send(transport, &case, "/stale", false).await,
            401,
            "{transport:?}"
        );
        assert_eq!(case.server.count("/stale"), 1, "{transport:?}");
        assert_eq!(case.fetches(), 1, "{transport:?}");
        // ... and the stale token was dropped all the same: the next request gets `t2`.
        assert_eq!(
            send(transport, &case, "/stale", false).await,
            200,
            "{transport:?}"
        );
        assert_eq!(case.fetches(), 2, "{transport:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refusals_of_one_credential_make_one_refresh() {
    for transport in TRANSPORTS {
        let case = Arc::new(Case::new());
        warm(transport, &case).await;
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let case = Arc::clone(&case);
                tokio::spawn(async move { send(transport, &case, "/stale", true).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200, "{transport:?}");
        }
        assert_eq!(case.fetches(), 2, "{transport:?}");
    }
}
