//! `policies`: `/policies`, `/policies/{uuid}`, `/policies/{uuid}/acl/{access}`.

use crate::client::{Call, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};

group!(
    /// Policy commands.
    PoliciesApi,
    policies
);

request!(
    /// A policy to create or the new state of one (`name` is required by the server).
    pub struct PolicyRequest {
        /// Name.
        name: String,
        /// Slug (creation only).
        slug: String,
        /// Description.
        description: String,
        /// Accesses.
        acl: Vec<String>,
        /// Whether sub-tenants see it (creation only).
        shared: bool,
    }
);

response!(
    /// A policy.
    pub struct Policy {
        /// UUID.
        uuid: String,
        /// Tenant.
        tenant_uuid: Option<String>,
        /// Name.
        name: String,
        /// Slug.
        slug: Option<String>,
        /// Description.
        description: Option<String>,
        /// Accesses.
        acl: Vec<String>,
        /// Whether it is read-only.
        read_only: bool,
        /// Whether sub-tenants see it.
        shared: bool,
    }
);

/// The access as a path segment; `/` cannot travel in this path (see `add_access`).
fn access_seg(access: &str) -> Result<String, Error> {
    if access.contains('/') {
        return Err(Error::Config(
            "an access containing '/' cannot be sent in a policy's acl path; put it in the policy's whole ACL instead",
        ));
    }
    Ok(seg(access))
}

fn policy_path(policy_uuid: &str) -> String {
    format!("policies/{}", seg(policy_uuid))
}

impl PoliciesApi<'_> {
    /// `POST /policies` (every access must be one the caller may grant).
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (401 with `required_access`, 409), transport and decode errors.
    pub async fn create(
        &self,
        policy: &PolicyRequest,
        tenant: Option<&str>,
    ) -> Result<Policy, Error> {
        let call = Call::post("policy creation", "policies".to_owned())
            .json(policy)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `GET /policies/{policy_uuid}` (a slug works too).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self, policy_uuid: &str) -> Result<Policy, Error> {
        self.client
            .run(Call::get("policy", policy_path(policy_uuid)))
            .await?
            .json()
    }

    /// Changes the fields `changes` sets and keeps the others: reads the policy, merges,
    /// and sends the whole policy (`GET`, then `PUT /policies/{policy_uuid}`). The
    /// server's `PUT` replaces the whole policy (a left-out description becomes null, a
    /// left-out ACL empty). Not atomic: a change made by someone else between the two
    /// requests is overwritten.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn edit(&self, policy_uuid: &str, changes: &PolicyRequest) -> Result<Policy, Error> {
        let current = self.get(policy_uuid).await?;
        let body = crate::api::merged(&current, changes, &["name", "description", "acl"])?;
        let call = Call::put("policy update", policy_path(policy_uuid)).json(body);
        self.client.run(call).await?.json()
    }

    /// `PUT /policies/{policy_uuid}` as it is: `policy` replaces the whole policy (a
    /// left-out description becomes null, a left-out ACL empty). Use [`edit`](Self::edit)
    /// to change some fields only.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn replace(
        &self,
        policy_uuid: &str,
        policy: &PolicyRequest,
    ) -> Result<Policy, Error> {
        let call = Call::put("policy update", policy_path(policy_uuid)).json(policy);
        self.client.run(call).await?.json()
    }

    /// `DELETE /policies/{policy_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (403 when read-only), transport errors.
    pub async fn delete(&self, policy_uuid: &str) -> Result<(), Error> {
        self.client
            .run(Call::delete("policy deletion", policy_path(policy_uuid)))
            .await
            .map(drop)
    }

    /// `GET /policies` (the page has no `filtered`).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Policy>, Error> {
        let call = Call::get("policy list", "policies".to_owned())
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `PUT /policies/{policy_uuid}/acl/{access}`. The access is percent-encoded.
    ///
    /// An access containing `/` is refused before sending: the server does not decode
    /// `%2F` in this path (it would store `auth.a%2Fb` literally) and a raw `/` is another
    /// route, so no request can store it. Give such an access in the whole ACL of
    /// [`edit`](Self::edit) or [`create`](Self::create) instead.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an access containing `/`; [`Error::Http`], transport errors.
    pub async fn add_access(&self, policy_uuid: &str, access: &str) -> Result<(), Error> {
        let path = format!("{}/acl/{}", policy_path(policy_uuid), access_seg(access)?);
        self.client
            .run(Call::put("policy access addition", path))
            .await
            .map(drop)
    }

    /// `DELETE /policies/{policy_uuid}/acl/{access}`; an access containing `/` is refused
    /// before sending, as in [`add_access`](Self::add_access).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an access containing `/`; [`Error::Http`], transport errors.
    pub async fn remove_access(&self, policy_uuid: &str, access: &str) -> Result<(), Error> {
        let path = format!("{}/acl/{}", policy_path(policy_uuid), access_seg(access)?);
        self.client
            .run(Call::delete("policy access removal", path))
            .await
            .map(drop)
    }
}
