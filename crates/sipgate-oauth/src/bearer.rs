//! [`BearerAuth`]: the access token from the core [`TokenCache`], refreshed with the stored
//! refresh token (single flight), the rotated refresh token persisted before the new access
//! token is handed out, and one retry after a 401.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::request::Parts;
use http::{HeaderMap, StatusCode};
use pbx_auth_core::{
    AccessToken, AuthAction, Authenticator, Cached, HeaderToken, Issued, Receipt, RefreshPolicy,
    TokenCache, TokenSource,
};

use crate::client::{OAuthClient, TokenSet};
use crate::error::Error;
use crate::store::{TokenStore, remaining};

/// Refreshes the access token with the refresh token in a [`TokenStore`].
///
/// The store, not the cache, is the source of truth for the refresh token: after a 401 the
/// cache forgets its entry, yet the refresh must still use the newest rotated token.
#[derive(Debug)]
pub struct RefreshingSource {
    client: OAuthClient,
    store: Arc<dyn TokenStore>,
    refreshes: AtomicU64,
}

impl RefreshingSource {
    /// A source refreshing through `client` with the tokens in `store`.
    pub fn new(client: OAuthClient, store: Arc<dyn TokenStore>) -> Self {
        Self {
            client,
            store,
            refreshes: AtomicU64::new(0),
        }
    }

    /// How many refreshes this source has sent.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// The OAuth client.
    pub fn client(&self) -> &OAuthClient {
        &self.client
    }

    async fn refresh(&self) -> Result<TokenSet, Error> {
        let current = self.store.load()?;
        let refresh_token = current
            .and_then(|t| t.refresh_token)
            .ok_or(Error::InvalidGrant {
                description: Some("no refresh token is stored; log in first".to_owned()),
            })?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let tokens = self.client.refresh(&refresh_token).await?;
        // The old refresh token is dead now: store the new one before anyone can use the
        // new access token, so a crash cannot lose the grant.
        self.store.save(&tokens)?;
        Ok(tokens)
    }

    /// Revokes the stored refresh token (which ends the whole grant), or else `access`,
    /// and forgets the tokens locally even when the server could not be told.
    async fn revoke_stored(&self, access: Option<&AccessToken>) -> Result<(), Error> {
        let stored = self.store.load()?;
        let result = match (stored.and_then(|t| t.refresh_token), access) {
            (Some(refresh), _) => self.client.revoke_refresh_token(&refresh).await,
            (None, Some(access)) => self.client.revoke_access_token(access).await,
            (None, None) => Ok(()),
        };
        self.store.clear()?;
        result
    }
}

impl TokenSource for RefreshingSource {
    type Token = AccessToken;

    async fn fetch(
        &self,
        _previous: Option<&AccessToken>,
    ) -> Result<Issued<AccessToken>, pbx_auth_core::Error> {
        let tokens = self.refresh().await?;
        Ok(Issued::new(tokens.access_token, tokens.expires_in))
    }

    async fn revoke(&self, token: &AccessToken) -> Result<(), pbx_auth_core::Error> {
        Ok(self.revoke_stored(Some(token)).await?)
    }
}

/// `Authorization: Bearer <access token>` for sipgate's API, refreshing as needed.
#[derive(Debug)]
pub struct BearerAuth {
    inner: Cached<RefreshingSource, HeaderToken>,
}

impl BearerAuth {
    /// An authenticator over the tokens in `store`; a still-valid stored access token is
    /// used first.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read.
    pub fn new(client: OAuthClient, store: Arc<dyn TokenStore>) -> Result<Self, Error> {
        Self::with_policy(client, store, RefreshPolicy::default())
    }

    /// As [`new`](Self::new) with an explicit refresh policy.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read.
    pub fn with_policy(
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
        policy: RefreshPolicy,
    ) -> Result<Self, Error> {
        let stored = store.load()?;
        let cache = TokenCache::with_policy(RefreshingSource::new(client, store), policy);
        if let Some(tokens) = stored {
            let lifetime = remaining(tokens.expires_at);
            if lifetime.is_none_or(|l| !l.is_zero()) {
                cache.set(Issued::new(tokens.access_token, lifetime));
            }
        }
        Ok(Self {
            inner: Cached::new(cache, HeaderToken::bearer()),
        })
    }

    /// Stores freshly obtained tokens (from a login) and authenticates with them.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the tokens cannot be saved.
    pub fn from_login(
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
        tokens: &TokenSet,
    ) -> Result<Self, Error> {
        store.save(tokens)?;
        Self::new(client, store)
    }

    /// The token cache (for `force_refresh`, say).
    pub fn cache(&self) -> &TokenCache<RefreshingSource> {
        self.inner.cache()
    }

    /// How many refreshes have been sent.
    pub fn refresh_count(&self) -> u64 {
        self.cache().source().refresh_count()
    }

    /// A valid access token, refreshing if needed.
    ///
    /// # Errors
    ///
    /// The refresh error ([`Error::InvalidGrant`] means: log in again).
    pub async fn access_token(&self) -> Result<Arc<AccessToken>, Error> {
        Ok(self.cache().get().await?)
    }

    /// Revokes the grant at the server (when it offers RFC 7009 revocation) and forgets
    /// the tokens locally in any case.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] without a revocation endpoint, or the server's error.
    pub async fn revoke(&self) -> Result<(), Error> {
        if self.cache().cached().is_none() {
            // Nothing cached: revoke what the store holds.
            return self.cache().source().revoke_stored(None).await;
        }
        Ok(self.cache().revoke().await?)
    }
}

impl Authenticator for BearerAuth {
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> impl Future<Output = Result<Receipt, pbx_auth_core::Error>> + Send + 'a {
        self.inner.authorize(parts, body)
    }

    fn authorize_now(
        &self,
        parts: &mut Parts,
        body: Option<&[u8]>,
    ) -> Option<Result<Receipt, pbx_auth_core::Error>> {
        self.inner.authorize_now(parts, body)
    }

    fn reads_uri(&self) -> bool {
        self.inner.reads_uri()
    }

    fn on_response(
        &self,
        receipt: &Receipt,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> AuthAction {
        self.inner.on_response(receipt, status, headers)
    }
}
