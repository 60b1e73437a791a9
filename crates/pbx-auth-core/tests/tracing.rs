//! The tracing events of the cache and the exchange: a refresh ahead of expiry, a refresh
//! failure served stale, a stale-credential refusal and its one retry each leave an event
//! that names the credential by serial number, and no event carries the credential.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Request, StatusCode};
use pbx_auth_core::exchange::{ExchangeRequest, ExchangeResponse, exchange_reporting};
use pbx_auth_core::{
    AccessToken, Cached, Error, ErrorKind, HeaderToken, Issued, RefreshPolicy, TokenCache,
    TokenSource,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every token this source hands out starts with this: no event may contain it.
const CANARY: &str = "canary-s3cret";

/// Keeps each event as one line: level, message and every field.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        use std::fmt::Write as _;
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!("SPAN {}", span.metadata().name());
        span.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::from("RECORD");
        values.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Capture {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// The one captured line containing `needle`, in full.
    fn find(&self, needle: &str) -> String {
        let lines = self.lines();
        lines
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
            .unwrap_or_else(|| panic!("no event contains {needle:?}: {lines:#?}"))
    }
}

/// Answers each fetch from a script; a token's value holds the canary.
#[derive(Debug, Default)]
struct Scripted(Mutex<VecDeque<Result<u32, ErrorKind>>>);

impl TokenSource for Scripted {
    type Token = AccessToken;

    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        match self.0.lock().unwrap().pop_front().unwrap() {
            Ok(n) => Ok(Issued::new(
                AccessToken::new(format!("{CANARY}-{n}")),
                Some(Duration::from_secs(100)),
            )),
            Err(kind) => Err(Error::new(kind, "the token server is down")),
        }
    }
}

/// A request that is only a head: the exchange can copy it for the retry.
struct Req(Request<()>);

impl ExchangeRequest for Req {
    fn take_head(&mut self, _: bool) -> Result<Parts, Error> {
        Ok(std::mem::take(&mut self.0).into_parts().0)
    }

    fn put_head(&mut self, head: Parts) {
        self.0 = Request::from_parts(head, ());
    }

    fn body_bytes(&self) -> Option<&[u8]> {
        Some(&[])
    }

    fn try_copy(&self) -> Option<Self> {
        let mut copy = Request::new(());
        *copy.uri_mut() = self.0.uri().clone();
        Some(Self(copy))
    }
}

struct Resp(StatusCode, HeaderMap);

impl ExchangeResponse for Resp {
    fn status(&self) -> StatusCode {
        self.0
    }

    fn headers(&self) -> &HeaderMap {
        &self.1
    }

    fn read_prefix(self, _: usize) -> impl Future<Output = (Self, Option<Bytes>)> + Send {
        std::future::ready((self, None))
    }
}

#[tokio::test(start_paused = true)]
async fn refresh_stale_service_and_retry_leave_events_without_the_secret() {
    let capture = Capture::default();
    let _default = tracing::dispatcher::set_default(&tracing::Dispatch::new(capture.clone()));

    let source = Scripted(Mutex::new(VecDeque::from([
        Ok(1),
        Ok(2),
        Err(ErrorKind::Transport),
        Ok(3),
        Ok(4),
    ])));
    let policy = RefreshPolicy::default()
        .with_refresh_fraction(0.5)
        .with_min_remaining(Duration::ZERO)
        .with_jitter(0.0)
        .with_failure_backoff(Duration::from_secs(1))
        .with_detached(false);
    let cache = TokenCache::with_policy(source, policy);

    // A miss, then a refresh ahead of expiry.
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    let second = cache.get().await.unwrap();
    assert_eq!(second.expose_secret(), format!("{CANARY}-2"));
    let refresh = capture.find("refresh ahead of expiry");
    assert!(refresh.starts_with("DEBUG"), "{refresh}");
    assert!(refresh.contains("replaces=1"), "{refresh}");
    assert!(capture.find("serial=2").contains("credential cached"));

    // The next refresh fails: the old credential is served, and a warning says so.
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(Arc::ptr_eq(&cache.get().await.unwrap(), &second));
    let stale = capture.find("serving the cached credential");
    assert!(stale.starts_with("WARN"), "{stale}");
    assert!(stale.contains("serial=2"), "{stale}");
    assert!(capture.find("credential fetch failed").starts_with("WARN"));

    // A 401 on the cached credential: the verdict and the one retry are events.
    tokio::time::advance(Duration::from_secs(2)).await;
    let auth = Cached::new(cache, HeaderToken::bearer());
    let statuses = Mutex::new(VecDeque::from([StatusCode::UNAUTHORIZED, StatusCode::OK]));
    let mut transport = |_: Req| {
        let status = statuses.lock().unwrap().pop_front().unwrap();
        std::future::ready(Ok::<_, Error>(Resp(status, HeaderMap::new())))
    };
    let request = Req(Request::get("http://pbx.invalid/api").body(()).unwrap());
    let sent = exchange_reporting(&auth, request, &mut transport)
        .await
        .unwrap();
    assert!(sent.retried);
    assert_eq!(sent.response.0, StatusCode::OK);
    let refused = capture.find("request refused");
    assert!(refused.starts_with("DEBUG"), "{refused}");
    assert!(refused.contains("verdict=Stale") && refused.contains("status=401"));
    assert!(capture.find("retrying once").starts_with("DEBUG"));

    let lines = capture.lines();
    for line in &lines {
        assert!(
            !line.contains(CANARY),
            "an event carries the credential: {line}"
        );
        assert!(
            !line.contains("Bearer"),
            "an event carries a header: {line}"
        );
    }
}
