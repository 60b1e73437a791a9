//! `token`: `POST /token`, `GET|HEAD|DELETE /token/{token}`, `POST /token/{token}/scopes/check`,
//! `GET|DELETE /users/{user_uuid}/tokens[/{client_id}]`.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};
use pbx_auth_core::store::StoredToken;
use pbx_auth_core::{AccessToken, Password, RefreshToken};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::client::{Answer, Call, Credentials, http_error, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};
use crate::transport::basic;

group!(
    /// Token commands: create, check, inspect and revoke tokens.
    TokenApi,
    token
);

/// `access_type` of a token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessType {
    /// A plain access token.
    Online,
    /// Also issue a refresh token (needs a `client_id`).
    Offline,
}

/// A token request (`POST /token`). Only set fields are sent; the body is `{}` when
/// none is.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct NewToken {
    /// `backend` (ignored by servers since 24.08).
    pub backend: Option<String>,
    /// Lifetime in seconds (1 to 315360000; the server defaults to 7200).
    pub expiration: Option<u32>,
    /// `online` or `offline`.
    pub access_type: Option<AccessType>,
    /// Client identifier for refresh tokens.
    pub client_id: Option<String>,
    /// Log in with this refresh token instead of a password.
    pub refresh_token: Option<RefreshToken>,
    /// Deprecated tenant selector for LDAP logins.
    pub tenant_id: Option<String>,
    /// Domain selecting the tenant for LDAP logins.
    pub domain_name: Option<String>,
    /// Log in with a SAML session (not offered by the Python client).
    pub saml_session_id: Option<String>,
    /// `Wazo-Session-Type` header (`mobile` flags the session as mobile).
    pub session_type: Option<String>,
    /// `User-Agent` for this request only.
    pub user_agent: Option<String>,
    /// Username overriding the client's.
    pub username: Option<String>,
    /// Password overriding the client's.
    pub password: Option<Password>,
}

macro_rules! setters {
    ($($field:ident: $ty:ty),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($field), "`.")]
            #[must_use]
            pub fn $field(mut self, value: impl crate::api::IntoField<$ty>) -> Self {
                self.$field = Some(value.into_field());
                self
            }
        )*
    };
}

impl NewToken {
    /// Nothing set: a token for the client's credentials with the server's default lifetime.
    pub fn new() -> Self {
        Self::default()
    }

    setters!(
        backend: String,
        expiration: u32,
        access_type: AccessType,
        client_id: String,
        refresh_token: RefreshToken,
        tenant_id: String,
        domain_name: String,
        saml_session_id: String,
        session_type: String,
        user_agent: String,
        username: String,
        password: Password,
    );

    fn body(&self) -> Value {
        let mut body = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                body.insert(key.to_owned(), v);
            }
        };
        put("backend", self.backend.clone().map(Value::from));
        put("expiration", self.expiration.map(Value::from));
        put("client_id", self.client_id.clone().map(Value::from));
        put(
            "refresh_token",
            self.refresh_token
                .as_ref()
                .map(|t| Value::from(t.expose_secret())),
        );
        put(
            "access_type",
            self.access_type.map(|a| {
                Value::from(match a {
                    AccessType::Online => "online",
                    AccessType::Offline => "offline",
                })
            }),
        );
        put("tenant_id", self.tenant_id.clone().map(Value::from));
        put("domain_name", self.domain_name.clone().map(Value::from));
        put(
            "saml_session_id",
            self.saml_session_id.clone().map(Value::from),
        );
        Value::Object(body)
    }
}

/// A token as wazo-auth describes it. Unknown fields are kept in `extra`.
///
/// `Debug` hides the token and the refresh token; serializing writes them out (to store a
/// token), so treat serialized tokens as secrets.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Token {
    /// The access token, sent as `X-Auth-Token`.
    #[serde(serialize_with = "ser_access", deserialize_with = "de_access")]
    pub token: AccessToken,
    /// The user's UUID (or `wazo-auth` for internal tokens).
    #[serde(default)]
    pub auth_id: String,
    /// The session.
    #[serde(default)]
    pub session_uuid: Option<String>,
    /// The token's accesses.
    #[serde(default)]
    pub acl: Vec<String>,
    /// Metadata (`uuid`, `tenant_uuid`, `auth_id`, `pbx_user_uuid`, `purpose`, ...).
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Deprecated PBX user UUID.
    #[serde(default)]
    pub xivo_user_uuid: Option<String>,
    /// The stack's UUID.
    #[serde(default)]
    pub xivo_uuid: Option<String>,
    /// Issue time, server-local.
    #[serde(default)]
    pub issued_at: Option<String>,
    /// Expiry time, server-local.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Issue time, UTC.
    #[serde(default)]
    pub utc_issued_at: Option<String>,
    /// Expiry time, UTC.
    #[serde(default)]
    pub utc_expires_at: Option<String>,
    /// The `User-Agent` that created the token.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The address that created the token.
    #[serde(default)]
    pub remote_addr: Option<String>,
    /// The refresh token, only on creation with `access_type=offline`.
    #[serde(
        default,
        serialize_with = "ser_refresh",
        deserialize_with = "de_refresh",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token: Option<RefreshToken>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A token in a shared store (`pbx_auth_core::store`), so processes of a fleet share one
