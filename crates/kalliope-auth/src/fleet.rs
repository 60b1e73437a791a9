//! [`FleetVerifier`]: the [`Verifier`] for services that run as several processes behind a
//! load balancer, with the replay cache in a shared
//! [`ReplayStore`](pbx_auth_core::store::ReplayStore) (Redis with the `pbx-auth-redis`
//! crate), so a captured header is accepted once by the whole fleet, not once per process.
//!
//! The local verifier checks everything first (format, time window, user, digest), so an
//! invalid header never consumes a nonce in the shared store. Only then is the nonce
//! recorded there, for the acceptance window plus the allowed skew. When the store cannot
//! answer the header is refused ([`FleetRejectReason::StoreUnavailable`]): failing open
//! would let replays through.

use std::fmt;
use std::sync::Arc;

use pbx_auth_core::store::ReplayStore;
use sha2::{Digest as _, Sha256};

use crate::verifier::{RejectReason, Rejected, ReplayScope, Verified, Verifier};

/// Why the fleet refused a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FleetRejectReason {
    /// The local checks refused it.
    Header(RejectReason),
    /// Another process of the fleet (or this one) accepted this nonce before.
    Replayed,
    /// The shared replay store did not answer, so the header is refused.
    StoreUnavailable,
}

/// A header the fleet refused. Displays the same text whatever the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetRejected {
    reason: FleetRejectReason,
}

impl FleetRejected {
    /// The precise reason, for logs and tests.
    pub fn reason(&self) -> FleetRejectReason {
        self.reason
    }
}

impl fmt::Display for FleetRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("authentication failed")
    }
}

impl std::error::Error for FleetRejected {}

impl From<Rejected> for FleetRejected {
    fn from(rejected: Rejected) -> Self {
        let reason = match rejected.reason() {
            RejectReason::Replayed => FleetRejectReason::Replayed,
            other => FleetRejectReason::Header(other),
        };
        Self { reason }
    }
}

/// A [`Verifier`] whose nonces are spent fleet-wide.
pub struct FleetVerifier {
    verifier: Verifier,
    store: Arc<dyn ReplayStore>,
}

impl fmt::Debug for FleetVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetVerifier")
            .field("verifier", &self.verifier)
            .field("store", &self.store)
            .finish()
    }
}

impl FleetVerifier {
    /// Shares `verifier`'s replay checks through `store`.
    pub fn new(verifier: Verifier, store: Arc<dyn ReplayStore>) -> Self {
        Self { verifier, store }
    }

    /// The local verifier (to add users).
    pub fn verifier_mut(&mut self) -> &mut Verifier {
        &mut self.verifier
    }

    /// The key in the shared store: a hash of the nonce in its scope, so a client cannot
    /// choose store keys.
    fn shared_key(&self, verified: &Verified) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"kalliope-nonce\0");
        let parts: &[&str] = match self.verifier.config().replay_scope {
            ReplayScope::PerUser => &[&verified.username, &verified.domain, &verified.nonce],
            _ => &[&verified.nonce],
        };
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().into()
    }

    /// Checks one header value, then spends its nonce in the shared store.
    ///
    /// # Errors
    ///
    /// [`FleetRejected`], whose [`reason`](FleetRejected::reason) says why.
    pub async fn verify_value(&self, value: &[u8]) -> Result<Verified, FleetRejected> {
        let verified = self.verifier.verify_value(value)?;
        self.spend(verified).await
    }

    /// Checks the `X-authenticate` header in `headers`, then spends its nonce fleet-wide.
    ///
    /// # Errors
    ///
    /// [`FleetRejected`], whose [`reason`](FleetRejected::reason) says why.
    pub async fn verify_headers(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Verified, FleetRejected> {
        let verified = self.verifier.verify_headers(headers)?;
        self.spend(verified).await
    }

    async fn spend(&self, verified: Verified) -> Result<Verified, FleetRejected> {
        let key = self.shared_key(&verified);
        // The window is ±skew around now: a header stays acceptable for up to twice the
        // skew after the earliest moment it could have been accepted.
        let ttl = self.verifier.config().skew * 2;
        match self.store.insert_once(&key, ttl).await {
            Ok(true) => Ok(verified),
            Ok(false) => Err(FleetRejected {
                reason: FleetRejectReason::Replayed,
            }),
            Err(_) => Err(FleetRejected {
                reason: FleetRejectReason::StoreUnavailable,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use pbx_auth_core::store::{InMemoryStore, StoreFuture};
    use pbx_auth_core::{Error, ErrorKind, FixedClock};

    use super::*;
    use crate::verifier::VerifierConfig;

    fn header(nonce: &str, digest_ok: bool) -> String {
        let password = if digest_ok { "pw" } else { "guess" };
        let dp = crate::digest::digest_password(password, "salt");
        let created = "2026-01-01T00:00:00Z";
        let digest = crate::digest::digest(nonce, &dp, "alice", "default", created);
        format!(
            "RestApiUsernameToken Username=\"alice\", Domain=\"default\", Digest=\"{digest}\", Nonce=\"{nonce}\", Created=\"{created}\""
        )
    }

    fn fleet(store: Arc<dyn ReplayStore>) -> FleetVerifier {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut verifier =
            Verifier::new(VerifierConfig::default()).with_clock(Arc::new(FixedClock::new(now)));
        verifier.add_user("alice", "default", "pw", "salt").unwrap();
        FleetVerifier::new(verifier, store)
    }

    #[tokio::test]
    async fn a_nonce_is_spent_once_across_processes_and_bad_digests_spend_nothing() {
        let store: Arc<dyn ReplayStore> = Arc::new(InMemoryStore::new());
        let a = fleet(Arc::clone(&store));
        let b = fleet(Arc::clone(&store));
        let nonce = "0123456789abcdef0123456789abcdef";
        // A forged digest first: refused, and the nonce stays unspent.
        let err = b
            .verify_value(header(nonce, false).as_bytes())
            .await
            .unwrap_err();
        assert_eq!(
            err.reason(),
            FleetRejectReason::Header(RejectReason::BadDigest)
        );
        assert!(a.verify_value(header(nonce, true).as_bytes()).await.is_ok());
        let err = b
            .verify_value(header(nonce, true).as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.reason(), FleetRejectReason::Replayed);
        assert_eq!(err.to_string(), "authentication failed");
    }

    #[derive(Debug)]
    struct Down;

    impl ReplayStore for Down {
        fn insert_once<'a>(&'a self, _: &'a [u8], _: Duration) -> StoreFuture<'a, bool> {
            Box::pin(async { Err(Error::new(ErrorKind::Transport, "down")) })
        }
    }

    #[tokio::test]
    async fn an_unreachable_store_fails_closed() {
        let v = fleet(Arc::new(Down));
        let err = v
            .verify_value(header("0123456789abcdef0123456789abcdef", true).as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.reason(), FleetRejectReason::StoreUnavailable);
    }
}
