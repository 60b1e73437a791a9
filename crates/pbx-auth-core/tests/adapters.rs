//! The transport adapters: plain reqwest, reqwest-middleware (with a retry middleware in
//! front of it) and the tower layer (under `ConcurrencyLimit`), against the in-process mock.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::request::Parts;
use http::{HeaderName, HeaderValue};
use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::adapters::reqwest::{authorize_reqwest, execute};
use pbx_auth_core::adapters::tower::AuthLayer;
use pbx_auth_core::{
    AccessToken, AuthAction, Authenticator, Cached, Error, Issued, RequestSigner, SignContext,
    TokenCache, TokenSource,
};
use pbx_mock::{Fault, FaultRule, MockRequest, MockResponse, MockServer};
use tower::{Service, ServiceBuilder, ServiceExt};

#[derive(Debug, Default)]
struct Source {
    fetches: AtomicUsize,
}

#[derive(Debug, Clone, Default)]
struct SharedSource(Arc<Source>);

impl TokenSource for SharedSource {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        let n = self.0.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Issued::new(
            AccessToken::new(format!("t{n}")),
            Some(Duration::from_secs(3600)),
        ))
    }
}

/// Signs `x-sig: <token>.<nonce>` so every signature is distinct, like Kalliope's.
#[derive(Debug)]
struct NonceSigner(HeaderName);

impl NonceSigner {
    fn new() -> Self {
        Self(HeaderName::from_static("x-sig"))
    }
}

impl RequestSigner<AccessToken> for NonceSigner {
    fn header_name(&self) -> &HeaderName {
        &self.0
    }

    fn sign(
        &self,
        token: &AccessToken,
        parts: &mut Parts,
        _body: Option<&[u8]>,
        ctx: &SignContext<'_>,
    ) -> Result<(), Error> {
        let mut value =
            HeaderValue::try_from(format!("{}.{}", token.expose_secret(), ctx.nonce().hex(8)))
                .expect("ascii");
        value.set_sensitive(true);
        parts.headers.insert(self.0.clone(), value);
        Ok(())
    }
}

fn authenticator() -> (Cached<SharedSource, NonceSigner>, Arc<Source>) {
    let source = SharedSource::default();
    let counters = Arc::clone(&source.0);
    (
        Cached::new(TokenCache::new(source), NonceSigner::new()),
        counters,
    )
}

/// Accepts only the newest token: `t1` is refused once `t2` exists, like a revoked token.
fn echo_server() -> MockServer {
    MockServer::start(|req: &MockRequest| match req.header("x-sig") {
        Some(sig) if sig.starts_with("t1.") && req.path == "/reject-first" => {
            MockResponse::status(401)
        }
        Some(sig) => MockResponse::text(200, "text/plain", sig.to_owned()),
        None => MockResponse::status(401),
    })
}

/// A minimal retry middleware: resends once after a 503.
struct RetryOn503;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for RetryOn503 {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let copy = req.try_clone().expect("cloneable body");
        let first = next.clone().run(req, extensions).await?;
        if first.status() == 503 {
            return next.run(copy, extensions).await;
        }
        Ok(first)
    }
}

