//! [`ClientBuilder`]: where the client's defaults live.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use pbx_auth_core::adapters::tls::TlsOptions;
use pbx_auth_core::{AccessToken, Cached, HeaderToken, Password, SharedAuthenticator, TokenCache};
use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};

use crate::api::token::NewToken;
use crate::client::{Client, Credentials, Inner};
use crate::error::Error;
use crate::refusal::WazoRefusals;
use crate::source::WazoTokenSource;
use crate::transport::{DEFAULT_MAX_BODY_SIZE, Transport};

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("wazo-auth-client-rs/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Client`]. Defaults follow the current Python client: `https`, port 443,
/// prefix `/api/auth`, version `0.1`, certificate verification on, 10 s timeout.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    host: String,
    https: bool,
    port: Option<u16>,
    prefix: Option<String>,
    version: String,
    timeout: Option<Duration>,
    token: Option<AccessToken>,
    tenant: Option<String>,
    user_agent: String,
    credentials: Option<Credentials>,
    tls: TlsOptions,
    http: Option<reqwest::Client>,
    auto_token: Option<NewToken>,
    authenticator: Option<SharedAuthenticator>,
    max_body: usize,
    error: Option<&'static str>,
}

impl ClientBuilder {
    pub(crate) fn new(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            https: true,
            port: Some(443),
            prefix: Some("/api/auth".to_owned()),
            version: "0.1".to_owned(),
            timeout: Some(Duration::from_secs(10)),
            token: None,
            tenant: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            credentials: None,
            tls: TlsOptions::new(),
            http: None,
            auto_token: None,
            authenticator: None,
            max_body: DEFAULT_MAX_BODY_SIZE,
            error: None,
        }
    }

    /// A builder from a base URL such as `https://pbx.example.com/api/auth` or
    /// `http://127.0.0.1:9497`. The path becomes the prefix; the version stays `0.1`.
    /// Plain `http` is accepted only for loopback hosts (otherwise see
    /// [`danger_plain_http`](Self::danger_plain_http)).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for an unparsable URL or a non-loopback `http` URL.
    pub fn from_url(base: &str) -> Result<Self, Error> {
        let url = url::Url::parse(base).map_err(|_| Error::Config("the base URL is invalid"))?;
        let host = url
            .host_str()
            .ok_or(Error::Config("the base URL has no host"))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(Error::Config("the base URL must be http or https")),
        };
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if !https && !loopback {
            return Err(Error::Config(
                "plain http is only accepted for loopback hosts; use danger_plain_http",
            ));
        }
        let mut builder = Self::new(host.trim_start_matches('[').trim_end_matches(']'));
        builder.https = https;
        builder.port = url.port_or_known_default();
        builder = builder.prefix(url.path());
        Ok(builder)
    }

    /// The legacy direct defaults of `xivo-auth-client`: port 9497, no prefix.
    pub fn legacy_direct(mut self) -> Self {
        self.port = Some(9497);
        self.prefix = None;
        self
    }

    /// Sets the port; `None` leaves it out of URLs.
    pub fn port(mut self, port: impl Into<Option<u16>>) -> Self {
        self.port = port.into();
        self
    }

    /// Sets the path prefix (a leading `/` is added; empty means none).
    pub fn prefix(mut self, prefix: &str) -> Self {
        let trimmed = prefix.trim_end_matches('/');
        self.prefix = match trimmed {
            "" => None,
            p if p.starts_with('/') => Some(p.to_owned()),
            p => Some(format!("/{p}")),
        };
        self
    }

    /// Sets the API version segment (empty means none).
    pub fn version(mut self, version: &str) -> Self {
        version.clone_into(&mut self.version);
        self
    }

    /// Sets the timeout of every request (connect and read); `None` waits forever.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// A token sent as `X-Auth-Token` on every request.
    pub fn token(mut self, token: AccessToken) -> Self {
        self.token = Some(token);
        self
    }

    /// A tenant sent as `Wazo-Tenant` (a per-call tenant overrides it).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The `User-Agent` (default `wazo-auth-client-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Username and password, used only for `POST /token` (HTTP Basic).
    pub fn credentials(mut self, username: impl Into<String>, password: Password) -> Self {
        self.credentials = Some(Credentials {
            username: username.into(),
            password,
        });
        self
    }

    /// Trusts the certificates of a PEM bundle in addition to the system roots.
    pub fn ca_bundle_pem(mut self, pem: &[u8]) -> Self {
        if self.tls.add_ca_bundle_pem(pem).is_err() {
            self.error = Some("the CA bundle holds no valid PEM certificate");
        }
        self
    }

    /// Trusts one more root certificate.
    pub fn add_root_certificate(mut self, cert: reqwest::Certificate) -> Self {
        self.tls.add_root_certificate(cert);
        self
    }

    /// Disables certificate verification. Anyone on the path can then read tokens and
    /// passwords; use only against a throwaway test server.
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.tls.danger_accept_invalid_certs();
        self
    }

    /// Uses plain `http` for any host. Tokens and passwords then travel in clear text.
    pub fn danger_plain_http(mut self) -> Self {
        self.https = false;
        self
    }

    /// Shares an existing reqwest client (its own TLS and timeout settings then apply; the
    /// CA, `danger_`, timeout and user-agent options of this builder are ignored). It
    /// should not follow redirects, or `saml().acs()` cannot see its 302.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The longest answer body the client reads (default
    /// [`DEFAULT_MAX_BODY_SIZE`](crate::DEFAULT_MAX_BODY_SIZE), 16 MiB). A longer one is
    /// [`Error::BodyTooLarge`], read no further than the limit.
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Obtains, caches and refreshes a token automatically with `request` (HTTP Basic with
    /// the configured credentials, or the request's refresh token). After a 401 that says
    /// the token is unknown or expired it gets a new one and retries once; a 401 that says
    /// the token lacks a permission or a tenant is returned as it is, and no token is made
    /// for it ([`WazoRefusals`](crate::WazoRefusals)). A replaced token is revoked;
    /// [`Client::close`] revokes the last one.
    pub fn auto_token(mut self, request: NewToken) -> Self {
        self.auto_token = Some(request);
        self
    }

    /// Authenticates requests with any core authenticator (it must send `X-Auth-Token`).
    pub fn authenticator(mut self, authenticator: SharedAuthenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for an empty host, an invalid URL, user agent or CA
    /// bundle, or when the TLS stack cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(error) = self.error {
            return Err(Error::Config(error));
        }
        if self.host.is_empty() {
            return Err(Error::Config("the host is required"));
        }
        let scheme = if self.https { "https" } else { "http" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let prefix = self.prefix.as_deref().unwrap_or_default();
        let version = if self.version.is_empty() {
            String::new()
        } else {
            format!("/{}", self.version)
        };
        let base = format!("{scheme}://{host}{port}{prefix}{version}");
        url::Url::parse(&base).map_err(|_| Error::Config("the host gives an invalid URL"))?;
        let http = match self.http {
            Some(http) => http,
            None => {
                let ua = HeaderValue::try_from(self.user_agent.as_str())
                    .map_err(|_| Error::Config("the user agent is not a valid header"))?;
                let mut headers = HeaderMap::new();
                headers.insert(USER_AGENT, ua);
                let mut builder = reqwest::Client::builder()
                    .default_headers(headers)
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(timeout) = self.timeout {
                    builder = builder.timeout(timeout);
                }
                self.tls
                    .apply(builder)
                    .build()
                    .map_err(|_| Error::Config("the HTTP client cannot be built"))?
            }
        };
        // One transport for the API groups and the token source: one tenant, one pool.
        let transport = Arc::new(Transport::new(http, base, self.tenant, self.max_body));
        let credentials = self.credentials.map(Arc::new);
        let auto = self.auto_token.map(|request| {
            let source = WazoTokenSource::on(Arc::clone(&transport), credentials.clone(), request);
            Arc::new(
                Cached::new(TokenCache::new(source), HeaderToken::x_auth_token())
                    .with_refusal_policy(WazoRefusals),
            )
        });
        let authenticator = match &auto {
            Some(auto) => Some(SharedAuthenticator::from_arc(Arc::clone(auto) as _)),
            None => self.authenticator,
        };
        Ok(Client::from_inner(Inner {
            transport,
            token: RwLock::new(self.token),
            credentials,
            authenticator,
            auto,
        }))
    }
}
