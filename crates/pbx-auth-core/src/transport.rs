//! [`TransportError`]: one opaque shape for "the bytes did not get through", shared by every
//! protocol crate so that no HTTP client's error type is part of their public API.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::StatusCode;

/// What part of the exchange failed. Private: callers ask the error (`is_timeout`,
/// `is_connect`), so new kinds can be told apart later without a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// No connection could be made (refused, DNS, TLS handshake).
    Connect,
    /// No complete answer arrived in time.
    Timeout,
    /// The answer's body could not be read to its end.
    Body,
    /// Anything else: the connection broke, the request could not be built or sent.
    Other,
}

/// A failure to exchange a request and its answer with a server: no connection, a timeout,
/// a broken connection, or a body that could not be read.
///
/// It is opaque on purpose: a new version of the HTTP client underneath does not change
/// this type, so it is not a breaking change for the crates that return it. Ask it what
/// happened ([`is_timeout`](Self::is_timeout), [`is_connect`](Self::is_connect),
/// [`status`](Self::status)); the client's own error is the [`source`](std::error::Error::source),
/// with its whole chain.
///
/// Its message names the failure, never a URL: URLs can carry query strings with tokens,
/// and the client's error is kept without its URL too.
#[derive(Clone)]
pub struct TransportError {
    stage: Stage,
    status: Option<StatusCode>,
    message: Cow<'static, str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TransportError {
    fn with(stage: Stage, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            stage,
            status: None,
            message: message.into(),
            source: None,
        }
    }

    /// No connection could be made. The message must not contain secrets or URLs.
    pub fn connect(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with(Stage::Connect, message)
    }

    /// No complete answer arrived in time. The message must not contain secrets or URLs.
    pub fn timeout(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with(Stage::Timeout, message)
    }

    /// The answer's body could not be read. The message must not contain secrets or URLs.
    pub fn body(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with(Stage::Body, message)
    }

    /// Any other transport failure. The message must not contain secrets or URLs.
    pub fn other(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with(Stage::Other, message)
    }

    /// Attaches the underlying cause, reachable through [`std::error::Error::source`]. Strip
    /// URLs from it first where the client keeps them.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Records the status of the answer the failure belongs to, when one had arrived.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Whether no complete answer arrived in time.
    pub fn is_timeout(&self) -> bool {
        self.stage == Stage::Timeout
    }

    /// Whether no connection could be made (refused, name resolution, TLS handshake).
    pub fn is_connect(&self) -> bool {
        self.stage == Stage::Connect
    }

    /// Whether the answer's body could not be read to its end.
    pub fn is_body(&self) -> bool {
        self.stage == Stage::Body
    }

    /// The status of the answer, when the failure happened after one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// The core [`ErrorKind`](crate::ErrorKind) of this failure.
    pub fn kind(&self) -> crate::ErrorKind {
        if self.is_timeout() {
            crate::ErrorKind::Timeout
        } else {
            crate::ErrorKind::Transport
        }
    }
}

#[cfg(feature = "reqwest")]
impl From<reqwest::Error> for TransportError {
    fn from(error: reqwest::Error) -> Self {
        let status = error.status();
        let mut this = if error.is_timeout() {
            Self::timeout("no answer arrived in time")
        } else if error.is_connect() {
            Self::connect("the server could not be reached")
        } else if error.is_body() || error.is_decode() {
            Self::body("the answer's body could not be read")
        } else {
            Self::other("the request could not be completed")
        };
        if let Some(status) = status {
            this = this.with_status(status);
        }
        // The URL can carry a query string with a token; the rest of the chain (hyper, io,
        // TLS) names no URL.
        this.with_source(error.without_url())
    }
}

impl From<TransportError> for crate::Error {
    fn from(error: TransportError) -> Self {
        Self::new(error.kind(), error.message.clone()).with_source(error)
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TransportError");
        d.field("stage", &self.stage)
            .field("status", &self.status)
            .field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Display for TransportError {
    // The source is returned from `source()`, so it is not repeated here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn it_says_what_failed() {
        let e = TransportError::timeout("no answer arrived in time");
        assert!(e.is_timeout() && !e.is_connect() && !e.is_body());
        assert_eq!(e.kind(), crate::ErrorKind::Timeout);
        let e = TransportError::connect("refused").with_status(StatusCode::BAD_GATEWAY);
        assert!(e.is_connect());
        assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(e.kind(), crate::ErrorKind::Transport);
    }

    #[test]
    fn the_chain_is_kept_and_the_message_not_repeated() {
        let io = std::io::Error::other("connection reset");
        let e = TransportError::other("the request could not be completed").with_source(io);
        assert_eq!(e.to_string(), "the request could not be completed");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("connection reset")
        );
        let core = crate::Error::from(e);
        assert_eq!(core.kind(), crate::ErrorKind::Transport);
        let inner = core
            .source()
            .and_then(|s| s.downcast_ref::<TransportError>());
        assert!(inner.is_some());
    }

    fn assert_traits<T: Clone + Send + Sync + 'static + std::error::Error>() {}

    #[test]
    fn it_is_clone_send_sync() {
        assert_traits::<TransportError>();
    }
}
