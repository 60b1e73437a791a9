//! Errors returned by this crate. No variant carries a token, a code or a secret: server
//! descriptions are kept (they are the server's words about the request), bodies are not.

use pbx_auth_core::ErrorKind;

/// Everything that can go wrong in `sipgate-oauth`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is missing or malformed. `key` names the setting (the `.env`
    /// key where there is one).
    #[error("configuration `{key}`: {reason}")]
    Config {
        /// The setting, e.g. `CLIENT_ID`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The `state` in the callback is missing or differs from the one sent: the callback
    /// does not belong to this login (a stale browser tab, or a forged request).
    #[error(
        "the state in the callback does not match the state of this login (a stale tab or a forged request)"
    )]
    StateMismatch,

    /// The authorization server (or the user) refused the authorization request.
    #[error("authorization refused: {error}{}", describe(.description.as_deref()))]
    AuthorizationDenied {
        /// The OAuth error code, e.g. `access_denied`.
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },

    /// The callback carried neither a code nor an error, or the pasted URL is not the
    /// registered redirect URI.
    #[error("invalid callback: {0}")]
    InvalidCallback(&'static str),

    /// The token endpoint refused the grant (`invalid_grant`): the code was used, expired or
    /// issued for another redirect URI or PKCE verifier, or the refresh token is no longer
    /// valid. Log in again.
    #[error("the grant was refused (invalid_grant){}; log in again", describe(.description.as_deref()))]
    InvalidGrant {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },

    /// The token endpoint refused the client's credentials (`invalid_client`,
    /// `unauthorized_client`): check `CLIENT_ID`, `CLIENT_SECRET` and the client
    /// authentication method.
    #[error("the client was refused ({error}){}", describe(.description.as_deref()))]
    InvalidClient {
        /// `invalid_client` or `unauthorized_client`.
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },

    /// Another OAuth error from the token or revocation endpoint (`invalid_request`,
    /// `invalid_scope`, `unsupported_grant_type`, ...).
    #[error("the token endpoint answered {error}{}", describe(.description.as_deref()))]
    OAuth {
        /// The OAuth error code.
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },

    /// The API refused the credential (HTTP 401 or 403).
    #[error("the API refused the credential (HTTP {status})")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
    },

    /// The server could not be reached, the connection broke or no answer arrived in time
    /// ([`TransportError::is_timeout`](pbx_auth_core::TransportError::is_timeout)). Its
    /// message names no URL.
    #[error("the exchange with the server failed")]
    Transport(#[from] pbx_auth_core::TransportError),

    /// The login callback did not arrive in time.
    #[error("timed out: {0}")]
    Timeout(String),

    /// The server answered something this client does not understand.
    #[error("unexpected response: {0}")]
    UnexpectedResponse(String),

    /// A response body is larger than this client reads (the limit in bytes:
    /// [`MAX_TOKEN_RESPONSE_BYTES`](crate::MAX_TOKEN_RESPONSE_BYTES) for the token endpoint,
    /// [`MAX_ACCOUNT_RESPONSE_BYTES`](crate::MAX_ACCOUNT_RESPONSE_BYTES) for the account).
    #[error("the response is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// Reading or writing the token store failed.
    #[error("token store: {0}")]
    Store(String),

    /// The operation is not offered (for example revocation without a revocation URL).
    #[error("not supported: {0}")]
    Unsupported(&'static str),

    /// An error from the shared core (a cached refresh failure, a signing problem).
    #[error(transparent)]
    Core(pbx_auth_core::Error),
}

fn describe(description: Option<&str>) -> String {
    description.map(|d| format!(": {d}")).unwrap_or_default()
}

impl Error {
    pub(crate) fn config(key: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            key,
            reason: reason.into(),
        }
    }

    /// The core error kind this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Config { .. } => ErrorKind::Config,
            Self::StateMismatch
            | Self::AuthorizationDenied { .. }
            | Self::InvalidGrant { .. }
            | Self::InvalidClient { .. }
            | Self::Unauthorized { .. } => ErrorKind::InvalidCredentials,
            Self::InvalidCallback(_)
            | Self::OAuth { .. }
            | Self::UnexpectedResponse(_)
            | Self::ResponseTooLarge { .. } => ErrorKind::Protocol,
            Self::Transport(e) => e.kind(),
            Self::Store(_) => ErrorKind::Transport,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Unsupported(_) => ErrorKind::Unsupported,
            Self::Core(e) => e.kind(),
        }
    }
}

impl From<Error> for pbx_auth_core::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Core(core) => core,
            other => Self::new(other.kind(), other.to_string()).with_source(other),
        }
    }
}

impl From<pbx_auth_core::Error> for Error {
    /// A failed exchange reported by the core (its source is a
    /// [`TransportError`](pbx_auth_core::TransportError)) becomes [`Error::Transport`], so a
    /// refused connection has one shape whichever path sent the request.
    fn from(error: pbx_auth_core::Error) -> Self {
        let transport = std::error::Error::source(&error)
            .and_then(|s| s.downcast_ref::<pbx_auth_core::TransportError>());
        match transport {
            Some(transport) => Self::Transport(transport.clone()),
            None => Self::Core(error),
        }
    }
}

impl Error {
    /// Maps a reqwest error to [`Error::Transport`]. The core's conversion drops the URL: a
    /// redirect URI with a code must never end up in a log. Not a `From` impl, so that no
    /// reqwest type is part of this crate's public API.
    pub(crate) fn transport(error: reqwest::Error) -> Self {
        Self::Transport(error.into())
    }
}
