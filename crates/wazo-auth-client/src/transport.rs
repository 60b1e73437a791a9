//! [`Transport`]: the one state every request goes through — base URL, the reqwest client
//! (with its timeout), the tenant and the body limit. The API groups (through
//! [`Client`](crate::Client)) and [`WazoTokenSource`](crate::WazoTokenSource) share it, so
//! `set_tenant` reaches both.

use std::fmt;
use std::sync::{PoisonError, RwLock};

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use pbx_auth_core::{AccessToken, Password, SharedAuthenticator, exchange};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorBody};

pub(crate) const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");
pub(crate) const WAZO_TENANT: HeaderName = HeaderName::from_static("wazo-tenant");

/// The default limit on the body of an answer: far above any answer wazo-auth gives (a
/// page of users is a few hundred KiB), far below what would hurt.
pub const DEFAULT_MAX_BODY_SIZE: usize = 16 * 1024 * 1024;

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

/// Base URL, HTTP client, tenant and body limit.
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    tenant: RwLock<Option<String>>,
    max_body: usize,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .field("tenant", &self.tenant())
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// The exchange's error: a wazo error, holding the authenticator's as [`Error::Core`].
struct Failed(Error);

impl From<pbx_auth_core::Error> for Failed {
    fn from(error: pbx_auth_core::Error) -> Self {
        Self(Error::Core(error))
    }
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        base: String,
        tenant: Option<String>,
        max_body: usize,
    ) -> Self {
        Self {
            http,
            base,
            tenant: RwLock::new(tenant),
            max_body,
        }
    }

    pub(crate) fn set_tenant(&self, tenant: Option<String>) {
        *self.tenant.write().unwrap_or_else(PoisonError::into_inner) = tenant;
    }

    pub(crate) fn tenant(&self) -> Option<String> {
        self.tenant
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends a call and returns the raw answer, whatever its status. `token` is a static
    /// token to send; `auth` authorizes calls that need a token and carry none.
    pub(crate) async fn send(
        &self,
        call: Call<'_>,
        token: Option<AccessToken>,
        auth: Option<&SharedAuthenticator>,
    ) -> Result<reqwest::Response, Error> {
        let url = format!("{}/{}", self.base, call.path);
        let mut builder = self.http.request(call.method.clone(), url);
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
        if let (false, Some(token)) = (headers.contains_key(X_AUTH_TOKEN), token) {
            let mut value = HeaderValue::try_from(token.expose_secret())
                .map_err(|_| Error::Config("the token is not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(X_AUTH_TOKEN, value);
        }
        match (auth, call.auth) {
            (Some(auth), Auth::Token) if !request.headers().contains_key(X_AUTH_TOKEN) => {
                // The core's exchange: a stale token is replaced and the call sent once
                // more; a refusal of permission or tenant comes back as it is.
                exchange::exchange(auth, request, |r| {
                    let sent = self.http.execute(r);
                    async { sent.await.map_err(|e| Failed(Error::from_reqwest(e))) }
                })
                .await
                .map_err(|f| f.0)
            }
            _ => self
                .http
                .execute(request)
                .await
                .map_err(Error::from_reqwest),
        }
    }

    /// Reads a body, refusing one longer than the limit.
    pub(crate) async fn body(&self, response: reqwest::Response) -> Result<Vec<u8>, Error> {
        let limit = self.max_body;
        if response
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
        {
            return Err(Error::BodyTooLarge { limit });
        }
        let mut body = http::Response::<reqwest::Body>::from(response).into_body();
        match pbx_auth_core::read_capped(&mut body, limit).await {
            Ok(Some(bytes)) => Ok(bytes.to_vec()),
            Ok(None) => Err(Error::BodyTooLarge { limit }),
            Err(error) => Err(Error::from_reqwest(error)),
        }
    }

    /// Sends a call and checks for a 2xx status (or 3xx when `redirect_ok`).
    pub(crate) async fn run_with(
        &self,
        call: Call<'_>,
        token: Option<AccessToken>,
        auth: Option<&SharedAuthenticator>,
        redirect_ok: bool,
    ) -> Result<Answer, Error> {
        let what = call.what;
        let response = self.send(call, token, auth).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.body(response).await?;
        if status.is_success() || (redirect_ok && status.is_redirection()) {
            return Ok(Answer {
                what,
                headers,
                body,
            });
        }
        Err(http_error(status, &headers, &body))
    }
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

pub(crate) fn http_error(status: StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Error {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Error::Http {
        status,
        body: Box::new(ErrorBody::parse(content_type, body)),
    }
}
