//! [`KalliopeAuthenticator`]: the core composition of the salt cache, the `X-authenticate`
//! signer and Kalliope's refusal policy, for the core's exchange and adapters.

use std::sync::Arc;

use http::{HeaderMap, StatusCode};
use pbx_auth_core::nonce::SharedNonceSource;
use pbx_auth_core::{Cached, RefusalPolicy, SharedClock, SkewAdjustedClock, TokenCache, Verdict};
use url::Url;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::nonce::ThreadNonce;
use crate::salt::SaltSource;
use crate::signer::XAuthSigner;

/// Signs every request with a fresh `X-authenticate` header: the core's [`Cached`] over
/// the salt source, the signer and [`KalliopeRefusals`]. Build one with [`authenticator`]
/// or [`authenticator_with_options`].
///
/// The salt is fetched once (one fetch even for many concurrent first requests) and the
/// key derived from it is cached. When the server refuses a header it learns the server's
/// clock from `Date`, drops the key so the salt is fetched again, and the exchange retries
/// once with a new header. `cache().get()` fetches the salt ahead of time (a login that
/// reports errors early), `cache().source()` is the [`SaltSource`], `clock()` the clock.
pub type KalliopeAuthenticator = Cached<SaltSource, XAuthSigner, KalliopeRefusals>;

/// Kalliope's refusals: the PBX's status for a refused header is undocumented; its likely
/// ancestor (Symfony's WSSE listener) answers 403, and the vendor's spec asks clients to
/// treat 401 and 403 alike. Both mean the header was refused, which a new salt and a
/// fresh header may cure (a changed salt, a skewed clock): stale, one retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KalliopeRefusals {
    forbidden_is_refusal: bool,
}

impl Default for KalliopeRefusals {
    fn default() -> Self {
        Self {
            forbidden_is_refusal: true,
        }
    }
}

impl KalliopeRefusals {
    /// Whether a 403 counts as a refused header, like a 401 (default true). When it does
    /// not, a 403 is a permission refusal: returned as it is, the key kept.
    #[must_use]
    pub fn retry_on_403(mut self, yes: bool) -> Self {
        self.forbidden_is_refusal = yes;
        self
    }

    /// Whether `status` means the server refused the header.
    pub fn is_refusal(&self, status: StatusCode) -> bool {
        status == StatusCode::UNAUTHORIZED
            || (self.forbidden_is_refusal && status == StatusCode::FORBIDDEN)
    }
}

impl RefusalPolicy for KalliopeRefusals {
    fn classify(&self, status: StatusCode, _: &HeaderMap, _: Option<&[u8]>) -> Verdict {
        if self.is_refusal(status) {
            Verdict::Stale
        } else if status == StatusCode::FORBIDDEN {
            Verdict::Forbidden
        } else {
            Verdict::Accepted
        }
    }
}

/// An authenticator for the PBX at `base`, fetching the salt of the credentials' domain
/// with `client`, using the system clock (corrected by the server's `Date` after a
/// refusal) and the per-thread CSPRNG ([`ThreadNonce`](crate::ThreadNonce)) for nonces.
///
/// # Errors
///
/// [`Error::Config`] when `base` cannot have a path.
pub fn authenticator(
    client: reqwest::Client,
    base: &Url,
    credentials: Credentials,
) -> Result<KalliopeAuthenticator, Error> {
    let scope = credentials.domain().to_owned();
    authenticator_with_options(
        client,
        base,
        &scope,
        credentials,
        Arc::new(SkewAdjustedClock::default()),
        Arc::new(ThreadNonce::default()),
    )
}

/// Full control: the salt scope (for pbxadmin, [`PBX_ADMIN_SCOPE`](crate::PBX_ADMIN_SCOPE)),
/// the clock and the nonce source. The refusal policy is [`KalliopeRefusals::default`];
/// change it with `with_refusal_policy`.
///
/// # Errors
///
/// [`Error::Config`] when `base` cannot have a path.
pub fn authenticator_with_options(
    client: reqwest::Client,
    base: &Url,
    salt_scope: &str,
    credentials: Credentials,
    clock: SharedClock,
    nonce: SharedNonceSource,
) -> Result<KalliopeAuthenticator, Error> {
    let source = SaltSource::new(client, base, salt_scope, credentials)?;
    Ok(Cached::new(TokenCache::new(source), XAuthSigner)
        .with_refusal_policy(KalliopeRefusals::default())
        .with_shared_clock(clock)
        .with_shared_nonce_source(nonce))
}
