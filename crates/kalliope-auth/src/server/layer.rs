//! `VerifyXAuth`: the layer and its service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::verifier::{Rejected, SCHEME, Verified, Verifier};

/// Checks the `X-authenticate` header of a request: signature, time window and nonce
/// (spent when accepted).
pub trait HeaderVerifier: Send + Sync + 'static {
    /// Verifies `headers`; the nonce is spent when this answers `Ok`.
    fn verify(
        &self,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<Verified, Rejected>> + Send;

    /// The same decision, when it can be made without waiting (an in-process nonce
    /// store); `None` when it needs [`verify`](Self::verify) (the default). The layer then
    /// calls the inner service directly, without boxing a future. The nonce is spent when
    /// this answers `Some(Ok(_))`.
    fn verify_now(&self, headers: &HeaderMap) -> Option<Result<Verified, Rejected>> {
        let _ = headers;
        None
    }
}

impl HeaderVerifier for Verifier {
    fn verify(
        &self,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<Verified, Rejected>> + Send {
        std::future::ready(self.verify_headers(headers))
    }

    fn verify_now(&self, headers: &HeaderMap) -> Option<Result<Verified, Rejected>> {
        Some(self.verify_headers(headers))
    }
}

impl<V: HeaderVerifier> HeaderVerifier for Arc<V> {
    fn verify(
        &self,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<Verified, Rejected>> + Send {
        (**self).verify(headers)
    }

    fn verify_now(&self, headers: &HeaderMap) -> Option<Result<Verified, Rejected>> {
        (**self).verify_now(headers)
    }
}

/// How refusals are answered. Every refusal looks the same whatever the reason; the
/// reason is for the service's own logs ([`VerifyXAuth::on_reject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Refusal {
    /// 401 with `WWW-Authenticate: RestApiUsernameToken` and the text
    /// `authentication failed` (the default, as `pbx-mock kalliope` answers).
    #[default]
    Unauthorized,
    /// 403 with an empty body, as the Symfony WSSE listener the scheme comes from answers.
    Forbidden,
}

impl Refusal {
    fn response<B: From<Bytes>>(self) -> Response<B> {
        let (status, body) = match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Bytes::from_static(b"authentication failed"),
            ),
            Self::Forbidden => (StatusCode::FORBIDDEN, Bytes::new()),
        };
        let mut res = Response::new(B::from(body));
        *res.status_mut() = status;
        if self == Self::Unauthorized {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(SCHEME));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        res
    }
}

type RejectHook = Arc<dyn Fn(&Rejected) + Send + Sync>;

/// A layer that lets a request through only with a valid, fresh, unused `X-authenticate`
/// header, and gives the handler the [`Verified`] user (username, domain) as a request
/// extension.
pub struct VerifyXAuth<V> {
    verifier: Arc<V>,
    refusal: Refusal,
    on_reject: Option<RejectHook>,
}

impl<V> Clone for VerifyXAuth<V> {
    fn clone(&self) -> Self {
        Self {
            verifier: Arc::clone(&self.verifier),
            refusal: self.refusal,
            on_reject: self.on_reject.clone(),
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for VerifyXAuth<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyXAuth")
            .field("verifier", &self.verifier)
            .field("refusal", &self.refusal)
            .field("on_reject", &self.on_reject.is_some())
            .finish()
    }
}

impl<V: HeaderVerifier> VerifyXAuth<V> {
    /// A layer around `verifier` (shared by every clone of the layer and its services).
    pub fn new(verifier: impl Into<Arc<V>>) -> Self {
        Self {
            verifier: verifier.into(),
            refusal: Refusal::default(),
            on_reject: None,
        }
    }

    /// How refusals are answered (default [`Refusal::Unauthorized`]).
    #[must_use]
    pub fn refusal(mut self, refusal: Refusal) -> Self {
        self.refusal = refusal;
        self
    }

    /// Called with each refusal, for logs and metrics (the reason never reaches the
    /// client).
    #[must_use]
    pub fn on_reject(mut self, hook: impl Fn(&Rejected) + Send + Sync + 'static) -> Self {
        self.on_reject = Some(Arc::new(hook));
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Arc<V> {
        &self.verifier
    }
}

impl<S, V> Layer<S> for VerifyXAuth<V> {
    type Service = VerifyXAuthService<S, V>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyXAuthService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`VerifyXAuth`] wraps around a route or router.
pub struct VerifyXAuthService<S, V> {
    inner: S,
    layer: VerifyXAuth<V>,
}

impl<S: Clone, V> Clone for VerifyXAuthService<S, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for VerifyXAuthService<S, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyXAuthService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

type Boxed<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

pin_project! {
    /// The future of [`VerifyXAuthService`]: the inner service's own future when the
    /// verifier decided at once ([`HeaderVerifier::verify_now`]), a boxed one otherwise.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner {
            #[pin]
            future: F,
        },
        Refused {
            response: Option<Response<B>>,
        },
        Verifying {
            future: Boxed<Response<B>, E>,
        },
    }
}

impl<F, B, E> std::fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("the refusal future is polled after it completed"))),
            StateProj::Verifying { future } => future.as_mut().poll(cx),
        }
    }
}

impl<V: HeaderVerifier> VerifyXAuth<V> {
    /// The refusal's response, after the hook has seen why.
    fn refuse<B: From<Bytes>>(&self, rejected: &Rejected) -> Response<B> {
        if let Some(hook) = &self.on_reject {
            hook(rejected);
        }
        self.refusal.response()
    }
}

impl<S, V, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyXAuthService<S, V>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    V: HeaderVerifier,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // An in-process verifier decides here: the inner service (the one polled ready)
        // is called without a clone or a box.
        match self.layer.verifier.verify_now(req.headers()) {
            Some(Ok(verified)) => {
                req.extensions_mut().insert(verified);
                return ResponseFuture {
                    state: State::Inner {
                        future: self.inner.call(req),
                    },
                };
            }
            Some(Err(rejected)) => {
                return ResponseFuture {
                    state: State::Refused {
                        response: Some(self.layer.refuse(&rejected)),
                    },
                };
            }
            None => {}
        }
        // The clone is the one that was not polled ready; take the ready one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let future = Box::pin(async move {
            match layer.verifier.verify(req.headers()).await {
                Ok(verified) => {
                    req.extensions_mut().insert(verified);
                    inner.call(req).await
                }
                Err(rejected) => Ok(layer.refuse(&rejected)),
            }
        });
        ResponseFuture {
            state: State::Verifying { future },
        }
    }
}
