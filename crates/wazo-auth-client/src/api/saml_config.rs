//! `saml_config`: `/backends/saml`, `/backends/saml/acs_url_template`,
//! `/backends/saml/metadata`.

use pbx_auth_core::NonceSource as _;

use crate::client::{Body, Call};
use crate::error::Error;

group!(
    /// SAML backend configuration commands.
    SamlConfigApi,
    saml_config
);

request!(
    /// SAML configuration fields (sent as a form; with metadata as `multipart/form-data`).
    pub struct SamlConfigRequest {
        /// Domain UUID.
        domain_uuid: String,
        /// Entity id.
        entity_id: String,
        /// Assertion consumer service URL.
        acs_url: String,
    }
);

response!(
    /// The stored SAML configuration.
    pub struct SamlConfig {
        /// Domain UUID.
        domain_uuid: Option<String>,
        /// Entity id.
        entity_id: Option<String>,
        /// Assertion consumer service URL.
        acs_url: Option<String>,
        /// Tenant.
        tenant_uuid: Option<String>,
    }
);

fn fields(config: &SamlConfigRequest) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in [
        ("domain_uuid", &config.domain_uuid),
        ("entity_id", &config.entity_id),
        ("acs_url", &config.acs_url),
    ] {
        if let Some(v) = v {
            out.push((k.to_owned(), v.clone()));
        }
    }
    for (k, v) in &config.extra {
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        out.push((k.clone(), text));
    }
    out
}

/// A `multipart/form-data` body: the fields, then the metadata file.
fn multipart(fields: &[(String, String)], metadata: &[u8]) -> Result<(String, Vec<u8>), Error> {
    // A random boundary cannot be guessed by whoever wrote the metadata.
    let boundary = format!("wazo-{}", pbx_auth_core::OsNonce::default().hex(16));
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"metadata.xml\"\r\nContent-Type: application/xml\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(metadata);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok((format!("multipart/form-data; boundary={boundary}"), body))
}

impl SamlConfigApi<'_> {
    async fn send(
        &self,
        what: &'static str,
        method: http::Method,
        config: &SamlConfigRequest,
        metadata: Option<&[u8]>,
        tenant: Option<&str>,
    ) -> Result<crate::client::Answer, Error> {
        let mut call = Call::new(what, method, "backends/saml".to_owned()).tenant(tenant);
        let pairs = fields(config);
        match metadata {
            Some(xml) => {
                let (content_type, body) = multipart(&pairs, xml)?;
                let value = http::HeaderValue::try_from(content_type)
                    .map_err(|_| Error::Config("invalid multipart boundary"))?;
                call = call.header(http::header::CONTENT_TYPE, value);
                call.body = Body::Raw(body);
            }
            None => call.body = Body::Form(pairs),
        }
        self.client.run(call).await
    }

    /// `GET /backends/saml`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self, tenant: Option<&str>) -> Result<SamlConfig, Error> {
        let call = Call::get("saml config", "backends/saml".to_owned()).tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `POST /backends/saml` with the identity provider's metadata XML.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (400 for missing or invalid metadata), transport and decode errors.
    pub async fn create(
        &self,
        config: &SamlConfigRequest,
        metadata: &[u8],
        tenant: Option<&str>,
    ) -> Result<SamlConfig, Error> {
        self.send(
            "saml config creation",
            http::Method::POST,
            config,
            Some(metadata),
            tenant,
        )
        .await?
        .json()
    }

    /// `PUT /backends/saml`; every field optional, metadata too.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn update(
        &self,
        config: &SamlConfigRequest,
        metadata: Option<&[u8]>,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        self.send(
            "saml config update",
            http::Method::PUT,
            config,
            metadata,
            tenant,
        )
        .await
        .map(drop)
    }

    /// `DELETE /backends/saml`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete(&self, tenant: Option<&str>) -> Result<(), Error> {
        let call = Call::delete("saml config deletion", "backends/saml".to_owned()).tenant(tenant);
        self.client.run(call).await.map(drop)
    }

    /// `GET /backends/saml/acs_url_template` (sent without `Accept`).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_acs_template(&self) -> Result<String, Error> {
        let call = Call::get(
            "acs url template",
            "backends/saml/acs_url_template".to_owned(),
        )
        .no_accept();
        let value: serde_json::Value = self.client.run(call).await?.json()?;
        Ok(value
            .get("acs_url")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// `GET /backends/saml/metadata`: the SP metadata XML, raw.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn get_metadata(&self, tenant: Option<&str>) -> Result<Vec<u8>, Error> {
        let call = Call::get("saml metadata", "backends/saml/metadata".to_owned()).tenant(tenant);
        Ok(self.client.run(call).await?.body)
    }
}
