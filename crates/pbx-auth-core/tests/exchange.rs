//! The exchange's refusal handling over reqwest: a policy that reads the body sees a bounded
//! prefix while the caller gets the whole body, and a rejected credential is dropped with
//! no retry.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use pbx_auth_core::adapters::reqwest::execute;
use pbx_auth_core::{
    AccessToken, Cached, Error, HeaderToken, Issued, REFUSAL_PREFIX_CAP, RefusalPolicy, TokenCache,
    TokenSource, Verdict,
};
use pbx_mock::{MockRequest, MockResponse, MockServer};

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

/// Reads 401 bodies: `gone` rejects the token for good, anything else is accepted. Keeps
/// the length of every prefix it saw.
#[derive(Debug, Default)]
struct BodyReader(Arc<Mutex<Vec<usize>>>);

impl RefusalPolicy for BodyReader {
    fn wants_body(&self, status: StatusCode, _: &HeaderMap) -> bool {
        status == StatusCode::UNAUTHORIZED
    }

    fn classify(&self, status: StatusCode, _: &HeaderMap, body: Option<&[u8]>) -> Verdict {
        let body = body.unwrap_or_default();
        self.0.lock().unwrap().push(body.len());
        match (status, body.starts_with(b"gone")) {
            (StatusCode::UNAUTHORIZED, true) => Verdict::Rejected,
            _ => Verdict::Accepted,
        }
    }
}

fn long_body() -> String {
    "x".repeat(3 * REFUSAL_PREFIX_CAP + 17)
}

#[tokio::test]
async fn the_policy_sees_a_bounded_prefix_and_the_caller_the_whole_body() {
    let server = MockServer::start(|req: &MockRequest| match req.path.as_str() {
        "/long" => MockResponse::text(401, "text/plain", long_body()),
        _ => MockResponse::text(401, "text/plain", "gone for good".to_owned()),
    });
    let source = Source::default();
    let fetches = Arc::clone(&source.0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let auth = Cached::new(TokenCache::new(source), HeaderToken::bearer())
        .with_refusal_policy(BodyReader(Arc::clone(&seen)));
    let client = reqwest::Client::new();

    let request = client
        .get(format!("{}/long", server.url()))
        .build()
        .unwrap();
    let response = execute(&client, &auth, request).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.text().await.unwrap(), long_body());
    assert_eq!(*seen.lock().unwrap(), vec![REFUSAL_PREFIX_CAP]);

    // Rejected: returned as it is, sent once, the token dropped (the next request makes a
    // new one).
    let request = client
        .get(format!("{}/gone", server.url()))
        .build()
        .unwrap();
    let response = execute(&client, &auth, request).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "gone for good");
    assert_eq!(server.count("/gone"), 1);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let request = client
        .get(format!("{}/long", server.url()))
        .build()
        .unwrap();
    execute(&client, &auth, request).await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}
