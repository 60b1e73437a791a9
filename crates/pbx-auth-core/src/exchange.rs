//! The authorized exchange: the one place where a request is authorized, sent, judged by the
//! authenticator and, after a stale-credential refusal, sent once more.
//!
//! It knows no transport. A transport describes its request with [`ExchangeRequest`] and its
//! response with [`ExchangeResponse`], and hands [`exchange`] a function that sends one
//! request. The reqwest helper, the reqwest-middleware middleware, the tower layer and the
//! protocol clients all go through here.
//!
//! The rules:
//! 1. A pristine copy of the request is taken before it is authorized, when its body can
//!    be copied (see [`ExchangeRequest::try_copy`]).
//! 2. The request is authorized ([`authorize`]: the synchronous fast path first, the
//!    boxed future only when it cannot answer) and sent.
//! 3. When the authenticator [wants the body](Authenticator::wants_body) of the response,
//!    a prefix of at most [`REFUSAL_PREFIX_CAP`] bytes is
//!    buffered for it; the response keeps its whole body.
//! 4. The authenticator judges the response with the [`Receipt`] of what authorized it. On
//!    [`AuthAction::RetryOnce`] the copy is authorized with a fresh credential and sent
//!    once; its response is returned whatever it says.
//! 5. A request whose body cannot be copied is sent once and its response returned as it
//!    is, refusal included (the stale credential is dropped all the same, so the next
//!    request gets a fresh one).

use std::future::Future;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, StatusCode};

use crate::authenticator::{AuthAction, Authenticator, Receipt};
use crate::error::Error;
use crate::refusal::REFUSAL_PREFIX_CAP;

/// A request the exchange can authorize and copy.
pub trait ExchangeRequest: Sized {
    /// Moves the request's head out for authorizing; [`put_head`](Self::put_head) puts it
    /// back. The URI is needed only when `reads_uri` is `true`; otherwise `/` may stand in.
    ///
    /// # Errors
    ///
    /// A [`Signing`](crate::ErrorKind::Signing) error when the URI cannot be expressed.
    fn take_head(&mut self, reads_uri: bool) -> Result<Parts, Error>;

    /// Puts back the head [`take_head`](Self::take_head) moved out (with the headers the
    /// authenticator wrote).
    fn put_head(&mut self, head: Parts);

    /// The body, when it is in memory (schemes that sign the body read it).
    fn body_bytes(&self) -> Option<&[u8]>;

    /// A copy to send again, or `None` when the body cannot be copied (a stream).
    fn try_copy(&self) -> Option<Self>;
}

/// A response the exchange can judge.
pub trait ExchangeResponse: Sized {
    /// The status.
    fn status(&self) -> StatusCode;

    /// The headers.
    fn headers(&self) -> &HeaderMap;

    /// Buffers the first `cap` bytes (or a little more) of the body and returns them with
    /// the response, whose body still yields every byte. `None` when this transport cannot
    /// rebuild its body; the authenticator then judges without it.
    fn read_prefix(self, cap: usize) -> impl Future<Output = (Self, Option<Bytes>)> + Send;
}

/// Sends one request: the transport's half of the exchange. Closures
/// `FnMut(R) -> impl Future<Output = Result<Response, Error>>` are senders when their
/// future borrows nothing from them; a sender that lends itself to each send (a
/// middleware's `Next` and its extensions) implements the trait on a small struct.
pub trait SendRequest<R> {
    /// The response.
    type Response: ExchangeResponse;
    /// The error, which must hold the authenticator's errors too.
    type Error: From<Error>;

    /// Sends `request`.
    fn send(
        &mut self,
        request: R,
    ) -> impl Future<Output = Result<Self::Response, Self::Error>> + Send;
}

impl<R, F, Fut, S, E> SendRequest<R> for F
where
    F: FnMut(R) -> Fut,
    Fut: Future<Output = Result<S, E>> + Send,
    S: ExchangeResponse,
    E: From<Error>,
{
    type Response = S;
    type Error = E;

    fn send(&mut self, request: R) -> impl Future<Output = Result<S, E>> + Send {
        self(request)
    }
}

