//! The sipgate mock: a Keycloak-like login server (`/auth`, `/login`, `/token`, `/revoke`)
//! and the account endpoint of the REST API (`GET /v2/account`).
//!
//! Written from RFC 6749/7636/7009 and sipgate's documented responses, not from the client
//! crate. It checks what a real server checks: registered client, loopback redirect URI with
//! the registered path, single-use codes bound to redirect URI and PKCE challenge, client
//! authentication by the registered method, rotating refresh tokens (a used one is refused),
//! and bearer tokens with an expiry. The login needs a cookie between `/auth` and `/login`,
//! so a scripted browser must keep cookies, as a real one does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

use crate::message::{Handler, MockRequest, MockResponse};

/// The registered client id.
pub const CLIENT_ID: &str = "2556404-0-dc848ae6-085c-11e8-92a6-31b99c83912e";
/// The registered client secret.
pub const CLIENT_SECRET: &str = "mock-secret-0123456789abcdef";
/// The registered redirect path (any loopback host and port, RFC 8252 §7.3).
pub const REDIRECT_PATH: &str = "/oauth";
/// The session cookie the login pages set.
const COOKIE: &str = "KEYCLOAK_SESSION";

/// How the client must authenticate at `/token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// `client_secret_post` (sipgate's examples).
    Post,
    /// `client_secret_basic`.
    Basic,
}

struct Pending {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    challenge: Option<String>,
    scope: String,
    deny: bool,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    issued: Instant,
}

struct Access {
    scope: String,
    expires: Instant,
}

struct State {
    sessions: HashMap<String, Pending>,
    codes: HashMap<String, Code>,
    refresh: HashMap<String, String>,
    access: HashMap<String, Access>,
    refreshes: usize,
}

struct Inner {
    auth: ClientAuthMethod,
    access_ttl: Duration,
    code_ttl: Duration,
    require_pkce: bool,
    state: Mutex<State>,
}

/// The sipgate mock handler. Clones share state, so a test can keep one to inspect or
/// steer the server after handing another to [`MockServer`](crate::MockServer).
#[derive(Clone)]
pub struct SipgateMock {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SipgateMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipgateMock")
            .field("auth", &self.inner.auth)
            .field("access_ttl", &self.inner.access_ttl)
            .finish_non_exhaustive()
    }
}

impl Default for SipgateMock {
    fn default() -> Self {
        Self::new()
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 24];
    // The mock only needs distinct values; a failing OS generator would fail every test.
    let _ = getrandom::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn oauth_error(status: u16, error: &str, description: &str) -> MockResponse {
    MockResponse::json(
        status,
        &serde_json::json!({ "error": error, "error_description": description }),
    )
    .with_header("cache-control", "no-store")
}

fn redirect(location: &str) -> MockResponse {
    MockResponse::status(302).with_header("location", location)
}

fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    let host_ok = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    url.scheme() == "http" && host_ok && url.path() == REDIRECT_PATH && url.fragment().is_none()
}

