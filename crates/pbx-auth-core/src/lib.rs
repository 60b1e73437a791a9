#![doc = include_str!("../README.md")]

mod authenticator;
mod cache;
mod envelope;
mod error;
mod refusal;
mod renewer;
mod signer;
mod token;
mod transport;

pub mod adapters;
pub mod clock;
pub mod exchange;
pub mod nonce;
pub mod redact;
pub mod secret;
pub mod store;

pub use authenticator::{
    AuthAction, Authenticator, BoxFuture, Cached, Receipt, SharedAuthenticator,
};
pub use cache::{RefreshPolicy, TokenCache};
pub use clock::{Clock, FixedClock, SharedClock, SkewAdjustedClock, SystemClock};
pub use envelope::Envelope;
pub use error::{Error, ErrorKind};
pub use nonce::{NonceSource, OsNonce};
pub use refusal::{
    Prefix, REFUSAL_PREFIX_CAP, RefusalPolicy, StaleOn401, Verdict, read_capped, read_prefix,
};
pub use renewer::{RenewerHandle, TokenRenewer};
pub use secret::{AccessToken, KeyMaterial, Password, RefreshToken};
pub use signer::{HeaderToken, RequestSigner, SignContext};
pub use token::{Issued, TokenSource};
pub use transport::TransportError;