/// Authorizes `request` in place: [`Authenticator::authorize_now`] first, the boxed
/// [`Authenticator::authorize`] only when it cannot answer. The head is put back whatever
/// happened, so a failed authorization loses nothing.
///
/// # Errors
///
/// The authenticator's error, or the request's [`take_head`](ExchangeRequest::take_head)
/// error.
pub async fn authorize<A, R>(authenticator: &A, request: &mut R) -> Result<Receipt, Error>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
{
    match authorize_now(authenticator, request) {
        Some(done) => done,
        None => authorize_later(authenticator, request).await,
    }
}

/// The boxed [`Authenticator::authorize`] alone, for when
/// [`authorize_now`](Authenticator::authorize_now) could not answer.
async fn authorize_later<A, R>(authenticator: &A, request: &mut R) -> Result<Receipt, Error>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
{
    let mut head = request.take_head(authenticator.reads_uri())?;
    let result = authenticator
        .authorize(&mut head, request.body_bytes())
        .await;
    request.put_head(head);
    result
}

/// [`authorize`] when it can answer at once ([`Authenticator::authorize_now`]), with no
/// future at all; `None`, with the request untouched, when the boxed path has work to do.
pub fn authorize_now<A, R>(authenticator: &A, request: &mut R) -> Option<Result<Receipt, Error>>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
{
    let mut head = match request.take_head(authenticator.reads_uri()) {
        Ok(head) => head,
        Err(error) => return Some(Err(error)),
    };
    let result = authenticator.authorize_now(&mut head, request.body_bytes());
    request.put_head(head);
    result
}

/// The second half of the exchange: authorizes the pristine copy `again` with a fresh
/// credential and sends it. Its response is final.
///
/// # Errors
///
/// The authenticator's error or the error of `send`.
pub async fn retry<A, R, T>(
    authenticator: &A,
    mut again: R,
    transport: &mut T,
) -> Result<T::Response, T::Error>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
    T: SendRequest<R>,
{
    authorize(authenticator, &mut again).await?;
    transport.send(again).await
}

/// Lets the authenticator judge `response` (reading a body prefix first when it asks for
/// one) and returns the response, body intact, with what to do next.
pub async fn judge<A, S>(authenticator: &A, receipt: &Receipt, response: S) -> (S, AuthAction)
where
    A: Authenticator + ?Sized,
    S: ExchangeResponse,
{
    if !authenticator.wants_body(response.status(), response.headers()) {
        let action =
            authenticator.on_response(receipt, response.status(), response.headers(), None);
        return (response, action);
    }
    judge_with_body(authenticator, receipt, response).await
}

/// [`judge`] once the authenticator asked for the body.
async fn judge_with_body<A, S>(authenticator: &A, receipt: &Receipt, response: S) -> (S, AuthAction)
where
    A: Authenticator + ?Sized,
    S: ExchangeResponse,
{
    let (response, prefix) = response.read_prefix(REFUSAL_PREFIX_CAP).await;
    let prefix = prefix
        .as_deref()
        .map(|p| &p[..p.len().min(REFUSAL_PREFIX_CAP)]);
    let action = authenticator.on_response(receipt, response.status(), response.headers(), prefix);
    (response, action)
}

/// The authorized exchange: authorize `request`, send it with `transport`, let the
/// authenticator judge the response, and after a stale-credential refusal authorize a
/// pristine copy with a fresh credential and send it once more (see the
/// [module docs](self)).
///
/// # Errors
///
/// The authenticator's error (converted with `From`) or the transport's error.
pub fn exchange<A, R, T>(
    authenticator: &A,
    request: R,
    transport: T,
) -> impl Future<Output = Result<T::Response, T::Error>>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
    T: SendRequest<R>,
{
    // Not an `async fn` around `run`: each layer of future would be one more copy of the
    // whole state per request.
    run(authenticator, request, transport, |sent| {
        sent.map(|s| s.response)
    })
}

