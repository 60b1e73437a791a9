//! The async client: `POST /` with a sealed request, open the sealed reply.
//!
//! Nothing here retries. Every authnzerver call is non-idempotent (a login deletes its
//! session, a repeated `reqid` is refused), so a failed call is reported, never resent.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use pbx_auth_core::{Clock, NonceSource, OsNonce, SystemClock};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::calls::*;
use crate::error::status_meaning;
use crate::{Error, FernetEnvelope, FernetKey, ReqId, Request, Response};

/// Default timeout for one call. Generous on purpose: the server sleeps up to 40 s before
/// answering repeated failed logins, and password hashing takes up to a second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Default cap on a reply body. Replies are sealed JSON of a few KiB; the largest, a
/// `user-list` of a big installation, stays well below this. Raise it with
/// [`ClientBuilder::max_response_bytes`] if yours does not.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// An authnzerver client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    url: Url,
    envelope: FernetEnvelope,
    nonce: Arc<dyn NonceSource>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    response_ttl: Option<Duration>,
    max_response_bytes: usize,
}

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    url: String,
    key: FernetKey,
    http: Option<reqwest::Client>,
    nonce: Arc<dyn NonceSource>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    connect_timeout: Duration,
    response_ttl: Option<Duration>,
    max_response_bytes: usize,
}

impl ClientBuilder {
    /// Per-call timeout (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout of the built-in HTTP client (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Uses this reqwest client (its own settings apply; the per-call timeout still does).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Where request ids come from (default: the OS CSPRNG).
    pub fn nonce_source(mut self, nonce: Arc<dyn NonceSource>) -> Self {
        self.nonce = nonce;
        self
    }

    /// The clock that stamps requests and checks replies (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refuses replies whose Fernet stamp is older than `ttl` (default: no check; the
    /// server does not check requests' stamps either).
    pub fn response_ttl(mut self, ttl: Duration) -> Self {
        self.response_ttl = Some(ttl);
        self
    }

    /// The largest reply body read (default [`DEFAULT_MAX_RESPONSE_BYTES`]); a larger one
    /// is refused with [`Error::ResponseTooLarge`] without being read to the end.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a URL that is not `http`/`https`, [`Error::Transport`] when
    /// the HTTP client cannot be built.
    pub fn build(self) -> Result<Client, Error> {
        let url = Url::parse(&self.url).map_err(|_| Error::Config("the URL is not valid"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config("the URL must be http or https"));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(Error::transport)?,
        };
        Ok(Client {
            http,
            url,
            envelope: FernetEnvelope::new(self.key),
            nonce: self.nonce,
            clock: self.clock,
            timeout: self.timeout,
            response_ttl: self.response_ttl,
            max_response_bytes: self.max_response_bytes,
        })
    }
}

impl Client {
    /// A builder for a client of the server at `url` (e.g. `http://127.0.0.1:13431/`).
    pub fn builder(url: impl Into<String>, key: FernetKey) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            key,
            http: None,
            nonce: Arc::new(OsNonce::default()),
            clock: Arc::new(SystemClock::default()),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            response_ttl: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// A client with default settings.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`].
    pub fn new(url: impl Into<String>, key: FernetKey) -> Result<Self, Error> {
        Self::builder(url, key).build()
    }