#[tokio::test]
async fn middleware_placed_last_signs_every_retry_again() {
    let server = echo_server();
    server.inject(FaultRule::new("/flaky", Fault::status(503)).times(1));
    let (auth, _) = authenticator();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(RetryOn503)
        .with(AuthMiddleware::new(auth))
        .build();
    let response = client
        .get(format!("{}/flaky", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sigs: Vec<String> = server
        .requests_to("/flaky")
        .iter()
        .map(|r| r.header("x-sig").unwrap().to_owned())
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_ne!(sigs[0], sigs[1], "the retry carries a fresh signature");
}

#[tokio::test]
async fn middleware_retries_once_after_401_with_a_new_credential() {
    let server = echo_server();
    let (auth, source) = authenticator();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(auth))
        .build();
    let response = client
        .get(format!("{}/reject-first", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().starts_with("t2."));
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(server.count("/reject-first"), 2);
}

#[tokio::test]
async fn a_401_on_the_fast_path_drops_the_token_it_names() {
    let server = echo_server();
    let (auth, source) = authenticator();
    let client = reqwest::Client::new();
    let request = |path: &str| {
        client
            .get(format!("{}{path}", server.url()))
            .build()
            .unwrap()
    };
    // The first request fetches t1; the second is signed from the cache, so its receipt is
    // t1's serial number.
    execute(&client, &auth, request("/warm")).await.unwrap();
    let t1 = authorize_reqwest(&auth, &mut request("/warm"))
        .await
        .unwrap();
    assert!(t1.serial().is_some());

    let response = execute(&client, &auth, request("/reject-first"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().starts_with("t2."));
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);

    // A late 401 for t1 must not drop t2.
    let action = auth.on_response(
        &t1,
        http::StatusCode::UNAUTHORIZED,
        &http::HeaderMap::new(),
        None,
    );
    assert_eq!(action, AuthAction::RetryOnce);
    let body = execute(&client, &auth, request("/after")).await.unwrap();
    assert!(body.text().await.unwrap().starts_with("t2."));
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_header_the_caller_set_is_never_overwritten() {
    let server = echo_server();
    let (auth, source) = authenticator();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(auth))
        .build();
    let body = client
        .get(format!("{}/mine", server.url()))
        .header("x-sig", "caller-value")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "caller-value");
    assert_eq!(source.fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_401_for_the_callers_own_header_is_handed_back_without_a_retry() {
    let server = echo_server();
    let (auth, source) = authenticator();
    let client = reqwest::Client::new();
    let request = client
        .get(format!("{}/reject-first", server.url()))
        .header("x-sig", "t1.callers")
        .build()
        .unwrap();
    let response = execute(&client, &auth, request).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(server.count("/reject-first"), 1);
    assert_eq!(source.fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn plain_reqwest_helpers() {
    let server = echo_server();
    let (auth, _) = authenticator();
    let client = reqwest::Client::new();
    let mut request = client
        .get(format!("{}/plain", server.url()))
        .build()
        .unwrap();
    authorize_reqwest(&auth, &mut request).await.unwrap();
    assert!(request.headers()["x-sig"].is_sensitive());

    let request = client
        .get(format!("{}/reject-first", server.url()))
        .build()
        .unwrap();
    let response = execute(&client, &auth, request).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn tower_layer_works_under_concurrency_limit() {
    let (auth, source) = authenticator();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let inner = {
        let in_flight = Arc::clone(&in_flight);
        let peak = Arc::clone(&peak);
        tower::service_fn(move |req: http::Request<String>| {
            let in_flight = Arc::clone(&in_flight);
            let peak = Arc::clone(&peak);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let sig = req.headers()["x-sig"].to_str().unwrap().to_owned();
                Ok::<_, Infallible>(http::Response::new(sig))
            }
        })
    };
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(auth))
        .concurrency_limit(3)
        .service(inner);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let mut service = service.clone();
        tasks.spawn(async move {
            let request = http::Request::get(format!("http://pbx/{i}"))
                .body(String::new())
                .unwrap();
            service
                .ready()
                .await
                .unwrap()
                .call(request)
                .await
                .unwrap()
                .into_body()
        });
    }
    let mut sigs = std::collections::HashSet::new();
    while let Some(sig) = tasks.join_next().await {
        sigs.insert(sig.unwrap());
    }
    assert_eq!(sigs.len(), 40, "every request signed with its own nonce");
    assert!(peak.load(Ordering::SeqCst) <= 3, "the limit held");
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
}

/// Refuses the first request with 401 and echoes the rest; `slow_retry` delays the second.
fn refuse_first_server(slow_retry: Option<Duration>) -> MockServer {
    let seen = AtomicUsize::new(0);
    MockServer::start(
        move |_: &MockRequest| match seen.fetch_add(1, Ordering::SeqCst) {
            0 => MockResponse::status(401),
            _ => {
                if let Some(delay) = slow_retry {
                    std::thread::sleep(delay);
                }
                MockResponse::text(200, "text/plain", "ok")
            }
        },
    )
}

#[tokio::test]
async fn the_retry_after_401_is_the_callers_request_again() {
    for (method, body) in [
        (http::Method::GET, None),
        (http::Method::POST, Some("{\"n\":1}")),
    ] {
        for via_middleware in [false, true] {
            let server = refuse_first_server(None);
            let (auth, source) = authenticator();
            let url = format!("{}/things?page=2", server.url());
            let client = reqwest::Client::new();
            let mut builder = client
                .request(method.clone(), &url)
                .header("x-caller", "kept");
            if let Some(body) = body {
                builder = builder.body(body);
            }
            let response = if via_middleware {
                let client = reqwest_middleware::ClientBuilder::new(client.clone())
                    .with(AuthMiddleware::new(auth))
                    .build();
                let mut builder = client
                    .request(method.clone(), &url)
                    .header("x-caller", "kept");
                if let Some(body) = body {
                    builder = builder.body(body);
                }
                builder.send().await.unwrap()
            } else {
                execute(&client, &auth, builder.build().unwrap())
                    .await
                    .unwrap()
            };
            assert_eq!(response.status(), 200);
            assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
            let seen = server.requests_to("/things");
            assert_eq!(seen.len(), 2, "{method} sent twice");
            for request in &seen {
                assert_eq!(request.method, method);
                assert_eq!(request.query.as_deref(), Some("page=2"));
                assert_eq!(request.header("x-caller"), Some("kept"));
                assert_eq!(&request.body[..], body.unwrap_or("").as_bytes());
            }
            assert!(seen[0].header("x-sig").unwrap().starts_with("t1."));
            assert!(seen[1].header("x-sig").unwrap().starts_with("t2."));
        }
    }
}

#[tokio::test]
async fn the_retry_after_401_keeps_the_request_timeout() {
    let server = refuse_first_server(Some(Duration::from_millis(600)));
    let (auth, _) = authenticator();
    let client = reqwest::Client::new();
    let request = client
        .get(format!("{}/slow", server.url()))
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let error = execute(&client, &auth, request).await.unwrap_err();
    assert_eq!(error.kind(), pbx_auth_core::ErrorKind::Timeout);
}

#[derive(Debug)]
struct BadTokenSource;

impl TokenSource for BadTokenSource {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        Ok(Issued::new(AccessToken::new("bad\ntoken"), None))
    }
}

#[tokio::test]
async fn tower_layer_reports_signing_errors_warm_or_cold() {
    let auth = Cached::new(
        TokenCache::new(BadTokenSource),
        pbx_auth_core::HeaderToken::bearer(),
    );
    let inner = tower::service_fn(|_: http::Request<String>| async {
        Ok::<_, Infallible>(http::Response::new(String::new()))
    });
    let mut service = ServiceBuilder::new()
        .layer(AuthLayer::new(auth))
        .service(inner);
    // The first call fetches (the waiting path), the second finds the token cached (the
    // immediate path); both must fail the same way, without the secret in the message.
    for _ in 0..2 {
        let request = http::Request::get("http://pbx/")
            .body(String::new())
            .unwrap();
        let error = service
            .ready()
            .await
            .unwrap()
            .call(request)
            .await
            .unwrap_err();
        let error = error.downcast::<Error>().expect("the core error");
        assert_eq!(error.kind(), pbx_auth_core::ErrorKind::Signing);
        assert!(!error.to_string().contains("bad\ntoken"));
    }
}
