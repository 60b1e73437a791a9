//! Plain reqwest: authorize a bare [`reqwest::Request`], or send one with the one-retry
//! rule applied.

use std::mem;

use http::request::Parts;

use crate::authenticator::{AuthAction, Authenticator};
use crate::error::{Error, ErrorKind};

/// Authorizes `request` in place and returns the authorized head (what
/// [`Authenticator::on_response`] wants to see later). On error the request is unchanged.
///
/// # Errors
///
/// Returns the authenticator's error, or a [`ErrorKind::Signing`] error when the URL cannot
/// be expressed as an `http::Uri`.
pub async fn authorize_reqwest<A: Authenticator + ?Sized>(
    authenticator: &A,
    request: &mut reqwest::Request,
) -> Result<Parts, Error> {
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = request.method().clone();
    parts.uri = request.url().as_str().parse().map_err(|e| {
        Error::new(ErrorKind::Signing, "the request URL is not a valid URI").with_source(e)
    })?;
    parts.version = request.version();
    parts.headers = mem::take(request.headers_mut());
    let body = request.body().and_then(reqwest::Body::as_bytes);
    let result = authenticator.authorize(&mut parts, body).await;
    // The headers go back whatever happened, so a failed authorization loses nothing.
    *request.headers_mut() = mem::take(&mut parts.headers);
    result.map(|()| parts)
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
    let pristine = request.try_clone();
    let parts = authorize_reqwest(authenticator, &mut request).await?;
    let response = client.execute(request).await.map_err(transport_error)?;
    let action = authenticator.on_response(&parts, response.status(), response.headers());
    match (action, pristine) {
        (AuthAction::RetryOnce, Some(mut again)) => {
            authorize_reqwest(authenticator, &mut again).await?;
            client.execute(again).await.map_err(transport_error)
        }
        _ => Ok(response),
    }
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
