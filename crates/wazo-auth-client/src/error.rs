//! Errors returned by this crate, and the error bodies wazo-auth sends.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Everything that can go wrong in `wazo-auth-client`.
///
/// Messages never contain tokens or passwords; transport errors are the core's
/// [`TransportError`](pbx_auth_core::TransportError), which names no URL (wazo-auth puts
/// tokens in paths).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached, the connection broke or no answer arrived in time
    /// ([`TransportError::is_timeout`](pbx_auth_core::TransportError::is_timeout)).
    #[error("the exchange with wazo-auth failed")]
    Transport(#[from] pbx_auth_core::TransportError),
    /// The server answered with an error status (or an unexpected redirect).
    #[error("wazo-auth answered {status}{}", .body.summary())]
    Http {
        /// The status.
        status: StatusCode,
        /// The parsed error body.
        body: Box<ErrorBody>,
    },
    /// `token.check`: the token is unknown or expired (404).
    #[error("the token is unknown or expired")]
    InvalidToken,
    /// `token.check`: the token lacks the required access or tenant (403).
    #[error("the token lacks the required access or tenant")]
    MissingPermissions,
    /// A success body could not be decoded.
    #[error("could not decode the answer of {what}")]
    Decode {
        /// Which call's answer.
        what: &'static str,
        /// Why, without the offending value (which can be a token).
        #[source]
        source: DecodeError,
    },
    /// An answer that is not wazo-auth's: an HTML or non-JSON 404 where the server always
    /// answers JSON. The base URL or its prefix is wrong.
    #[error(
        "wazo-auth answered {status} with a body that is not wazo-auth's: wrong base URL or prefix"
    )]
    NotWazo {
        /// The status.
        status: StatusCode,
    },
    /// A list walk ([`crate::list::all`]) did not end within its page bound.
    #[error("the list did not end after {pages} pages")]
    ListTooLong {
        /// How many pages were read.
        pages: u64,
    },
    /// The configuration or the arguments are invalid.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// Getting a token for the request failed (automatic token mode).
    #[error("could not obtain a token")]
    Core(#[source] pbx_auth_core::Error),
    /// An answer's body was longer than the client's limit
    /// ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size)).
    #[error("the answer of wazo-auth is longer than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl Error {
    /// The HTTP status, for [`Error::Http`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying later may help (transport, timeout, 429 and 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Http { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Core(e) => e.is_transient(),
            _ => false,
        }
    }

    /// Removes `secrets` (the client's password and token) from the server text kept in an
    /// [`Error::Http`] body.
    pub(crate) fn redact_secrets(mut self, secrets: &[String]) -> Self {
        if let Self::Http { body, .. } = &mut self {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            body.redact_secrets(&secrets);
        }
        self
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        Self::Transport(error.into())
    }
}

/// Why a body could not be decoded: the kind of failure and where, never the offending
/// value itself (the JSON library's own message quotes it, and it can be a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    category: &'static str,
    line: usize,
    column: usize,
}

impl DecodeError {
    /// The kind of failure: `syntax`, `data` (valid JSON of the wrong shape), `eof` or `io`.
    pub fn category(&self) -> &'static str {
        self.category
    }

    /// The line of the failure (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of the failure (1-based).
    pub fn column(&self) -> usize {
        self.column
    }
}

