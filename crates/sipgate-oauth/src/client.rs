//! [`OAuthClient`]: the authorization request, the code exchange, refresh and revocation,
//! with the `oauth2` crate doing the wire format.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AsyncHttpClient as _, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, TokenResponse, TokenUrl,
};
use pbx_auth_core::{AccessToken, RefreshToken};
use url::Url;

use crate::callback::{Callback, verify_callback};
use crate::config::{ClientAuth, Config};
use crate::error::Error;
use crate::http_client::TokenHttpClient;

/// The `oauth2` client with the endpoints this crate uses it for: authorization and token.
type Inner = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Fills `len` bytes from the OS CSPRNG and encodes them base64url.
fn random_token(len: usize) -> Result<String, Error> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes)
        .map_err(|_| Error::Unsupported("the operating system's random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// One prepared authorization request: the URL to open and what the callback and the code
/// exchange need to verify it. Single use.
#[derive(Debug)]
pub struct AuthorizationRequest {
    url: Url,
    redirect_uri: Url,
    state: CsrfToken,
    pkce_verifier: Option<PkceCodeVerifier>,
}

impl AuthorizationRequest {
    /// The URL to open in the browser. It carries no client secret.
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub(crate) fn state_secret(&self) -> &str {
        self.state.secret()
    }

    /// The redirect URI sent in this request (and again in the code exchange).
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Checks a callback's query parameters: `state` first (in constant time), then
    /// `error`, then `code`.
    ///
    /// # Errors
    ///
    /// [`Error::StateMismatch`], [`Error::AuthorizationDenied`] or
    /// [`Error::InvalidCallback`].
    pub fn verify_callback<'a>(
        &self,
        query: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
    ) -> Result<Callback, Error> {
        verify_callback(self.state.secret(), query)
    }

    /// Checks a redirect URL pasted by the user (for machines without a browser): it must
    /// be the registered redirect URI (scheme, host, port and path), then as
    /// [`verify_callback`](Self::verify_callback).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] for another URL, else as `verify_callback`.
    pub fn verify_pasted_url(&self, pasted: &str) -> Result<Callback, Error> {
        let url = Url::parse(pasted.trim())
            .map_err(|_| Error::InvalidCallback("the pasted text is not a URL"))?;
        let expected = &self.redirect_uri;
        let same_place = url.scheme() == expected.scheme()
            && url.host_str() == expected.host_str()
            && url.port_or_known_default() == expected.port_or_known_default()
            && url.path() == expected.path();
        if !same_place {
            return Err(Error::InvalidCallback(
                "the pasted URL is not the registered redirect URI",
            ));
        }
        self.verify_callback(url.query_pairs())
    }
}

/// Tokens as issued by the token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token (sent as `Authorization: Bearer`).
    pub access_token: AccessToken,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<RefreshToken>,
    /// The access token's lifetime as announced (`expires_in`).
    pub expires_in: Option<Duration>,
    /// When the access token expires by the wall clock (receipt time plus `expires_in`).
    pub expires_at: Option<SystemTime>,
    /// The granted scopes, if the server said.
    pub scopes: Option<Vec<String>>,
}

impl TokenSet {
    /// A token set built by hand (from a store, or for tests).
    pub fn new(
        access_token: AccessToken,
        refresh_token: Option<RefreshToken>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        Self {
            access_token,
            refresh_token,
            expires_in: None,
            expires_at,
            scopes: None,
        }
    }
}

impl AsRef<AccessToken> for TokenSet {
    fn as_ref(&self) -> &AccessToken {
        &self.access_token
    }
}

/// A sipgate OAuth client: builds authorization requests and talks to the token endpoint.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    config: Config,
    inner: Inner,
    http: TokenHttpClient,
}

