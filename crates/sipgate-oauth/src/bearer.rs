//! [`BearerAuth`]: the core composition of the access token's [`TokenCache`] (refreshed
//! with the stored refresh token, single flight, the rotated refresh token persisted before
//! the new access token is handed out), `Authorization: Bearer` and the RFC 6750 refusal
//! policy ([`BearerRefusals`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, StatusCode};
use pbx_auth_core::{
    AccessToken, Cached, HeaderToken, Issued, RefreshPolicy, RefusalPolicy, TokenCache,
    TokenSource, Verdict,
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

/// RFC 6750 §3: what a resource server's refusal says about a bearer token.
///
/// - 401 with `WWW-Authenticate: Bearer error="invalid_token"` (expired, revoked): stale,
///   refresh and retry once. A 401 without an error code is read the same way, as servers
///   that send no challenge mean nothing else.
/// - `error="insufficient_scope"` (401 or 403) or any 403: the token lacks a permission;
///   returned as it is, the token kept.
/// - 401 with another error code (`invalid_request`): the request is at fault, not the
///   token; returned as it is, the token kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BearerRefusals;

impl RefusalPolicy for BearerRefusals {
    fn classify(&self, status: StatusCode, headers: &HeaderMap, _: Option<&[u8]>) -> Verdict {
        match status {
            StatusCode::UNAUTHORIZED => match bearer_error(headers).as_deref() {
                None | Some("invalid_token") => Verdict::Stale,
                Some(_) => Verdict::Forbidden,
            },
            StatusCode::FORBIDDEN => Verdict::Forbidden,
            _ => Verdict::Accepted,
        }
    }
}

/// The `error` parameter of a `Bearer` challenge, if the response has one.
fn bearer_error(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (scheme, params) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
            scheme.eq_ignore_ascii_case("bearer").then_some(params)
        })
        .flat_map(|params| params.split(','))
        .find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("error")
                .then(|| value.trim().trim_matches('"').to_owned())
        })
}

/// `Authorization: Bearer <access token>` for sipgate's API, refreshing as needed: the
/// core's [`Cached`] over a [`RefreshingSource`], [`HeaderToken::bearer`] and
/// [`BearerRefusals`]. Build one with [`bearer_auth`], [`bearer_auth_with_policy`] or
/// [`bearer_auth_from_login`]; [`BearerAuthExt`] adds the token-level operations.
pub type BearerAuth = Cached<RefreshingSource, HeaderToken, BearerRefusals>;

/// An authenticator over the tokens in `store`; a still-valid stored access token is used
/// first.
///
/// # Errors
///
/// [`Error::Store`] when the store cannot be read.
pub fn bearer_auth(client: OAuthClient, store: Arc<dyn TokenStore>) -> Result<BearerAuth, Error> {
    bearer_auth_with_policy(client, store, RefreshPolicy::default())
}

/// As [`bearer_auth`] with an explicit refresh policy.
///
/// # Errors
///
/// [`Error::Store`] when the store cannot be read.
pub fn bearer_auth_with_policy(
    client: OAuthClient,
    store: Arc<dyn TokenStore>,
    policy: RefreshPolicy,
) -> Result<BearerAuth, Error> {
    let stored = store.load()?;
    let cache = TokenCache::with_policy(RefreshingSource::new(client, store), policy);
    if let Some(tokens) = stored {
        let lifetime = remaining(tokens.expires_at);
        if lifetime.is_none_or(|l| !l.is_zero()) {
            cache.set(Issued::new(tokens.access_token, lifetime));
        }
    }
    Ok(Cached::new(cache, HeaderToken::bearer()).with_refusal_policy(BearerRefusals))
}

/// Stores freshly obtained tokens (from a login) and authenticates with them.
///
/// # Errors
///
/// [`Error::Store`] when the tokens cannot be saved.
pub fn bearer_auth_from_login(
    client: OAuthClient,
    store: Arc<dyn TokenStore>,
    tokens: &TokenSet,
) -> Result<BearerAuth, Error> {
    store.save(tokens)?;
    bearer_auth(client, store)
}

/// What a [`BearerAuth`] offers besides authorizing requests.
pub trait BearerAuthExt {
    /// How many refreshes have been sent.
    fn refresh_count(&self) -> u64;

    /// A valid access token, refreshing if needed.
    ///
    /// # Errors
    ///
    /// The refresh error ([`Error::InvalidGrant`] means: log in again).
    fn access_token(&self) -> impl Future<Output = Result<Arc<AccessToken>, Error>> + Send;

    /// Revokes the grant at the server (when it offers RFC 7009 revocation) and forgets
    /// the tokens locally in any case.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] without a revocation endpoint, or the server's error.
    fn revoke(&self) -> impl Future<Output = Result<(), Error>> + Send;
}

impl BearerAuthExt for BearerAuth {
    fn refresh_count(&self) -> u64 {
        self.cache().source().refresh_count()
    }

    async fn access_token(&self) -> Result<Arc<AccessToken>, Error> {
        Ok(self.cache().get().await?)
    }

    async fn revoke(&self) -> Result<(), Error> {
        if self.cache().cached().is_none() {
            // Nothing cached: revoke what the store holds.
            return self.cache().source().revoke_stored(None).await;
        }
        Ok(self.cache().revoke().await?)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn verdict(status: u16, challenge: Option<&'static str>) -> Verdict {
        let mut headers = HeaderMap::new();
        if let Some(c) = challenge {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        BearerRefusals.classify(StatusCode::from_u16(status).unwrap(), &headers, None)
    }

    #[test]
    fn rfc_6750_challenges_are_read() {
        let expired = r#"Bearer realm="api", error="invalid_token", error_description="expired""#;
        assert_eq!(verdict(401, Some(expired)), Verdict::Stale);
        assert_eq!(
            verdict(401, Some("Bearer error=invalid_token")),
            Verdict::Stale
        );
        assert_eq!(verdict(401, None), Verdict::Stale);
        assert_eq!(verdict(401, Some(r#"Bearer realm="api""#)), Verdict::Stale);
        let scope = r#"Bearer error="insufficient_scope", scope="history:read""#;
        assert_eq!(verdict(403, Some(scope)), Verdict::Forbidden);
        assert_eq!(verdict(401, Some(scope)), Verdict::Forbidden);
        assert_eq!(
            verdict(401, Some(r#"Bearer error="invalid_request""#)),
            Verdict::Forbidden
        );
        assert_eq!(verdict(403, None), Verdict::Forbidden);
        assert_eq!(verdict(200, None), Verdict::Accepted);
    }
}
