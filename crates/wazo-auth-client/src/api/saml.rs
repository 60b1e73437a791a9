//! `saml`: `POST /saml/sso`, `POST /saml/acs`, `GET /saml/logout`.

use crate::client::{Body, Call};
use crate::error::Error;

group!(
    /// SAML login commands.
    SamlApi,
    saml
);

response!(
    /// Where to send the browser to log in, and the session to log in with afterwards.
    pub struct SsoResponse {
        /// The identity provider's URL.
        location: String,
        /// Pass as `saml_session_id` to `POST /token`.
        saml_session_id: String,
    }
);

impl SamlApi<'_> {
    /// `POST /saml/sso` (the server answers 200; its Swagger says 201).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn sso(&self, domain: &str, redirect_url: &str) -> Result<SsoResponse, Error> {
        let call = Call::post("saml sso", "saml/sso".to_owned())
            .no_token()
            .json(serde_json::json!({ "redirect_url": redirect_url, "domain": domain }));
        self.client.run(call).await?.json()
    }

    /// `POST /saml/acs` (form-encoded, redirects not followed): the `Location` of the
    /// server's 302.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (400 for missing fields), [`Error::Decode`]-free: a missing
    /// `Location` is an empty string.
    pub async fn acs(&self, saml_response: &str, relay_state: &str) -> Result<String, Error> {
        let mut call = Call::post("saml acs", "saml/acs".to_owned()).no_token();
        call.body = Body::Form(vec![
            ("RelayState".to_owned(), relay_state.to_owned()),
            ("SAMLResponse".to_owned(), saml_response.to_owned()),
        ]);
        let answer = self.client.run_with(call, true).await?;
        Ok(answer
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    /// `GET /saml/logout`: the identity provider's logout URL. Reads `location` (what
    /// the server sends; the Python client looks for `Location` and fails), falling back to
    /// `Location`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn logout(&self) -> Result<String, Error> {
        let value: serde_json::Value = self
            .client
            .run(Call::get("saml logout", "saml/logout".to_owned()))
            .await?
            .json()?;
        Ok(value
            .get("location")
            .or_else(|| value.get("Location"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }
}
