//! The `oauth2` crate's HTTP client trait over the workspace's reqwest.
//!
//! `oauth2` 5 only ships an implementation for an older reqwest; with its default features
//! off we adapt our own client. The client never follows redirects: a redirected token
//! request would carry the client secret and the code to wherever the redirect points.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::error::Error;

/// A reqwest client for the token endpoint: no redirects, bounded time.
#[derive(Debug, Clone)]
pub struct TokenHttpClient {
    client: reqwest::Client,
}

/// The largest token-endpoint reply read. Token responses are a few KiB even with JWT
/// access and ID tokens; anything far bigger is not one.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 1024 * 1024;

impl TokenHttpClient {
    /// A client with redirects disabled, a 30 s timeout and no connection reuse.
    ///
    /// Token requests are a few per hour, so a kept-alive connection saves nothing, while
    /// reusing one the server is just closing fails the request after it may have been
    /// processed — and a refresh cannot be retried safely: the rotated refresh token is
    /// already spent, and presenting it again may revoke the whole grant.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Transport`] when the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(0)
            .build()
            .map_err(Error::transport)?;
        Ok(Self { client })
    }

    /// Wraps a caller-built client. It must not follow redirects; build it with
    /// `redirect(reqwest::redirect::Policy::none())` (and preferably
    /// `pool_max_idle_per_host(0)`, see [`new`](Self::new)).
    pub fn from_reqwest(client: reqwest::Client) -> Self {
        Self { client }
    }

    // The crate's own error is the `oauth2` client's error, so no second error type is
    // public: a failure before an answer is `Transport`, an oversized body `ResponseTooLarge`.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let mut builder = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body);
        if parts.version != http::Version::default() {
            builder = builder.version(parts.version);
        }
        let response = builder.send().await.map_err(Error::transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_TOKEN_RESPONSE_BYTES).await?;
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// Reads a body of at most `limit` bytes, refusing a larger one as soon as its announced
/// length or the bytes received so far exceed the limit (so memory stays bounded).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(Error::ResponseTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::ResponseTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<'c> AsyncHttpClient<'c> for TokenHttpClient {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
