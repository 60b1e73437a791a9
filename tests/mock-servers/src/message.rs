//! What a handler sees and answers.

use std::collections::HashMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

/// A received request, fully read (mocks always drain the body before answering).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MockRequest {
    /// The method.
    pub method: Method,
    /// The path, percent-encoded as sent.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The server's own base URL, `http://127.0.0.1:<port>`.
    pub server_url: String,
}

impl MockRequest {
    /// A header's value as text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query pairs, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The query as a map (the last value wins).
    pub fn query_map(&self) -> HashMap<String, String> {
        self.query_pairs().into_iter().collect()
    }

    /// The body as form pairs.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    /// The body as JSON, if it parses.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A response to send.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MockResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl MockResponse {
    /// An empty response with `status`.
    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::status(status)
            .with_header("content-type", "application/json")
            .with_body(value.to_string())
    }

    /// A text response with the given content type.
    pub fn text(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self::status(status)
            .with_header("content-type", content_type)
            .with_body(body)
    }

    /// Adds a header (ignored if the name or value is invalid).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.append(name, value);
        }
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

/// A protocol implementation. Called on the server's runtime; must not block for long.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: &MockRequest) -> MockResponse;
}

impl<F> Handler for F
where
    F: Fn(&MockRequest) -> MockResponse + Send + Sync + 'static,
{
    fn handle(&self, request: &MockRequest) -> MockResponse {
        self(request)
    }
}
