//! A [`reqwest_middleware::Middleware`] that authorizes every request it sees.
//!
//! # Ordering
//!
//! Add it **last**, after any retry middleware: `.with(retry).with(auth)`. Middleware runs
//! in the order it was added, so a retry middleware placed before it sends every attempt
//! through it again and each attempt gets a fresh signature (Kalliope nonces must never
//! repeat). Placed before a retry middleware, retries would resend a spent header.

use std::future::Future;
use std::pin::Pin;

use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use crate::authenticator::Authenticator;
use crate::error::Error;
use crate::exchange::{self, SendRequest};

/// Sends every request through the [authorized exchange](crate::exchange) with `A`.
#[derive(Debug, Clone)]
pub struct AuthMiddleware<A> {
    authenticator: A,
}

impl<A: Authenticator + 'static> AuthMiddleware<A> {
    /// Wraps an authenticator.
    pub fn new(authenticator: A) -> Self {
        Self { authenticator }
    }
}

/// The middleware's error type, so the exchange can report an authenticator's error.
struct MiddlewareError(reqwest_middleware::Error);

impl From<Error> for MiddlewareError {
    fn from(error: Error) -> Self {
        Self(reqwest_middleware::Error::middleware(error))
    }
}

/// The rest of the chain, lent to each send of the exchange.
struct Chain<'n, 'e> {
    next: Next<'n>,
    extensions: &'e mut Extensions,
}

impl SendRequest<reqwest::Request> for Chain<'_, '_> {
    type Response = reqwest::Response;
    type Error = MiddlewareError;

    fn send(
        &mut self,
        request: reqwest::Request,
    ) -> impl Future<Output = Result<reqwest::Response, MiddlewareError>> + Send {
        let sent = self.next.clone().run(request, self.extensions);
        async { sent.await.map_err(MiddlewareError) }
    }
}

// Written out rather than with `#[async_trait]`, whose signature this is: the macro would
// box a future around the exchange's, the exchange's own future boxed is one copy less.
impl<A: Authenticator + 'static> Middleware for AuthMiddleware<A> {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: reqwest::Request,
        extensions: &'life1 mut Extensions,
        next: Next<'life2>,
    ) -> Pin<
        Box<
            dyn Future<Output = reqwest_middleware::Result<reqwest::Response>>
                + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(exchange::run(
            &self.authenticator,
            req,
            Chain { next, extensions },
            |sent| sent.map(|sent| sent.response).map_err(|e| e.0),
        ))
    }
}
