#![doc = include_str!("../README.md")]

mod acl;
mod builder;
mod client;
mod error;
mod refusal;
mod source;
mod transport;

pub mod api;
pub mod list;
#[cfg(feature = "server")]
pub mod server;

pub use acl::AccessCheck;
pub use api::token::{AccessType, NewToken, Token};
pub use builder::{ClientBuilder, DEFAULT_USER_AGENT};
pub use client::Client;
pub use error::{ApiError, DecodeError, Error, ErrorBody, LegacyError};
pub use list::{Direction, ListParams, Page};
pub use pbx_auth_core::{AccessToken, Password, RefreshToken};
pub use pbx_auth_core::{RenewerHandle, TokenRenewer};
pub use refusal::WazoRefusals;
/// The reqwest this crate is built on: [`ClientBuilder::http_client`] and
/// [`ClientBuilder::add_root_certificate`] take its types (an API boundary, see
/// `ARCHITECTURE.md`).
pub use reqwest;
pub use source::WazoTokenSource;
pub use transport::DEFAULT_MAX_BODY_SIZE;
