//! `TokenVerifier`: asks wazo-auth whether a token holds an access in a tenant, with a
//! short bounded positive cache, single-flight for identical checks, and optional local
//! decisions from a token's cached ACL.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::OnceCell;

use super::cache::TtlMap;
use super::refusal::{AuthServer, Refusal};
use crate::{AccessCheck, AccessToken, Client, Error, Token};

/// Longest token accepted before asking wazo-auth (real tokens are 36-character UUIDs).
const MAX_TOKEN_LEN: usize = 512;
/// Longest `Wazo-Tenant` value accepted before asking wazo-auth.
const MAX_TENANT_LEN: usize = 256;

/// Where the token is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenLocation {
    /// `X-Auth-Token` only (the Python verifier's default).
    #[default]
    Header,
    /// The `token` query parameter, else `X-Auth-Token`
    /// (`extract_token_id_from_query_or_header`).
    QueryOrHeader,
}

/// Which wazo-auth call decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CheckMethod {
    /// `GET /token/{t}?scope=…&tenant=…`: the same checks and statuses as `HEAD` (200
    /// instead of 204), and the answer carries the token's `auth_id`, tenant and ACL for
    /// [`VerifiedToken`] and for local decisions. The default.
    #[default]
    Details,
    /// `HEAD /token/{t}?scope=…&tenant=…`, exactly as the Python verifier asks; the
    /// verified token then has no details and no local decision is possible.
    Head,
}

/// What the handler gets as a request extension once the token is verified.
#[derive(Clone)]
pub struct VerifiedToken {
    inner: Arc<VerifiedInner>,
}

struct VerifiedInner {
    token: AccessToken,
    tenant: Option<Arc<str>>,
    required_access: Option<Arc<str>>,
    details: Option<Arc<Details>>,
}

/// A token's details and its compiled ACL.
struct Details {
    token: Token,
    check: AccessCheck,
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("token", &self.inner.token)
            .field("auth_id", &self.auth_id())
            .field("tenant_uuid", &self.tenant_uuid())
            .field("required_access", &self.required_access())
            .finish_non_exhaustive()
    }
}

impl VerifiedToken {
    /// The caller's token, to call other wazo services on the caller's behalf.
    pub fn token(&self) -> &AccessToken {
        &self.inner.token
    }

    /// The tenant the request acts in: the `Wazo-Tenant` one when sent (it was checked
    /// to be the token's tenant or one of its sub-tenants), else the token's own.
    pub fn tenant_uuid(&self) -> Option<&str> {
        self.inner
            .tenant
            .as_deref()
            .or_else(|| self.token_tenant_uuid())
    }

    /// The token's own tenant (needs [`CheckMethod::Details`]).
    pub fn token_tenant_uuid(&self) -> Option<&str> {
        self.details().and_then(Token::tenant_uuid)
    }

    /// The user's UUID, or `wazo-auth` for internal tokens (needs [`CheckMethod::Details`]).
    pub fn auth_id(&self) -> Option<&str> {
        self.details().map(|t| t.auth_id.as_str())
    }

    /// The token's accesses (needs [`CheckMethod::Details`]).
    pub fn acl(&self) -> Option<&[String]> {
        self.details().map(|t| t.acl.as_slice())
    }

    /// The access that was checked for this request (`None` for "any valid token").
    pub fn required_access(&self) -> Option<&str> {
        self.inner.required_access.as_deref()
    }

    /// Everything wazo-auth said about the token (needs [`CheckMethod::Details`]).
    pub fn details(&self) -> Option<&Token> {
        self.inner.details.as_deref().map(|d| &d.token)
    }

    /// Whether this is the decision for (token, access, tenant).
    fn is_for(&self, token: &[u8], required_access: Option<&str>, tenant: Option<&str>) -> bool {
        let v = &*self.inner;
        v.token.expose_secret().as_bytes() == token
            && v.required_access.as_deref() == required_access
            && v.tenant.as_deref() == tenant
    }
}

/// Builds a [`TokenVerifier`].
#[derive(Debug)]
pub struct TokenVerifierBuilder {
    client: Client,
    token_from: TokenLocation,
    method: CheckMethod,
    local_decisions: bool,
    ttl: Duration,
    capacity: usize,
}

