//! `groups`: `/groups`, `/groups/{uuid}`, `/groups/{uuid}/users[/{user_uuid}]`,
//! `/groups/{uuid}/policies[/{policy_uuid}]`.

use crate::api::policies::Policy;
use crate::api::users::User;
use crate::client::{Call, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};

group!(
    /// Group commands.
    GroupsApi,
    groups
);

request!(
    /// A group to create or the new state of one (`name` is required by the server).
    pub struct GroupRequest {
        /// Name (at most 128 characters).
        name: String,
        /// Slug (at most 80 characters).
        slug: String,
    }
);

response!(
    /// A group.
    pub struct Group {
        /// UUID.
        uuid: String,
        /// Name.
        name: String,
        /// Slug.
        slug: Option<String>,
        /// Tenant.
        tenant_uuid: Option<String>,
        /// Whether it is read-only.
        read_only: bool,
        /// Whether the system manages it.
        system_managed: bool,
    }
);

fn group_path(group_uuid: &str) -> String {
    format!("groups/{}", seg(group_uuid))
}

impl GroupsApi<'_> {
    /// `POST /groups`, in the scoping tenant.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn create(&self, group: &GroupRequest, tenant: Option<&str>) -> Result<Group, Error> {
        let call = Call::post("group creation", "groups".to_owned())
            .json(group)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `GET /groups/{group_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self, group_uuid: &str) -> Result<Group, Error> {
        self.client
            .run(Call::get("group", group_path(group_uuid)))
            .await?
            .json()
    }

    /// `PUT /groups/{group_uuid}`: the group's name (the only field the server's `PUT`
    /// changes; the slug stays). `name` is required, so no field can be reset by accident.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `name` is unset; [`Error::Http`] (403 for system-managed
    /// groups), transport and decode errors.
    pub async fn edit(&self, group_uuid: &str, group: &GroupRequest) -> Result<Group, Error> {
        if group.name.is_none() {
            return Err(Error::Config("a group edit needs the name"));
        }
        let call = Call::put("group update", group_path(group_uuid)).json(group);
        self.client.run(call).await?.json()
    }

    /// `DELETE /groups/{group_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete(&self, group_uuid: &str) -> Result<(), Error> {
        self.client
            .run(Call::delete("group deletion", group_path(group_uuid)))
            .await
            .map(drop)
    }

    /// `GET /groups`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Group>, Error> {
        let call = Call::get("group list", "groups".to_owned())
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `GET /groups/{group_uuid}/users`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_users(
        &self,
        group_uuid: &str,
        params: &ListParams,
    ) -> Result<Page<User>, Error> {
        let call =
            Call::get("group users", format!("{}/users", group_path(group_uuid))).list(params);
        self.client.run(call).await?.json()
    }

    /// `PUT /groups/{group_uuid}/users/{user_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (400 `missmatching-tenant`), transport errors.
    pub async fn add_user(&self, group_uuid: &str, user_uuid: &str) -> Result<(), Error> {
        let path = format!("{}/users/{}", group_path(group_uuid), seg(user_uuid));
        self.client
            .run(Call::put("group user addition", path))
            .await
            .map(drop)
    }

    /// `DELETE /groups/{group_uuid}/users/{user_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn remove_user(&self, group_uuid: &str, user_uuid: &str) -> Result<(), Error> {
        let path = format!("{}/users/{}", group_path(group_uuid), seg(user_uuid));
        self.client
            .run(Call::delete("group user removal", path))
            .await
            .map(drop)
    }

    /// `GET /groups/{group_uuid}/policies`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_policies(
        &self,
        group_uuid: &str,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Policy>, Error> {
        let call = Call::get(
            "group policies",
            format!("{}/policies", group_path(group_uuid)),
        )
        .list(params)
        .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `PUT /groups/{group_uuid}/policies/{policy_uuid}` (the caller must hold every access
    /// of the policy).
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (401 with `required_access`), transport errors.
    pub async fn add_policy(
        &self,
        group_uuid: &str,
        policy_uuid: &str,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let path = format!("{}/policies/{}", group_path(group_uuid), seg(policy_uuid));
        self.client
            .run(Call::put("group policy addition", path).tenant(tenant))
            .await
            .map(drop)
    }

    /// `DELETE /groups/{group_uuid}/policies/{policy_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn remove_policy(
        &self,
        group_uuid: &str,
        policy_uuid: &str,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let path = format!("{}/policies/{}", group_path(group_uuid), seg(policy_uuid));
        self.client
            .run(Call::delete("group policy removal", path).tenant(tenant))
            .await
            .map(drop)
    }
}
