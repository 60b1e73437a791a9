//! Mocks by name, for the `pbx-mock` binary and `cargo xtask demo`.

use std::sync::Arc;

use crate::message::Handler;

/// The names `handler_by_name` knows.
pub const MOCK_NAMES: &[&str] = &["kalliope", "wazo-auth", "sipgate", "authnz"];

/// Builds the named mock from its command-line options.
///
/// # Errors
///
/// Returns a message for an unknown name or invalid options.
pub fn handler_by_name(name: &str, args: &[String]) -> Result<Arc<dyn Handler>, String> {
    match name {
        "kalliope" => crate::kalliope::from_args(args),
        "wazo-auth" | "wazo" => crate::wazo::from_args(args),
        "sipgate" => crate::sipgate::from_args(args),
        "authnz" | "authnzerver" => crate::authnz::from_args(args),
        other => Err(format!(
            "unknown mock `{other}`; known mocks: {}",
            MOCK_NAMES.join(", ")
        )),
    }
}
