//! Errors returned by this crate.
//!
//! No variant carries a key, a password, a session token or a plaintext: messages name
//! what went wrong and where, never the secret that was involved.

use pbx_auth_core::ErrorKind;

/// Everything that can go wrong in `authnz-proto`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(&'static str),

    /// The Fernet key is malformed (the key itself is never printed).
    #[error("invalid Fernet key: {0}")]
    InvalidKey(&'static str),

    /// The key could not be read from the named environment variable or file.
    #[error("cannot read the Fernet key from {origin}: {reason}")]
    KeyUnavailable {
        /// The environment variable or file that was tried.
        origin: String,
        /// Why it failed.
        reason: String,
    },

    /// The sealed message is empty.
    #[error("the sealed message is empty")]
    Empty,

    /// The outer layer holds characters outside the standard base64 alphabet.
    #[error("the message is not standard base64")]
    NotBase64,

    /// The outer base64 layer lacks its `=` padding (the real server refuses it too).
    #[error("the message's base64 is missing its `=` padding")]
    MissingPadding,

    /// The inner Fernet token is not URL-safe base64.
    #[error("the Fernet token is not URL-safe base64")]
    MalformedToken,

    /// The Fernet token is shorter than its fixed parts or its ciphertext is not whole blocks.
    #[error("the Fernet token is truncated")]
    Truncated,

    /// The Fernet token's version byte is not 0x80.
    #[error("unsupported Fernet version byte {0:#04x}")]
    UnsupportedVersion(u8),

    /// The token's HMAC does not verify: the key is wrong or the token was altered.
    /// (Fernet cannot tell these apart; structural damage is reported by the variants above.)
    #[error("the Fernet token does not verify: wrong key or tampered message")]
    BadSignature,

    /// The token is older than the TTL the caller asked for.
    #[error("the Fernet token is {age_secs}s old, more than the allowed {ttl_secs}s")]
    Expired {
        /// Age of the token in seconds.
        age_secs: u64,
        /// The TTL that was applied.
        ttl_secs: u64,
    },

    /// The token is stamped further in the future than the allowed clock skew.
    #[error("the Fernet token is stamped {ahead_secs}s in the future")]
    FromTheFuture {
        /// How far ahead of our clock the stamp is.
        ahead_secs: u64,
    },

    /// A plaintext is not the JSON this crate expected. Values are never quoted.
    #[error("invalid JSON message ({category} error at line {line}, column {column})")]
    Json {
        /// `serde_json`'s classification (syntax, data, eof, io).
        category: &'static str,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },

    /// The server answered with a non-200 status (its small HTML page is never decrypted).
    #[error("the server answered HTTP {status}: {meaning}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// What this status means on authnzerver.
        meaning: &'static str,
    },

    /// The server decrypted and ran the request but reported `success: false`.
    #[error("the server rejected {request}: {}", messages.join(" "))]
    Rejected {
        /// The request name.
        request: &'static str,
        /// The server's messages.
        messages: Vec<String>,
        /// The action's response object (failure responses keep their keys, mostly null).
        response: serde_json::Value,
    },

    /// The reply echoes another `reqid` than the one sent.
    #[error("the reply's reqid {received} does not match the request's {sent}")]
    ReqIdMismatch {
        /// The reqid we sent.
        sent: String,
        /// The reqid in the reply.
        received: String,
    },

    /// The request name is not one authnzerver knows.
    #[error("unknown request name `{0}`")]
    UnknownRequest(String),

    /// A request's envelope decrypted but its content is not a valid request.
    #[error("malformed request: {0}")]
    MalformedRequest(String),

    /// A decrypted request plaintext is not shaped like a request at all. `status` is what
    /// the 0.1.3 server answers: 401 for `{}`, 500 for a non-object or a missing `request`.
    #[error("not a request: {reason}")]
    NotARequest {
        /// What is wrong.
        reason: &'static str,
        /// The status the real server answers.
        status: u16,
    },

    /// The reply body is larger than the client's cap (the limit in bytes, see
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
    #[error("the reply is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// The HTTP exchange failed: connection refused or reset, or no answer within the
    /// configured timeout ([`TransportError::is_timeout`](pbx_auth_core::TransportError::is_timeout)).
    /// Its message names no URL.
    #[error("the exchange with authnzerver failed")]
    Transport(#[from] pbx_auth_core::TransportError),
}

impl Error {
    /// Maps a `serde_json` error to [`Error::Json`] without quoting any value from the input,
    /// since plaintexts carry passwords and tokens.
    pub(crate) fn json(e: &serde_json::Error) -> Self {
        let category = match e.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        Self::Json {
            category,
            line: e.line(),
            column: e.column(),
        }
    }

    /// Maps a reqwest error to [`Error::Transport`]; the core's conversion drops the URL
    /// (one written with `user:password@` would otherwise show in `Debug`).
    pub(crate) fn transport(e: reqwest::Error) -> Self {
        Self::Transport(e.into())
    }

    /// The status the real 0.1.3 server answers for this failure when it hits a request:
    /// 401 when the envelope cannot be opened, 400 when the content is malformed.
    /// Server-side helpers use it to answer like the reference server.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Empty
            | Self::NotBase64
            | Self::MissingPadding
            | Self::MalformedToken
            | Self::Truncated
            | Self::UnsupportedVersion(_)
            | Self::BadSignature
            | Self::Expired { .. }
            | Self::FromTheFuture { .. }
            // The server answers a plaintext that is not JSON like one it cannot decrypt.
            | Self::Json { .. } => 401,
            Self::NotARequest { status, .. } => *status,
            Self::Status { status, .. } => *status,
            Self::Config(_)
            | Self::InvalidKey(_)
            | Self::KeyUnavailable { .. } => 500,
            _ => 400,
        }
    }

    /// The messages the server sent with a rejection (empty for other errors).
    pub fn server_messages(&self) -> &[String] {
        match self {
            Self::Rejected { messages, .. } => messages,
            _ => &[],
        }
    }
}

