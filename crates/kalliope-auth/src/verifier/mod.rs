//! The server side: checking `X-authenticate` headers for Kalliope-compatible services and
//! tests.
//!
//! Order of checks: parse → time window → user lookup (a dummy key for unknown users, so
//! the work done is the same) → constant-time digest comparison → atomic replay
//! check-and-insert. Every failure looks the same to the client ([`Rejected`] displays as
//! `authentication failed`); the service reads the precise [`RejectReason`].

mod parse;
mod replay;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use pbx_auth_core::{KeyMaterial, SharedClock, SystemClock};
use subtle::ConstantTimeEq;

pub use parse::{ParseError, ParsedHeader, SCHEME, parse_lenient, parse_strict};

use crate::credentials::{Credentials, SigningKey};
use crate::digest::digest_raw;
use crate::error::Error;
use crate::signer::HEADER_NAME;
use replay::{Insert, Now, ReplayCache, replay_key};

/// The default [`VerifierConfig::max_entries`]: a million nonces, about 64 MiB of table at
/// most, enough for some 1,600 verified requests per second with the default 300 s skew
/// (an entry lives at most twice the skew). Raise it for more; when full, requests are
/// refused rather than let memory grow without bound.
pub const DEFAULT_MAX_REPLAY_ENTRIES: usize = 1_000_000;

/// Which nonces collide in the replay cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReplayScope {
    /// One nonce space for everyone (the documentation's "all previously used nonces").
    #[default]
    Global,
    /// Per (user, domain): two users may use the same nonce.
    PerUser,
}

/// How strict the verifier is. The defaults follow the vendor documentation and regex.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifierConfig {
    /// Largest accepted `|now - Created|` (default 300 s, inclusive).
    pub skew: Duration,
    /// Refuse any `Created` after `now`, as the Symfony WSSE cookbook does (default false).
    pub reject_future: bool,
    /// Accept other field orders and whitespace (default false: the canonical line only).
    pub lenient: bool,
    /// Which nonces collide (default global).
    pub replay_scope: ReplayScope,
    /// Burn the nonce even for a bad digest or an unknown user, as the Symfony cookbook
    /// does: a nonce already seen is refused before the digest is checked (default false:
    /// only verified requests are recorded). Nonces of requests that did not verify take
    /// at most a quarter of [`max_entries`](Self::max_entries) (250,000 without a limit);
    /// beyond that they are not recorded, so junk can never crowd out verified requests.
    pub insert_before_digest: bool,
    /// Most nonces remembered at once; when full (after dropping expired ones) requests
    /// are refused (default [`DEFAULT_MAX_REPLAY_ENTRIES`]; `None`: no limit beyond the
    /// time window, for a service whose every request is authenticated upstream).
    pub max_entries: Option<usize>,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            skew: Duration::from_secs(300),
            reject_future: false,
            lenient: false,
            replay_scope: ReplayScope::Global,
            insert_before_digest: false,
            max_entries: Some(DEFAULT_MAX_REPLAY_ENTRIES),
        }
    }
}

impl VerifierConfig {
    /// Sets [`skew`](Self::skew).
    #[must_use]
    pub fn with_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Sets [`reject_future`](Self::reject_future).
    #[must_use]
    pub fn with_reject_future(mut self, yes: bool) -> Self {
        self.reject_future = yes;
        self
    }

    /// Sets [`lenient`](Self::lenient).
    #[must_use]
    pub fn with_lenient(mut self, yes: bool) -> Self {
        self.lenient = yes;
        self
    }

    /// Sets [`replay_scope`](Self::replay_scope).
    #[must_use]
    pub fn with_replay_scope(mut self, scope: ReplayScope) -> Self {
        self.replay_scope = scope;
        self
    }

    /// Sets [`insert_before_digest`](Self::insert_before_digest).
    #[must_use]
    pub fn with_insert_before_digest(mut self, yes: bool) -> Self {
        self.insert_before_digest = yes;
        self
    }

    /// Sets [`max_entries`](Self::max_entries).
    #[must_use]
    pub fn with_max_entries(mut self, max: Option<usize>) -> Self {
        self.max_entries = max;
        self
    }
}