impl SipgateMock {
    /// A server expecting `client_secret_post`, 300 s access tokens, PKCE optional.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                auth: ClientAuthMethod::Post,
                access_ttl: Duration::from_secs(300),
                code_ttl: Duration::from_secs(60),
                require_pkce: false,
                state: Mutex::new(State {
                    sessions: HashMap::new(),
                    codes: HashMap::new(),
                    refresh: HashMap::new(),
                    access: HashMap::new(),
                    refreshes: 0,
                }),
            }),
        }
    }

    fn rebuild(self, f: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            auth: shared.auth,
            access_ttl: shared.access_ttl,
            code_ttl: shared.code_ttl,
            require_pkce: shared.require_pkce,
            state: Mutex::new(State {
                sessions: HashMap::new(),
                codes: HashMap::new(),
                refresh: HashMap::new(),
                access: HashMap::new(),
                refreshes: 0,
            }),
        });
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Requires this client authentication method at `/token`.
    #[must_use]
    pub fn with_client_auth(self, method: ClientAuthMethod) -> Self {
        self.rebuild(|i| i.auth = method)
    }

    /// Sets the access-token lifetime.
    #[must_use]
    pub fn with_access_ttl(self, ttl: Duration) -> Self {
        self.rebuild(|i| i.access_ttl = ttl)
    }

    /// Refuses authorization requests without PKCE.
    #[must_use]
    pub fn with_required_pkce(self) -> Self {
        self.rebuild(|i| i.require_pkce = true)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many refresh grants succeeded.
    pub fn refresh_count(&self) -> usize {
        self.state().refreshes
    }

    /// Makes every issued access token expire now (no sleeping in tests).
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for access in self.state().access.values_mut() {
            access.expires = now;
        }
    }

    /// Makes every unused authorization code too old to exchange.
    pub fn expire_codes(&self) {
        let old = Instant::now()
            .checked_sub(self.inner.code_ttl * 2)
            .unwrap_or_else(Instant::now);
        for code in self.state().codes.values_mut() {
            code.issued = old;
        }
    }

    fn authorize(&self, req: &MockRequest) -> MockResponse {
        let q = req.query_map();
        let client_id = q.get("client_id").cloned().unwrap_or_default();
        if client_id != CLIENT_ID {
            return MockResponse::text(400, "text/plain", "client not found");
        }
        let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
        // Like Keycloak: a bad redirect URI is shown, never redirected to.
        if !is_loopback_redirect(&redirect_uri) {
            return MockResponse::text(400, "text/plain", "invalid parameter: redirect_uri");
        }
        let Ok(base) = url::Url::parse(&redirect_uri) else {
            return MockResponse::text(400, "text/plain", "invalid parameter: redirect_uri");
        };
        let state = q.get("state").cloned();
        let error_to = |error: &str| {
            let mut url = base.clone();
            url.query_pairs_mut().append_pair("error", error);
            if let Some(s) = &state {
                url.query_pairs_mut().append_pair("state", s);
            }
            redirect(url.as_str())
        };
        if q.get("response_type").map(String::as_str) != Some("code") {
            return error_to("unsupported_response_type");
        }
        let challenge = q.get("code_challenge").cloned();
        match (
            q.get("code_challenge_method").map(String::as_str),
            &challenge,
        ) {
            (Some("S256"), Some(_)) => {}
            (None, None) if !self.inner.require_pkce => {}
            _ => return error_to("invalid_request"),
        }
        let session = random_id();
        self.state().sessions.insert(
            session.clone(),
            Pending {
                client_id,
                redirect_uri,
                state,
                challenge,
                scope: q
                    .get("scope")
                    .cloned()
                    .unwrap_or_else(|| "account:read".to_owned()),
                deny: q.get("login_hint").map(String::as_str) == Some("deny"),
            },
        );
        redirect(&format!("/login?session={session}")).with_header(
            "set-cookie",
            &format!("{COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"),
        )
    }

    fn login(&self, req: &MockRequest) -> MockResponse {
        let q = req.query_map();
        let session = q.get("session").cloned().unwrap_or_default();
        let cookie_ok = req.header("cookie").is_some_and(|c| {
            c.split(';')
                .any(|p| p.trim() == format!("{COOKIE}={session}"))
        });
        if !cookie_ok {
            return MockResponse::text(
                400,
                "text/plain",
                "Cookie not found. Please make sure cookies are enabled in your browser.",
            );
        }
        let mut st = self.state();
        let Some(pending) = st.sessions.remove(&session) else {
            return MockResponse::text(400, "text/plain", "session expired");
        };
        let Ok(mut url) = url::Url::parse(&pending.redirect_uri) else {
            return MockResponse::text(400, "text/plain", "invalid parameter: redirect_uri");
        };
        if pending.deny {
            url.query_pairs_mut().append_pair("error", "access_denied");
        } else {
            let code = random_id();
            url.query_pairs_mut().append_pair("code", &code);
            st.codes.insert(
                code,
                Code {
                    client_id: pending.client_id,
                    redirect_uri: pending.redirect_uri,
                    challenge: pending.challenge,
                    scope: pending.scope,
                    issued: Instant::now(),
                },
            );
        }
        if let Some(s) = &pending.state {
            url.query_pairs_mut().append_pair("state", s);
        }
        url.query_pairs_mut()
            .append_pair("session_state", "mock-session");
        redirect(url.as_str())
    }

    /// Checks client authentication by the registered method; `Some` is the refusal.
    fn client_auth_failure(
        &self,
        req: &MockRequest,
        form: &HashMap<String, String>,
    ) -> Option<MockResponse> {
        let basic = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok());
        let (id, secret) = match (self.inner.auth, basic) {
            (ClientAuthMethod::Basic, Some(pair)) if !form.contains_key("client_secret") => {
                let (id, secret) = pair.split_once(':').unwrap_or((&pair, ""));
                let decode = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                (decode(id), decode(secret))
            }
            (ClientAuthMethod::Post, None) => (
                form.get("client_id").cloned().unwrap_or_default(),
                form.get("client_secret").cloned().unwrap_or_default(),
            ),
            _ => {
                return Some(oauth_error(
                    401,
                    "invalid_client",
                    "client authentication method not allowed for this client",
                ));
            }
        };
        if id != CLIENT_ID {
            return Some(oauth_error(401, "invalid_client", "client not found"));
        }
        if secret != CLIENT_SECRET {
            return Some(oauth_error(401, "invalid_client", "invalid client_secret"));
        }
        None
    }

    fn issue(&self, st: &mut State, scope: &str) -> MockResponse {
        let access = random_id();
        let refresh = random_id();
        st.access.insert(
            access.clone(),
            Access {
                scope: scope.to_owned(),
                expires: Instant::now() + self.inner.access_ttl,
            },
        );
        st.refresh.insert(refresh.clone(), scope.to_owned());
        // sipgate's documented shape: lower-case `bearer` and Keycloak's extra fields.
        MockResponse::json(
            200,
            &serde_json::json!({
                "access_token": access,
                "expires_in": self.inner.access_ttl.as_secs(),
                "refresh_expires_in": 2_592_000,
                "refresh_token": refresh,
                "token_type": "bearer",
                "not-before-policy": 0,
                "session_state": "mock-session",
                "scope": scope,
            }),
        )
        .with_header("cache-control", "no-store")
    }

    fn token(&self, req: &MockRequest) -> MockResponse {
        let form: HashMap<String, String> = req.form_pairs().into_iter().collect();
        if let Some(response) = self.client_auth_failure(req, &form) {
            return response;
        }
        let mut st = self.state();
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = form.get("code").cloned().unwrap_or_default();
                // Single use: removed whatever happens next.
                let Some(entry) = st.codes.remove(&code) else {
                    return oauth_error(400, "invalid_grant", "Code not valid");
                };
                if entry.issued.elapsed() > self.inner.code_ttl {
                    return oauth_error(400, "invalid_grant", "Code not valid");
                }
                if entry.client_id != CLIENT_ID
                    || form.get("redirect_uri") != Some(&entry.redirect_uri)
                {
                    return oauth_error(400, "invalid_grant", "Incorrect redirect_uri");
                }
                if let Some(challenge) = &entry.challenge {
                    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    if verifier.len() < 43 || &computed != challenge {
                        return oauth_error(400, "invalid_grant", "PKCE verification failed");
                    }
                }
                self.issue(&mut st, &entry.scope)
            }
            Some("refresh_token") => {
                let token = form.get("refresh_token").cloned().unwrap_or_default();
                // Rotation: the presented token is used up.
                let Some(scope) = st.refresh.remove(&token) else {
                    return oauth_error(400, "invalid_grant", "Invalid refresh token");
                };
                st.refreshes += 1;
                self.issue(&mut st, &scope)
            }
            _ => oauth_error(400, "unsupported_grant_type", "Unsupported grant_type"),
        }
    }

    fn revoke(&self, req: &MockRequest) -> MockResponse {
        let form: HashMap<String, String> = req.form_pairs().into_iter().collect();
        if let Some(response) = self.client_auth_failure(req, &form) {
            return response;
        }
        let token = form.get("token").cloned().unwrap_or_default();
        let mut st = self.state();
        st.refresh.remove(&token);
        st.access.remove(&token);
        MockResponse::status(200)
    }

    fn account(&self, req: &MockRequest) -> MockResponse {
        let token = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or_default();
        let st = self.state();
        let challenge = "Bearer realm=\"sipgate\", error=\"invalid_token\"";
        match st.access.get(token) {
            Some(a) if a.expires > Instant::now() => {
                if !a.scope.split(' ').any(|s| s == "account:read") {
                    return MockResponse::status(403).with_header(
                        "www-authenticate",
                        "Bearer realm=\"sipgate\", error=\"insufficient_scope\"",
                    );
                }
                MockResponse::json(
                    200,
                    &serde_json::json!({
                        "company": "sipgate mock GmbH",
                        "mainProductType": "TEAM",
                        "logoUrl": "",
                        "verified": true,
                    }),
                )
            }
            _ => MockResponse::status(401).with_header("www-authenticate", challenge),
        }
    }
}

