//! `AuthnzService`: a tower service that speaks the authnzerver 0.1.3 protocol, so Python
//! frontends written for authnzerver can use a Rust service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt as _, Full, Limited};
use serde::Serialize;

use super::{ReplayGuard, open_request, seal_response};
use crate::{AuthnzRequest, Error, FernetEnvelope, FernetKey};

/// Largest request body read (sealed requests are a few kilobytes).
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// Request ids remembered for the replay refusal, as the 0.1.3 server keeps about 1000.
const REQIDS_REMEMBERED: usize = 1000;

/// What a handler answers to one request: the action's `success`, its `messages`, and the
/// action's response object (the typed `...Response` structs of this crate, or any
/// object).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reply {
    /// Whether the action succeeded.
    pub success: bool,
    /// Human-readable messages, shown by frontends.
    pub messages: Vec<String>,
    /// The action's fields, a JSON object (or null for none).
    pub response: serde_json::Value,
}

impl Reply {
    /// A reply with `response`'s fields.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when `response` cannot be serialised.
    pub fn new<R: Serialize>(success: bool, response: &R) -> Result<Self, Error> {
        Ok(Self {
            success,
            messages: Vec::new(),
            response: serde_json::to_value(response).map_err(|e| Error::json(&e))?,
        })
    }

    /// A successful reply with `response`'s fields.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when `response` cannot be serialised.
    pub fn success<R: Serialize>(response: &R) -> Result<Self, Error> {
        Self::new(true, response)
    }

    /// A failed reply with no fields besides `success` and `messages` (send the action's
    /// key set with nulls through [`new`](Self::new) when a frontend reads them).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            success: false,
            messages: vec![message.into()],
            response: serde_json::Value::Null,
        }
    }

    /// Adds a message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.messages.push(message.into());
        self
    }
}

/// Answers typed authnzerver requests. Implemented for closures
/// `Fn(AuthnzRequest) -> impl Future<Output = Reply>`.
pub trait AuthnzHandler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: AuthnzRequest) -> impl Future<Output = Reply> + Send;
}

impl<F, Fut> AuthnzHandler for F
where
    F: Fn(AuthnzRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send,
{
    fn handle(&self, request: AuthnzRequest) -> impl Future<Output = Reply> + Send {
        self(request)
    }
}

struct Inner<H> {
    envelope: FernetEnvelope,
    handler: H,
    reqids: Mutex<ReplayGuard>,
    body_limit: usize,
    ttl: Option<Duration>,
}

/// The tower service: `POST` a sealed request, get a sealed reply. Errors are answered
/// with the statuses the 0.1.3 server uses (401 for what does not open, 400 for a
/// malformed request, an unknown request name or a repeated `reqid`, 405 for other
/// methods), each with the same small HTML body, so a frontend cannot tell our service
/// from the Python one.
pub struct AuthnzService<H> {
    inner: Arc<Inner<H>>,
}

impl<H> Clone for AuthnzService<H> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<H> fmt::Debug for AuthnzService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthnzService")
            .field("body_limit", &self.inner.body_limit)
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl<H: AuthnzHandler> AuthnzService<H> {
    /// A service opening requests with `key` and answering them with `handler`.
    pub fn new(key: FernetKey, handler: H) -> Self {
        Self::with_options(key, handler, DEFAULT_BODY_LIMIT, None)
    }

    /// Like [`new`](Self::new) with a body limit and an optional TTL on incoming
    /// requests (the 0.1.3 server applies none).
    pub fn with_options(
        key: FernetKey,
        handler: H,
        body_limit: usize,
        ttl: Option<Duration>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                envelope: FernetEnvelope::new(key),
                handler,
                reqids: Mutex::new(ReplayGuard::new(REQIDS_REMEMBERED)),
                body_limit,
                ttl,
            }),
        }
    }

    /// Answers one sealed body: the sealed reply, or the HTTP status to refuse with.
    ///
    /// # Errors
    ///
    /// The status the 0.1.3 server answers for that failure.
    pub async fn answer(&self, sealed: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let inner = &*self.inner;
        let now = SystemTime::now();
        let incoming =
            open_request(&inner.envelope, sealed, now, inner.ttl).map_err(|e| status_of(&e))?;
        let fresh = inner
            .reqids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check_and_record(&incoming.reqid);
        if !fresh {
            return Err(StatusCode::BAD_REQUEST);
        }
        let reply = inner.handler.handle(incoming.request).await;
        seal_response(
            &inner.envelope,
            &incoming.reqid,
            reply.success,
            &reply.messages,
            &reply.response,
            SystemTime::now(),
        )
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
    }
}

fn status_of(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The server's error page.
fn html(status: StatusCode) -> Response<Full<Bytes>> {
    let code = status.as_u16();
    let reason = status.canonical_reason().unwrap_or("Error");
    let text = format!("<html><title>{code}: {reason}</title><body>{code}: {reason}</body></html>");
    let mut res = Response::new(Full::new(Bytes::from(text)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    res
}

/// The boxed future of [`AuthnzService`].
pub type ResponseFuture<R> =
    Pin<Box<dyn Future<Output = Result<R, std::convert::Infallible>> + Send>>;

impl<H, ReqBody> tower_service::Service<Request<ReqBody>> for AuthnzService<H>
where
    H: AuthnzHandler,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future = ResponseFuture<Self::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            if req.method() != Method::POST {
                return Ok(html(StatusCode::METHOD_NOT_ALLOWED));
            }
            let limit = this.inner.body_limit;
            let Ok(collected) = Limited::new(req.into_body(), limit).collect().await else {
                return Ok(html(StatusCode::BAD_REQUEST));
            };
            let body = collected.to_bytes();
            Ok(match this.answer(&body).await {
                Ok(sealed) => {
                    let mut res = Response::new(Full::new(Bytes::from(sealed)));
                    res.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=UTF-8"),
                    );
                    res
                }
                Err(status) => html(status),
            })
        })
    }
}
