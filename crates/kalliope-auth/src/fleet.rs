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
//!
//! The shared store is the only replay cache: the local verifier's own is neither read nor
//! written (its `insert_before_digest` and `max_entries` do not apply). A nonce recorded
//! locally as well would refuse the retry of a header that the fleet never accepted (the
//! store failed after the local record), and a full local cache would refuse headers the
//! fleet can take.

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
        let verified = self.verifier.verify_value_unrecorded(value)?;
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
        let verified = self.verifier.verify_headers_unrecorded(headers)?;
        self.spend(verified).await
    }

    async fn spend(&self, verified: Verified) -> Result<Verified, FleetRejected> {
        let key = self.shared_key(&verified);
        // The acceptance window is ±skew around `Created`, so a header stays acceptable
        // until `Created + skew`, at most twice the skew from now (a header created `skew`
        // in the future). The key lives that long plus the allowed skew again, for
        // verifiers whose clocks disagree by up to that much.
        let ttl = self.verifier.config().skew * 3;
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

    /// A store that can be switched off, as Redis stopped and started again.
    #[derive(Debug, Default)]
    struct Flaky {
        down: std::sync::atomic::AtomicBool,
        inner: InMemoryStore,
    }

    impl ReplayStore for Flaky {
        fn insert_once<'a>(&'a self, key: &'a [u8], ttl: Duration) -> StoreFuture<'a, bool> {
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Box::pin(async { Err(Error::new(ErrorKind::Transport, "down")) });
            }
            self.inner.insert_once(key, ttl)
        }
    }

    #[derive(Debug)]
    struct Down;

    impl ReplayStore for Down {
        fn insert_once<'a>(&'a self, _: &'a [u8], _: Duration) -> StoreFuture<'a, bool> {
            Box::pin(async { Err(Error::new(ErrorKind::Transport, "down")) })
        }
    }

    #[tokio::test]
    async fn a_header_refused_while_the_store_was_down_is_accepted_once_after() {
        let store = Arc::new(Flaky::default());
        let a = fleet(store.clone());
        let b = fleet(store.clone());
        let header = header("00000000000000000000000000000001", true);
        store.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let err = a.verify_value(header.as_bytes()).await.unwrap_err();
        assert_eq!(err.reason(), FleetRejectReason::StoreUnavailable);
        store.down.store(false, std::sync::atomic::Ordering::SeqCst);
        // Never accepted, so the retry at the same process is accepted, once.
        assert!(a.verify_value(header.as_bytes()).await.is_ok());
        for v in [&a, &b] {
            let err = v.verify_value(header.as_bytes()).await.unwrap_err();
            assert_eq!(err.reason(), FleetRejectReason::Replayed);
        }
        // The local replay cache is not used at all.
        assert_eq!(a.verifier.replay_entries(), 0);
    }

    #[tokio::test]
    async fn insert_before_digest_does_not_let_bad_digests_spend_fleet_nonces() {
        let store: Arc<dyn ReplayStore> = Arc::new(InMemoryStore::new());
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut verifier = Verifier::new(VerifierConfig::default().with_insert_before_digest(true))
            .with_clock(Arc::new(FixedClock::new(now)));
        verifier.add_user("alice", "default", "pw", "salt").unwrap();
        let v = FleetVerifier::new(verifier, store);
        let nonce = "0123456789abcdef0123456789abcdee";
        for _ in 0..3 {
            let err = v
                .verify_value(header(nonce, false).as_bytes())
                .await
                .unwrap_err();
            assert_eq!(
                err.reason(),
                FleetRejectReason::Header(RejectReason::BadDigest)
            );
        }
        assert!(v.verify_value(header(nonce, true).as_bytes()).await.is_ok());
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
