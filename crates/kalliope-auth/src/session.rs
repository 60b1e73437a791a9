//! [`Session`]: the seed's `Session` done carefully — a base URL, optional credentials,
//! relative paths only, a fresh header for every request and every same-origin redirect
//! hop, one salt refetch and retry after a refusal, and timeouts that apply.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use pbx_auth_core::adapters::tls::TlsOptions;
use pbx_auth_core::exchange;
use pbx_auth_core::nonce::SharedNonceSource;
use pbx_auth_core::{Password, SharedClock, SkewAdjustedClock};
use url::Url;

use crate::authenticator::{KalliopeAuthenticator, KalliopeRefusals, authenticator_with_options};
use crate::conn::parse_connection_string;
use crate::credentials::Credentials;
use crate::error::Error;
use crate::nonce::ThreadNonce;
use crate::salt::PBX_ADMIN_SCOPE;

/// A request body with its content type.
#[derive(Debug, Clone)]
pub struct Body {
    bytes: Vec<u8>,
    content_type: HeaderValue,
}

impl Body {
    /// A JSON body.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `value` cannot be serialised.
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(value)
            .map_err(|_| Error::Config("the JSON body could not be serialised"))?;
        Ok(Self {
            bytes,
            content_type: HeaderValue::from_static("application/json"),
        })
    }

    /// Raw bytes with a content type.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `content_type` is not a valid header value.
    pub fn bytes(bytes: impl Into<Vec<u8>>, content_type: &str) -> Result<Self, Error> {
        Ok(Self {
            bytes: bytes.into(),
            content_type: HeaderValue::from_str(content_type)
                .map_err(|_| Error::Config("the content type is not a valid header value"))?,
        })
    }
}

/// Builds a [`Session`]. Nothing here touches the network.
#[must_use]
pub struct SessionBuilder {
    base: Url,
    domain: String,
    credentials: Option<(String, Password)>,
    salt_scope: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_redirects: usize,
    headers: HeaderMap,
    clock: Option<SharedClock>,
    nonce: Option<SharedNonceSource>,
    retry_on_403: bool,
    tls: TlsOptions,
    error: Option<&'static str>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("base", &self.base.as_str())
            .field("domain", &self.domain)
            .field("credentials", &self.credentials)
            .field("salt_scope", &self.salt_scope)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl SessionBuilder {
    /// Logs in with `username` and `password` on the first request.
    pub fn credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<Password>,
    ) -> Self {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    /// The tenant domain for the header (and, unless [`salt_scope`](Self::salt_scope) says
    /// otherwise, for the salt). Default `default`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// Fetches the salt from `/rest/salt/<scope>` instead of the domain's.
    pub fn salt_scope(mut self, scope: impl Into<String>) -> Self {
        self.salt_scope = Some(scope.into());
        self
    }

    /// pbxadmin on a multi-tenant PBX: salt scope and header domain `pbxAdmin` (the header
    /// domain is undocumented; override it with [`domain`](Self::domain) after this call).
    pub fn pbx_admin(self) -> Self {
        self.salt_scope(PBX_ADMIN_SCOPE).domain(PBX_ADMIN_SCOPE)
    }

    /// The whole-request timeout (default 30 s), applied to salt fetches too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many redirects one request may follow (default 10; 0 returns the redirect).
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// A header sent with every request of this session to the session's own origin (only
    /// this session: headers are never shared between sessions, unlike the seed's). A
    /// redirect to another origin carries none of them, as a credential such as
    /// `Authorization` or `Cookie` must not leak there.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an invalid name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = HeaderName::try_from(name).map_err(|_| Error::Config("invalid header name"))?;
        let value =
            HeaderValue::try_from(value).map_err(|_| Error::Config("invalid header value"))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// The clock for `Created` (default: the system clock, corrected by the server's `Date`
    /// after a refusal).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The nonce source (default: [`ThreadNonce`](crate::ThreadNonce), a per-thread CSPRNG seeded
    /// by the operating system; use the core's `OsNonce` in programs that fork without exec).
    pub fn nonce_source(mut self, nonce: SharedNonceSource) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Whether a 403 counts as a refused header, like a 401 (default true).
    pub fn retry_on_403(mut self, yes: bool) -> Self {
        self.retry_on_403 = yes;
        self
    }

    /// Trusts the certificates of a PEM bundle in addition to the system roots (a PBX with
    /// a certificate from a private CA). A bundle without a valid certificate makes
    /// [`build`](Self::build) fail with [`Error::Config`].
    pub fn ca_bundle_pem(mut self, pem: &[u8]) -> Self {
        if self.tls.add_ca_bundle_pem(pem).is_err() {
            self.error = Some("the CA bundle holds no valid PEM certificate");
        }
        self
    }

    /// Trusts one more root certificate, in addition to the system roots.
    pub fn add_root_certificate(mut self, cert: reqwest::Certificate) -> Self {
        self.tls.add_root_certificate(cert);
        self
    }

    /// Disables certificate verification (verification is on by default). Anyone on the
    /// path can then read the salt and replay or forge requests; use only against a
    /// throwaway lab PBX.
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.tls.danger_accept_invalid_certs();
        self
    }

