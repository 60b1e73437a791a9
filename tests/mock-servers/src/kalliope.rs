//! `GET /rest/salt/{tenantDomain}` and `X-authenticate`-protected `/rest/*`: a Kalliope PBX
//! written from the vendor's REST documentation (wiki "API Rest", the PDF manual), never
//! from the client crate.
//!
//! Tenants have a salt and users; each user's `digestPassword = sha256hex(password{salt})`
//! is computed at start-up (and again when a salt rotates). Every `/rest/*` route other
//! than the salt needs a valid header: canonical field order, nonce of 8+ hex characters,
//! `Created` within ±300 s of the mock's clock, the right digest, and a nonce not seen
//! before. Failures all look the same (401 with `WWW-Authenticate: RestApiUsernameToken`,
//! or 403 with an empty body); the precise reason is kept for tests in
//! [`KalliopeMock::rejections`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use crate::message::{Handler, MockRequest, MockResponse};

/// The salt of the `default` tenant: the one from the vendor documentation's example.
pub const DEFAULT_SALT: &str = "b5a8fdcf2f8d5acdad33c4a072a97d7a";
/// The salt of the `pbxAdmin` scope.
pub const PBX_ADMIN_SALT: &str = "5ebe2294ecd0e0f08eab7690d2a6ee69";
/// The window either side of the mock's clock, in seconds.
pub const SKEW_SECS: i64 = 300;

struct Tenant {
    salt: String,
    /// username -> plaintext password (kept so a salt rotation can re-derive).
    passwords: HashMap<String, String>,
    /// username -> digestPassword.
    digests: HashMap<String, String>,
}

impl Tenant {
    fn new(salt: &str) -> Self {
        Self {
            salt: salt.to_owned(),
            passwords: HashMap::new(),
            digests: HashMap::new(),
        }
    }

    fn add(&mut self, user: &str, password: &str) {
        self.passwords.insert(user.to_owned(), password.to_owned());
        self.digests
            .insert(user.to_owned(), digest_password(password, &self.salt));
    }

    fn set_salt(&mut self, salt: &str) {
        salt.clone_into(&mut self.salt);
        self.digests = self
            .passwords
            .iter()
            .map(|(u, p)| (u.clone(), digest_password(p, salt)))
            .collect();
    }
}

fn digest_password(password: &str, salt: &str) -> String {
    hex::encode(Sha256::digest(format!("{password}{{{salt}}}").as_bytes()))
}

struct Settings {
    tenants: HashMap<String, Tenant>,
    xml_only: bool,
    failure_status: u16,
    clock_offset: i64,
}

struct Inner {
    settings: Mutex<Settings>,
    /// nonce -> Unix second until which it is remembered (created + 300 s).
    nonces: Mutex<HashMap<String, i64>>,
    rejections: Mutex<Vec<String>>,
    accepted: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The Kalliope PBX mock. Clones share state, so a test can keep one and start the server
/// with another.
#[derive(Clone)]
pub struct KalliopeMock {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KalliopeMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KalliopeMock").finish_non_exhaustive()
    }
}

impl Default for KalliopeMock {
    fn default() -> Self {
        Self::new()
    }
}

