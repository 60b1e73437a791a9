//! The crate's error.

/// What went wrong while setting up a [`RedisStore`](crate::RedisStore).
///
/// Failures of store operations cross the core traits as
/// [`pbx_auth_core::Error`]: an unreachable Redis is
/// [`ErrorKind::Transport`](pbx_auth_core::ErrorKind::Transport) (transient), a sealed value
/// that does not open is [`ErrorKind::Protocol`](pbx_auth_core::ErrorKind::Protocol).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Redis URL does not parse or names an unsupported scheme.
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(String),
    /// The sealing key is not 32 bytes (or not base64 of 32 bytes).
    #[error("the sealing key must be 32 bytes")]
    InvalidKey,
    /// The key prefix is empty or holds characters that do not belong in a key name.
    #[error("the key prefix must be 1 to 64 characters of [A-Za-z0-9_.:-]")]
    InvalidPrefix,
    /// The first connection could not be made.
    #[error("cannot connect to Redis ({0})")]
    Connect(String),
}
