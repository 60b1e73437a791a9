//! `ldap_config`: `GET|PUT|DELETE /backends/ldap`.

use pbx_auth_core::Password;

use crate::client::Call;
use crate::error::Error;

group!(
    /// LDAP backend configuration commands.
    LdapConfigApi,
    ldap_config
);

request!(
    /// The LDAP configuration to store (`host`, `port`, `user_base_dn`,
    /// `user_login_attribute` and `user_email_attribute` are required by the server).
    pub struct LdapConfigRequest {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// 2 or 3.
        protocol_version: u8,
        /// `ldaps` or `tls`.
        protocol_security: String,
        /// Bind DN.
        bind_dn: String,
        /// Bind password (write-only).
        #[serde(serialize_with = "crate::api::expose")]
        bind_password: Password,
        /// Base DN of users.
        user_base_dn: String,
        /// Login attribute.
        user_login_attribute: String,
        /// E-mail attribute.
        user_email_attribute: String,
        /// Search filters.
        search_filters: String,
    }
);

response!(
    /// The stored LDAP configuration (every field `null` when unconfigured).
    pub struct LdapConfig {
        /// Tenant.
        tenant_uuid: Option<String>,
        /// Host.
        host: Option<String>,
        /// Port.
        port: Option<u16>,
        /// 2 or 3.
        protocol_version: Option<u8>,
        /// `ldaps` or `tls`.
        protocol_security: Option<String>,
        /// Bind DN.
        bind_dn: Option<String>,
        /// Base DN of users.
        user_base_dn: Option<String>,
        /// Login attribute.
        user_login_attribute: Option<String>,
        /// E-mail attribute.
        user_email_attribute: Option<String>,
        /// Search filters.
        search_filters: Option<String>,
    }
);

impl LdapConfigApi<'_> {
    /// `GET /backends/ldap`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self, tenant: Option<&str>) -> Result<LdapConfig, Error> {
        let call = Call::get("ldap config", "backends/ldap".to_owned()).tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `PUT /backends/ldap`: creates or replaces the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn update(
        &self,
        config: &LdapConfigRequest,
        tenant: Option<&str>,
    ) -> Result<LdapConfig, Error> {
        let call = Call::put("ldap config update", "backends/ldap".to_owned())
            .json(config)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `DELETE /backends/ldap`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete(&self, tenant: Option<&str>) -> Result<(), Error> {
        let call = Call::delete("ldap config deletion", "backends/ldap".to_owned()).tenant(tenant);
        self.client.run(call).await.map(drop)
    }
}
