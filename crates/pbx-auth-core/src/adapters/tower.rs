//! A tower [`Layer`] that authorizes every `http::Request<B>` before the inner service.
//!
//! The layer authorizes the head only (`body = None`): request bodies are streams here.
//! It does not resend after a 401, because a body stream cannot be replayed; it does report
//! the response to the authenticator, so the next request uses a fresh credential.
//! The authenticator works on an extension map of its own: the caller's extensions go on
//! to the inner service untouched, and what the authenticator records stays with it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::authenticator::Authenticator;

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
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The service that was polled ready is the one that must be called; a fresh clone
        // stays behind for the next poll_ready.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        let authenticator = Arc::clone(&self.authenticator);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            // The authenticator records what it used in the extensions; it gets a map of its
            // own, which is moved (not cloned) into the head kept for `on_response`, while the
            // caller's extensions travel on with the request.
            let callers = std::mem::take(&mut parts.extensions);
            let authorized = authenticator.authorize(&mut parts, None).await;
            let (mut seen, ()) = http::Request::new(()).into_parts();
            seen.extensions = std::mem::replace(&mut parts.extensions, callers);
            authorized?;
            seen.method = parts.method.clone();
            seen.uri = parts.uri.clone();
            let response = ready
                .call(http::Request::from_parts(parts, body))
                .await
                .map_err(Into::into)?;
            authenticator.on_response(&seen, response.status(), response.headers());
            Ok(response)
        })
    }
}
