//! Protocol-faithful fake servers for tests and the demo.
//!
//! [`MockServer`] is an in-process HTTP server on `127.0.0.1:0` running a [`Handler`] on its
//! own thread and runtime (so a test's paused clock does not stop it). It keeps a journal of
//! every request, counts requests per route, and injects faults per route. Each protocol has
//! a module with its own handler, written from the protocol description and never from a
//! client crate. [`TlsFront`] puts HTTPS (a test CA's certificate) in front of any of them.

mod fault;
mod journal;
mod message;
mod registry;
mod server;
mod tls;

pub mod authnz;
pub mod kalliope;
pub mod sipgate;
pub mod wazo;

pub use fault::{Fault, FaultRule};
pub use journal::RecordedRequest;
pub use message::{Handler, MockRequest, MockResponse};
pub use registry::{MOCK_NAMES, handler_by_name};
pub use server::MockServer;
pub use tls::{TEST_CA_PEM, TlsFront};
