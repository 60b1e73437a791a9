//! `tenants`: `/tenants`, `/tenants/{uuid}`, `/tenants/{uuid}/domains`.
//!
//! `add_policy`/`remove_policy` of the Python client are not offered: the server removed
//! those endpoints in 2018.

use crate::client::{Call, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};

group!(
    /// Tenant commands.
    TenantsApi,
    tenants
);

response!(
    /// A postal address.
    pub struct Address {
        /// First line.
        line_1: Option<String>,
        /// Second line.
        line_2: Option<String>,
        /// City.
        city: Option<String>,
        /// State.
        state: Option<String>,
        /// Country.
        country: Option<String>,
        /// Postal code.
        zip_code: Option<String>,
    }
);

request!(
    /// A tenant to create or the new state of one.
    pub struct TenantRequest {
        /// UUID (creation only).
        uuid: String,
        /// Name.
        name: String,
        /// Slug (at most 10 characters).
        slug: String,
        /// Contact user UUID.
        contact: String,
        /// Phone.
        phone: String,
        /// Domain names.
        domain_names: Vec<String>,
        /// Address.
        address: Address,
        /// `native`, `ldap` or `saml`.
        default_authentication_method: String,
    }
);

response!(
    /// A tenant.
    pub struct Tenant {
        /// UUID.
        uuid: String,
        /// Parent tenant.
        parent_uuid: Option<String>,
        /// Name.
        name: Option<String>,
        /// Slug.
        slug: Option<String>,
        /// Contact user UUID.
        contact: Option<String>,
        /// Phone.
        phone: Option<String>,
        /// Domain names.
        domain_names: Vec<String>,
        /// Address.
        address: Option<Address>,
        /// `native`, `ldap` or `saml`.
        default_authentication_method: Option<String>,
    }
);

response!(
    /// A tenant's domain.
    pub struct Domain {
        /// Domain name.
        name: String,
        /// UUID.
        uuid: String,
    }
);

/// The fields `PUT /tenants/{uuid}` takes.
const TENANT_PUT_FIELDS: &[&str] = &[
    "name",
    "contact",
    "phone",
    "domain_names",
    "address",
    "default_authentication_method",
];

fn tenant_path(tenant_uuid: &str) -> String {
    format!("tenants/{}", seg(tenant_uuid))
}

impl TenantsApi<'_> {
    /// `POST /tenants`, created under `parent_uuid` (sent as `Wazo-Tenant`) or the
    /// caller's tenant.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn create(
        &self,
        tenant: &TenantRequest,
        parent_uuid: Option<&str>,
    ) -> Result<Tenant, Error> {
        let call = Call::post("tenant creation", "tenants".to_owned())
            .json(tenant)
            .tenant(parent_uuid);
        self.client.run(call).await?.json()
    }

    /// `GET /tenants/{tenant_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self, tenant_uuid: &str) -> Result<Tenant, Error> {
        self.client
            .run(Call::get("tenant", tenant_path(tenant_uuid)))
            .await?
            .json()
    }

    /// Changes the fields `changes` sets and keeps the others: reads the tenant, merges,
    /// and sends the whole tenant (`GET`, then `PUT /tenants/{tenant_uuid}`). The server's
    /// `PUT` replaces the whole tenant (a left-out address or domain list is emptied). Not
    /// atomic: a change made by someone else between the two requests is overwritten.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn edit(&self, tenant_uuid: &str, changes: &TenantRequest) -> Result<Tenant, Error> {
        let current = self.get(tenant_uuid).await?;
        let body = crate::api::merged(&current, changes, TENANT_PUT_FIELDS)?;
        let call = Call::put("tenant update", tenant_path(tenant_uuid)).json(body);
        self.client.run(call).await?.json()
    }

    /// `PUT /tenants/{tenant_uuid}` as it is: `tenant` replaces the whole tenant, and
    /// every field it leaves out is emptied (null name, contact and phone, an address of
    /// nulls, no domains). Use [`edit`](Self::edit) to change some fields only.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn replace(
        &self,
        tenant_uuid: &str,
        tenant: &TenantRequest,
    ) -> Result<Tenant, Error> {
        let call = Call::put("tenant update", tenant_path(tenant_uuid)).json(tenant);
        self.client.run(call).await?.json()
    }

    /// `DELETE /tenants/{uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (403 `deleting-own-tenant-forbidden`), transport errors.
    pub async fn delete(&self, uuid: &str, tenant: Option<&str>) -> Result<(), Error> {
        let call = Call::delete("tenant deletion", tenant_path(uuid)).tenant(tenant);
        self.client.run(call).await.map(drop)
    }

    /// `GET /tenants`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Tenant>, Error> {
        let call = Call::get("tenant list", "tenants".to_owned())
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `GET /tenants/{tenant_uuid}/domains` (sent without `Accept`, as the Python client).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_domains(&self, tenant_uuid: &str) -> Result<Page<Domain>, Error> {
        let call = Call::get(
            "tenant domains",
            format!("{}/domains", tenant_path(tenant_uuid)),
        )
        .no_accept();
        self.client.run(call).await?.json()
    }

    /// `PUT /tenants/{tenant_uuid}/parent/{parent_uuid}`: moves a tenant (server 26.03;
    /// not in the Python client).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn set_parent(&self, tenant_uuid: &str, parent_uuid: &str) -> Result<(), Error> {
        let path = format!("{}/parent/{}", tenant_path(tenant_uuid), seg(parent_uuid));
        self.client
            .run(Call::put("tenant move", path))
            .await
            .map(drop)
    }
}
