#![doc = include_str!("../README.md")]

mod authenticator;
mod cache;
mod envelope;
mod error;
mod signer;
mod token;

pub mod adapters;
pub mod clock;
pub mod nonce;
pub mod redact;
pub mod secret;

pub use authenticator::{
    AuthAction, Authenticator, BoxFuture, Cached, DynAuthenticator, Receipt, SharedAuthenticator,
};
pub use cache::{RefreshPolicy, TokenCache};
pub use clock::{Clock, FixedClock, SharedClock, SkewAdjustedClock, SystemClock};
pub use envelope::Envelope;
pub use error::{Error, ErrorKind};
pub use nonce::{NonceSource, OsNonce};
pub use secret::{AccessToken, KeyMaterial, Password, RefreshToken};
pub use signer::{HeaderToken, RequestSigner, SignContext};
pub use token::{Issued, TokenSource};
