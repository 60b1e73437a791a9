//! A tower [`Layer`] that sends every `http::Request<B>` through the
//! [authorized exchange](crate::exchange) before the inner service.
//!
//! - The head is authorized (`body = None`: request bodies are streams here).
//! - After a stale-credential refusal the request is sent once more, authorized with a
//!   fresh credential, when its body can be copied: `()`, `String`, `Vec<u8>`, `Bytes`,
//!   `&'static str`, `&'static [u8]`, and `http-body-util`'s `Empty<Bytes>` and
//!   `Full<Bytes>`. Any other body is sent once, and its refusal returned as it is.
//! - The retry goes to a clone of the inner service taken when the layer was applied (so
//!   no request pays for a clone it will not use): inner services must be `Clone`, and a
//!   clone must be as good as the original, as tower services' clones are.
//! - The response body is never read: its type is the inner service's, which the layer
//!   cannot rebuild. A refusal policy that asks for the body decides without it.
//!
//! With the credential at hand the request goes to the service that was polled ready,
//! inside the inner service's own future: no boxed future.

use std::any::Any;
use std::fmt;
use std::future::{Future, poll_fn};
use std::mem;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use http_body_util::{Empty, Full};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::authenticator::{AuthAction, Authenticator, Receipt};
use crate::error::Error;
use crate::exchange::{self, ExchangeRequest, ExchangeResponse, SendRequest};

/// The error type of [`AuthService`]: the authenticator's or the inner service's, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps services in [`AuthService`].
pub struct AuthLayer<A> {
    authenticator: Arc<A>,
}

impl<A> AuthLayer<A> {
    /// A layer authorizing with `authenticator`.
    pub fn new(authenticator: A) -> Self {
        Self {
            authenticator: Arc::new(authenticator),
        }
    }
}

impl<A> Clone for AuthLayer<A> {
    fn clone(&self) -> Self {
        Self {
            authenticator: Arc::clone(&self.authenticator),
        }
    }
}

impl<A: fmt::Debug> fmt::Debug for AuthLayer<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("authenticator", &self.authenticator)
            .finish()
    }
}

impl<S: Clone, A> Layer<S> for AuthLayer<A> {
    type Service = AuthService<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            shared: Arc::new(Shared {
                authenticator: Arc::clone(&self.authenticator),
                spare: Mutex::new(inner.clone()),
            }),
            inner,
        }
    }
}

/// Authorizes each request, then calls the inner service.
pub struct AuthService<S, A> {
    inner: S,
    shared: Arc<Shared<S, A>>,
}

/// What every response future of one service (and of its clones) shares: one reference
/// count per request instead of one per field.
struct Shared<S, A> {
    authenticator: Arc<A>,
    /// A clone of the inner service, taken when the layer was applied, from which a retry
    /// clones the service it calls. Cloning the inner service for every request, in case it
    /// is retried, cost more than the rest of the layer. Behind a mutex so the inner service
    /// need not be `Sync`; only a retry locks it.
    spare: Mutex<S>,
}

impl<S: Clone, A> Shared<S, A> {
    /// A service for a retry.
    fn service(&self) -> S {
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<S: Clone, A> Clone for AuthService<S, A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, A: fmt::Debug> fmt::Debug for AuthService<S, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .field("authenticator", &self.shared.authenticator)
            .finish()
    }
}

/// The inner service as the exchange's transport. `polled` says it was polled ready for
/// the next call; every later call waits until it is ready again.
struct Inner<S> {
    service: S,
    polled: bool,
}

impl<S, B, RB> SendRequest<http::Request<B>> for Inner<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Send,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Send + 'static,
    RB: Send,
{
    type Response = http::Response<RB>;
    type Error = BoxError;

    fn send(
        &mut self,
        request: http::Request<B>,
    ) -> impl Future<Output = Result<http::Response<RB>, BoxError>> + Send {
        let polled = mem::take(&mut self.polled);
        let service = &mut self.service;
        async move {
            if !polled {
                poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(Into::into)?;
            }
            service.call(request).await.map_err(Into::into)
        }
    }
}

impl<S, A, B, RB> Service<http::Request<B>> for AuthService<S, A>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    A: Authenticator + 'static,
    B: Send + 'static,
    RB: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, A, B, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let copy = request.try_copy();
        // The common case: the credential is at hand, so the request goes to the service
        // that was just polled ready, with no boxed future. The head is authorized where
        // it lies, moved out of the request and back, rather than field by field through
        // `ExchangeRequest::take_head`.
        let (mut head, body) = request.into_parts();
        let now = self.shared.authenticator.authorize_now(&mut head, None);
        let request = http::Request::from_parts(head, body);
        match now {
            Some(Ok(receipt)) => {
                // Boxed: the copy is rarely used, and a pointer is cheaper to move with the
                // future than the request itself.
                let retry = copy.map(Box::new);
                let inner = self.inner.call(request);
                let shared = Arc::clone(&self.shared);
                return ResponseFuture::sent(inner, shared, receipt, retry);
            }
            Some(Err(error)) => return ResponseFuture::failed(error.into()),
            None => {}
        }
        // Authorizing has to wait. The service that was polled ready is the one that must
        // be called; a fresh clone stays behind for the next poll_ready.
        let fresh = self.inner.clone();
        let ready = mem::replace(&mut self.inner, fresh);
        let authenticator = Arc::clone(&self.shared.authenticator);
        ResponseFuture::waiting(Box::pin(async move {
            let transport = Inner {
                service: ready,
                polled: true,
            };
            exchange::exchange(&*authenticator, request, transport).await
        }))
    }
}