/// What one authorized exchange gave, for callers that need to know whether it retried
/// (a client that reports a second refusal as an error of its own).
#[derive(Debug)]
#[non_exhaustive]
pub struct Sent<S> {
    /// The response (of the retry, when there was one).
    pub response: S,
    /// Whether the request was sent a second time after a stale-credential refusal.
    pub retried: bool,
}

/// [`exchange`], also saying whether the request was retried.
///
/// # Errors
///
/// As for [`exchange`].
pub fn exchange_reporting<A, R, T>(
    authenticator: &A,
    request: R,
    transport: &mut T,
) -> impl Future<Output = Result<Sent<T::Response>, T::Error>>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
    T: SendRequest<R>,
{
    run(authenticator, request, Lent(transport), |sent| sent)
}

/// A transport lent to the exchange by a caller who keeps it.
struct Lent<'t, T>(&'t mut T);

impl<R, T: SendRequest<R>> SendRequest<R> for Lent<'_, T> {
    type Response = T::Response;
    type Error = T::Error;

    fn send(&mut self, request: R) -> impl Future<Output = Result<T::Response, T::Error>> + Send {
        self.0.send(request)
    }
}

/// The exchange itself; `finish` shapes its outcome (the adapters' error types differ).
///
/// Only the warm path is awaited in place: authorizing from a warm cache and judging an
/// accepted response are synchronous, and the rare paths (authorizing that must wait,
/// reading a refusal's body, the retry) run in boxed futures. The state of this future,
/// which moves with it, is then little more than the request, its copy and the
/// transport's own future.
// An `async fn` would move every argument into a second slot of its state (see below).
#[allow(clippy::manual_async_fn)]
pub(crate) fn run<A, R, T, O>(
    authenticator: &A,
    mut request: R,
    mut transport: T,
    finish: impl FnOnce(Result<Sent<T::Response>, T::Error>) -> O,
) -> impl Future<Output = O>
where
    A: Authenticator + ?Sized,
    R: ExchangeRequest,
    T: SendRequest<R>,
{
    // An `async` block rather than an `async fn`: the block works on the values it
    // captured, where an `async fn` would move each argument into a second slot first.
    // `finish` is applied inside, not by a future around this one, for the same reason.
    async move {
        let sent = 'sent: {
            let copy = request.try_copy();
            let authorized = match authorize_now(authenticator, &mut request) {
                Some(done) => done,
                None => Box::pin(authorize_later(authenticator, &mut request)).await,
            };
            let receipt = match authorized {
                Ok(receipt) => receipt,
                Err(error) => break 'sent Err(error.into()),
            };
            let response = match transport.send(request).await {
                Ok(response) => response,
                Err(error) => break 'sent Err(error),
            };
            let (response, action) =
                if authenticator.wants_body(response.status(), response.headers()) {
                    Box::pin(judge_with_body(authenticator, &receipt, response)).await
                } else {
                    let action = authenticator.on_response(
                        &receipt,
                        response.status(),
                        response.headers(),
                        None,
                    );
                    (response, action)
                };
            if action != AuthAction::RetryOnce {
                drop(copy);
                break 'sent Ok(Sent {
                    response,
                    retried: false,
                });
            }
            let Some(again) = copy else {
                tracing::debug!(
                    status = response.status().as_u16(),
                    "stale credential refused; the body cannot be copied, so no retry"
                );
                break 'sent Ok(Sent {
                    response,
                    retried: false,
                });
            };
            tracing::debug!(
                status = response.status().as_u16(),
                "stale credential refused; retrying once with a fresh one"
            );
            // The refused response's connection goes back to the pool before the retry.
            drop(response);
            // The copy moves into the boxed retry, so it takes no second slot in this
            // future.
            let retrying = Box::pin(retry(authenticator, again, &mut transport));
            retrying.await.map(|response| Sent {
                response,
                retried: true,
            })
        };
        finish(sent)
    }
}
