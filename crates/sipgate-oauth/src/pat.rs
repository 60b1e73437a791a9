//! [`PersonalAccessToken`]: sipgate's alternative to OAuth for one's own account — HTTP
//! Basic with the token id and the token, no login flow, no expiry.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::AUTHORIZATION;
use http::request::Parts;
use pbx_auth_core::{Authenticator, BoxFuture, Password, Receipt};

use crate::error::Error;

/// A sipgate personal access token (created in the web app, shown once).
#[derive(Clone)]
pub struct PersonalAccessToken {
    id: String,
    token: Password,
    /// The `Authorization` value, built once: it never changes.
    header: http::HeaderValue,
}

impl fmt::Debug for PersonalAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalAccessToken")
            .field("id", &self.id)
            .field("token", &self.token)
            .finish()
    }
}

impl PersonalAccessToken {
    /// A token with its id (`token-` and six characters) and value.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] (`TOKEN_ID`, `TOKEN`) for an empty value or an id with a colon,
    /// which HTTP Basic cannot carry.
    pub fn new(id: impl Into<String>, token: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let token = token.into();
        if id.is_empty() || id.contains(':') || id.chars().any(char::is_control) {
            return Err(Error::config(
                "TOKEN_ID",
                "must be non-empty without colons or control characters",
            ));
        }
        if token.is_empty() || token.chars().any(char::is_control) {
            return Err(Error::config(
                "TOKEN",
                "must be non-empty without control characters",
            ));
        }
        let header = basic_header(&id, &token)?;
        Ok(Self {
            id,
            token: Password::new(token),
            header,
        })
    }

    /// Reads `TOKEN_ID` and `TOKEN` from the environment (the names of sipgate's personal
    /// access token example).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming a missing or malformed key.
    pub fn from_env() -> Result<Self, Error> {
        let id = std::env::var("TOKEN_ID").map_err(|_| Error::config("TOKEN_ID", "is not set"))?;
        let token = std::env::var("TOKEN").map_err(|_| Error::config("TOKEN", "is not set"))?;
        Self::new(id, token)
    }

    /// The token id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// `Basic base64(id:token)`, marked sensitive. Plain Basic: sipgate does not
/// form-urlencode the parts first.
fn basic_header(id: &str, token: &str) -> Result<http::HeaderValue, Error> {
    let credentials = STANDARD.encode(format!("{id}:{token}"));
    let mut value = http::HeaderValue::try_from(format!("Basic {credentials}"))
        .map_err(|_| Error::config("TOKEN", "cannot be carried in a header"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl Authenticator for PersonalAccessToken {
    fn authorize<'a>(
        &'a self,
        parts: &'a mut Parts,
        body: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Receipt, pbx_auth_core::Error>> {
        let done = self
            .authorize_now(parts, body)
            .unwrap_or(Ok(Receipt::none()));
        Box::pin(std::future::ready(done))
    }

    fn authorize_now(
        &self,
        parts: &mut Parts,
        _body: Option<&[u8]>,
    ) -> Option<Result<Receipt, pbx_auth_core::Error>> {
        // Nothing to wait for: the header is made already.
        if !parts.headers.contains_key(AUTHORIZATION) {
            parts.headers.insert(AUTHORIZATION, self.header.clone());
        }
        Some(Ok(Receipt::none()))
    }

    fn reads_uri(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn basic_header_is_plain_and_sensitive() {
        let pat = PersonalAccessToken::new("token-ABC123", "7c3a0b8e-pat-secret").unwrap();
        let (mut parts, ()) = http::Request::new(()).into_parts();
        pat.authorize(&mut parts, None).await.unwrap();
        let value = &parts.headers[AUTHORIZATION];
        let expected = format!(
            "Basic {}",
            STANDARD.encode("token-ABC123:7c3a0b8e-pat-secret")
        );
        assert_eq!(value.to_str().unwrap(), expected);
        assert!(value.is_sensitive());
        assert!(!format!("{pat:?}").contains("pat-secret"));
    }

    #[test]
    fn bad_ids_are_typed_errors() {
        assert!(matches!(
            PersonalAccessToken::new("a:b", "t"),
            Err(Error::Config {
                key: "TOKEN_ID",
                ..
            })
        ));
        assert!(matches!(
            PersonalAccessToken::new("token-x", ""),
            Err(Error::Config { key: "TOKEN", .. })
        ));
    }
}