/// Why a header was refused. For the service's logs and tests, never for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// No `X-authenticate` header.
    Missing,
    /// More than one `X-authenticate` header.
    Duplicate,
    /// The value does not parse.
    Malformed(ParseError),
    /// `Created` is further than the skew from now.
    OutsideWindow,
    /// `Created` is in the future and the verifier refuses that.
    Future,
    /// No such user in that domain.
    UnknownUser,
    /// The digest does not match.
    BadDigest,
    /// The nonce was used before.
    Replayed,
    /// The replay cache is full.
    ReplayCacheFull,
}

/// A refused header. Displays the same text whatever the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    reason: RejectReason,
}

impl Rejected {
    /// The precise reason, for logs and tests.
    pub fn reason(&self) -> RejectReason {
        self.reason
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("authentication failed")
    }
}

impl std::error::Error for Rejected {}

/// The one `X-authenticate` value of `headers`.
fn header_value(headers: &HeaderMap) -> Result<&[u8], Rejected> {
    let mut values = headers.get_all(HEADER_NAME).iter();
    let value = values.next().ok_or(reject(RejectReason::Missing))?;
    if values.next().is_some() {
        return Err(reject(RejectReason::Duplicate));
    }
    Ok(value.as_bytes())
}

fn reject(reason: RejectReason) -> Rejected {
    // The reason only: the header, its user and its digest never reach a log.
    tracing::debug!(?reason, "X-authenticate header refused");
    Rejected { reason }
}

/// An accepted header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The user.
    pub username: String,
    /// The tenant domain.
    pub domain: String,
    /// The nonce (now spent).
    pub nonce: String,
    /// When the client made the header.
    pub created: SystemTime,
}

/// Checks `X-authenticate` headers against known users.
pub struct Verifier {
    config: VerifierConfig,
    /// domain -> username -> `digestPassword` (64 hex bytes).
    users: HashMap<String, HashMap<String, KeyMaterial>>,
    clock: SharedClock,
    replay: ReplayCache,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .field("domains", &self.users.len())
            .field("replay_entries", &self.replay.len())
            .finish_non_exhaustive()
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new(VerifierConfig::default())
    }
}

/// The key compared against for an unknown user, so that path does the same work.
const DUMMY_KEY: &[u8; 64] = b"0000000000000000000000000000000000000000000000000000000000000000";

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

impl Verifier {
    /// A verifier with no users, the system clock and `config`.
    pub fn new(config: VerifierConfig) -> Self {
        let replay = ReplayCache::new(config.max_entries);
        Self {
            config,
            users: HashMap::new(),
            clock: Arc::new(SystemClock::default()),
            replay,
        }
    }

    /// Uses `clock` for "now" (tests pin it).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Adds a user from a plaintext password and the tenant's salt. Only the derived
    /// `digestPassword` is kept, as on the PBX.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] for an empty username, domain, password or salt, or
    /// values a client could not send.
    pub fn add_user(
        &mut self,
        username: &str,
        domain: &str,
        password: &str,
        salt: &str,
    ) -> Result<(), Error> {
        let credentials = Credentials::new(username, password, domain)?;
        let key = SigningKey::derive(&credentials, salt)?;
        self.add_key(&key);
        Ok(())
    }

    /// Adds a user from a stored key.
    pub fn add_key(&mut self, key: &SigningKey) {
        self.users
            .entry(key.domain().to_owned())
            .or_default()
            .insert(
                key.username().to_owned(),
                KeyMaterial::new(key.expose_digest_password().to_vec()),
            );
    }

    /// Removes a user; returns whether it existed.
    pub fn remove_user(&mut self, username: &str, domain: &str) -> bool {
        self.users
            .get_mut(domain)
            .is_some_and(|users| users.remove(username).is_some())
    }

    /// Nonces currently remembered.
    pub fn replay_entries(&self) -> usize {
        self.replay.len()
    }

    /// Approximate heap bytes of the replay cache.
    pub fn replay_heap_bytes(&self) -> usize {
        self.replay.heap_bytes()
    }

    /// Checks the `X-authenticate` header in `headers` (exactly one must be present).
    ///
    /// # Errors
    ///
    /// [`Rejected`], whose [`reason`](Rejected::reason) says why.
    pub fn verify_headers(&self, headers: &HeaderMap) -> Result<Verified, Rejected> {
        self.verify_value(header_value(headers)?)
    }