    /// Builds the session.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] for unusable credentials or domain, [`Error::Config`]
    /// for a CA bundle without a certificate or when the HTTP client cannot be built.
    pub fn build(self) -> Result<Session, Error> {
        if let Some(error) = self.error {
            return Err(Error::Config(error));
        }
        crate::credentials::check_field(&self.domain, "domain")?;
        let client = reqwest::Client::builder()
            // Redirects are followed by the session itself, so that every hop gets a fresh
            // header and other origins get none.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("kalliope-auth/", env!("CARGO_PKG_VERSION")));
        let client = self
            .tls
            .apply(client)
            .build()
            .map_err(|_| Error::Config("the HTTP client could not be built"))?;
        let mut headers = self.headers;
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        let session = Session {
            client,
            base: self.base,
            domain: self.domain,
            salt_scope: self.salt_scope,
            headers,
            clock: self
                .clock
                .unwrap_or_else(|| Arc::new(SkewAdjustedClock::default())),
            nonce: self
                .nonce
                .unwrap_or_else(|| Arc::new(ThreadNonce::default())),
            max_redirects: self.max_redirects,
            retry_on_403: self.retry_on_403,
            auth: RwLock::new(None),
        };
        if let Some((user, password)) = self.credentials {
            session.install(user, password, None)?;
        }
        Ok(session)
    }
}

/// A client for one Kalliope PBX.
///
/// Requests go to paths relative to the server's base URL. With credentials, every
/// request carries a fresh `X-authenticate` header; the salt is fetched on the first
/// request (or by [`login`](Self::login)) and cached. Without credentials requests go out
/// unauthenticated. Share it behind an `Arc`: every method takes `&self`.
pub struct Session {
    client: reqwest::Client,
    base: Url,
    domain: String,
    salt_scope: Option<String>,
    headers: HeaderMap,
    clock: SharedClock,
    nonce: SharedNonceSource,
    max_redirects: usize,
    retry_on_403: bool,
    auth: RwLock<Option<Arc<KalliopeAuthenticator>>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("base", &self.base.as_str())
            .field("domain", &self.domain)
            .field("authenticated", &self.is_authenticated())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session from a connection string, `scheme://user:password@host:port/domain`
    /// (everything but the host optional), or a bare `host[:port]`. No network I/O: with
    /// credentials, the salt is fetched by the first request.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConnectionString`] or [`Error::InvalidCredentials`], saying what is
    /// wrong without echoing the password.
    pub fn new(connection_string: &str) -> Result<Self, Error> {
        Self::builder(connection_string)?.build()
    }

