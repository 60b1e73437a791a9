//! Plain reqwest: the [`ExchangeRequest`]/[`ExchangeResponse`] impls for reqwest's types,
//! and [`execute`], the authorized exchange over a `reqwest::Client`.

use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use http_body::{Body, Frame, SizeHint};
use reqwest::ResponseBuilderExt as _;

use crate::authenticator::{Authenticator, Receipt};
use crate::error::{Error, ErrorKind};
use crate::exchange::{self, ExchangeRequest, ExchangeResponse};
use crate::refusal::read_prefix;

/// Authorizes `request` in place and returns the [`Receipt`] that
/// [`Authenticator::on_response`] wants with the response. On error the request is
/// unchanged. The same as [`exchange::authorize`].
///
/// # Errors
///
/// Returns the authenticator's error, or a [`ErrorKind::Signing`] error when the URL cannot
/// be expressed as an `http::Uri`.
pub async fn authorize_reqwest<A: Authenticator + ?Sized>(
    authenticator: &A,
    request: &mut reqwest::Request,
) -> Result<Receipt, Error> {
    exchange::authorize(authenticator, request).await
}

/// Sends `request` through `client` with the [authorized exchange](crate::exchange):
/// after a stale-credential refusal, a freshly authorized copy is sent once (when the body
/// can be copied).
///
/// # Errors
///
/// Returns the authenticator's error, or a [`ErrorKind::Transport`] /
/// [`ErrorKind::Timeout`] error whose source is a [`TransportError`](crate::TransportError).
pub fn execute<A: Authenticator + ?Sized>(
    client: &reqwest::Client,
    authenticator: &A,
    request: reqwest::Request,
) -> impl Future<Output = Result<reqwest::Response, Error>> {
    // The exchange's own future, not one more layer around it: each layer is one more copy
    // of the whole state per request. reqwest's future is made before the send future,
    // which then holds that small future instead of the request.
    exchange::exchange(authenticator, request, move |r| {
        let sent = client.execute(r);
        async { sent.await.map_err(transport_error) }
    })
}

impl ExchangeRequest for reqwest::Request {
    /// The head, with the headers moved (not copied) out of the request. The URL is parsed
    /// into a `Uri` only when the authenticator reads it: that is the dearest step here.
    fn take_head(&mut self, reads_uri: bool) -> Result<Parts, Error> {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = self.method().clone();
        if reads_uri {
            parts.uri = self.url().as_str().parse().map_err(|e| {
                Error::new(ErrorKind::Signing, "the request URL is not a valid URI").with_source(e)
            })?;
        }
        parts.version = self.version();
        parts.headers = mem::take(self.headers_mut());
        Ok(parts)
    }

    fn put_head(&mut self, mut head: Parts) {
        *self.headers_mut() = mem::take(&mut head.headers);
    }

    fn body_bytes(&self) -> Option<&[u8]> {
        self.body().and_then(reqwest::Body::as_bytes)
    }

    fn try_copy(&self) -> Option<Self> {
        retry_copy(self)
    }
}

impl ExchangeResponse for reqwest::Response {
    fn status(&self) -> StatusCode {
        self.status()
    }

    fn headers(&self) -> &HeaderMap {
        self.headers()
    }

    async fn read_prefix(self, cap: usize) -> (Self, Option<Bytes>) {
        let url = self.url().clone();
        let (mut parts, mut body) = http::Response::<reqwest::Body>::from(self).into_parts();
        let prefix = read_prefix(&mut body, cap).await;
        let bytes = prefix.bytes.clone();
        let rebuilt = Prefixed {
            prefix: Some(prefix.bytes).filter(|b| !b.is_empty()),
            error: prefix.error,
            rest: (!prefix.complete).then_some(body),
        };
        // The URL travels in an extension that only reqwest's builder can write.
        if let Some(extensions) = http::Response::builder().url(url).extensions_mut() {
            parts.extensions.extend(mem::take(extensions));
        }
        let response = http::Response::from_parts(parts, reqwest::Body::wrap(rebuilt));
        (Self::from(response), Some(bytes))
    }
}

/// A body whose first bytes were already read: they come first, then the rest.
struct Prefixed {
    prefix: Option<Bytes>,
    error: Option<reqwest::Error>,
    rest: Option<reqwest::Body>,
}

impl Body for Prefixed {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        if let Some(error) = this.error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match this.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none()
            && self.error.is_none()
            && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let first = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        let mut hint = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint);
        // The upper bound first: a lower bound above the old upper one would panic.
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper.saturating_add(first));
        }
        hint.set_lower(hint.lower().saturating_add(first));
        hint
    }
}

/// A copy of `request` to send again after a refusal, or `None` when its body is a stream.
///
/// `try_clone` costs more than the rest of authorization together, because it also builds
/// reqwest's per-request settings map even when the request has none. A request without a
/// body is rebuilt from what reqwest exposes instead: method, URL, headers, version and
/// timeout, which is everything a reqwest 0.13 request carries.
pub fn retry_copy(request: &reqwest::Request) -> Option<reqwest::Request> {
    if request.body().is_some() {
        return request.try_clone();
    }
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    copy.headers_mut().clone_from(request.headers());
    *copy.version_mut() = request.version();
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    Some(copy)
}

/// Maps a reqwest error to a core error without copying its text (which may hold a URL).
///
/// The core error's source is the [`TransportError`](crate::TransportError), so protocol
/// crates can recover it for their own `Transport` variant.
pub fn transport_error(error: reqwest::Error) -> Error {
    Error::from(crate::TransportError::from(error))
}
