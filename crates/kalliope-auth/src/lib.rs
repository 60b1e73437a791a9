#![doc = include_str!("../README.md")]

mod auth;
mod authenticator;
mod conn;
mod credentials;
mod error;
mod nonce;
mod salt;
mod session;
mod signer;

pub mod created;
pub mod digest;
pub mod verifier;

pub use auth::Auth;
pub use authenticator::KalliopeAuthenticator;
pub use conn::{ConnectionInfo, parse_connection_string};
pub use credentials::{Credentials, DEFAULT_DOMAIN, SigningKey};
pub use error::{Error, TransportError};
pub use nonce::ThreadNonce;
pub use salt::{MAX_SALT_REPLY_BYTES, PBX_ADMIN_SCOPE, SaltSource, parse_salt};
pub use session::{Body, Session, SessionBuilder};
pub use signer::{HEADER_NAME, NONCE_BYTES, NONCE_MAX, NONCE_MIN, XAuthSigner, is_valid_nonce};
