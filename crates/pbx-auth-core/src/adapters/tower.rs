//! A tower [`Layer`] that authorizes every `http::Request<B>` before the inner service.
//!
//! The layer authorizes the head only (`body = None`): request bodies are streams here.
//! It does not resend after a 401, because a body stream cannot be replayed; it does report
//! the response to the authenticator, so the next request uses a fresh credential.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::authenticator::{Authenticator, Receipt};

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

impl<S, A> Layer<S> for AuthLayer<A> {
    type Service = AuthService<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: Arc::clone(&self.authenticator),
        }
    }
}

/// Authorizes each request, then calls the inner service.
pub struct AuthService<S, A> {
    inner: S,
    authenticator: Arc<A>,
}

impl<S: Clone, A> Clone for AuthService<S, A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            authenticator: Arc::clone(&self.authenticator),
        }
    }
}

impl<S: fmt::Debug, A: fmt::Debug> fmt::Debug for AuthService<S, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .field("authenticator", &self.authenticator)
            .finish()
    }
}

impl<S, A, B, RB> Service<http::Request<B>> for AuthService<S, A>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    A: Authenticator + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, A, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let authenticator = Arc::clone(&self.authenticator);
        // The common case: the credential is at hand, so the request goes to the service
        // that was just polled ready, with no clone of it and no boxed future.
        match authenticator.authorize_now(&mut parts, None) {
            Some(Ok(receipt)) => {
                let inner = self.inner.call(http::Request::from_parts(parts, body));
                return ResponseFuture::sent(inner, authenticator, receipt);
            }
            Some(Err(error)) => return ResponseFuture::failed(error.into()),
            None => {}
        }
        // Authorizing has to wait. The service that was polled ready is the one that must
        // be called; a fresh clone stays behind for the next poll_ready.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        ResponseFuture::waiting(Box::pin(async move {
            let receipt = authenticator.authorize(&mut parts, None).await?;
            let response = ready
                .call(http::Request::from_parts(parts, body))
                .await
                .map_err(Into::into)?;
            authenticator.on_response(&receipt, response.status(), response.headers());
            Ok(response)
        }))
    }
}

pin_project! {
    /// The future of [`AuthService`]: the inner service's future when the credential was at
    /// hand, a boxed one when authorizing had to wait.
    pub struct ResponseFuture<F, A, RB> {
        #[pin]
        state: State<F, A, RB>,
    }
}

type Waiting<RB> = Pin<Box<dyn Future<Output = Result<http::Response<RB>, BoxError>> + Send>>;

pin_project! {
    #[project = StateProj]
    enum State<F, A, RB> {
        Sent {
            #[pin]
            inner: F,
            authenticator: Arc<A>,
            receipt: Receipt,
        },
        Waiting {
            future: Waiting<RB>,
        },
        Failed {
            error: Option<BoxError>,
        },
    }
}

impl<F, A, RB> ResponseFuture<F, A, RB> {
    fn sent(inner: F, authenticator: Arc<A>, receipt: Receipt) -> Self {
        Self {
            state: State::Sent {
                inner,
                authenticator,
                receipt,
            },
        }
    }

    fn waiting(future: Waiting<RB>) -> Self {
        Self {
            state: State::Waiting { future },
        }
    }

    fn failed(error: BoxError) -> Self {
        Self {
            state: State::Failed { error: Some(error) },
        }
    }
}

impl<F, A, RB> fmt::Debug for ResponseFuture<F, A, RB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E, A, RB> Future for ResponseFuture<F, A, RB>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
    E: Into<BoxError>,
    A: Authenticator,
{
    type Output = Result<http::Response<RB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Sent {
                inner,
                authenticator,
                receipt,
            } => {
                let response = match inner.poll(cx) {
                    Poll::Ready(Ok(response)) => response,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                    Poll::Pending => return Poll::Pending,
                };
                authenticator.on_response(receipt, response.status(), response.headers());
                Poll::Ready(Ok(response))
            }
            StateProj::Waiting { future } => future.as_mut().poll(cx),
            StateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| "the response future was polled after it completed".into()))),
        }
    }
}
