//! The sipgate mock. Filled in by its protocol's work; until then it answers 501.

use std::sync::Arc;

use crate::message::{Handler, MockRequest, MockResponse};

/// Builds the mock from its command-line options.
///
/// # Errors
///
/// Returns a message for invalid options.
pub fn from_args(_args: &[String]) -> Result<Arc<dyn Handler>, String> {
    Ok(Arc::new(|_: &MockRequest| MockResponse::status(501)))
}