    /// The server URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Sends any request by name with a JSON body and returns the reply as JSON, whether
    /// the action succeeded or not.
    ///
    /// # Security
    ///
    /// Plain JSON is not redacted: tokens in the reply show up in its `Debug` output.
    /// Prefer the typed calls, which keep them in secret types.
    ///
    /// # Errors
    ///
    /// Transport errors, timeouts, non-200 statuses ([`Error::Status`]), a reply over the
    /// size cap ([`Error::ResponseTooLarge`]), envelope errors, JSON errors and
    /// [`Error::ReqIdMismatch`].
    pub async fn send_raw(
        &self,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<Response<serde_json::Value>, Error> {
        self.exchange(Cow::Owned(name.to_owned()), body).await
    }

    /// Sends a typed request and returns the typed reply, whether the action succeeded or
    /// not (check `success`).
    ///
    /// # Errors
    ///
    /// As [`Client::send_raw`], plus [`Error::Json`] when the response does not fit.
    pub async fn send<C: Call>(&self, body: &C) -> Result<Response<C::Response>, Error> {
        let reply = self.exchange(Cow::Borrowed(C::NAME.as_str()), body).await?;
        typed(reply)
    }

    /// Sends a typed request; `success: false` becomes [`Error::Rejected`] with the
    /// server's messages.
    ///
    /// # Errors
    ///
    /// As [`Client::send`], plus [`Error::Rejected`].
    pub async fn call<C: Call>(&self, body: &C) -> Result<Response<C::Response>, Error> {
        let reply = self.exchange(Cow::Borrowed(C::NAME.as_str()), body).await?;
        if !reply.success {
            return Err(Error::Rejected {
                request: C::NAME.as_str(),
                messages: reply.messages,
                response: reply.response,
            });
        }
        typed(reply)
    }

    async fn exchange<B: Serialize + ?Sized>(
        &self,
        name: Cow<'static, str>,
        body: &B,
    ) -> Result<Response<serde_json::Value>, Error> {
        let reqid = ReqId::random(&*self.nonce);
        let request = Request {
            request: name,
            body,
            reqid,
        };
        let plaintext = serde_json::to_vec(&request).map_err(|e| Error::json(&e))?;
        let sealed = self.envelope.seal_at(&plaintext, self.clock.now());
        let reply = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .timeout(self.timeout)
            .body(sealed)
            .send()
            .await
            .map_err(Error::transport)?;
        let status = reply.status().as_u16();
        if status != 200 {
            // Error bodies are Tornado's small HTML pages: not encrypted, no reason given.
            return Err(Error::Status {
                status,
                meaning: status_meaning(status),
            });
        }
        let bytes = read_capped(reply, self.max_response_bytes).await?;
        let opened = self
            .envelope
            .open_at(&bytes, self.clock.now(), self.response_ttl)?;
        let mut response: Response<serde_json::Value> =
            serde_json::from_slice(&opened).map_err(|e| Error::json(&e))?;
        if response.reqid != request.reqid {
            return Err(Error::ReqIdMismatch {
                sent: request.reqid.to_string(),
                received: response.reqid.to_string(),
            });
        }
        if response.messages.is_empty()
            && let Some(inner) = response.response.get("messages")
            && let Ok(messages) = serde_json::from_value::<Vec<String>>(inner.clone())
        {
            response.messages = messages;
        }
        Ok(response)
    }
}

/// Reads a body of at most `limit` bytes, refusing a larger one as soon as its announced
/// length or the bytes received so far exceed the limit (so memory stays bounded).
async fn read_capped(mut reply: reqwest::Response, limit: usize) -> Result<Vec<u8>, Error> {
    if reply.content_length().is_some_and(|len| len > limit as u64) {
        return Err(Error::ResponseTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = reply.chunk().await.map_err(Error::transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::ResponseTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn typed<R: DeserializeOwned>(reply: Response<serde_json::Value>) -> Result<Response<R>, Error> {
    let response = serde_json::from_value(reply.response).map_err(|e| Error::json(&e))?;
    Ok(Response {
        success: reply.success,
        reqid: reply.reqid,
        response,
        messages: reply.messages,
    })
}

macro_rules! convenience {
    ( $( $(#[$m:meta])* $method:ident => $body:ident; )* ) => {
        impl Client {
            $(
                $(#[$m])*
                ///
                /// # Errors
                ///
                /// As [`Client::call`]: `success: false` is [`Error::Rejected`].
                pub async fn $method(&self, body: &$body)
                    -> Result<Response<<$body as Call>::Response>, Error> {
                    self.call(body).await
                }
            )*
        }
    };
}

convenience! {
    /// `session-new`.
    session_new => SessionNew;
    /// `session-exists`.
    session_exists => SessionExists;
    /// `session-delete`.
    session_delete => SessionDelete;
    /// `session-delete-userid`.
    session_delete_userid => SessionDeleteUserid;
    /// `session-setinfo`.
    session_setinfo => SessionSetinfo;
    /// `user-login`.
    user_login => UserLogin;
    /// `user-logout`.
    user_logout => UserLogout;
    /// `user-passcheck`.
    user_passcheck => UserPasscheck;
    /// `user-new`.
    user_new => UserNew;
    /// `user-changepass`.
    user_changepass => UserChangepass;
    /// `user-delete`.
    user_delete => UserDelete;
    /// `user-list`.
    user_list => UserList;
    /// `user-edit`.
    user_edit => UserEdit;
    /// `user-resetpass` (0.1.3 answers a successful reset with HTTP 400).
    user_resetpass => UserResetpass;
    /// `user-lock`.
    user_lock => UserLock;
    /// `user-signup-sendemail`.
    user_signup_sendemail => UserSignupSendemail;
    /// `user-verify-emailaddr`.
    user_verify_emailaddr => UserVerifyEmailaddr;
    /// `user-forgotpass-sendemail`.
    user_forgotpass_sendemail => UserForgotpassSendemail;
    /// `apikey-new`.
    apikey_new => ApikeyNew;
    /// `apikey-verify`.
    apikey_verify => ApikeyVerify;
}

impl Client {
    /// `user-check-access`: whether access is granted (`success` is the answer here, so
    /// `false` is not an error).
    ///
    /// # Errors
    ///
    /// As [`Client::send`].
    pub async fn user_check_access(&self, body: &UserCheckAccess) -> Result<bool, Error> {
        Ok(self.send(body).await?.success)
    }

    /// `user-check-limit`: whether the value is under the limit.
    ///
    /// # Errors
    ///
    /// As [`Client::send`].
    pub async fn user_check_limit(&self, body: &UserCheckLimit) -> Result<bool, Error> {
        Ok(self.send(body).await?.success)
    }
}