impl KalliopeMock {
    /// Tenant `default` (salt [`DEFAULT_SALT`]) with users `admin`/`admin` and
    /// `josé.müller`/`pässwörd€`, tenant `tenant1.example.com` with `mario.rossi`/`S3cret!`,
    /// and the `pbxAdmin` scope with `pbxadmin`/`pbxadmin`.
    pub fn new() -> Self {
        let mut tenants = HashMap::new();
        let mut default = Tenant::new(DEFAULT_SALT);
        default.add("admin", "admin");
        default.add("josé.müller", "pässwörd€");
        tenants.insert("default".to_owned(), default);
        let mut t1 = Tenant::new("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        t1.add("mario.rossi", "S3cret!");
        tenants.insert("tenant1.example.com".to_owned(), t1);
        let mut admin = Tenant::new(PBX_ADMIN_SALT);
        admin.add("pbxadmin", "pbxadmin");
        tenants.insert("pbxAdmin".to_owned(), admin);
        Self {
            inner: Arc::new(Inner {
                settings: Mutex::new(Settings {
                    tenants,
                    xml_only: false,
                    failure_status: 401,
                    clock_offset: 0,
                }),
                nonces: Mutex::new(HashMap::new()),
                rejections: Mutex::new(Vec::new()),
                accepted: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Adds a user (and its tenant, with `salt`, if new).
    #[must_use]
    pub fn with_user(self, domain: &str, salt: &str, user: &str, password: &str) -> Self {
        lock(&self.inner.settings)
            .tenants
            .entry(domain.to_owned())
            .or_insert_with(|| Tenant::new(salt))
            .add(user, password);
        self
    }

    /// Answers the salt in XML even when JSON is asked for.
    #[must_use]
    pub fn xml_salt(self, yes: bool) -> Self {
        lock(&self.inner.settings).xml_only = yes;
        self
    }

    /// The status for a refused header: 401 (default) or 403.
    #[must_use]
    pub fn failure_status(self, status: u16) -> Self {
        lock(&self.inner.settings).failure_status = status;
        self
    }

    /// Runs the mock's clock `secs` ahead of the real one (negative: behind).
    #[must_use]
    pub fn clock_offset(self, secs: i64) -> Self {
        self.set_clock_offset(secs);
        self
    }

    /// Changes the clock offset while running.
    pub fn set_clock_offset(&self, secs: i64) {
        lock(&self.inner.settings).clock_offset = secs;
    }

    /// Gives `domain` a new salt; its users' stored digests change with it.
    pub fn rotate_salt(&self, domain: &str, salt: &str) {
        if let Some(t) = lock(&self.inner.settings).tenants.get_mut(domain) {
            t.set_salt(salt);
        }
    }

    /// Why each refused request was refused, in order.
    pub fn rejections(&self) -> Vec<String> {
        lock(&self.inner.rejections).clone()
    }

    /// The nonces of accepted requests, in order.
    pub fn accepted_nonces(&self) -> Vec<String> {
        lock(&self.inner.accepted).clone()
    }

    fn now(&self) -> SystemTime {
        let offset = lock(&self.inner.settings).clock_offset;
        let magnitude = Duration::from_secs(offset.unsigned_abs());
        if offset >= 0 {
            SystemTime::now() + magnitude
        } else {
            SystemTime::now() - magnitude
        }
    }

    fn salt(&self, req: &MockRequest, domain: &str) -> MockResponse {
        let settings = lock(&self.inner.settings);
        let Some(tenant) = settings.tenants.get(domain) else {
            return MockResponse::status(404);
        };
        let wants_json = req
            .header("accept")
            .is_some_and(|a| a.contains("application/json"));
        if wants_json && !settings.xml_only {
            MockResponse::json(200, &serde_json::json!({ "salt": tenant.salt }))
        } else {
            MockResponse::text(
                200,
                "application/xml",
                format!(
                    "<?xml version=\"1.0\"?>\n<response><salt>{}</salt></response>",
                    tenant.salt
                ),
            )
        }
    }

    fn refuse(&self, reason: &str) -> MockResponse {
        lock(&self.inner.rejections).push(reason.to_owned());
        let status = lock(&self.inner.settings).failure_status;
        if status == 401 {
            MockResponse::text(401, "text/plain", "authentication failed")
                .with_header("www-authenticate", "RestApiUsernameToken")
        } else {
            MockResponse::status(status)
        }
    }

    /// Checks the header; `Ok((user, domain, nonce))` or the reason.
    fn check(&self, req: &MockRequest) -> Result<(String, String, String), &'static str> {
        let mut all = req.headers.get_all("x-authenticate").iter();
        let raw = all.next().ok_or("missing header")?;
        if all.next().is_some() {
            return Err("more than one header");
        }
        let raw = raw.as_bytes();
        if raw.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err("control bytes");
        }
        let text = std::str::from_utf8(raw)
            .map_err(|_| "not UTF-8")?
            .trim_matches([' ', '\t']);
        let fields = canonical_fields(text).ok_or("not the canonical format")?;
        let [user, domain, digest, nonce, created] = fields;
        if nonce.len() < 8 || nonce.len() > 128 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("nonce is not 8+ hex characters");
        }
        let created_at = parse_created(created).ok_or("created is not a real time")?;
        let now = unix(self.now());
        if (now - created_at).abs() > SKEW_SECS {
            return Err("created outside the window");
        }
        let sent = STANDARD
            .decode(digest)
            .map_err(|_| "digest is not base64")?;
        let stored = {
            let settings = lock(&self.inner.settings);
            settings
                .tenants
                .get(domain)
                .and_then(|t| t.digests.get(user))
                .cloned()
        };
        let key = stored.clone().unwrap_or_else(|| "0".repeat(64));
        let expected = Sha256::digest(format!("{nonce}{key}{user}{domain}{created}").as_bytes());
        let equal: bool = expected.as_slice().ct_eq(&sent).into();
        if stored.is_none() {
            return Err("unknown user or domain");
        }
        if !equal {
            return Err("digest mismatch");
        }
        let mut nonces = lock(&self.inner.nonces);
        nonces.retain(|_, until| *until >= now);
        if nonces.contains_key(nonce) {
            return Err("nonce replayed");
        }
        nonces.insert(nonce.to_owned(), created_at + SKEW_SECS);
        Ok((user.to_owned(), domain.to_owned(), nonce.to_owned()))
    }

    fn resource(req: &MockRequest, user: &str, domain: &str, nonce: &str) -> MockResponse {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/rest/account") => MockResponse::json(
                200,
                &serde_json::json!([
                    { "id": 1, "username": "200", "description": "Reception" },
                    { "id": 2, "username": "201", "description": "Office" }
                ]),
            ),
            ("GET", "/rest/dashboard") => MockResponse::json(
                200,
                &serde_json::json!({ "firmwareVersion": "4.12.3", "activeCalls": 0 }),
            ),
            ("GET", "/rest/dashboard/firmwareVersion") => {
                MockResponse::text(200, "text/plain", "4.12.3")
            }
            ("GET", "/rest/whoami") => MockResponse::json(
                200,
                &serde_json::json!({ "username": user, "domain": domain, "nonce": nonce }),
            ),
            ("POST" | "PUT", "/rest/echo") => MockResponse::text(
                200,
                req.header("content-type")
                    .unwrap_or("application/octet-stream"),
                req.body.clone(),
            ),
            ("GET", "/rest/redirect/same") => {
                MockResponse::status(302).with_header("location", "/rest/whoami")
            }
            (_, "/rest/redirect/foreign") => {
                let to = req
                    .query_pairs()
                    .into_iter()
                    .find(|(k, _)| k == "to")
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                MockResponse::status(302).with_header("location", &to)
            }
            _ => MockResponse::status(404),
        }
    }
}