    /// A builder starting from a connection string.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConnectionString`] as for [`new`](Self::new).
    pub fn builder(connection_string: &str) -> Result<SessionBuilder, Error> {
        let info = parse_connection_string(connection_string)?;
        Ok(SessionBuilder {
            base: info.base,
            domain: info.domain,
            credentials: info.credentials,
            salt_scope: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 10,
            headers: HeaderMap::new(),
            clock: None,
            nonce: None,
            retry_on_403: true,
            tls: TlsOptions::new(),
            error: None,
        })
    }

    fn install(
        &self,
        username: String,
        password: Password,
        domain: Option<&str>,
    ) -> Result<Arc<KalliopeAuthenticator>, Error> {
        let domain = domain.unwrap_or(&self.domain);
        let credentials = Credentials::new(username, password, domain)?;
        let scope = self.salt_scope.as_deref().unwrap_or(domain).to_owned();
        let auth = Arc::new(
            authenticator_with_options(
                self.client.clone(),
                &self.base,
                &scope,
                credentials,
                Arc::clone(&self.clock),
                Arc::clone(&self.nonce),
            )?
            .with_refusal_policy(KalliopeRefusals::default().retry_on_403(self.retry_on_403)),
        );
        *self
            .auth
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&auth));
        Ok(auth)
    }

    /// Logs in: stores the credentials and fetches the salt now, so errors show here. The
    /// domain defaults to the session's (`default` unless the connection string named one),
    /// fixing the seed's `login` that asked for `/rest/salt/None`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] for unusable values, else the salt fetch's error
    /// ([`Error::Transport`], [`Error::SaltStatus`],
    /// [`Error::SaltUnparseable`]). On error the session is left logged out.
    pub async fn login(
        &self,
        username: &str,
        password: impl Into<Password>,
        domain: Option<&str>,
    ) -> Result<(), Error> {
        let auth = self.install(username.to_owned(), password.into(), domain)?;
        let result = auth.cache().get().await.map(drop).map_err(Error::from_core);
        if result.is_err() {
            self.logout();
        }
        result
    }

    /// Forgets the credentials; later requests go out unauthenticated.
    pub fn logout(&self) {
        *self
            .auth
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Whether requests are signed.
    pub fn is_authenticated(&self) -> bool {
        self.authenticator().is_some()
    }

    /// The authenticator in use, if logged in (for the reqwest-middleware or tower
    /// adapters, or to share the cached salt).
    pub fn authenticator(&self) -> Option<Arc<KalliopeAuthenticator>> {
        self.auth
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The tenant domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The absolute URL for `path`, relative to the base. An absolute URL is accepted only
    /// when it points to the session's own origin.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignUrl`] for another origin, [`Error::Config`] for an unparseable path.
    pub fn url(&self, path: &str) -> Result<Url, Error> {
        let url = self
            .base
            .join(path)
            .map_err(|_| Error::Config("the request path is not a valid URL path"))?;
        if url.origin() == self.base.origin() {
            Ok(url)
        } else {
            Err(Error::ForeignUrl)
        }
    }

    /// `GET path`.
    ///
    /// # Errors
    ///
    /// As for [`request`](Self::request).
    pub async fn get(&self, path: &str) -> Result<reqwest::Response, Error> {
        self.request(Method::GET, path, None).await
    }

    /// `DELETE path`.
    ///
    /// # Errors
    ///
    /// As for [`request`](Self::request).
    pub async fn delete(&self, path: &str) -> Result<reqwest::Response, Error> {
        self.request(Method::DELETE, path, None).await
    }

    /// `POST path` with `body`.
    ///
    /// # Errors
    ///
    /// As for [`request`](Self::request).
    pub async fn post(&self, path: &str, body: Body) -> Result<reqwest::Response, Error> {
        self.request(Method::POST, path, Some(body)).await
    }

    /// `PUT path` with `body`.
    ///
    /// # Errors
    ///
    /// As for [`request`](Self::request).
    pub async fn put(&self, path: &str, body: Body) -> Result<reqwest::Response, Error> {
        self.request(Method::PUT, path, Some(body)).await
    }

    /// Sends a request to `path` (relative to the base URL) and returns the response,
    /// whatever its status, except that a refused header is retried once and then reported
    /// as [`Error::Unauthorized`].
    ///
    /// Each hop is one run of the core's authorized exchange: a fresh header for each
    /// attempt and each same-origin redirect hop. A redirect to another origin is followed
    /// without the header and without the session's headers; a 307 or 308 that would carry
    /// the body to another origin is not followed but returned as it is.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignUrl`], [`Error::Transport`], the salt errors, [`Error::Unauthorized`]
    /// after the retry, [`Error::TooManyRedirects`] or [`Error::BadRedirect`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<reqwest::Response, Error> {
        let mut url = self.url(path)?;
        let mut method = method;
        let mut body = body;
        let mut hops = 0usize;
        let auth = self.authenticator();
        loop {
            let home = url.origin() == self.base.origin();
            let mut request = reqwest::Request::new(method.clone(), url.clone());
            if home {
                request.headers_mut().clone_from(&self.headers);
            } else {
                request
                    .headers_mut()
                    .insert(ACCEPT, HeaderValue::from_static("application/json"));
            }
            if let Some(body) = &body {
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, body.content_type.clone());
                *request.body_mut() = Some(body.bytes.clone().into());
            }
            // The header is only ever written for the session's own origin.
            let response = match auth.as_deref().filter(|_| home) {
                Some(a) => {
                    let sent = exchange::exchange_reporting(a, request, &mut |r| {
                        let sent = self.client.execute(r);
                        async { sent.await.map_err(Failed::reqwest) }
                    })
                    .await
                    .map_err(|f| f.0)?;
                    let status = sent.response.status();
                    if sent.retried && a.refusal_policy().is_refusal(status) {
                        return Err(Error::Unauthorized {
                            status: status.as_u16(),
                        });
                    }
                    sent.response
                }
                None => self
                    .client
                    .execute(request)
                    .await
                    .map_err(Error::from_reqwest)?,
            };
            let status = response.status();
            if status.is_redirection() && response.headers().contains_key(LOCATION) {
                if hops >= self.max_redirects {
                    return Err(Error::TooManyRedirects(self.max_redirects));
                }
                let next = next_hop(&url, response.headers())?;
                if changes_to_get(status, &method) {
                    method = Method::GET;
                    body = None;
                }
                if body.is_some() && next.origin() != self.base.origin() {
                    // The body was meant for the PBX: it does not go to another origin.
                    return Ok(response);
                }
                hops += 1;
                url = next;
                continue;
            }
            return Ok(response);
        }
    }
}

/// The exchange's error: the session's, holding the authenticator's too.
struct Failed(Error);

impl Failed {
    fn reqwest(error: reqwest::Error) -> Self {
        Self(Error::from_reqwest(error))
    }
}

impl From<pbx_auth_core::Error> for Failed {
    fn from(error: pbx_auth_core::Error) -> Self {
        Self(Error::from_core(error))
    }
}

fn next_hop(current: &Url, headers: &HeaderMap) -> Result<Url, Error> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::BadRedirect)?;
    let next = current.join(location).map_err(|_| Error::BadRedirect)?;
    if matches!(next.scheme(), "http" | "https") {
        Ok(next)
    } else {
        Err(Error::BadRedirect)
    }
}

/// 303 turns everything but HEAD into GET; 301 and 302 turn POST into GET, as browsers and
/// reqwest do. 307 and 308 keep the method and body.
fn changes_to_get(status: StatusCode, method: &Method) -> bool {
    match status {
        StatusCode::SEE_OTHER => method != Method::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => method == Method::POST,
        _ => false,
    }
}