/// wazo token: its JSON form, the secret included, which stores that leave the process
/// seal.
impl StoredToken for Token {
    fn to_stored(&self) -> Vec<u8> {
        // Cannot fail: every field is a string, number, list or string-keyed map, written to
        // memory. (An empty record, the fallback, would read as "logged out" in a shared
        // store, never as a token.)
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn from_stored(bytes: &[u8]) -> Result<Self, pbx_auth_core::Error> {
        serde_json::from_slice(bytes).map_err(|_| {
            pbx_auth_core::Error::new(
                pbx_auth_core::ErrorKind::Protocol,
                "the shared store holds a record that is not a wazo token",
            )
        })
    }
}

impl AsRef<AccessToken> for Token {
    fn as_ref(&self) -> &AccessToken {
        &self.token
    }
}

impl Token {
    /// `expires_at − issued_at`, from the UTC fields (else the local ones). The server's
    /// clock is not compared with ours, so skew does not matter.
    pub fn lifetime(&self) -> Option<Duration> {
        let pick = |utc: &Option<String>, local: &Option<String>| {
            utc.as_deref()
                .and_then(parse_naive)
                .or_else(|| local.as_deref().and_then(parse_naive))
        };
        let issued = pick(&self.utc_issued_at, &self.issued_at)?;
        let expires = pick(&self.utc_expires_at, &self.expires_at)?;
        let seconds = (expires - issued).as_seconds_f64();
        (seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
    }

    /// The user's tenant, from the metadata.
    pub fn tenant_uuid(&self) -> Option<&str> {
        self.metadata.get("tenant_uuid").and_then(Value::as_str)
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff]` without offset, as wazo-auth writes it.
fn parse_naive(text: &str) -> Option<time::PrimitiveDateTime> {
    use time::macros::format_description;
    let with_fraction =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    let without = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(text, with_fraction)
        .or_else(|_| time::PrimitiveDateTime::parse(text, without))
        .ok()
}

fn ser_access<S: Serializer>(value: &AccessToken, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.expose_secret())
}

fn de_access<'de, D: Deserializer<'de>>(d: D) -> Result<AccessToken, D::Error> {
    String::deserialize(d).map(AccessToken::new)
}

fn ser_refresh<S: Serializer>(value: &Option<RefreshToken>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(v.expose_secret()),
        None => s.serialize_none(),
    }
}

fn de_refresh<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RefreshToken>, D::Error> {
    Option::<String>::deserialize(d).map(|o| o.map(RefreshToken::new))
}

/// The answer of `scopes/check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ScopesCheck {
    /// Each scope asked for, and whether the token holds it.
    pub scopes: BTreeMap<String, bool>,
}

/// A refresh token as listed by `GET /tokens` or `GET /users/{uuid}/tokens`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RefreshTokenInfo {
    /// The client it was issued to.
    pub client_id: String,
    /// When.
    pub created_at: Option<String>,
    /// Whether the session is mobile.
    pub mobile: bool,
    /// Its user.
    pub user_uuid: Option<String>,
    /// Its user's tenant.
    pub tenant_uuid: Option<String>,
    /// Stored metadata.
    pub metadata: Value,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Whether a `Content-Type` is JSON (`application/json`, with or without parameters).
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether `value` has the shape of a UUID. wazo-auth routes `/token/{token}` only for a
/// UUID: any other value gets the router's HTML 404, which would read as a wrong base URL.
/// A value that is not a UUID cannot be a token, so callers settle it without asking.
fn is_uuid(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn check_call<'a>(token: &str, required_acl: Option<&str>, tenant: Option<&str>) -> Call<'a> {
    Call::new(
        "token check",
        http::Method::HEAD,
        format!("token/{}", seg(token)),
    )
    .no_token()
    .opt_param("scope", required_acl)
    .opt_param("tenant", tenant)
}

/// The `POST /token` call for `request`, with Basic auth from the request's credentials or
/// the `stored` ones. [`WazoTokenSource`](crate::WazoTokenSource) sends it too.
pub(crate) fn create_call<'a>(
    stored: Option<&Credentials>,
    request: &NewToken,
) -> Result<Call<'a>, Error> {
    let mut call = Call::post("token creation", "token".to_owned())
        .no_token()
        .json(request.body());
    // A refresh-token or SAML login does not need the stored password, so it is not
    // sent; credentials given in the request itself are.
    let other_login = request.refresh_token.is_some() || request.saml_session_id.is_some();
    let stored = stored.filter(|_| !other_login);
    // A username given in the request goes with the request's password only: pairing
    // it with the client's stored password would send that password for another user.
    let (username, password) = match &request.username {
        Some(u) => (Some(u.as_str()), request.password.as_ref()),
        None => (
            stored.map(|c| c.username.as_str()),
            request.password.as_ref().or(stored.map(|c| &c.password)),
        ),
    };
    match (username, password) {
        (Some(u), Some(p)) => {
            call = call.header(http::header::AUTHORIZATION, basic(u, p)?);
        }
        _ if request.refresh_token.is_some() || request.saml_session_id.is_some() => {}
        _ => {
            return Err(Error::Config(
                "token creation needs a username and a password",
            ));
        }
    }
    if let Some(kind) = &request.session_type {
        let value = HeaderValue::try_from(kind.as_str())
            .map_err(|_| Error::Config("the session type is not a valid header value"))?;
        call = call.header(HeaderName::from_static("wazo-session-type"), value);
    }
    if let Some(ua) = &request.user_agent {
        let value = HeaderValue::try_from(ua.as_str())
            .map_err(|_| Error::Config("the user agent is not a valid header value"))?;
        call = call.header(http::header::USER_AGENT, value);
    }
    Ok(call)
}

/// The `DELETE /token/{token}` call.
pub(crate) fn revoke_call<'a>(token: &str) -> Call<'a> {
    Call::delete("token revocation", format!("token/{}", seg(token))).no_token()
}

/// What a revocation's answer means: 200, 204 and wazo-auth's own 404 all say the token
/// is gone; an HTML or non-JSON 404 comes from something else (a wrong base URL or
/// prefix), so nothing was revoked.
pub(crate) fn revoked(answer: Result<Answer, Error>) -> Result<(), Error> {
    match answer {
        Ok(_) => Ok(()),
        Err(Error::Http { status, body }) if status == StatusCode::NOT_FOUND => {
            if body.is_wazo() {
                Ok(())
            } else {
                Err(Error::NotWazo { status })
            }
        }
        Err(e) => Err(e),
    }
}

impl TokenApi<'_> {
    /// `POST /token`: a new token. Basic auth with the request's or the client's
    /// credentials; a refresh-token or SAML login sends only credentials given in the
    /// request.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when there are neither credentials nor a refresh token or SAML
    /// session; [`Error::Http`] (401 `Authentication Failed`, 400, 429), transport errors.
    pub async fn create(&self, request: &NewToken) -> Result<Token, Error> {
        let call = create_call(self.client.credentials(), request)?;
        self.client.run(call).await?.data()
    }

