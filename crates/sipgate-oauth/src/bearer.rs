//! [`BearerAuth`]: the core composition of a process-local [`TokenCache`] (L1) over a
//! [`SharedSource`] on the [`TokenStore`] (L2), `Authorization: Bearer` and the RFC 6750
//! refusal policy ([`BearerRefusals`]). One refresh at a time across every process sharing
//! the store, and the rotated refresh token stored (fenced) before the new access token is
//! handed out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, StatusCode};
use pbx_auth_core::store::SharedSource;
use pbx_auth_core::{
    AccessToken, Cached, HeaderToken, Issued, RefreshPolicy, RefusalPolicy, TokenCache,
    TokenSource, Verdict,
};

use crate::client::{OAuthClient, TokenSet};
use crate::error::Error;
use crate::store::TokenStore;

/// Refreshes with the refresh token of the token set it is given: the one the
/// [`SharedSource`] read from the [`TokenStore`] under the refresh lease, so it is the
/// newest rotation whichever process stored it.
#[derive(Debug)]
pub struct RefreshingSource {
    client: OAuthClient,
    store: TokenStore,
    refreshes: AtomicU64,
}

impl RefreshingSource {
    /// A source refreshing through `client` for the login in `store`.
    pub fn new(client: OAuthClient, store: TokenStore) -> Self {
        Self {
            client,
            store,
            refreshes: AtomicU64::new(0),
        }
    }

    /// How many refreshes this process has sent.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The store.
    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    /// The OAuth client.
    pub fn client(&self) -> &OAuthClient {
        &self.client
    }

    /// Revokes `tokens`' refresh token (which ends the whole grant), or else its access
    /// token.
    async fn revoke_set(&self, tokens: &TokenSet) -> Result<(), Error> {
        match &tokens.refresh_token {
            Some(refresh) => self.client.revoke_refresh_token(refresh).await,
            None => self.client.revoke_access_token(&tokens.access_token).await,
        }
    }
}

impl TokenSource for RefreshingSource {
    type Token = TokenSet;

    async fn fetch(
        &self,
        previous: Option<&TokenSet>,
    ) -> Result<Issued<TokenSet>, pbx_auth_core::Error> {
        let refresh_token =
            previous
                .and_then(|t| t.refresh_token.as_ref())
                .ok_or(Error::InvalidGrant {
                    description: Some("no refresh token is stored; log in first".to_owned()),
                })?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let tokens = self.client.refresh(refresh_token).await?;
        // Handed to the `SharedSource`, which stores it (fenced) before anyone can use the
        // new access token: the old refresh token is dead now.
        let lifetime = tokens.expires_in;
        Ok(Issued::new(tokens, lifetime))
    }

    async fn revoke(&self, tokens: &TokenSet) -> Result<(), pbx_auth_core::Error> {
        Ok(self.revoke_set(tokens).await?)
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
/// core's [`Cached`] over a [`TokenCache`] (L1, this process) over a [`SharedSource`] (L2,
/// the [`TokenStore`]) over a [`RefreshingSource`], with [`HeaderToken::bearer`] and
/// [`BearerRefusals`]. Build one with [`bearer_auth`], [`bearer_auth_with_policy`] or
/// [`bearer_auth_from_login`]; [`BearerAuthExt`] adds the token-level operations.
///
/// Whatever the store (memory, [`FileStore`](crate::FileStore), Redis), the same code runs:
/// the stored token set is used while fresh; a refresh takes the store's lease, reads the
/// newest token set again, refreshes with its refresh token and writes the rotated set with
/// compare-and-set fenced by the lease before the new access token is used; processes that
/// lose the race wait for that write.
pub type BearerAuth = Cached<SharedSource<RefreshingSource>, HeaderToken, BearerRefusals>;

/// An authenticator over the login in `store`. Nothing is read until the first request:
/// a still-fresh stored access token is used first.
pub fn bearer_auth(client: OAuthClient, store: TokenStore) -> BearerAuth {
    bearer_auth_with_policy(client, store, RefreshPolicy::default())
}

/// As [`bearer_auth`] with an explicit refresh policy for the process-local cache.
pub fn bearer_auth_with_policy(
    client: OAuthClient,
    store: TokenStore,
    policy: RefreshPolicy,
) -> BearerAuth {
    let (shared, key, options) = (
        Arc::clone(store.shared()),
        store.key().to_owned(),
        store.options().clone(),
    );
    let source = SharedSource::new(RefreshingSource::new(client, store), shared, key, options);
    Cached::new(
        TokenCache::with_policy(source, policy),
        HeaderToken::bearer(),
    )
    .with_refusal_policy(BearerRefusals)
}

/// Stores freshly obtained tokens (from a login) and authenticates with them.
///
/// # Errors
///
/// [`Error::Store`] when the tokens cannot be saved.
pub async fn bearer_auth_from_login(
    client: OAuthClient,
    store: TokenStore,
    tokens: &TokenSet,
) -> Result<BearerAuth, Error> {
    store.save(tokens).await?;
    Ok(bearer_auth(client, store))
}

/// What a [`BearerAuth`] offers besides authorizing requests.
pub trait BearerAuthExt {
    /// How many refreshes this process has sent.
    fn refresh_count(&self) -> u64;

    /// A valid access token, refreshing if needed.
    ///
    /// # Errors
    ///
    /// The refresh error ([`Error::InvalidGrant`] means: log in again).
    fn access_token(&self) -> impl Future<Output = Result<Arc<AccessToken>, Error>> + Send;

    /// Refreshes now, even while the stored access token is fresh (unless another process
    /// sharing the store refreshed meanwhile), and returns the new access token.
    ///
    /// # Errors
    ///
    /// The refresh error ([`Error::InvalidGrant`] means: log in again).
    fn force_refresh(&self) -> impl Future<Output = Result<Arc<AccessToken>, Error>> + Send;

    /// Revokes the grant at the server (when it offers RFC 7009 revocation) and forgets
    /// the tokens in the store (for every process sharing it) and in this process, in any
    /// case.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] without a revocation endpoint, the server's error, or
    /// [`Error::Store`].
    fn revoke(&self) -> impl Future<Output = Result<(), Error>> + Send;
}

impl BearerAuthExt for BearerAuth {
    fn refresh_count(&self) -> u64 {
        self.cache().source().inner().refresh_count()
    }

    async fn access_token(&self) -> Result<Arc<AccessToken>, Error> {
        let tokens = self.cache().get().await?;
        Ok(Arc::new(tokens.access_token.clone()))
    }

    async fn force_refresh(&self) -> Result<Arc<AccessToken>, Error> {
        self.cache().source().reject_current();
        let tokens = self.cache().force_refresh().await?;
        Ok(Arc::new(tokens.access_token.clone()))
    }

    async fn revoke(&self) -> Result<(), Error> {
        let source = self.cache().source().inner();
        // The store holds the newest rotation; this process's copy may be older.
        let stored = source.store().load().await?;
        let cached = self.cache().cached();
        if let Some(cached) = &cached {
            self.cache().invalidate(cached);
        }
        let result = match stored.as_ref().or(cached.as_deref()) {
            Some(tokens) => source.revoke_set(tokens).await,
            None => Ok(()),
        };
        source.store().clear().await?;
        result
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
