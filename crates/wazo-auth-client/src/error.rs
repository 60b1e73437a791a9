//! Errors returned by this crate, and the error bodies wazo-auth sends.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Everything that can go wrong in `wazo-auth-client`.
///
/// Messages never contain tokens or passwords; transport errors have their URL removed
/// because wazo-auth puts tokens in paths.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached or the connection broke.
    #[error("could not reach wazo-auth")]
    Transport(#[source] reqwest::Error),
    /// The request took longer than the configured timeout.
    #[error("the request to wazo-auth timed out")]
    Timeout(#[source] reqwest::Error),
    /// The server answered with an error status (or an unexpected redirect).
    #[error("wazo-auth answered {status}{}", .body.summary())]
    Http {
        /// The status.
        status: StatusCode,
        /// The parsed error body.
        body: Box<ErrorBody>,
    },
    /// `token.check`: the token is unknown or expired (404).
    #[error("the token is unknown or expired")]
    InvalidToken,
    /// `token.check`: the token lacks the required access or tenant (403).
    #[error("the token lacks the required access or tenant")]
    MissingPermissions,
    /// A success body could not be decoded.
    #[error("could not decode the answer of {what}")]
    Decode {
        /// Which call's answer.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The configuration or the arguments are invalid.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// Getting a token for the request failed (automatic token mode).
    #[error("could not obtain a token")]
    Token(#[source] pbx_auth_core::Error),
    /// An answer's body was longer than the client's limit
    /// ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size)).
    #[error("the answer of wazo-auth is longer than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl Error {
    /// The HTTP status, for [`Error::Http`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying later may help (transport, timeout, 429 and 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Timeout(_) => true,
            Self::Http { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Token(e) => e.is_transient(),
            _ => false,
        }
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        let error = error.without_url();
        if error.is_timeout() {
            Self::Timeout(error)
        } else {
            Self::Transport(error)
        }
    }
}

impl From<Error> for pbx_auth_core::Error {
    fn from(error: Error) -> Self {
        use pbx_auth_core::ErrorKind;
        let kind = match &error {
            Error::Transport(_) => ErrorKind::Transport,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Http { status, .. } if *status == StatusCode::UNAUTHORIZED => {
                ErrorKind::InvalidCredentials
            }
            Error::InvalidToken => ErrorKind::Expired,
            Error::MissingPermissions => ErrorKind::InvalidCredentials,
            Error::Config(_) => ErrorKind::Config,
            Error::Token(e) => e.kind(),
            _ => ErrorKind::Protocol,
        };
        let message = match &error {
            Error::Http { status, .. } => format!("wazo-auth answered {status}"),
            other => other.to_string(),
        };
        Self::new(kind, message).with_source(error)
    }
}

/// The body of an error answer. wazo-auth has two JSON formats, and routing errors come
/// back as HTML.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// The current format: `{"message", "error_id", "details", "timestamp", "resource"?}`.
    Api(ApiError),
    /// The legacy format of the token endpoints: `{"reason": [...], "timestamp": [...],
    /// "status_code": N}`.
    Legacy(LegacyError),
    /// Anything else (HTML, plain text, other JSON), cut to 1 KiB.
    Other {
        /// The `Content-Type`, if any.
        content_type: Option<String>,
        /// The body text.
        text: String,
    },
    /// No body (HEAD answers, 204).
    Empty,
}

/// The current error format of wazo-auth (`APIError`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ApiError {
    /// Human-readable message.
    pub message: String,
    /// Stable identifier such as `unknown-user` or `unauthorized`.
    pub error_id: String,
    /// Details; an `invalid_token` entry is replaced by `"<redacted>"`.
    #[serde(default)]
    pub details: Value,
    /// Server time (a float, sometimes inside an array).
    #[serde(default)]
    pub timestamp: Value,
    /// The resource concerned, when given.
    #[serde(default)]
    pub resource: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The legacy error format of wazo-auth.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct LegacyError {
    /// The reasons (usually one).
    pub reason: Vec<String>,
    /// Server times.
    #[serde(default)]
    pub timestamp: Vec<Value>,
    /// The status the server meant.
    #[serde(default)]
    pub status_code: Option<u16>,
}

const MAX_TEXT: usize = 1024;

impl ErrorBody {
    /// Parses an error body; never fails.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::Empty;
        }
        if let Ok(mut api) = serde_json::from_slice::<ApiError>(bytes) {
            // The token the server echoes is a credential: do not keep it in errors.
            if let Some(t) = api.details.get_mut("invalid_token") {
                *t = Value::String("<redacted>".to_owned());
            }
            return Self::Api(api);
        }
        if let Ok(legacy) = serde_json::from_slice::<LegacyError>(bytes) {
            return Self::Legacy(legacy);
        }
        let text = String::from_utf8_lossy(bytes);
        let mut end = text.len().min(MAX_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self::Other {
            content_type: content_type.map(str::to_owned),
            text: text[..end].to_owned(),
        }
    }

    /// The server's message, if the body has one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Api(api) => Some(&api.message),
            Self::Legacy(legacy) => legacy.reason.first().map(String::as_str),
            _ => None,
        }
    }

    /// The `error_id` of the current format.
    pub fn error_id(&self) -> Option<&str> {
        match self {
            Self::Api(api) => Some(&api.error_id),
            _ => None,
        }
    }

    fn summary(&self) -> String {
        self.message().map(|m| format!(": {m}")).unwrap_or_default()
    }
}