/// Splits the canonical line into its five values, or `None`.
fn canonical_fields(text: &str) -> Option<[&str; 5]> {
    const PREFIXES: [&str; 5] = [
        "RestApiUsernameToken Username=\"",
        "\", Domain=\"",
        "\", Digest=\"",
        "\", Nonce=\"",
        "\", Created=\"",
    ];
    let mut rest = text;
    let mut out = [""; 5];
    for (i, prefix) in PREFIXES.iter().enumerate() {
        rest = rest.strip_prefix(prefix)?;
        let end = rest.find('"')?;
        out[i] = &rest[..end];
        rest = &rest[end..];
    }
    if rest != "\"" {
        return None;
    }
    let names_ok = out[..2]
        .iter()
        .all(|v| !v.is_empty() && !v.contains('@') && !v.contains(char::is_control));
    (names_ok && out[2].len() == 44).then_some(out)
}

fn parse_created(text: &str) -> Option<i64> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    if text.len() != 20 {
        return None;
    }
    time::PrimitiveDateTime::parse(text, &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

impl Handler for KalliopeMock {
    fn handle(&self, req: &MockRequest) -> MockResponse {
        let date = httpdate::fmt_http_date(self.now());
        let response = if let Some(domain) = req.path.strip_prefix("/rest/salt/") {
            match percent_encoding::percent_decode_str(domain).decode_utf8() {
                Ok(d) if req.method == http::Method::GET => self.salt(req, &d),
                Ok(_) => MockResponse::status(405),
                Err(_) => MockResponse::status(404),
            }
        } else if req.path.starts_with("/rest/") {
            match self.check(req) {
                Ok((user, domain, nonce)) => {
                    lock(&self.inner.accepted).push(nonce.clone());
                    Self::resource(req, &user, &domain, &nonce)
                }
                Err(reason) => self.refuse(reason),
            }
        } else {
            MockResponse::status(404)
        };
        response.with_header("date", &date)
    }
}

/// Builds the mock from its command-line options: `--xml` (XML salt replies only),
/// `--status 401|403`, `--clock-offset SECS`, `--user DOMAIN:SALT:USER:PASSWORD`.
///
/// # Errors
///
/// Returns a message for invalid options.
pub fn from_args(args: &[String]) -> Result<Arc<dyn Handler>, String> {
    let mut mock = KalliopeMock::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--xml" => mock = mock.xml_salt(true),
            "--status" => {
                let status = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s| *s == 401 || *s == 403)
                    .ok_or("--status needs 401 or 403")?;
                mock = mock.failure_status(status);
            }
            "--clock-offset" => {
                let secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--clock-offset needs a number of seconds")?;
                mock = mock.clock_offset(secs);
            }
            "--user" => {
                let spec = args
                    .next()
                    .ok_or("--user needs DOMAIN:SALT:USER:PASSWORD")?;
                let parts: Vec<&str> = spec.splitn(4, ':').collect();
                let [domain, salt, user, password] = parts[..] else {
                    return Err("--user needs DOMAIN:SALT:USER:PASSWORD".to_owned());
                };
                mock = mock.with_user(domain, salt, user, password);
            }
            other => return Err(format!("unknown kalliope option `{other}`")),
        }
    }
    Ok(Arc::new(mock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_vector_digest() {
        assert_eq!(
            digest_password("admin", DEFAULT_SALT),
            "dd7b0be7fa37d6cbaf0b842bf7532f229cb79ab8d54d509c2aa7eea27a53cd5e"
        );
        let line = "RestApiUsernameToken Username=\"admin\", Domain=\"default\", \
            Digest=\"+PJg7Tb3v98XnL6iJVv+v5hwhYjdzQ2tIWxvJB2cE40=\", \
            Nonce=\"bfb79078ff44c35714af28b7412a702b\", Created=\"2016-04-29T15:48:26Z\"";
        let fields = canonical_fields(line).unwrap();
        assert_eq!(fields[0], "admin");
        assert_eq!(parse_created(fields[4]), Some(1_461_944_906));
        assert!(canonical_fields(&line.replace(", Domain", ",Domain")).is_none());
    }
}
