//! The error shared by the core traits.
//!
//! Each protocol crate has its own `Error`; this one is what crosses the trait boundary
//! (`TokenSource`, `RequestSigner`, `Authenticator`, `Envelope`). It is `Clone` so one
//! failed refresh can be handed to every waiter and cached for the backoff window.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What kind of failure an [`Error`] is. Callers branch on this, not on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server refused the credentials (401/403, `invalid_grant`). Retrying will not help.
    InvalidCredentials,
    /// A credential or token has expired.
    Expired,
    /// The server could not be reached, or the connection broke.
    Transport,
    /// The server answered something that does not follow the protocol.
    Protocol,
    /// The caller's configuration is invalid.
    Config,
    /// The operation is not offered by this protocol or server (for example revocation).
    Unsupported,
    /// The operation took longer than allowed.
    Timeout,
    /// A request could not be signed or authorized locally.
    Signing,
}

/// An error crossing the core traits: a kind, a message without secrets, and an optional
/// source.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error. The message must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause, reachable through [`std::error::Error::source`].
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Attaches an already shared cause.
    #[must_use]
    pub fn with_shared_source(
        mut self,
        source: Arc<dyn std::error::Error + Send + Sync + 'static>,
    ) -> Self {
        self.source = Some(source);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again later may succeed (transport failures and timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, ErrorKind::Transport | ErrorKind::Timeout)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    // The source is returned from `source()`, so it is not repeated here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_traits<T: Clone + Send + Sync + 'static + std::error::Error>() {}

    #[test]
    fn error_is_clone_send_sync() {
        assert_traits::<Error>();
    }

    #[test]
    fn transient_kinds() {
        assert!(Error::new(ErrorKind::Timeout, "t").is_transient());
        assert!(Error::new(ErrorKind::Transport, "t").is_transient());
        assert!(!Error::new(ErrorKind::InvalidCredentials, "t").is_transient());
    }

    #[test]
    fn source_is_kept_and_not_repeated() {
        let io = std::io::Error::other("socket closed");
        let e = Error::new(ErrorKind::Transport, "could not reach the server").with_source(io);
        assert_eq!(e.to_string(), "could not reach the server");
        assert_eq!(
            std::error::Error::source(&e).map(ToString::to_string),
            Some("socket closed".to_owned())
        );
    }
}
