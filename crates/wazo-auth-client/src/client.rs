//! [`Client`]: the shared transport, the caller's token, the credentials and the
//! authenticator, and the command groups reached from it.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use pbx_auth_core::{AccessToken, Cached, HeaderToken, SharedAuthenticator};

use crate::builder::ClientBuilder;
use crate::error::Error;
use crate::refusal::WazoRefusals;
use crate::source::WazoTokenSource;
use crate::transport::Transport;
pub(crate) use crate::transport::{Answer, Body, Call, Credentials, X_AUTH_TOKEN, http_error, seg};

/// The authenticator of automatic token mode.
pub(crate) type AutoToken = Cached<WazoTokenSource, HeaderToken, WazoRefusals>;

pub(crate) struct Inner {
    pub(crate) transport: Arc<Transport>,
    pub(crate) token: RwLock<Option<AccessToken>>,
    pub(crate) credentials: Option<Arc<Credentials>>,
    pub(crate) authenticator: Option<SharedAuthenticator>,
    /// The automatic token's authenticator, kept typed so [`Client::close`] can revoke.
    pub(crate) auto: Option<Arc<AutoToken>>,
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
            .field("base", &self.inner.transport.base)
            .field("has_token", &self.read_token().is_some())
            .field("tenant", &self.tenant())
            .field("credentials", &self.inner.credentials)
            .field("authenticator", &self.inner.authenticator)
            .finish_non_exhaustive()
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

    pub(crate) fn transport(&self) -> &Arc<Transport> {
        &self.inner.transport
    }

    /// The versioned base URL, such as `https://host:443/api/auth/0.1`.
    pub fn base_url(&self) -> &str {
        &self.inner.transport.base
    }

    /// Replaces the token sent as `X-Auth-Token` (`None` removes it).
    pub fn set_token(&self, token: Option<AccessToken>) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// Replaces the tenant sent as `Wazo-Tenant` (`None` removes it), for every clone of
    /// this client and for its automatic token source.
    pub fn set_tenant(&self, tenant: Option<String>) {
        self.inner.transport.set_tenant(tenant);
    }

    /// The client's tenant.
    pub fn tenant(&self) -> Option<String> {
        self.inner.transport.tenant()
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

    pub(crate) fn shared_credentials(&self) -> Option<Arc<Credentials>> {
        self.inner.credentials.clone()
    }

    /// `HEAD` on the versioned base URL: `true` when anything answers.
    pub async fn is_server_reachable(&self) -> bool {
        let transport = &self.inner.transport;
        transport.http.head(&transport.base).send().await.is_ok()
    }

    /// Ends automatic token mode cleanly: revokes the token the client obtained, so no
    /// session outlives the program. Later calls obtain a new token. Without automatic
    /// token mode this does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Core`] when the server could not revoke it (it is forgotten anyway).
    pub async fn close(&self) -> Result<(), Error> {
        match &self.inner.auto {
            Some(auto) => auto.cache().revoke().await.map_err(Error::Core),
            None => Ok(()),
        }
    }

    /// Sends a call and returns the raw answer, whatever its status.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<reqwest::Response, Error> {
        self.inner
            .transport
            .send(call, self.read_token(), self.inner.authenticator.as_ref())
            .await
    }

    /// Sends a call and checks for a 2xx status (or 3xx when `redirect_ok`).
    pub(crate) async fn run_with(
        &self,
        call: Call<'_>,
        redirect_ok: bool,
    ) -> Result<Answer, Error> {
        self.inner
            .transport
            .run_with(
                call,
                self.read_token(),
                self.inner.authenticator.as_ref(),
                redirect_ok,
            )
            .await
            .map_err(|e| e.redact_secrets(&self.secrets()))
    }

    /// Sends a call and checks for a 2xx status.
    pub(crate) async fn run(&self, call: Call<'_>) -> Result<Answer, Error> {
        self.run_with(call, false).await
    }

    /// Reads a body within the client's limit.
    pub(crate) async fn body(&self, response: reqwest::Response) -> Result<Vec<u8>, Error> {
        self.inner.transport.body(response).await
    }
}
