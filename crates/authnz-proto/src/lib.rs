#![doc = include_str!("../README.md")]

mod calls;
mod client;
mod envelope;
mod error;
mod key;
mod message;
mod request_name;
mod secret_serde;
mod timestamp;

pub mod server;

pub use calls::*;
pub use client::{Client, ClientBuilder, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
pub use envelope::FernetEnvelope;
pub use error::Error;
pub use key::{FernetKey, SECRET_ENV};
pub use message::{ReqId, Request, Response};
pub use request_name::RequestName;
/// The reqwest this crate is built on: [`ClientBuilder::http_client`] takes its client
/// (an API boundary, see `ARCHITECTURE.md`).
pub use reqwest;
pub use timestamp::Timestamp;