/// What an HTTP status means on an authnzerver (the body never says).
pub(crate) fn status_meaning(status: u16) -> &'static str {
    match status {
        400 => "the request decrypted but was malformed, repeated or hit a server bug",
        401 => "the server could not decrypt the request (wrong key or bad encoding)",
        404 => "wrong path or a Host header other than localhost/127.0.0.1",
        405 => "the server accepts only POST",
        429 => "rate limited (newer servers only)",
        500 => "the decrypted request had no `request` key or was not a JSON object",
        _ => "unexpected status",
    }
}

impl From<Error> for pbx_auth_core::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Config(_) | Error::InvalidKey(_) | Error::KeyUnavailable { .. } => {
                ErrorKind::Config
            }
            Error::Expired { .. } => ErrorKind::Expired,
            Error::Transport(e) => e.kind(),
            Error::Rejected { .. } => ErrorKind::InvalidCredentials,
            Error::Status { status: 401, .. } => ErrorKind::InvalidCredentials,
            Error::UnknownRequest(_) => ErrorKind::Unsupported,
            _ => ErrorKind::Protocol,
        };
        Self::new(kind, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_kinds_follow_the_failure() {
        let kind = |e: Error| pbx_auth_core::Error::from(e).kind();
        assert_eq!(kind(Error::InvalidKey("x")), ErrorKind::Config);
        assert_eq!(kind(Error::BadSignature), ErrorKind::Protocol);
        assert_eq!(
            kind(Error::Expired {
                age_secs: 2,
                ttl_secs: 1
            }),
            ErrorKind::Expired
        );
        assert_eq!(
            kind(Error::Status {
                status: 401,
                meaning: ""
            }),
            ErrorKind::InvalidCredentials
        );
        assert_eq!(
            kind(Error::UnknownRequest("x".into())),
            ErrorKind::Unsupported
        );
    }
}