    /// Checks one header value.
    ///
    /// # Errors
    ///
    /// [`Rejected`], whose [`reason`](Rejected::reason) says why.
    pub fn verify_value(&self, value: &[u8]) -> Result<Verified, Rejected> {
        self.check(value, true)
    }

    /// Every check but the replay cache: neither looked at nor written. For the fleet
    /// verifier, whose nonces are spent in a shared store only (a nonce recorded here
    /// too would refuse the retry of a header that the fleet never accepted, when the
    /// shared store failed).
    pub(crate) fn verify_value_unrecorded(&self, value: &[u8]) -> Result<Verified, Rejected> {
        self.check(value, false)
    }

    /// As [`verify_value_unrecorded`](Self::verify_value_unrecorded) for `headers`.
    pub(crate) fn verify_headers_unrecorded(
        &self,
        headers: &HeaderMap,
    ) -> Result<Verified, Rejected> {
        self.check(header_value(headers)?, false)
    }

    fn check(&self, value: &[u8], replay_cache: bool) -> Result<Verified, Rejected> {
        let parsed = if self.config.lenient {
            parse_lenient(value)
        } else {
            parse_strict(value)
        }
        .map_err(|e| reject(RejectReason::Malformed(e)))?;
        let now = self.clock.now();
        match now.duration_since(parsed.created) {
            Ok(age) if age > self.config.skew => return Err(reject(RejectReason::OutsideWindow)),
            Err(ahead) => {
                if self.config.reject_future {
                    return Err(reject(RejectReason::Future));
                }
                if ahead.duration() > self.config.skew {
                    return Err(reject(RejectReason::OutsideWindow));
                }
            }
            Ok(_) => {}
        }
        let stored = self
            .users
            .get(parsed.domain)
            .and_then(|users| users.get(parsed.username));
        let key = stored.map_or(&DUMMY_KEY[..], KeyMaterial::expose_secret);
        let replay_key = match self.config.replay_scope {
            ReplayScope::Global => replay_key(&[parsed.nonce]),
            ReplayScope::PerUser => replay_key(&[parsed.username, parsed.domain, parsed.nonce]),
        };
        let keep_until = unix_secs(parsed.created)
            .saturating_add(i64::try_from(self.config.skew.as_secs()).unwrap_or(i64::MAX));
        // The window above is checked on the wall clock (it compares with `Created`); the
        // replay entry expires on both clocks (see `replay`), so stepping the wall clock
        // cannot make it forget a nonce whose header could still pass.
        let now = Now {
            wall: unix_secs(now),
            mono: self.clock.monotonic().as_secs(),
        };
        let until = now.expiry(keep_until);
        let insert_before_digest = replay_cache && self.config.insert_before_digest;
        if insert_before_digest && self.replay.contains(replay_key, now) {
            return Err(reject(RejectReason::Replayed));
        }
        let expected = digest_raw(
            parsed.nonce,
            key,
            parsed.username,
            parsed.domain,
            parsed.created_text,
        );
        let matches: bool = expected.ct_eq(&parsed.digest).into();
        if stored.is_none() || !matches {
            if insert_before_digest {
                self.replay.insert_unverified(replay_key, until, now);
            }
            return Err(reject(if stored.is_none() {
                RejectReason::UnknownUser
            } else {
                RejectReason::BadDigest
            }));
        }
        if replay_cache {
            self.record(replay_key, until, now)?;
        }
        Ok(Verified {
            username: parsed.username.to_owned(),
            domain: parsed.domain.to_owned(),
            nonce: parsed.nonce.to_owned(),
            created: parsed.created,
        })
    }

    fn record(
        &self,
        key: replay::ReplayKey,
        until: replay::Expiry,
        now: Now,
    ) -> Result<(), Rejected> {
        match self.replay.check_and_insert(key, until, now) {
            Insert::Fresh => Ok(()),
            Insert::Replayed => Err(reject(RejectReason::Replayed)),
            Insert::Full => Err(reject(RejectReason::ReplayCacheFull)),
        }
    }
}
