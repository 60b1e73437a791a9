//! [`Client`] and the one place where requests are built and answers checked.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use pbx_auth_core::{AccessToken, Password, SharedAuthenticator};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

use crate::builder::ClientBuilder;
use crate::error::{Error, ErrorBody};

pub(crate) const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");
pub(crate) const WAZO_TENANT: HeaderName = HeaderName::from_static("wazo-tenant");

/// Everything except the RFC 3986 unreserved characters is escaped in path segments, so
/// a value can never add a segment (`/`) or a query (`?`, `#`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Escapes one path segment.
pub(crate) fn seg(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: Password,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: RwLock<Option<AccessToken>>,
    pub(crate) tenant: RwLock<Option<String>>,
    pub(crate) credentials: Option<Arc<Credentials>>,
    pub(crate) authenticator: Option<SharedAuthenticator>,
}

/// A wazo-auth client. Cheap to clone; clones share the HTTP connection pool, the token
/// and the tenant.
///
/// Each command group is reached through a method: [`token`](Self::token),
/// [`users`](Self::users), [`policies`](Self::policies), ...
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field("has_token", &self.read_token().is_some())
            .field("tenant", &self.tenant())
            .field("credentials", &self.inner.credentials)
            .field("authenticator", &self.inner.authenticator)
            .finish_non_exhaustive()
    }
}

/// A request body.
pub(crate) enum Body {
    None,
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
    Raw(Vec<u8>),
}

/// How a request authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The endpoint checks a token: the client's token or authenticator.
    Token,
    /// The endpoint needs none: the client's static token is still sent (as the Python
    /// client does), but no token is fetched for it.
    Optional,
}

/// One request, described before it is sent.
pub(crate) struct Call<'a> {
    pub(crate) what: &'static str,
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) tenant: Option<&'a str>,
    pub(crate) accept: bool,
    pub(crate) auth: Auth,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(what: &'static str, method: Method, path: String) -> Self {
        Self {
            what,
            method,
            path,
            query: Vec::new(),
            body: Body::None,
            tenant: None,
            accept: true,
            auth: Auth::Token,
            headers: Vec::new(),
        }
    }

    pub(crate) fn get(what: &'static str, path: String) -> Self {
        Self::new(what, Method::GET, path)
    }
    pub(crate) fn put(what: &'static str, path: String) -> Self {
        Self::new(what, Method::PUT, path)
    }
    pub(crate) fn post(what: &'static str, path: String) -> Self {
        Self::new(what, Method::POST, path)
    }
    pub(crate) fn delete(what: &'static str, path: String) -> Self {
        Self::new(what, Method::DELETE, path)
    }

    pub(crate) fn json(mut self, body: impl serde::Serialize) -> Self {
        self.body = Body::Json(serde_json::to_value(body).unwrap_or(serde_json::Value::Null));
        self
    }

    pub(crate) fn tenant(mut self, tenant: Option<&'a str>) -> Self {
        self.tenant = tenant;
        self
    }

    pub(crate) fn list(mut self, params: &crate::ListParams) -> Self {
        self.query.extend(params.to_query());
        self
    }

    pub(crate) fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn opt_param(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) if !v.is_empty() => self.param(name, v),
            _ => self,
        }
    }

    pub(crate) fn no_token(mut self) -> Self {
        self.auth = Auth::Optional;
        self
    }

    pub(crate) fn no_accept(mut self) -> Self {
        self.accept = false;
        self
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// An answer with a success status, body read.
pub(crate) struct Answer {
    pub(crate) what: &'static str,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body as `T`.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            what: self.what,
            source: source.into(),
        })
    }

    /// The `data` member of the body as `T`.
    pub(crate) fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        #[derive(serde::Deserialize)]
        struct Data<T> {
            data: T,
        }
        self.json::<Data<T>>().map(|d| d.data)
    }
}

impl Client {
    /// A builder for `host` with the current defaults (`https://host:443/api/auth/0.1`).
    pub fn builder(host: &str) -> ClientBuilder {
        ClientBuilder::new(host)
    }