impl TokenVerifierBuilder {
    /// Where tokens are read from (default: `X-Auth-Token`).
    #[must_use]
    pub fn token_from(mut self, location: TokenLocation) -> Self {
        self.token_from = location;
        self
    }

    /// Which call decides (default: [`CheckMethod::Details`]).
    #[must_use]
    pub fn check_method(mut self, method: CheckMethod) -> Self {
        self.method = method;
        self
    }

    /// Decide locally, with [`AccessCheck`] on the token's cached ACL, when the token's
    /// details are cached and the request acts in the token's own tenant (default off).
    /// Only with [`CheckMethod::Details`]; a revoked token then keeps working for at most
    /// the cache lifetime, as with the decision cache.
    #[must_use]
    pub fn local_decisions(mut self, yes: bool) -> Self {
        self.local_decisions = yes;
        self
    }

    /// How long a positive answer is reused (default 5 s; zero disables the cache). A
    /// revoked token is accepted for at most this long.
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Most positive answers (and token details) kept at once (default 10 000).
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The verifier.
    pub fn build(self) -> TokenVerifier {
        let server = AuthServer::from_base_url(self.client.base_url());
        TokenVerifier {
            inner: Arc::new(Inner {
                server,
                token_from: self.token_from,
                method: self.method,
                local_decisions: self.local_decisions && self.method == CheckMethod::Details,
                decisions: TtlMap::new(self.ttl, self.capacity),
                details: TtlMap::new(self.ttl, self.capacity),
                inflight: Mutex::new(HashMap::new()),
                remote_checks: AtomicU64::new(0),
                client: self.client,
            }),
        }
    }
}

type Outcome = Result<VerifiedToken, Refusal>;
type Flight = Arc<OnceCell<Outcome>>;

/// Verifies tokens against wazo-auth for a service. Cheap to clone; clones share the
/// caches. Build route layers with [`require_acl`](Self::require_acl).
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    server: AuthServer,
    token_from: TokenLocation,
    method: CheckMethod,
    local_decisions: bool,
    /// Positive decisions, under the hash of (token, access, tenant).
    decisions: TtlMap<VerifiedToken>,
    /// Token details, under the hash of the token.
    details: TtlMap<Arc<Details>>,
    inflight: Mutex<HashMap<String, Flight>>,
    remote_checks: AtomicU64,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("auth", &self.inner.client.base_url())
            .field("token_from", &self.inner.token_from)
            .field("method", &self.inner.method)
            .field("local_decisions", &self.inner.local_decisions)
            .field("cached", &self.inner.decisions.len())
            .finish_non_exhaustive()
    }
}

/// The single-flight key: lengths first, so no choice of token or tenant can collide with
/// another (token, access, tenant) triple.
fn flight_key(token: &str, access: Option<&str>, tenant: Option<&str>) -> String {
    let access = access.unwrap_or_default();
    let tenant = tenant.unwrap_or_default();
    format!("{}:{token}{}:{access}{tenant}", token.len(), access.len())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How wazo-auth answered one check.
enum Answer {
    Allowed(Option<Arc<Details>>),
    Unknown,
    Forbidden,
    Failed(Arc<str>),
}

fn classify(error: &Error) -> Answer {
    match error {
        Error::InvalidToken => Answer::Unknown,
        Error::MissingPermissions => Answer::Forbidden,
        e if e.status().map(|s| s.as_u16()) == Some(404) => Answer::Unknown,
        e if e.status().map(|s| s.as_u16()) == Some(403) => Answer::Forbidden,
        e => Answer::Failed(e.to_string().into()),
    }
}

/// Removes a finished or abandoned flight from the in-flight map.
struct FlightGuard<'a> {
    inflight: &'a Mutex<HashMap<String, Flight>>,
    key: &'a str,
    flight: Flight,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut map = lock(self.inflight);
        // Keep an unfinished flight that others still wait on: one of them takes it over.
        let done = self.flight.initialized() || Arc::strong_count(&self.flight) == 2;
        if done
            && map
                .get(self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(self.key);
        }
    }
}

