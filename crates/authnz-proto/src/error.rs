//! Errors returned by this crate.

/// Everything that can go wrong in `authnz-proto`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
}
