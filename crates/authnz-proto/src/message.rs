//! The two plaintext messages: `Request { request, body, reqid }` and
//! `Response { success, reqid, response, messages }`.

use std::borrow::Cow;
use std::fmt;

use pbx_auth_core::NonceSource;
use serde::{Deserialize, Serialize};

/// A request id. The server echoes it verbatim and refuses one it has seen recently, so
/// every call needs a fresh one; any JSON integer or string is accepted.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ReqId {
    /// A non-negative integer (what this crate generates).
    Int(u64),
    /// A negative integer.
    Negative(i64),
    /// A string (newer servers' Python client sends these).
    Str(String),
}

impl ReqId {
    /// A random 63-bit id from `nonce` (kept below 2^63 so that peers storing it in a
    /// signed 64-bit integer echo it unchanged).
    pub fn random(nonce: &dyn NonceSource) -> Self {
        let mut bytes = [0u8; 8];
        nonce.fill(&mut bytes);
        Self::Int(u64::from_be_bytes(bytes) >> 1)
    }
}

// Hand-written rather than `#[serde(untagged)]`, which buffers every value first: this
// runs on every reply and is a visible share of a call's CPU time.
impl<'de> Deserialize<'de> for ReqId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = ReqId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ReqId, E> {
                Ok(ReqId::Int(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ReqId, E> {
                Ok(u64::try_from(v).map_or(ReqId::Negative(v), ReqId::Int))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ReqId, E> {
                Ok(ReqId::Str(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ReqId, E> {
                Ok(ReqId::Str(v))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

impl fmt::Display for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => write!(f, "{n}"),
            Self::Negative(n) => write!(f, "{n}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl fmt::Debug for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReqId({self})")
    }
}

impl From<u64> for ReqId {
    fn from(n: u64) -> Self {
        Self::Int(n)
    }
}

impl From<&str> for ReqId {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

/// A request plaintext. `B` is the body: a typed body struct, or `serde_json::Value`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)] // The 0.1.3 wire format is frozen: exactly these keys.
pub struct Request<B = serde_json::Value> {
    /// The request name, e.g. `session-new`.
    pub request: Cow<'static, str>,
    /// The request's arguments (a JSON object on the wire).
    pub body: B,
    /// The request id the reply must echo.
    pub reqid: ReqId,
}

/// A reply plaintext. `R` is the action's `response` object.
///
/// 0.1.3 writes the top-level messages as `message`, newer servers as `messages`; both
/// are read. Serialising writes `message`, as the released server does.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Response<R = serde_json::Value> {
    /// Whether the action succeeded.
    pub success: bool,
    /// The echoed request id.
    pub reqid: ReqId,
    /// The action's own result object (it repeats `success` and `messages`).
    pub response: R,
    /// Human-readable messages.
    #[serde(rename = "message", alias = "messages", default)]
    pub messages: Vec<String>,
}

impl<R> Response<R> {
    /// A reply (used by server-side code and tests).
    pub fn new(success: bool, reqid: ReqId, response: R, messages: Vec<String>) -> Self {
        Self {
            success,
            reqid,
            response,
            messages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_auth_core::nonce::FixedNonce;

    #[test]
    fn reqid_accepts_integers_and_strings() {
        for (text, want) in [
            ("0", ReqId::Int(0)),
            ("18446744073709551615", ReqId::Int(u64::MAX)),
            ("-5", ReqId::Negative(-5)),
            ("\"abc\"", ReqId::Str("abc".into())),
        ] {
            let got: ReqId = serde_json::from_str(text).unwrap();
            assert_eq!(got, want);
            assert_eq!(serde_json::to_string(&got).unwrap(), text);
        }
        assert!(serde_json::from_str::<ReqId>("[1]").is_err());
    }

    #[test]
    fn random_reqid_stays_below_2_pow_63() {
        let nonce = FixedNonce::new(vec![0xff; 8]);
        assert_eq!(ReqId::random(&nonce), ReqId::Int(u64::MAX >> 1));
    }

    #[test]
    fn response_reads_message_and_messages() {
        let old: Response = serde_json::from_str(
            r#"{"success": true, "reqid": 1, "response": {}, "message": ["a"]}"#,
        )
        .unwrap();
        let new: Response = serde_json::from_str(
            r#"{"success": true, "reqid": 1, "response": {}, "messages": ["a"], "x": 1}"#,
        )
        .unwrap();
        assert_eq!(old.messages, new.messages);
    }
}
