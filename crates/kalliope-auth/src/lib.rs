#![doc = include_str!("../README.md")]

mod auth;
mod authenticator;
mod conn;
mod credentials;
mod error;
mod fleet;
mod grammar;
mod nonce;
mod salt;
mod session;
mod signer;

pub mod created;
pub mod digest;
#[cfg(feature = "server")]
pub mod server;
pub mod verifier;

pub use auth::Auth;
pub use authenticator::{
    KalliopeAuthenticator, KalliopeRefusals, authenticator, authenticator_with_options,
};
pub use conn::{ConnectionInfo, parse_connection_string};
pub use credentials::{Credentials, DEFAULT_DOMAIN, SigningKey};
pub use error::Error;
pub use fleet::{FleetRejectReason, FleetRejected, FleetVerifier};
pub use grammar::{NONCE_MAX, NONCE_MIN, is_valid_field, is_valid_nonce};
pub use nonce::ThreadNonce;
/// The reqwest this crate is built on: [`Session`] takes its requests and returns its
/// responses (an API boundary, see `ARCHITECTURE.md`).
pub use reqwest;
pub use salt::{MAX_SALT_REPLY_BYTES, PBX_ADMIN_SCOPE, SaltSource, parse_salt};
pub use session::{Body, Session, SessionBuilder};
pub use signer::{HEADER_NAME, NONCE_BYTES, XAuthSigner};
