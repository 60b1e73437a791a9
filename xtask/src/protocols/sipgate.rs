//! The sipgate OAuth interop suite (real OAuth server), demo and real-browser run.

use crate::Result;
use crate::demo::Demo;

/// Interop against the real OAuth 2.0 server.
pub(crate) fn interop() -> Result {
    Err("the sipgate interop suite is not written yet".into())
}

/// The end-to-end demo against the mock.
pub(crate) fn demo(_demo: &Demo) -> Result {
    Err("the sipgate demo is not written yet".into())
}

/// `cargo xtask e2e`: headless Chromium through the authorization URL.
pub(crate) fn e2e() -> Result {
    Err("the sipgate browser run is not written yet".into())
}