impl TokenVerifier {
    /// A verifier asking wazo-auth through `client` (only its base URL and HTTP settings
    /// are used: checks need no token of the service's own).
    pub fn builder(client: Client) -> TokenVerifierBuilder {
        TokenVerifierBuilder {
            client,
            token_from: TokenLocation::default(),
            method: CheckMethod::default(),
            local_decisions: false,
            ttl: Duration::from_secs(5),
            capacity: 10_000,
        }
    }

    /// A verifier with the default settings.
    pub fn new(client: Client) -> Self {
        Self::builder(client).build()
    }

    /// How many checks were sent to wazo-auth (disambiguation calls included).
    pub fn remote_checks(&self) -> u64 {
        self.inner.remote_checks.load(Ordering::Relaxed)
    }

    pub(crate) fn token_location(&self) -> TokenLocation {
        self.inner.token_from
    }

    pub(crate) fn auth_server(&self) -> &AuthServer {
        &self.inner.server
    }

    /// Whether `token` holds `required_access` (`None`: any valid token) in `tenant`
    /// (`None`: the token's own tenant).
    ///
    /// # Errors
    ///
    /// The [`Refusal`] to answer with.
    pub async fn verify(
        &self,
        token: &str,
        required_access: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<VerifiedToken, Refusal> {
        match self.decide_now(token.as_bytes(), required_access, tenant) {
            Some(decided) => decided,
            None => self.verify_remotely(token, required_access, tenant).await,
        }
    }

    /// The decision when it needs no call to wazo-auth: a malformed request, a cached
    /// decision, or (with local decisions on) the token's cached ACL. `None`: ask.
    ///
    /// The token is taken as bytes: a cache hit needs no check that it is text, since only
    /// verified tokens have entries; whatever misses is read as text before it is sent.
    pub(crate) fn decide_now(
        &self,
        token: &[u8],
        required_access: Option<&str>,
        tenant: Option<&str>,
    ) -> Option<Outcome> {
        let inner = &*self.inner;
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Some(Err(Refusal::InvalidToken {
                required_access: required_access.map(Arc::from),
            }));
        }
        if let Some(t) = tenant.filter(|t| t.len() > MAX_TENANT_LEN) {
            // Cut on a character boundary: the value came from a header, lossily decoded.
            let cut = (0..=MAX_TENANT_LEN)
                .rev()
                .find(|i| t.is_char_boundary(*i))
                .unwrap_or(0);
            return Some(Err(Refusal::UnauthorizedTenant {
                tenant_uuid: Arc::from(&t[..cut]),
            }));
        }
        if let Some(hit) = self.cached(token, required_access, tenant) {
            return Some(Ok(hit));
        }
        if inner.local_decisions
            && let Some(details) = inner
                .details
                .get(inner.details.hash_parts([Some(token), None, None]), |d| {
                    d.token.token.expose_secret().as_bytes() == token
                })
            && tenant.is_none_or(|t| details.token.tenant_uuid() == Some(t))
        {
            return Some(self.decide_locally(details, required_access, tenant));
        }
        None
    }

    /// A cached positive decision for exactly this (token, access, tenant).
    fn cached(
        &self,
        token: &[u8],
        required_access: Option<&str>,
        tenant: Option<&str>,
    ) -> Option<VerifiedToken> {
        let decisions = &self.inner.decisions;
        decisions.get(
            decisions.hash_parts([
                Some(token),
                required_access.map(str::as_bytes),
                tenant.map(str::as_bytes),
            ]),
            |v| v.is_for(token, required_access, tenant),
        )
    }

    /// Stores a positive decision under its (token, access, tenant).
    fn remember(&self, verified: &VerifiedToken) {
        let decisions = &self.inner.decisions;
        let v = &*verified.inner;
        let hash = decisions.hash_parts([
            Some(v.token.expose_secret().as_bytes()),
            v.required_access.as_deref().map(str::as_bytes),
            v.tenant.as_deref().map(str::as_bytes),
        ]);
        decisions.insert(hash, verified.clone());
    }