impl OAuthClient {
    /// A client for `config` with its own token HTTP client (redirects off).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for unusable URLs, [`Error::Transport`] when TLS cannot start.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_http(config, TokenHttpClient::new()?)
    }

    /// A client using `http` for the token endpoint.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for unusable URLs.
    pub fn with_http(config: Config, http: TokenHttpClient) -> Result<Self, Error> {
        let mut inner = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(config.auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(config.token_url.clone()))
            .set_auth_type(match config.client_auth {
                ClientAuth::RequestBody => AuthType::RequestBody,
                ClientAuth::Basic => AuthType::BasicAuth,
            });
        if let Some(secret) = &config.client_secret {
            inner = inner.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        Ok(Self {
            config,
            inner,
            http,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A fresh authorization request for the configured redirect URI.
    ///
    /// # Errors
    ///
    /// As [`authorization_request_for`](Self::authorization_request_for).
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, Error> {
        self.authorization_request_for(&self.config.redirect_uri)
    }

    /// A fresh authorization request for `redirect_uri` (the listener's actual address when
    /// it picked an ephemeral port): new `state` (32 bytes from the OS CSPRNG) and, unless
    /// turned off, a new PKCE S256 verifier.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when the OS random generator fails.
    pub fn authorization_request_for(
        &self,
        redirect_uri: &Url,
    ) -> Result<AuthorizationRequest, Error> {
        let state = CsrfToken::new(random_token(32)?);
        let redirect = RedirectUrl::from_url(redirect_uri.clone());
        let state_for_url = state.clone();
        let mut request = self
            .inner
            .authorize_url(move || state_for_url)
            .set_redirect_uri(Cow::Owned(redirect))
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new));
        let pkce_verifier = if self.config.pkce {
            // 64 random bytes → an 86-character verifier, inside RFC 7636's 43..=128.
            let verifier = PkceCodeVerifier::new(random_token(64)?);
            request =
                request.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
            Some(verifier)
        } else {
            None
        };
        let (url, _) = request.url();
        Ok(AuthorizationRequest {
            url,
            redirect_uri: redirect_uri.clone(),
            state,
            pkce_verifier,
        })
    }

    /// Exchanges the code from a verified callback. Consumes the request: codes and
    /// verifiers are single use.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidGrant`], [`Error::InvalidClient`], [`Error::OAuth`],
    /// [`Error::Transport`] or [`Error::UnexpectedResponse`].
    pub async fn exchange_code(
        &self,
        request: AuthorizationRequest,
        callback: Callback,
    ) -> Result<TokenSet, Error> {
        let redirect = RedirectUrl::from_url(request.redirect_uri.clone());
        let mut exchange = self
            .inner
            .exchange_code(AuthorizationCode::new(callback.into_code()))
            .set_redirect_uri(Cow::Owned(redirect));
        if let Some(verifier) = request.pkce_verifier {
            exchange = exchange.set_pkce_verifier(verifier);
        }
        // Events name no code, verifier or token: only what happened.
        tracing::debug!("exchanging the authorization code for tokens");
        let response = exchange
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        token_set(&response, None)
    }

    /// Trades a refresh token for a new token set. When the server sends no new refresh
    /// token the old one is kept in the result; sipgate always sends one (rotation).
    ///
    /// # Errors
    ///
    /// As [`exchange_code`](Self::exchange_code); [`Error::InvalidGrant`] means the refresh
    /// token is used up or revoked: log in again.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        let token = oauth2::RefreshToken::new(refresh_token.expose_secret().to_owned());
        tracing::debug!("refreshing the sipgate tokens");
        let response = self
            .inner
            .exchange_refresh_token(&token)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        token_set(&response, Some(refresh_token))
    }

    /// Revokes a refresh token at the RFC 7009 endpoint (which, at servers that follow
    /// RFC 7009 §2.1, also ends its access tokens).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] without a revocation URL; else as the token endpoint.
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<(), Error> {
        self.revoke(token.expose_secret(), "refresh_token").await
    }

    /// Revokes an access token at the RFC 7009 endpoint.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] without a revocation URL; else as the token endpoint.
    pub async fn revoke_access_token(&self, token: &AccessToken) -> Result<(), Error> {
        self.revoke(token.expose_secret(), "access_token").await
    }

    /// RFC 7009 by hand: `oauth2` 5 refuses plain-http revocation URLs outright, which
    /// would make revocation untestable against a local server.
    fn revocation_request(&self, token: &str, hint: &str) -> Result<oauth2::HttpRequest, Error> {
        let url = self
            .config
            .revocation_url
            .as_ref()
            .ok_or(Error::Unsupported(
                "the server offers no revocation endpoint",
            ))?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", hint);
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(url.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json");
        let secret = self
            .config
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret());
        match (self.config.client_auth, secret) {
            (ClientAuth::Basic, Some(secret)) => {
                // RFC 6749 §2.3.1: form-urlencode both parts before Basic.
                let encode = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    encode(&self.config.client_id),
                    encode(secret)
                ));
                let mut value = http::HeaderValue::try_from(format!("Basic {credentials}"))
                    .map_err(|_| Error::config("CLIENT_SECRET", "cannot be sent in a header"))?;
                value.set_sensitive(true);
                request = request.header(http::header::AUTHORIZATION, value);
            }
            (_, secret) => {
                form.append_pair("client_id", &self.config.client_id);
                if let Some(secret) = secret {
                    form.append_pair("client_secret", secret);
                }
            }
        }
        request
            .body(form.finish().into_bytes())
            .map_err(|_| Error::config("REVOCATION_URL", "not a valid request URI"))
    }

    async fn revoke(&self, token: &str, hint: &str) -> Result<(), Error> {
        // The hint says which kind of token; the token itself stays out of the event.
        tracing::debug!(hint, "revoking a sipgate token");
        // Built in a plain function: the form serializer is not `Send`.
        let request = self.revocation_request(token, hint)?;
        let response = self.http.call(request).await?;
        if response.status().is_success() {
            return Ok(());
        }
        #[derive(serde::Deserialize)]
        struct OAuthErrorBody {
            error: String,
            error_description: Option<String>,
        }
        match serde_json::from_slice::<OAuthErrorBody>(response.body()) {
            Ok(body) => Err(oauth_error(&body.error, body.error_description.as_deref())),
            Err(_) => Err(Error::UnexpectedResponse(format!(
                "the revocation endpoint answered HTTP {}",
                response.status().as_u16()
            ))),
        }
    }
}

