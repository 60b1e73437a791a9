//! A [`reqwest_middleware::Middleware`] that authorizes every request it sees.
//!
//! # Ordering
//!
//! Add it **last**, after any retry middleware: `.with(retry).with(auth)`. Middleware runs
//! in the order it was added, so a retry middleware placed before it sends every attempt
//! through it again and each attempt gets a fresh signature (Kalliope nonces must never
//! repeat). Placed before a retry middleware, retries would resend a spent header.

use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use crate::adapters::reqwest::{authorize_reqwest, retry_copy};
use crate::authenticator::{AuthAction, Authenticator};

/// Authorizes requests with `A`; after a 401 that `A` answers with
/// [`AuthAction::RetryOnce`], sends a freshly authorized copy once.
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

#[async_trait::async_trait]
impl<A: Authenticator + 'static> Middleware for AuthMiddleware<A> {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let pristine = retry_copy(&req);
        let receipt = authorize_reqwest(&self.authenticator, &mut req)
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        let response = next.clone().run(req, extensions).await?;
        let action =
            self.authenticator
                .on_response(&receipt, response.status(), response.headers());
        match (action, pristine) {
            (AuthAction::RetryOnce, Some(mut again)) => {
                drop(response);
                authorize_reqwest(&self.authenticator, &mut again)
                    .await
                    .map_err(reqwest_middleware::Error::middleware)?;
                next.run(again, extensions).await
            }
            _ => Ok(response),
        }
    }
}
