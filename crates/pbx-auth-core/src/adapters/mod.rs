//! Transport adapters, each behind its feature. They only move requests in and out of
//! `http::request::Parts`; all authentication logic stays in the [`Authenticator`].
//!
//! [`Authenticator`]: crate::Authenticator

#[cfg(feature = "reqwest-middleware")]
pub mod middleware;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "tower")]
pub mod tower;