    /// A client for `host` with the current defaults.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for an empty or invalid host.
    pub fn new(host: &str) -> Result<Self, Error> {
        Self::builder(host).build()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn with_authenticator(&self, authenticator: SharedAuthenticator) -> Self {
        Self::from_inner(Inner {
            http: self.inner.http.clone(),
            base: self.inner.base.clone(),
            token: RwLock::new(self.read_token()),
            tenant: RwLock::new(self.tenant()),
            credentials: self.inner.credentials.clone(),
            authenticator: Some(authenticator),
        })
    }

    /// The versioned base URL, such as `https://host:443/api/auth/0.1`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Replaces the token sent as `X-Auth-Token` (`None` removes it).
    pub fn set_token(&self, token: Option<AccessToken>) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// Replaces the tenant sent as `Wazo-Tenant` (`None` removes it).
    pub fn set_tenant(&self, tenant: Option<String>) {
        *self
            .inner
            .tenant
            .write()
            .unwrap_or_else(PoisonError::into_inner) = tenant;
    }

    /// The client's tenant.
    pub fn tenant(&self) -> Option<String> {
        self.inner
            .tenant
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn read_token(&self) -> Option<AccessToken> {
        self.inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The client's own secrets, to keep them out of errors that quote the server.
    fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .credentials()
            .map(|c| c.password.expose_secret().to_owned())
            .into_iter()
            .collect();
        secrets.extend(self.read_token().map(|t| t.expose_secret().to_owned()));
        secrets
    }

    pub(crate) fn credentials(&self) -> Option<&Credentials> {
        self.inner.credentials.as_deref()
    }

    /// `HEAD` on the versioned base URL: `true` when anything answers.
    pub async fn is_server_reachable(&self) -> bool {
        self.inner.http.head(&self.inner.base).send().await.is_ok()
    }

    /// Builds an `Authorization: Basic` value from credentials, UTF-8 encoded.
    pub(crate) fn basic(username: &str, password: &Password) -> Result<HeaderValue, Error> {
        let raw = format!("{username}:{}", password.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
            .map_err(|_| Error::Config("the credentials cannot be encoded"))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Sends a call and returns the raw answer, whatever its status.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<reqwest::Response, Error> {
        let url = format!("{}/{}", self.inner.base, call.path);
        let mut builder = self.inner.http.request(call.method.clone(), url);
        if !call.query.is_empty() {
            builder = builder.query(&call.query);
        }
        builder = match call.body {
            Body::None => builder,
            Body::Json(value) => builder.json(&value),
            Body::Form(pairs) => builder.form(&pairs),
            Body::Raw(bytes) => builder.body(bytes),
        };
        let mut request = builder.build().map_err(Error::from_reqwest)?;
        let headers = request.headers_mut();
        if call.accept {
            headers.insert(
                http::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            );
        }
        // As in the Python client, an empty tenant means none.
        let tenant = call
            .tenant
            .map(str::to_owned)
            .or_else(|| self.tenant())
            .filter(|t| !t.is_empty());
        if let Some(tenant) = tenant {
            let value = HeaderValue::try_from(tenant)
                .map_err(|_| Error::Config("the tenant is not a valid header value"))?;
            headers.insert(WAZO_TENANT, value);
        }
        for (name, value) in call.headers {
            headers.insert(name, value);
        }
        if let (false, Some(token)) = (headers.contains_key(X_AUTH_TOKEN), self.read_token()) {
            let mut value = HeaderValue::try_from(token.expose_secret())
                .map_err(|_| Error::Config("the token is not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(X_AUTH_TOKEN, value);
        }
        match (&self.inner.authenticator, call.auth) {
            (Some(auth), Auth::Token) if !request.headers().contains_key(X_AUTH_TOKEN) => {
                self.execute_authorized(auth, request).await
            }
            _ => self.execute(request).await,
        }
    }

    async fn execute(&self, request: reqwest::Request) -> Result<reqwest::Response, Error> {
        self.inner
            .http
            .execute(request)
            .await
            .map_err(Error::from_reqwest)
    }

    /// Authorizes with the authenticator, sends, and after a 401 it answers with
    /// `RetryOnce` (it dropped the token), authorizes a copy with a new token and sends it
    /// once more. Token errors and transport errors stay distinct.
    async fn execute_authorized(
        &self,
        auth: &SharedAuthenticator,
        mut request: reqwest::Request,
    ) -> Result<reqwest::Response, Error> {
        use pbx_auth_core::adapters::reqwest::{authorize_reqwest, retry_copy};
        use pbx_auth_core::{AuthAction, Authenticator as _};
        let pristine = retry_copy(&request);
        let receipt = authorize_reqwest(auth, &mut request)
            .await
            .map_err(Error::Token)?;
        let response = self.execute(request).await?;
        match (
            auth.on_response(&receipt, response.status(), response.headers()),
            pristine,
        ) {
            (AuthAction::RetryOnce, Some(mut again)) => {
                authorize_reqwest(auth, &mut again)
                    .await
                    .map_err(Error::Token)?;
                self.execute(again).await
            }
            _ => Ok(response),
        }
    }

    /// Sends a call and checks for a 2xx status (or 3xx when `redirect_ok`).
    pub(crate) async fn run_with(
        &self,
        call: Call<'_>,
        redirect_ok: bool,
    ) -> Result<Answer, Error> {
        let what = call.what;
        let response = self.send(call).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(Error::from_reqwest)?
            .to_vec();
        if status.is_success() || (redirect_ok && status.is_redirection()) {
            return Ok(Answer {
                what,
                headers,
                body,
            });
        }
        Err(http_error(status, &headers, &body).redact_secrets(&self.secrets()))
    }

    /// Sends a call and checks for a 2xx status.
    pub(crate) async fn run(&self, call: Call<'_>) -> Result<Answer, Error> {
        self.run_with(call, false).await
    }
}

pub(crate) fn http_error(status: StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Error {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Error::Http {
        status,
        body: Box::new(ErrorBody::parse(content_type, body)),
    }
}
