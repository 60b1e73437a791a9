//! Errors returned by this crate.
//!
//! Messages never contain a password, a salt, a derived key or a header value: they say
//! what went wrong and where, and the cause (if any) is reachable through `source()`.

use pbx_auth_core::ErrorKind;

/// Everything that can go wrong in `kalliope-auth`.
///
/// `Clone`, so one failed salt fetch can be handed to every request waiting on it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection string cannot be used; the reason says which part is wrong.
    #[error("invalid connection string: {0}")]
    InvalidConnectionString(&'static str),
    /// A username, domain, password or salt cannot be used to sign; the reason says which.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(&'static str),
    /// Another setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The exchange with the server failed: it could not be reached
    /// ([`TransportError::is_connect`](pbx_auth_core::TransportError::is_connect)), the
    /// connection broke, or no complete reply arrived within the configured timeout
    /// ([`TransportError::is_timeout`](pbx_auth_core::TransportError::is_timeout)). Its
    /// message names no URL.
    #[error("the exchange with the Kalliope PBX server failed")]
    Transport(#[from] pbx_auth_core::TransportError),
    /// The salt endpoint answered with a status other than 2xx.
    #[error("the salt request was refused with status {status}")]
    #[non_exhaustive]
    SaltStatus {
        /// The HTTP status of the salt reply.
        status: u16,
    },
    /// The salt reply was neither `{"salt": "..."}` JSON nor XML with a `<salt>` element.
    #[error("the salt reply could not be parsed: {0}")]
    SaltUnparseable(&'static str),
    /// The server still refused the credentials after the salt was fetched again and the
    /// request retried once with a fresh header.
    #[error("the Kalliope PBX server refused the credentials (status {status})")]
    #[non_exhaustive]
    Unauthorized {
        /// The HTTP status of the last refusal (401 or 403).
        status: u16,
    },
    /// The request URL points to another origin than the session's server; the header is
    /// never sent there.
    #[error("refusing to send a request to another origin than the session's server")]
    ForeignUrl,
    /// The server redirected more often than allowed.
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(usize),
    /// A redirect had no usable `Location`.
    #[error("the server sent a redirect without a usable Location header")]
    BadRedirect,
    /// The server's reply is larger than this client reads (the limit in bytes); see
    /// [`MAX_SALT_REPLY_BYTES`](crate::MAX_SALT_REPLY_BYTES).
    #[error("the server's reply is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The header could not be built (for example the clock is outside years 0000-9999).
    #[error("the X-authenticate header could not be built: {0}")]
    Signing(&'static str),
    /// A shared core component failed in a way this crate does not map more precisely;
    /// the core error is the source.
    #[error("a shared authentication component failed")]
    Core(#[source] pbx_auth_core::Error),
}

impl Error {
    /// Maps a reqwest error to [`Error::Transport`]; the core's conversion drops its URL
    /// (which may carry a path the caller considers private) so it never reaches a log
    /// through this error.
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        Self::Transport(error.into())
    }

    /// Recovers this crate's error from a core error that carries one as its source (the
    /// salt source and signer wrap theirs that way), or a core transport failure as
    /// [`Error::Transport`], so callers see the precise variant.
    pub(crate) fn from_core(error: pbx_auth_core::Error) -> Self {
        let source = std::error::Error::source(&error);
        if let Some(ours) = source.and_then(|s| s.downcast_ref::<Self>()) {
            return ours.clone();
        }
        match source.and_then(|s| s.downcast_ref::<pbx_auth_core::TransportError>()) {
            Some(transport) => Self::Transport(transport.clone()),
            None => Self::Core(error),
        }
    }

    /// The core error kind this error corresponds to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidConnectionString(_) | Self::Config(_) | Self::ForeignUrl => {
                ErrorKind::Config
            }
            Self::InvalidCredentials(_) | Self::Unauthorized { .. } => {
                ErrorKind::InvalidCredentials
            }
            Self::Transport(e) => e.kind(),
            Self::SaltStatus { .. }
            | Self::SaltUnparseable(_)
            | Self::ResponseTooLarge { .. }
            | Self::TooManyRedirects(_)
            | Self::BadRedirect => ErrorKind::Protocol,
            Self::Signing(_) => ErrorKind::Signing,
            Self::Core(e) => e.kind(),
        }
    }

    /// Whether trying again later may succeed (unreachable server, broken connection,
    /// timeout).
    pub fn is_transient(&self) -> bool {
        matches!(self.kind(), ErrorKind::Transport | ErrorKind::Timeout)
    }
}

impl From<Error> for pbx_auth_core::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Core(inner) => inner,
            other => {
                let kind = other.kind();
                Self::new(kind, other.to_string()).with_source(other)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_traits<T: Send + Sync + Clone + std::error::Error + 'static>() {}

    #[test]
    fn error_is_send_sync_clone() {
        assert_traits::<Error>();
    }

    #[test]
    fn round_trips_through_the_core_error() {
        let ours = Error::SaltStatus { status: 500 };
        let core: pbx_auth_core::Error = ours.into();
        assert_eq!(core.kind(), ErrorKind::Protocol);
        assert!(matches!(
            Error::from_core(core),
            Error::SaltStatus { status: 500 }
        ));
    }
}