    /// `GET /token/{token}`: the token's details, checking `required_acl` (sent as
    /// `scope`) and `tenant` when given.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] with 404 (unknown or expired) or 403 (access or tenant missing).
    pub async fn get(
        &self,
        token: &str,
        required_acl: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<Token, Error> {
        let call = Call::get("token details", format!("token/{}", seg(token)))
            .no_token()
            .opt_param("scope", required_acl)
            .opt_param("tenant", tenant);
        self.client.run(call).await?.data()
    }

    /// `HEAD /token/{token}`: `true` on 204, `false` on 403, wazo-auth's 404 and other
    /// non-error statuses.
    ///
    /// # Errors
    ///
    /// A 404 that is not wazo-auth's is [`Error::NotWazo`] (a wrong base URL or prefix),
    /// any other status of 400 or more is [`Error::Http`] (a 500 is not "invalid"), and
    /// transport errors are errors.
    pub async fn is_valid(
        &self,
        token: &str,
        required_acl: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<bool, Error> {
        match self.check(token, required_acl, tenant).await {
            Ok(valid) => Ok(valid),
            Err(Error::InvalidToken | Error::MissingPermissions) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `HEAD /token/{token}`: `Ok(true)` on 204, `Ok(false)` on other statuses below 400.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] for a value that is not a UUID (no token can have it) and on
    /// wazo-auth's 404 (JSON), [`Error::NotWazo`] on any other
    /// 404 (a wrong base URL or prefix), [`Error::MissingPermissions`] on 403,
    /// [`Error::Http`] for other statuses of 400 or more.
    pub async fn check(
        &self,
        token: &str,
        required_acl: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<bool, Error> {
        if !is_uuid(token) {
            return Err(Error::InvalidToken);
        }
        let response = self
            .client
            .send(check_call(token, required_acl, tenant))
            .await?;
        let status = response.status();
        // wazo-auth labels every answer, HEAD ones included, `application/json`; an
        // unknown route (a wrong base URL or prefix) is an HTML 404.
        let json = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        match status {
            StatusCode::NO_CONTENT => Ok(true),
            StatusCode::NOT_FOUND if !json => Err(Error::NotWazo { status }),
            StatusCode::NOT_FOUND => Err(Error::InvalidToken),
            StatusCode::FORBIDDEN => Err(Error::MissingPermissions),
            s if s.as_u16() >= 400 => {
                let headers = response.headers().clone();
                let body = self.client.body(response).await.unwrap_or_default();
                Err(http_error(s, &headers, &body))
            }
            _ => Ok(false),
        }
    }

    /// `POST /token/{token}/scopes/check`: which of `scopes` the token holds.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] with 404 (unknown token), 403 (tenant), 400.
    pub async fn check_scopes(
        &self,
        token: &str,
        scopes: &[&str],
        tenant: Option<&str>,
    ) -> Result<ScopesCheck, Error> {
        let mut body = serde_json::json!({ "scopes": scopes });
        if let Some(t) = tenant {
            body["tenant_uuid"] = Value::from(t);
        }
        let call = Call::post("scopes check", format!("token/{}/scopes/check", seg(token)))
            .no_token()
            .json(body);
        self.client.run(call).await?.json()
    }

    /// `DELETE /token/{token}`. The server answers 200 even for an unknown token; 204 and
    /// a wazo-auth (JSON) 404 also mean the token is gone.
    ///
    /// # Errors
    ///
    /// [`Error::NotWazo`] for an HTML or non-JSON 404 (a wrong base URL or prefix: the
    /// token was not revoked), [`Error::Http`] for other statuses, transport errors.
    pub async fn revoke(&self, token: &str) -> Result<(), Error> {
        if !is_uuid(token) {
            // Not a token (see `is_uuid`), so there is nothing to revoke.
            return Ok(());
        }
        revoked(self.client.run(revoke_call(token)).await)
    }

    /// `GET /users/{user_uuid}/tokens` (`me` allowed): the user's refresh tokens.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        user_uuid: &str,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<RefreshTokenInfo>, Error> {
        let call = Call::get(
            "refresh token list",
            format!("users/{}/tokens", seg(user_uuid)),
        )
        .list(params)
        .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `DELETE /users/{user_uuid}/tokens/{client_id}`: deletes a refresh token.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (404 when unknown), transport errors.
    pub async fn delete(
        &self,
        user_uuid: &str,
        client_id: &str,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let path = format!("users/{}/tokens/{}", seg(user_uuid), seg(client_id));
        let call = Call::delete("refresh token deletion", path).tenant(tenant);
        self.client.run(call).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use pbx_auth_core::store::StoredToken;

    use super::Token;

    #[test]
    fn a_token_survives_the_shared_store() {
        let token: Token = serde_json::from_str(
            r#"{"token":"s3cret-token","auth_id":"alice","acl":["confd.#"],
                "metadata":{"tenant_uuid":"t1"},"expires_at":"2026-11-30T18:00:00"}"#,
        )
        .unwrap();
        let back = Token::from_stored(&token.to_stored()).unwrap();
        assert_eq!(back.token.expose_secret(), "s3cret-token");
        assert_eq!(back.auth_id, "alice");
        assert_eq!(back.acl, ["confd.#"]);
        assert_eq!(back.metadata["tenant_uuid"], "t1");
    }

    #[test]
    fn a_foreign_record_is_refused_without_quoting_it() {
        let error = Token::from_stored(b"{\"secret-ish\": 1}").unwrap_err();
        assert!(!error.to_string().contains("secret-ish"), "{error}");
        assert!(Token::from_stored(b"").is_err());
    }
}