    /// Asks wazo-auth, once for all concurrent identical checks.
    async fn verify_remotely(
        &self,
        token: &str,
        required_access: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<VerifiedToken, Refusal> {
        let inner = &*self.inner;
        let key = flight_key(token, required_access, tenant);
        let flight = Arc::clone(
            lock(&inner.inflight)
                .entry(key.clone())
                .or_insert_with(|| Arc::new(OnceCell::new())),
        );
        let guard = FlightGuard {
            inflight: &inner.inflight,
            key: &key,
            flight,
        };
        let outcome = guard
            .flight
            .get_or_init(|| async {
                // A flight that ended between our cache look-up and our joining the map
                // has cached its answer: take it rather than asking again.
                if let Some(hit) = self.cached(token.as_bytes(), required_access, tenant) {
                    return Ok(hit);
                }
                let outcome = self.remote(token, required_access, tenant).await;
                // Cached before the flight ends, so no later request starts a second check.
                if let Ok(verified) = &outcome {
                    self.remember(verified);
                    if let Some(details) = &verified.inner.details {
                        inner.details.insert(
                            inner
                                .details
                                .hash_parts([Some(token.as_bytes()), None, None]),
                            Arc::clone(details),
                        );
                    }
                }
                outcome
            })
            .await
            .clone();
        drop(guard);
        outcome
    }

    fn decide_locally(
        &self,
        details: Arc<Details>,
        required_access: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<VerifiedToken, Refusal> {
        if details.check.matches_required_access(required_access) {
            let verified = VerifiedToken {
                inner: Arc::new(VerifiedInner {
                    token: details.token.token.clone(),
                    tenant: tenant.map(Arc::from),
                    required_access: required_access.map(Arc::from),
                    details: Some(details),
                }),
            };
            self.remember(&verified);
            Ok(verified)
        } else {
            Err(Refusal::MissingPermission {
                required_access: required_access.map(Arc::from),
                tenant_uuid: tenant.map(Arc::from),
            })
        }
    }

    async fn ask(&self, token: &str, access: Option<&str>, tenant: Option<&str>) -> Answer {
        self.inner.remote_checks.fetch_add(1, Ordering::Relaxed);
        let api = self.inner.client.token();
        match self.inner.method {
            CheckMethod::Details => match api.get(token, access, tenant).await {
                Ok(details) => {
                    let check = AccessCheck::for_token(&details);
                    Answer::Allowed(Some(Arc::new(Details {
                        token: details,
                        check,
                    })))
                }
                Err(e) => classify(&e),
            },
            CheckMethod::Head => match api.check(token, access, tenant).await {
                Ok(true) => Answer::Allowed(None),
                Ok(false) => Answer::Failed(
                    "wazo-auth answered the token check with an unexpected status".into(),
                ),
                Err(e) => classify(&e),
            },
        }
    }

    async fn remote(&self, token: &str, access: Option<&str>, tenant: Option<&str>) -> Outcome {
        let required_access = access.map(Arc::<str>::from);
        match self.ask(token, access, tenant).await {
            Answer::Allowed(details) => Ok(VerifiedToken {
                inner: Arc::new(VerifiedInner {
                    token: AccessToken::new(token),
                    tenant: tenant.map(Arc::from),
                    required_access,
                    details,
                }),
            }),
            Answer::Unknown => Err(Refusal::InvalidToken { required_access }),
            Answer::Failed(error) => Err(Refusal::Unreachable { error }),
            Answer::Forbidden => {
                let Some(tenant) = tenant else {
                    return Err(Refusal::MissingPermission {
                        required_access,
                        tenant_uuid: None,
                    });
                };
                // wazo-auth's 403 means "access or tenant". Asking again without the
                // tenant tells which, so a tenant outside the token's subtree gets the
                // `unauthorized-tenant` answer `tenant_helpers` gives.
                let tenant_uuid = Arc::<str>::from(tenant);
                match self.ask(token, access, None).await {
                    Answer::Allowed(_) => Err(Refusal::UnauthorizedTenant { tenant_uuid }),
                    Answer::Unknown => Err(Refusal::InvalidToken { required_access }),
                    Answer::Forbidden => Err(Refusal::MissingPermission {
                        required_access,
                        tenant_uuid: Some(tenant_uuid),
                    }),
                    Answer::Failed(error) => Err(Refusal::Unreachable { error }),
                }
            }
        }
    }
}