impl From<serde_json::Error> for DecodeError {
    fn from(error: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match error.classify() {
            Category::Io => "io",
            Category::Syntax => "syntax",
            Category::Data => "data",
            Category::Eof => "eof",
        };
        Self {
            category,
            line: error.line(),
            column: error.column(),
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.category {
            "data" => "unexpected JSON shape",
            "syntax" => "invalid JSON",
            "eof" => "truncated JSON",
            _ => "unreadable body",
        };
        write!(f, "{what} at line {} column {}", self.line, self.column)
    }
}

impl std::error::Error for DecodeError {}

impl From<Error> for pbx_auth_core::Error {
    fn from(error: Error) -> Self {
        use pbx_auth_core::ErrorKind;
        let kind = match &error {
            Error::Transport(e) => e.kind(),
            Error::Http { status, .. } if *status == StatusCode::UNAUTHORIZED => {
                ErrorKind::InvalidCredentials
            }
            Error::InvalidToken => ErrorKind::Expired,
            Error::MissingPermissions => ErrorKind::InvalidCredentials,
            Error::Config(_) | Error::NotWazo { .. } => ErrorKind::Config,
            Error::Core(e) => e.kind(),
            _ => ErrorKind::Protocol,
        };
        let message = match &error {
            Error::Http { status, .. } => format!("wazo-auth answered {status}"),
            other => other.to_string(),
        };
        Self::new(kind, message).with_source(error)
    }
}

/// The body of an error answer. wazo-auth has three JSON formats (the current one, the
/// legacy one of the token and policy endpoints, and the framework's plain `{"message"}`,
/// parsed as [`ErrorBody::Api`] without an `error_id`), and routing errors come back as
/// HTML.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// The current format: `{"message", "error_id", "details", "timestamp", "resource"?}`,
    /// and the plain `{"message"}` (500, 405, undecodable JSON).
    Api(ApiError),
    /// The legacy format of the token endpoints: `{"reason": [...], "timestamp": [...],
    /// "status_code": N}`.
    Legacy(LegacyError),
    /// Anything else (HTML, plain text, other JSON), cut to 1 KiB, with anything
    /// credential-shaped replaced by `<redacted>`.
    Other {
        /// The `Content-Type`, if any.
        content_type: Option<String>,
        /// The body text, redacted.
        text: String,
    },
    /// No body (HEAD answers, 204).
    Empty,
}

/// The current error format of wazo-auth (`APIException`), also holding the framework's
/// plain `{"message"}` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApiError {
    /// Human-readable message. When the server sent an object (list-parameter and e-mail
    /// validation errors), this is its messages joined as `field: message; ...`, and the
    /// object itself is in [`message_fields`](Self::message_fields).
    pub message: String,
    /// The server's `message` when it is not text, as sent.
    pub message_fields: Option<Value>,
    /// Stable identifier such as `unknown-user` or `unauthorized`; `None` for the plain
    /// `{"message"}` format.
    pub error_id: Option<String>,
    /// Details; an `invalid_token` entry is replaced by `"<redacted>"`.
    pub details: Value,
    /// Server time (a float, sometimes inside an array).
    pub timestamp: Value,
    /// The resource concerned, when given.
    pub resource: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The legacy error format of wazo-auth.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct LegacyError {
    /// The reasons (usually one).
    pub reason: Vec<String>,
    /// Server times.
    #[serde(default)]
    pub timestamp: Vec<Value>,
    /// The status the server meant.
    #[serde(default)]
    pub status_code: Option<u16>,
}

const MAX_TEXT: usize = 1024;

impl<'de> Deserialize<'de> for ApiError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        api_error(value)
            .ok_or_else(|| serde::de::Error::custom("not a wazo-auth error body (no `message`)"))
    }
}

/// Joins the messages of a validation error object as `field: message; ...`.
fn readable(value: &Value, path: &str, out: &mut Vec<String>) {
    let at = |key: &str| {
        if path.is_empty() || key == "_schema" {
            if key == "_schema" {
                path.to_owned()
            } else {
                key.to_owned()
            }
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) if path.is_empty() => out.push(text.clone()),
        Value::String(text) => out.push(format!("{path}: {text}")),
        Value::Array(items) => {
            for item in items {
                readable(item, path, out);
            }
        }
        Value::Object(map) => {
            if let Some(text) = map.get("message").and_then(Value::as_str) {
                out.push(if path.is_empty() {
                    text.to_owned()
                } else {
                    format!("{path}: {text}")
                });
                return;
            }
            for (key, v) in map {
                readable(v, &at(key), out);
            }
        }
        other if !other.is_null() && path.is_empty() => out.push(other.to_string()),
        other if !other.is_null() => out.push(format!("{path}: {other}")),
        _ => {}
    }
}