fn token_set(
    response: &oauth2::basic::BasicTokenResponse,
    previous_refresh: Option<&RefreshToken>,
) -> Result<TokenSet, Error> {
    // oauth2 already compares the type case-insensitively (sipgate sends `bearer`); anything
    // but Bearer cannot be used the way this crate sends tokens.
    if *response.token_type() != BasicTokenType::Bearer {
        return Err(Error::UnexpectedResponse(
            "the token endpoint issued a token that is not a bearer token".to_owned(),
        ));
    }
    // A server's `expires_in` is untrusted: near `u64::MAX` seconds, adding it to a clock
    // would overflow. Ten years is longer than any real token lives.
    let expires_in = response
        .expires_in()
        .map(|d| d.min(Duration::from_secs(10 * 365 * 24 * 3600)));
    Ok(TokenSet {
        access_token: AccessToken::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| RefreshToken::new(t.secret().clone()))
            .or_else(|| previous_refresh.cloned()),
        expires_in,
        expires_at: expires_in.and_then(|d| SystemTime::now().checked_add(d)),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str().to_owned()).collect()),
    })
}

fn oauth_error(error: &str, description: Option<&str>) -> Error {
    // The server's words, but a server may echo the request: keep them short, printable
    // and without anything credential-shaped.
    let error = crate::callback::printable(error);
    let description = description.map(crate::callback::printable);
    match error.as_str() {
        "invalid_grant" => Error::InvalidGrant { description },
        "invalid_client" | "unauthorized_client" => Error::InvalidClient { error, description },
        _ => Error::OAuth { error, description },
    }
}

fn token_error(
    error: RequestTokenError<Error, StandardErrorResponse<BasicErrorResponseType>>,
) -> Error {
    match error {
        RequestTokenError::ServerResponse(response) => oauth_error(
            response.error().as_ref(),
            response.error_description().map(String::as_str),
        ),
        RequestTokenError::Request(e) => e,
        // The body is not quoted: an odd success body may hold a token.
        RequestTokenError::Parse(e, _body) => Error::UnexpectedResponse(format!(
            "the token endpoint's answer could not be parsed (at {})",
            e.path()
        )),
        RequestTokenError::Other(message) => Error::UnexpectedResponse(message),
    }
}
