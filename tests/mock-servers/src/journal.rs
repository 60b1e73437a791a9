//! The journal of received requests.

use std::time::Instant;

use crate::message::MockRequest;

/// One request as the server received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The request.
    pub request: MockRequest,
    /// When it arrived.
    pub received_at: Instant,
    /// Whether a fault answered it instead of the handler.
    pub faulted: bool,
}