fn api_error(value: Value) -> Option<ApiError> {
    let Value::Object(mut map) = value else {
        return None;
    };
    let raw = map.remove("message")?;
    let error_id = match map.remove("error_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return None,
    };
    let (message, message_fields) = match raw {
        Value::String(text) => (text, None),
        other => {
            let mut parts = Vec::new();
            readable(&other, "", &mut parts);
            (parts.join("; "), Some(other))
        }
    };
    let mut details = map.remove("details").unwrap_or(Value::Null);
    // The token the server echoes is a credential: do not keep it in errors.
    if let Some(t) = details.get_mut("invalid_token") {
        *t = Value::String("<redacted>".to_owned());
    }
    let timestamp = map.remove("timestamp").unwrap_or(Value::Null);
    let resource = match map.remove("resource") {
        Some(Value::String(r)) => Some(r),
        _ => None,
    };
    Some(ApiError {
        message,
        message_fields,
        error_id,
        details,
        timestamp,
        resource,
        extra: map,
    })
}

/// Replaces anything credential-shaped in echoed text with `<redacted>`: the values of
/// `Authorization`, `X-Auth-Token`, `Cookie` and similar headers, `Basic`/`Bearer`
/// credentials, UUIDs (wazo tokens), values of keys such as `password`, `token`, `secret`,
/// and long base64-like runs.
pub(crate) fn redact(text: &str) -> String {
    const KEYS: &[&str] = &[
        "authorization",
        "x-auth-token",
        "cookie",
        "password",
        "passwd",
        "token",
        "secret",
        "api_key",
        "apikey",
        "refresh_token",
        "client_secret",
    ];
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let lower: Vec<char> = chars.iter().map(|c| c.to_ascii_lowercase()).collect();
    let starts = |at: usize, word: &str| {
        word.chars()
            .enumerate()
            .all(|(k, w)| lower.get(at + k) == Some(&w))
    };
    let token_char = |c: char| c.is_ascii_alphanumeric() || "+/=-_.~%".contains(c);
    while i < chars.len() {
        // A key we know: keep it, redact its value (after `:`, `=`, quotes and blanks).
        if let Some(key) = KEYS
            .iter()
            .find(|k| starts(i, k) && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()))
        {
            let mut j = i + key.chars().count();
            let mut sep = j;
            while sep < chars.len() && matches!(chars[sep], '"' | '\'' | ' ' | '\t') {
                sep += 1;
            }
            if sep < chars.len() && matches!(chars[sep], ':' | '=') {
                out.extend(&chars[i..=sep]);
                j = sep + 1;
                while j < chars.len() && matches!(chars[j], ' ' | '\t' | '"' | '\'') {
                    out.push(chars[j]);
                    j += 1;
                }
                // `Basic xxx` / `Bearer xxx`: the scheme is not secret, what follows is.
                for scheme in ["basic ", "bearer ", "token "] {
                    if starts(j, scheme) {
                        out.extend(&chars[j..j + scheme.len()]);
                        j += scheme.len();
                    }
                }
                let mut end = j;
                while end < chars.len()
                    && !matches!(
                        chars[end],
                        '"' | '\'' | '\r' | '\n' | ',' | '&' | '<' | ';' | '}'
                    )
                {
                    end += 1;
                }
                if end > j {
                    out.push_str("<redacted>");
                }
                i = end;
                continue;
            }
        }
        if (starts(i, "basic ") || starts(i, "bearer "))
            && (i == 0 || !chars[i - 1].is_ascii_alphanumeric())
        {
            let scheme = if starts(i, "basic ") { 6 } else { 7 };
            out.extend(&chars[i..i + scheme]);
            let mut end = i + scheme;
            while end < chars.len() && token_char(chars[end]) {
                end += 1;
            }
            if end > i + scheme {
                out.push_str("<redacted>");
            }
            i = end;
            continue;
        }
        // A run of token characters: UUIDs and long base64-like runs are redacted.
        if token_char(chars[i]) && (i == 0 || !token_char(chars[i - 1])) {
            let mut end = i;
            while end < chars.len() && token_char(chars[end]) {
                end += 1;
            }
            let run: String = chars[i..end].iter().collect();
            let looks_uuid = run.len() >= 32
                && run.chars().filter(char::is_ascii_hexdigit).count() >= 32
                && run.contains('-');
            let long_secret = run.len() >= 24
                && run.chars().any(|c| c.is_ascii_digit())
                && run.chars().any(|c| c.is_ascii_alphabetic())
                && !run.contains('/')
                && !run.contains('.');
            if looks_uuid || long_secret {
                out.push_str("<redacted>");
            } else {
                out.push_str(&run);
            }
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

impl ErrorBody {
    /// Parses an error body; never fails.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::Empty;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
            if let Some(api) = api_error(value.clone()) {
                return Self::Api(api);
            }
            if let Ok(legacy) = serde_json::from_value::<LegacyError>(value) {
                return Self::Legacy(legacy);
            }
        }
        let text = String::from_utf8_lossy(bytes);
        let mut end = text.len().min(MAX_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self::Other {
            content_type: content_type.map(str::to_owned),
            text: redact(&text[..end]),
        }
    }

    /// Replaces each of `secrets` (the client's own password or token, say) in the kept
    /// text with `<redacted>`.
    pub fn redact_secrets(&mut self, secrets: &[&str]) {
        let scrub = |text: &mut String| {
            for secret in secrets.iter().filter(|s| s.len() >= 4) {
                *text = text.replace(secret, "<redacted>");
            }
        };
        match self {
            Self::Other { text, .. } => scrub(text),
            Self::Api(api) => scrub(&mut api.message),
            Self::Legacy(legacy) => legacy.reason.iter_mut().for_each(scrub),
            Self::Empty => {}
        }
    }

    /// Whether this is a body wazo-auth writes (JSON in one of its formats).
    pub fn is_wazo(&self) -> bool {
        matches!(self, Self::Api(_) | Self::Legacy(_))
    }

    /// The server's message, if the body has one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Api(api) => Some(&api.message),
            Self::Legacy(legacy) => legacy.reason.first().map(String::as_str),
            _ => None,
        }
    }

    /// The `error_id` of the current format.
    pub fn error_id(&self) -> Option<&str> {
        match self {
            Self::Api(api) => api.error_id.as_deref(),
            _ => None,
        }
    }

    fn summary(&self) -> String {
        self.message().map(|m| format!(": {m}")).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorBody, redact};

    #[test]
    fn credential_shaped_text_is_redacted() {
        let echoed = "POST /0.1/token\nauthorization: Basic YWxpY2U6czNjcmU3\n\
            X-Auth-Token: 4b7e2c0a-5d1f-4c3e-9a8b-7f6e5d4c3b2a\n\
            {\"password\": \"hunter2\", \"username\": \"alice\"}\n\
            Bearer eyJhbGciOiJIUzI1NiJ9abc123\nplain words stay";
        let out = redact(echoed);
        for secret in [
            "YWxpY2U6czNjcmU3",
            "4b7e2c0a-5d1f-4c3e-9a8b-7f6e5d4c3b2a",
            "hunter2",
            "eyJhbGciOiJIUzI1NiJ9abc123",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("\"username\": \"alice\""), "{out}");
        assert!(out.contains("plain words stay"), "{out}");
    }

    #[test]
    fn object_and_plain_messages_parse_as_the_current_format() {
        let body = br#"{"message": {"limit": [{"constraint_id": "range", "constraint": {"min": 0}, "message": "Must be greater than or equal to 0."}], "_schema": ["Only one address should be main"]}, "error_id": "invalid-list-param", "details": {}, "timestamp": 1.5, "resource": "users"}"#;
        let ErrorBody::Api(api) = ErrorBody::parse(Some("application/json"), body) else {
            panic!("not parsed");
        };
        assert_eq!(api.error_id.as_deref(), Some("invalid-list-param"));
        assert_eq!(api.resource.as_deref(), Some("users"));
        assert!(
            api.message
                .contains("limit: Must be greater than or equal to 0.")
        );
        assert!(api.message.contains("Only one address should be main"));
        let plain = ErrorBody::parse(None, br#"{"message": "Internal Server Error"}"#);
        assert_eq!(plain.message(), Some("Internal Server Error"));
        assert_eq!(plain.error_id(), None);
        assert!(plain.is_wazo());
        let html = ErrorBody::parse(Some("text/html"), b"<html>Not Found</html>");
        assert!(!html.is_wazo());
    }
}
