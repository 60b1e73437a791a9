//! [`WazoTokenSource`]: wazo-auth tokens for the core [`TokenCache`](pbx_auth_core::TokenCache).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use pbx_auth_core::{Issued, RefreshToken, TokenSource};

use crate::api::token::{NewToken, Token};
use crate::client::Client;
use crate::error::Error;

/// Gets tokens with `POST /token` and revokes them with `DELETE /token/{token}`.
///
/// The first fetch uses the request as given: HTTP Basic with the request's or the
/// client's credentials, or the request's refresh token. When a token comes back with a
/// refresh token (`access_type` offline and a `client_id`), later fetches log in with that
/// refresh token instead of the password, and fall back to the password if the server
/// no longer accepts it. The lifetime is `expires_at − issued_at` as the server wrote
/// them, measured from when the answer arrived, so clock skew does not matter.
#[derive(Debug)]
pub struct WazoTokenSource {
    client: Client,
    request: NewToken,
    refresh: Mutex<Option<RefreshToken>>,
}

impl WazoTokenSource {
    /// A source using `client` (its credentials, unless `request` has its own) and
    /// `request` for every fetch.
    pub fn new(client: Client, request: NewToken) -> Self {
        let refresh = Mutex::new(request.refresh_token.clone());
        Self {
            client,
            request,
            refresh,
        }
    }

    /// The request sent on each fetch.
    pub fn request(&self) -> &NewToken {
        &self.request
    }

    fn stored_refresh(&self) -> Option<RefreshToken> {
        self.refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn create(&self) -> Result<Token, Error> {
        let Some(refresh) = self
            .stored_refresh()
            .filter(|_| self.request.client_id.is_some())
        else {
            return self.client.token().create(&self.request).await;
        };
        // The server refuses `access_type=offline` together with a refresh token.
        let mut with_refresh = self.request.clone();
        with_refresh.access_type = None;
        with_refresh.refresh_token = Some(refresh);
        match self.client.token().create(&with_refresh).await {
            Err(Error::Http { status, .. })
                if status.as_u16() == 401 && self.request.refresh_token.is_none() =>
            {
                self.client.token().create(&self.request).await
            }
            other => other,
        }
    }
}

impl TokenSource for WazoTokenSource {
    type Token = Token;

    async fn fetch(
        &self,
        _previous: Option<&Token>,
    ) -> Result<Issued<Token>, pbx_auth_core::Error> {
        let token = self.create().await?;
        if let Some(refresh) = &token.refresh_token {
            *self.refresh.lock().unwrap_or_else(PoisonError::into_inner) = Some(refresh.clone());
        }
        // A token without usable times is treated as living for the server's default
        // (two hours) rather than forever, so it is renewed eventually.
        let lifetime = token.lifetime().unwrap_or(Duration::from_secs(7200));
        Ok(Issued::new(token, Some(lifetime)))
    }

    async fn revoke(&self, token: &Token) -> Result<(), pbx_auth_core::Error> {
        self.client
            .token()
            .revoke(token.token.expose_secret())
            .await
            .map_err(Into::into)
    }
}
