//! One sipgate login shared by a fleet of processes through a core
//! [`SharedStore`](pbx_auth_core::store::SharedStore) (in memory, or Redis with the
//! `pbx-auth-redis` crate).
//!
//! The shared credential is the whole [`TokenSet`], refresh token included: sipgate rotates
//! refresh tokens, so the rotated one must reach every process. [`SharedSource`] refreshes
//! under a fenced lease and writes the new set to the store before any process uses the
//! new access token, so a crash cannot lose the grant and no two processes refresh with
//! the same refresh token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pbx_auth_core::store::{SharedOptions, SharedSource, SharedStore, StoredToken};
use pbx_auth_core::{
    AccessToken, Cached, ErrorKind, HeaderToken, Issued, RefreshPolicy, RefreshToken, TokenCache,
    TokenSource,
};
use serde::{Deserialize, Serialize};

use crate::client::{OAuthClient, TokenSet};
use crate::error::Error;

/// The authenticator of a fleet member: the process-local cache (L1) over the shared store
/// (L2) over the token endpoint.
pub type SharedBearer = Cached<SharedSource<SharedRefreshSource>, HeaderToken>;

/// Refreshes with the refresh token of the shared token set it is given.
#[derive(Debug)]
pub struct SharedRefreshSource {
    client: OAuthClient,
    refreshes: AtomicU64,
}

impl SharedRefreshSource {
    /// A source refreshing through `client`.
    pub fn new(client: OAuthClient) -> Self {
        Self {
            client,
            refreshes: AtomicU64::new(0),
        }
    }

    /// How many refreshes this process has sent.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }
}

impl TokenSource for SharedRefreshSource {
    type Token = TokenSet;

    async fn fetch(
        &self,
        previous: Option<&TokenSet>,
    ) -> Result<Issued<TokenSet>, pbx_auth_core::Error> {
        let refresh_token =
            previous
                .and_then(|t| t.refresh_token.as_ref())
                .ok_or(Error::InvalidGrant {
                    description: Some("the fleet has no login stored; log in first".to_owned()),
                })?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let tokens = self.client.refresh(refresh_token).await?;
        let lifetime = tokens.expires_in;
        Ok(Issued::new(tokens, lifetime))
    }
}

/// The stored form: JSON, sealed by stores that leave the process.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

impl StoredToken for TokenSet {
    fn to_stored(&self) -> Vec<u8> {
        let stored = Stored {
            access_token: self.access_token.expose_secret().to_owned(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at_ms: self
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .and_then(|d| u64::try_from(d.as_millis()).ok()),
            scope: self.scopes.as_ref().map(|s| s.join(" ")),
        };
        // Strings and integers only: encoding cannot fail.
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    fn from_stored(bytes: &[u8]) -> Result<Self, pbx_auth_core::Error> {
        // serde_json's message may quote the input, which is a token: say nothing of it.
        let stored: Stored = serde_json::from_slice(bytes).map_err(|_| {
            pbx_auth_core::Error::new(
                ErrorKind::Protocol,
                "the shared store holds something that is not a sipgate token set",
            )
        })?;
        let mut tokens = Self::new(
            AccessToken::new(stored.access_token),
            stored.refresh_token.map(RefreshToken::new),
            stored
                .expires_at_ms
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
        );
        tokens.expires_in = tokens
            .expires_at
            .and_then(|t| t.duration_since(SystemTime::now()).ok());
        tokens.scopes = stored
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect());
        Ok(tokens)
    }
}

/// A fleet member's authenticator for the login stored under `key` in `store`.
pub fn shared_bearer(
    client: OAuthClient,
    store: Arc<dyn SharedStore>,
    key: &str,
    options: SharedOptions,
    policy: RefreshPolicy,
) -> SharedBearer {
    let source = SharedSource::new(SharedRefreshSource::new(client), store, key, options);
    Cached::new(
        TokenCache::with_policy(source, policy),
        HeaderToken::bearer(),
    )
}

/// Stores the tokens of a fresh login as the fleet's credential (replacing any stored
/// login), under the refresh lease so no refresh runs meanwhile.
///
/// # Errors
///
/// [`Error::Store`] when the store cannot be reached or another process holds the lease
/// for too long.
pub async fn store_login(bearer: &SharedBearer, tokens: &TokenSet) -> Result<(), Error> {
    let issued = Issued::new(tokens.clone(), tokens.expires_in);
    bearer
        .cache()
        .source()
        .seed(&issued)
        .await
        .map(drop)
        .map_err(|e| Error::Store(e.message().to_owned()))
}
