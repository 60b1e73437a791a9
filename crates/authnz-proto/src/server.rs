//! Helpers for writing an authnzerver-compatible service: open a sealed request into the
//! typed enum, and seal a typed response the way the 0.1.3 server writes it.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::{AuthnzRequest, Error, FernetEnvelope, ReqId};

#[cfg(feature = "server")]
mod service;
#[cfg(feature = "server")]
pub use service::{AuthnzHandler, AuthnzService, DEFAULT_BODY_LIMIT, Reply, ResponseFuture};

/// A request opened by a server.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IncomingRequest {
    /// The request id to echo.
    pub reqid: ReqId,
    /// The typed request.
    pub request: AuthnzRequest,
}

/// Opens a sealed HTTP body into a typed request.
///
/// # Errors
///
/// Each error's [`Error::http_status`] is what the 0.1.3 server answers: envelope errors
/// and a plaintext that is not JSON (401), [`Error::NotARequest`] (`{}`: 401; not an
/// object or no `request`: 500), [`Error::MalformedRequest`] (no/null `reqid`, no object
/// `body`, a body that does not fit: 400) and [`Error::UnknownRequest`] (400).
pub fn open_request(
    envelope: &FernetEnvelope,
    sealed: &[u8],
    now: SystemTime,
    ttl: Option<Duration>,
) -> Result<IncomingRequest, Error> {
    let plaintext = envelope.open_at(sealed, now, ttl)?;
    let value: serde_json::Value =
        serde_json::from_slice(&plaintext).map_err(|e| Error::json(&e))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(Error::NotARequest {
            reason: "the plaintext is not a JSON object",
            status: 500,
        });
    };
    if map.is_empty() {
        return Err(Error::NotARequest {
            reason: "the plaintext is an empty JSON object",
            status: 401,
        });
    }
    let reqid = match map.remove("reqid") {
        None | Some(serde_json::Value::Null) => {
            return Err(Error::MalformedRequest("no reqid".to_owned()));
        }
        Some(v) => serde_json::from_value::<ReqId>(v)
            .map_err(|_| Error::MalformedRequest("reqid is not an integer or string".to_owned()))?,
    };
    let name = match map.remove("request") {
        Some(serde_json::Value::String(name)) => name,
        Some(_) => {
            return Err(Error::MalformedRequest(
                "the request name is not a string".to_owned(),
            ));
        }
        None => {
            return Err(Error::NotARequest {
                reason: "no `request` key",
                status: 500,
            });
        }
    };
    let Some(body) = map.remove("body") else {
        return Err(Error::MalformedRequest("no body".to_owned()));
    };
    let request = AuthnzRequest::from_parts(&name, body)?;
    Ok(IncomingRequest { reqid, request })
}

/// Seals a reply in the 0.1.3 layout: `success`, `reqid`, `response` (the action's
/// fields plus its own `success` and `messages`) and the top-level `message`.
///
/// # Errors
///
/// [`Error::Json`] when `response` does not serialise to a JSON object.
pub fn seal_response<R: Serialize>(
    envelope: &FernetEnvelope,
    reqid: &ReqId,
    success: bool,
    messages: &[String],
    response: &R,
    now: SystemTime,
) -> Result<Vec<u8>, Error> {
    let mut inner = match serde_json::to_value(response).map_err(|e| Error::json(&e))? {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => serde_json::Map::new(),
        _ => {
            return Err(Error::MalformedRequest(
                "the response is not a JSON object".to_owned(),
            ));
        }
    };
    inner.insert("success".to_owned(), success.into());
    inner.insert("messages".to_owned(), messages.into());
    let reply = serde_json::json!({
        "success": success,
        "reqid": reqid,
        "response": inner,
        "message": messages,
    });
    let plaintext = serde_json::to_vec(&reply).map_err(|e| Error::json(&e))?;
    Ok(envelope.seal_at(&plaintext, now))
}

/// Refuses request ids seen among the last `capacity` requests, as the server does
/// (it answers a repeat with HTTP 400).
#[derive(Debug)]
pub struct ReplayGuard {
    seen: HashSet<ReqId>,
    order: VecDeque<ReqId>,
    capacity: usize,
}

impl ReplayGuard {
    /// A guard remembering `capacity` ids (the 0.1.3 server keeps about 1000).
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `reqid`; `false` when it was seen before.
    pub fn check_and_record(&mut self, reqid: &ReqId) -> bool {
        if self.seen.contains(reqid) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(reqid.clone());
        self.order.push_back(reqid.clone());
        true
    }
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::new(1000)
    }
}
