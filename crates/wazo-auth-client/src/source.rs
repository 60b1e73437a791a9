//! [`WazoTokenSource`]: wazo-auth tokens for the core [`TokenCache`](pbx_auth_core::TokenCache).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pbx_auth_core::{Issued, RefreshToken, TokenSource};

use crate::api::token::{NewToken, Token, create_call, revoke_call, revoked};
use crate::client::{Client, Credentials};
use crate::error::Error;
use crate::transport::Transport;

/// Gets tokens with `POST /token` and revokes them with `DELETE /token/{token}`.
///
/// The first fetch uses the request as given: HTTP Basic with the request's or the
/// client's credentials, or the request's refresh token. When a token comes back with a
/// refresh token (`access_type` offline and a `client_id`), later fetches log in with that
/// refresh token instead of the password, and fall back to the password if the server
/// no longer accepts it. The lifetime is `expires_at − issued_at` as the server wrote
/// them, measured from when the answer arrived, so clock skew does not matter.
///
/// A token it replaces is revoked once the new one is in hand, so renewing never leaves
/// live sessions behind; [`Client::close`] revokes the last one.
pub struct WazoTokenSource {
    /// The client's own transport: its tenant and HTTP client, not a copy.
    transport: Arc<Transport>,
    credentials: Option<Arc<Credentials>>,
    request: NewToken,
    refresh: Mutex<Option<RefreshToken>>,
}

impl fmt::Debug for WazoTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WazoTokenSource")
            .field("transport", &self.transport)
            .field("credentials", &self.credentials)
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl WazoTokenSource {
    /// A source using `client` (its transport and tenant, and its credentials unless
    /// `request` has its own) and `request` for every fetch.
    // By value, as before the source shared the client's transport: callers' code reads
    // the same.
    #[allow(clippy::needless_pass_by_value)]
    pub fn new(client: Client, request: NewToken) -> Self {
        Self::on(
            Arc::clone(client.transport()),
            client.shared_credentials(),
            request,
        )
    }

    pub(crate) fn on(
        transport: Arc<Transport>,
        credentials: Option<Arc<Credentials>>,
        request: NewToken,
    ) -> Self {
        let refresh = Mutex::new(request.refresh_token.clone());
        Self {
            transport,
            credentials,
            request,
            refresh,
        }
    }

    async fn post(&self, request: &NewToken) -> Result<Token, Error> {
        let call = create_call(self.credentials.as_deref(), request)?;
        self.transport
            .run_with(call, None, None, false)
            .await?
            .data()
    }

    /// The request sent on each fetch.
    pub fn request(&self) -> &NewToken {
        &self.request
    }

    async fn revoke_token(&self, token: &Token) -> Result<(), Error> {
        let call = revoke_call(token.token.expose_secret());
        revoked(self.transport.run_with(call, None, None, false).await)
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
            return self.post(&self.request).await;
        };
        // The server refuses `access_type=offline` together with a refresh token.
        let mut with_refresh = self.request.clone();
        with_refresh.access_type = None;
        with_refresh.refresh_token = Some(refresh);
        match self.post(&with_refresh).await {
            Err(Error::Http { status, .. })
                if status.as_u16() == 401 && self.request.refresh_token.is_none() =>
            {
                self.post(&self.request).await
            }
            other => other,
        }
    }
}

impl TokenSource for WazoTokenSource {
    type Token = Token;

    async fn fetch(&self, previous: Option<&Token>) -> Result<Issued<Token>, pbx_auth_core::Error> {
        // Tokens are named by their session UUID in events, never by their value.
        tracing::debug!(
            replaces_session = previous.and_then(|p| p.session_uuid.as_deref()),
            "creating a wazo token"
        );
        let token = self.create().await?;
        tracing::debug!(
            session = token.session_uuid.as_deref(),
            "wazo token created"
        );
        if let Some(previous) = previous {
            // The replaced token would stay a live session until it expires. A failure
            // here costs nothing worse than that, so it does not fail the fetch.
            let session = previous.session_uuid.as_deref();
            tracing::debug!(session, "revoking the replaced wazo token");
            if self.revoke_token(previous).await.is_err() {
                // No error text: it may quote the revocation URL, which holds the token.
                tracing::warn!(session, "the replaced wazo token could not be revoked");
            }
        }
        if let Some(refresh) = &token.refresh_token {
            *self.refresh.lock().unwrap_or_else(PoisonError::into_inner) = Some(refresh.clone());
        }
        // A token without usable times is treated as living for the server's default
        // (two hours) rather than forever, so it is renewed eventually.
        let lifetime = token.lifetime().unwrap_or(Duration::from_secs(7200));
        Ok(Issued::new(token, Some(lifetime)))
    }

    async fn revoke(&self, token: &Token) -> Result<(), pbx_auth_core::Error> {
        self.revoke_token(token).await.map_err(Into::into)
    }
}
