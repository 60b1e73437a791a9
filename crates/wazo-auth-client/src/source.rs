//! [`WazoTokenSource`]: wazo-auth tokens for the core [`TokenCache`](pbx_auth_core::TokenCache).

use std::time::Duration;

use pbx_auth_core::{Issued, TokenSource};

use crate::api::token::{NewToken, Token};
use crate::client::Client;

/// Gets tokens with `POST /token` (HTTP Basic with the client's credentials, or the
/// request's refresh token) and revokes them with `DELETE /token/{token}`. The lifetime
/// is `expires_at − issued_at` as the server wrote them, measured from when the answer
/// arrived, so clock skew does not matter.
#[derive(Debug, Clone)]
pub struct WazoTokenSource {
    client: Client,
    request: NewToken,
}

impl WazoTokenSource {
    /// A source using `client` (its credentials, unless `request` has its own) and
    /// `request` for every fetch.
    pub fn new(client: Client, request: NewToken) -> Self {
        Self { client, request }
    }

    /// The request sent on each fetch.
    pub fn request(&self) -> &NewToken {
        &self.request
    }
}

impl TokenSource for WazoTokenSource {
    type Token = Token;

    async fn fetch(
        &self,
        _previous: Option<&Token>,
    ) -> Result<Issued<Token>, pbx_auth_core::Error> {
        let token = self.client.token().create(&self.request).await?;
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
