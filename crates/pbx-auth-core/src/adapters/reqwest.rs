//! Plain reqwest: authorize a bare [`reqwest::Request`], or send one with the one-retry
//! rule applied.

use std::mem;

use http::request::Parts;

use crate::authenticator::{AuthAction, Authenticator, Receipt};
use crate::error::{Error, ErrorKind};

/// Authorizes `request` in place and returns the [`Receipt`] that
/// [`Authenticator::on_response`] wants with the response. On error the request is
/// unchanged.
///
/// The authenticator sees the URL as `parts.uri` only if it
/// [reads it](Authenticator::reads_uri): parsing it is the dearest step here.
///
/// # Errors
///
/// Returns the authenticator's error, or a [`ErrorKind::Signing`] error when the URL cannot
/// be expressed as an `http::Uri`.
pub async fn authorize_reqwest<A: Authenticator + ?Sized>(
    authenticator: &A,
    request: &mut reqwest::Request,
) -> Result<Receipt, Error> {
    let mut parts = take_head(authenticator, request)?;
    let body = request.body().and_then(reqwest::Body::as_bytes);
    let result = authenticator.authorize(&mut parts, body).await;
    // The headers go back whatever happened, so a failed authorization loses nothing.
    *request.headers_mut() = mem::take(&mut parts.headers);
    result
}

/// The head of `request` as `Parts`, with its headers moved (not copied) out of it.
fn take_head<A: Authenticator + ?Sized>(
    authenticator: &A,
    request: &mut reqwest::Request,
) -> Result<Parts, Error> {
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = request.method().clone();
    if authenticator.reads_uri() {
        parts.uri = request.url().as_str().parse().map_err(|e| {
            Error::new(ErrorKind::Signing, "the request URL is not a valid URI").with_source(e)
        })?;
    }
    parts.version = request.version();
    parts.headers = mem::take(request.headers_mut());
    Ok(parts)
}

/// Sends `request` through `client` with authentication, and after a 401 that the
/// authenticator answers with [`AuthAction::RetryOnce`], sends a freshly authorized copy once
/// (when the body can be copied).
///
/// # Errors
///
/// Returns the authenticator's error, or a [`ErrorKind::Transport`] /
/// [`ErrorKind::Timeout`] error carrying reqwest's error as its source.
pub async fn execute<A: Authenticator + ?Sized>(
    client: &reqwest::Client,
    authenticator: &A,
    mut request: reqwest::Request,
) -> Result<reqwest::Response, Error> {
    let pristine = retry_copy(&request);
    let receipt = authorize_reqwest(authenticator, &mut request).await?;
    let response = client.execute(request).await.map_err(transport_error)?;
    let action = authenticator.on_response(&receipt, response.status(), response.headers());
    match (action, pristine) {
        (AuthAction::RetryOnce, Some(mut again)) => {
            drop(response);
            authorize_reqwest(authenticator, &mut again).await?;
            client.execute(again).await.map_err(transport_error)
        }
        _ => Ok(response),
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
pub fn transport_error(error: reqwest::Error) -> Error {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    let message = if error.is_timeout() {
        "the request timed out"
    } else {
        "the request could not be sent"
    };
    Error::new(kind, message).with_source(error.without_url())
}