impl Handler for SipgateMock {
    fn handle(&self, req: &MockRequest) -> MockResponse {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/auth") => self.authorize(req),
            ("GET", "/login") => self.login(req),
            ("POST", "/token") => self.token(req),
            ("POST", "/revoke") => self.revoke(req),
            ("GET", "/v2/account") => self.account(req),
            _ => MockResponse::status(404),
        }
    }
}

/// Builds the mock from its command-line options: `--client-auth post|basic`,
/// `--access-ttl <seconds>`, `--require-pkce`.
///
/// # Errors
///
/// Returns a message for invalid options.
pub fn from_args(args: &[String]) -> Result<Arc<dyn Handler>, String> {
    let mut mock = SipgateMock::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--client-auth" => {
                mock = mock.with_client_auth(match args.next().map(String::as_str) {
                    Some("post") => ClientAuthMethod::Post,
                    Some("basic") => ClientAuthMethod::Basic,
                    _ => return Err("--client-auth takes `post` or `basic`".to_owned()),
                });
            }
            "--access-ttl" => {
                let secs: u64 = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--access-ttl takes a number of seconds")?;
                mock = mock.with_access_ttl(Duration::from_secs(secs));
            }
            "--require-pkce" => mock = mock.with_required_pkce(),
            other => return Err(format!("unknown sipgate mock option `{other}`")),
        }
    }
    Ok(Arc::new(mock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_bad_ones_are_refused() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(
            from_args(&args(&[
                "--client-auth",
                "basic",
                "--access-ttl",
                "5",
                "--require-pkce"
            ]))
            .is_ok()
        );
        assert!(from_args(&args(&["--client-auth", "jwt"])).is_err());
        assert!(from_args(&args(&["--access-ttl", "soon"])).is_err());
        assert!(from_args(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn redirect_uris_must_be_loopback_with_the_registered_path() {
        assert!(is_loopback_redirect("http://127.0.0.1:8080/oauth"));
        assert!(is_loopback_redirect("http://[::1]:1/oauth"));
        assert!(is_loopback_redirect("http://localhost/oauth"));
        assert!(!is_loopback_redirect("http://127.0.0.1:8080/other"));
        assert!(!is_loopback_redirect("https://127.0.0.1/oauth"));
        assert!(!is_loopback_redirect("http://evil.example/oauth"));
    }
}