pin_project! {
    /// The future of [`AuthService`]: the inner service's future when the credential was at
    /// hand, a boxed one when authorizing had to wait or a retry is under way.
    pub struct ResponseFuture<S, A, B, RB>
    where
        S: Service<http::Request<B>>,
    {
        #[pin]
        state: State<S, A, B, RB>,
    }
}

type Boxed<RB> = Pin<Box<dyn Future<Output = Result<http::Response<RB>, BoxError>> + Send>>;

pin_project! {
    #[project = StateProj]
    enum State<S, A, B, RB>
    where
        S: Service<http::Request<B>>,
    {
        Sent {
            #[pin]
            inner: S::Future,
            shared: Arc<Shared<S, A>>,
            receipt: Receipt,
            retry: Option<Box<http::Request<B>>>,
        },
        Boxed {
            future: Boxed<RB>,
        },
        Failed {
            error: Option<BoxError>,
        },
    }
}

impl<S, A, B, RB> ResponseFuture<S, A, B, RB>
where
    S: Service<http::Request<B>>,
{
    fn sent(
        inner: S::Future,
        shared: Arc<Shared<S, A>>,
        receipt: Receipt,
        retry: Option<Box<http::Request<B>>>,
    ) -> Self {
        Self {
            state: State::Sent {
                inner,
                shared,
                receipt,
                retry,
            },
        }
    }

    fn waiting(future: Boxed<RB>) -> Self {
        Self {
            state: State::Boxed { future },
        }
    }

    fn failed(error: BoxError) -> Self {
        Self {
            state: State::Failed { error: Some(error) },
        }
    }
}

impl<S, A, B, RB> fmt::Debug for ResponseFuture<S, A, B, RB>
where
    S: Service<http::Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, A, B, RB> Future for ResponseFuture<S, A, B, RB>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    A: Authenticator + 'static,
    B: Send + 'static,
    RB: Send + 'static,
{
    type Output = Result<http::Response<RB>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let next = match self.as_mut().project().state.project() {
            StateProj::Sent {
                inner,
                shared,
                receipt,
                retry,
            } => {
                let response = match inner.poll(cx) {
                    Poll::Ready(Ok(response)) => response,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                    Poll::Pending => return Poll::Pending,
                };
                let action = shared.authenticator.on_response(
                    receipt,
                    response.status(),
                    response.headers(),
                    None,
                );
                if action != AuthAction::RetryOnce {
                    return Poll::Ready(Ok(response));
                }
                match retry.take() {
                    Some(again) => {
                        let again = *again;
                        let service = shared.service();
                        drop(response);
                        let authenticator = Arc::clone(&shared.authenticator);
                        let future: Boxed<RB> = Box::pin(async move {
                            let mut transport = Inner {
                                service,
                                polled: false,
                            };
                            exchange::retry(&*authenticator, again, &mut transport).await
                        });
                        future
                    }
                    None => return Poll::Ready(Ok(response)),
                }
            }
            StateProj::Boxed { future } => return future.as_mut().poll(cx),
            StateProj::Failed { error } => {
                return Poll::Ready(Err(error.take().unwrap_or_else(|| {
                    "the response future was polled after it completed".into()
                })));
            }
        };
        // The retry is rare: it runs in a boxed future, polled at once.
        self.set(Self::waiting(next));
        self.poll(cx)
    }
}

impl<B: 'static> ExchangeRequest for http::Request<B> {
    fn take_head(&mut self, _reads_uri: bool) -> Result<Parts, Error> {
        // Moved field by field: the request keeps its body, and nothing is copied.
        let (mut head, ()) = http::Request::new(()).into_parts();
        head.method = mem::take(self.method_mut());
        head.uri = mem::take(self.uri_mut());
        head.version = self.version();
        head.headers = mem::take(self.headers_mut());
        head.extensions = mem::take(self.extensions_mut());
        Ok(head)
    }

    fn put_head(&mut self, head: Parts) {
        *self.method_mut() = head.method;
        *self.uri_mut() = head.uri;
        *self.headers_mut() = head.headers;
        *self.extensions_mut() = head.extensions;
    }

    fn body_bytes(&self) -> Option<&[u8]> {
        None
    }

    fn try_copy(&self) -> Option<Self> {
        let body = copy_body(self.body())?;
        let mut copy = Self::new(body);
        self.method().clone_into(copy.method_mut());
        self.uri().clone_into(copy.uri_mut());
        *copy.version_mut() = self.version();
        copy.headers_mut().clone_from(self.headers());
        self.extensions().clone_into(copy.extensions_mut());
        Some(copy)
    }
}

/// A copy of `body` when its type is one of the in-memory bodies listed in the module docs.
fn copy_body<B: 'static>(body: &B) -> Option<B> {
    copy_as::<(), B>(body)
        .or_else(|| copy_as::<Empty<Bytes>, B>(body))
        .or_else(|| copy_as::<Full<Bytes>, B>(body))
        .or_else(|| copy_as::<Bytes, B>(body))
        .or_else(|| copy_as::<String, B>(body))
        .or_else(|| copy_as::<Vec<u8>, B>(body))
        .or_else(|| copy_as::<&'static str, B>(body))
        .or_else(|| copy_as::<&'static [u8], B>(body))
}

/// `body` cloned, when `B` is `T`. Goes through an `Option` slot, so nothing is boxed.
fn copy_as<T: Clone + 'static, B: 'static>(body: &B) -> Option<B> {
    let known: &T = (body as &dyn Any).downcast_ref()?;
    let mut slot = Some(known.clone());
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<B>>()?
        .take()
}

impl<RB> ExchangeResponse for http::Response<RB>
where
    RB: Send,
{
    fn status(&self) -> StatusCode {
        self.status()
    }

    fn headers(&self) -> &HeaderMap {
        self.headers()
    }

    async fn read_prefix(self, _cap: usize) -> (Self, Option<Bytes>) {
        (self, None)
    }
}
