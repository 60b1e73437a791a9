//! The envelope and the request/reply plaintexts, as the 0.1.3 server handles them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::message::MockResponse;

/// The Fernet key.
pub(super) struct Key(fernet::Fernet);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([redacted])")
    }
}

impl Key {
    pub(super) fn new(key: &str) -> Result<Self, String> {
        fernet::Fernet::new(key)
            .map(Self)
            .ok_or_else(|| "the key is not a Fernet key (44 characters of URL-safe base64)".into())
    }

    /// base64 → Fernet token → plaintext; `None` is what the server answers with 401.
    /// Like the server, no TTL is applied.
    pub(super) fn open(&self, body: &[u8]) -> Option<Vec<u8>> {
        let token = STANDARD.decode(body.trim_ascii()).ok()?;
        let token = String::from_utf8(token).ok()?;
        self.0.decrypt(&token).ok()
    }

    pub(super) fn seal(&self, plaintext: &str) -> String {
        STANDARD.encode(self.0.encrypt(plaintext.as_bytes()))
    }
}

/// Tornado's error page for `status`.
pub(super) fn html(status: u16) -> MockResponse {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    MockResponse::text(
        status,
        "text/html; charset=UTF-8",
        format!("<html><title>{status}: {reason}</title><body>{status}: {reason}</body></html>"),
    )
}

/// A decrypted request.
pub(super) struct Message {
    pub(super) request: String,
    pub(super) body: Map<String, Value>,
    pub(super) reqid: Value,
}

/// Checks a plaintext the way the server does, returning the status it answers.
pub(super) fn parse_request(plaintext: &[u8]) -> Result<Message, u16> {
    let value: Value = serde_json::from_slice(plaintext).map_err(|_| 401u16)?;
    let Value::Object(mut map) = value else {
        return Err(500);
    };
    if map.is_empty() {
        return Err(401);
    }
    let request = match map.remove("request") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(400),
        None => return Err(500),
    };
    let Some(reqid @ (Value::Number(_) | Value::String(_) | Value::Bool(_))) = map.remove("reqid")
    else {
        return Err(400);
    };
    let Some(Value::Object(body)) = map.remove("body") else {
        return Err(400);
    };
    Ok(Message {
        request,
        body,
        reqid,
    })
}

/// What an action returns: success, its messages, and its own keys.
pub(super) struct Reply {
    pub(super) success: bool,
    pub(super) messages: Vec<String>,
    pub(super) fields: Map<String, Value>,
}

impl Reply {
    pub(super) fn ok(message: &str, fields: Value) -> Self {
        Self::new(true, message, fields)
    }

    pub(super) fn fail(message: &str, fields: Value) -> Self {
        Self::new(false, message, fields)
    }

    fn new(success: bool, message: &str, fields: Value) -> Self {
        let fields = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            success,
            messages: vec![message.to_owned()],
            fields,
        }
    }
}

/// The 0.1.3 reply layout: top-level `message` (singular), `response` repeating
/// `success` and `messages`.
pub(super) fn reply_json(reqid: &Value, reply: Reply) -> String {
    let mut inner = reply.fields;
    inner.insert("success".into(), reply.success.into());
    inner.insert("messages".into(), reply.messages.clone().into());
    serde_json::json!({
        "success": reply.success,
        "reqid": reqid,
        "response": inner,
        "message": reply.messages,
    })
    .to_string()
}
