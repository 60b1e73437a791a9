//! What a refused request means: the [`Verdict`] and the protocol's [`RefusalPolicy`].
//!
//! A status code alone cannot say whether the credential is stale: wazo-auth answers 401
//! both for an expired token and for a token that lacks a permission, and only the body's
//! `details.reason` tells them apart. A policy therefore sees the status and headers, and
//! for the responses it asks for, a bounded prefix of the body (see [`read_prefix`]).

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;

/// How many bytes of a refusal's body a classifier sees by default: enough for any JSON
/// error object a server sends, small enough to buffer on every refusal.
pub const REFUSAL_PREFIX_CAP: usize = 4 * 1024;

/// What a response says about the credential that authorized its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Not a refusal of the credential: the response goes to the caller.
    Accepted,
    /// The credential is stale (expired, rotated, revoked): drop exactly that credential,
    /// authorize a copy of the request with a fresh one and send it once more.
    Stale,
    /// The credential is valid but not allowed to do this: the response goes to the caller
    /// and the credential is kept. A new credential would be refused the same way.
    Forbidden,
    /// The credential is refused for good: drop it, send nothing more, hand the response
    /// to the caller.
    Rejected,
}

/// A protocol's reading of refusals. [`Cached`](crate::Cached) takes one.
pub trait RefusalPolicy: Send + Sync + fmt::Debug {
    /// Whether [`classify`](Self::classify) wants the body of this response. Only then does
    /// the transport buffer a prefix of it (at most [`REFUSAL_PREFIX_CAP`] bytes), and hands
    /// the whole body back to the caller afterwards. The default is `false`: called on every
    /// response, it must be cheap.
    fn wants_body(&self, _status: StatusCode, _headers: &HeaderMap) -> bool {
        false
    }

    /// What the response means. `body` is the body's prefix when
    /// [`wants_body`](Self::wants_body) asked for it and the transport could read it, and
    /// `None` otherwise (the tower layer never reads bodies); a policy must then decide on
    /// the status and headers.
    fn classify(&self, status: StatusCode, headers: &HeaderMap, body: Option<&[u8]>) -> Verdict;
}

/// The default policy: a 401 means the credential is stale, anything else is accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaleOn401;

impl RefusalPolicy for StaleOn401 {
    fn classify(&self, status: StatusCode, _: &HeaderMap, _: Option<&[u8]>) -> Verdict {
        if status == StatusCode::UNAUTHORIZED {
            Verdict::Stale
        } else {
            Verdict::Accepted
        }
    }
}

/// The start of a body, as [`read_prefix`] read it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Prefix<E> {
    /// Every data byte read. It can exceed the cap by less than one frame, never more.
    pub bytes: Bytes,
    /// Whether the body ended within what was read.
    pub complete: bool,
    /// The error that stopped reading, if one did.
    pub error: Option<E>,
}

/// Reads data frames from `body` until at least `cap` bytes are buffered or the body ends.
/// Memory stays bounded by `cap` plus one frame, whatever the body's size. Trailers are
/// not kept.
pub async fn read_prefix<B>(body: &mut B, cap: usize) -> Prefix<B::Error>
where
    B: Body + Unpin,
{
    let mut buffer = BytesMut::new();
    loop {
        if buffer.len() >= cap {
            return Prefix {
                bytes: buffer.freeze(),
                complete: body.is_end_stream(),
                error: None,
            };
        }
        match body.frame().await {
            None => {
                return Prefix {
                    bytes: buffer.freeze(),
                    complete: true,
                    error: None,
                };
            }
            Some(Err(error)) => {
                return Prefix {
                    bytes: buffer.freeze(),
                    complete: false,
                    error: Some(error),
                };
            }
            Some(Ok(frame)) => {
                if let Ok(mut data) = frame.into_data() {
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        let n = chunk.len();
                        buffer.extend_from_slice(chunk);
                        data.advance(n);
                    }
                }
            }
        }
    }
}

/// Reads a whole body, refusing one longer than `cap` bytes: `Ok(None)` when it is too
/// long, having read at most `cap` plus one frame.
///
/// # Errors
///
/// The body's own error.
pub async fn read_capped<B>(body: &mut B, cap: usize) -> Result<Option<Bytes>, B::Error>
where
    B: Body + Unpin,
{
    let prefix = read_prefix(body, cap.saturating_add(1)).await;
    if let Some(error) = prefix.error {
        return Err(error);
    }
    if !prefix.complete || prefix.bytes.len() > cap {
        return Ok(None);
    }
    Ok(Some(prefix.bytes))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http_body_util::Full;

    use super::*;

    /// A body delivered in the given frames.
    struct Chunks(VecDeque<&'static [u8]>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
            Poll::Ready(
                self.0
                    .pop_front()
                    .map(|c| Ok(http_body::Frame::data(Bytes::from_static(c)))),
            )
        }
    }

    fn chunks(parts: &[&'static [u8]]) -> Chunks {
        Chunks(parts.iter().copied().collect())
    }

    #[tokio::test]
    async fn a_short_body_is_read_whole() {
        let mut body = Full::new(Bytes::from_static(b"{\"a\":1}"));
        let prefix = read_prefix(&mut body, 16).await;
        assert_eq!(&prefix.bytes[..], b"{\"a\":1}");
        assert!(prefix.complete);
        let mut body = Full::new(Bytes::from_static(b"12345"));
        assert_eq!(read_capped(&mut body, 5).await.unwrap().unwrap(), "12345");
        let mut body = Full::new(Bytes::from_static(b"123456"));
        assert!(read_capped(&mut body, 5).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_long_body_stops_after_the_cap() {
        let mut body = chunks(&[b"aaaa", b"bbbb", b"cccc", b"dddd"]);
        let prefix = read_prefix(&mut body, 6).await;
        assert_eq!(&prefix.bytes[..], b"aaaabbbb");
        assert!(!prefix.complete);
        let rest = body.collect().await.unwrap().to_bytes();
        assert_eq!(&rest[..], b"ccccdddd");
    }

    #[test]
    fn the_default_policy_reads_401_as_stale() {
        let h = HeaderMap::new();
        assert_eq!(
            StaleOn401.classify(StatusCode::UNAUTHORIZED, &h, None),
            Verdict::Stale
        );
        assert_eq!(
            StaleOn401.classify(StatusCode::FORBIDDEN, &h, None),
            Verdict::Accepted
        );
        assert!(!StaleOn401.wants_body(StatusCode::UNAUTHORIZED, &h));
    }
}
