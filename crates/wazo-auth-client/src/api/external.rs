//! `external`: per-user external auth data (`/users/{user_uuid}/external/...`) and
//! per-tenant external auth configuration (`/external/{auth_type}/config`).

use serde_json::Value;

use crate::client::{Call, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};

group!(
    /// External authentication commands (google, microsoft, mobile).
    ExternalApi,
    external
);

response!(
    /// One external auth of a user.
    pub struct ExternalAuth {
        /// `google`, `microsoft`, `mobile`, ...
        #[serde(rename = "type")]
        auth_type: String,
        /// Whether it is enabled for the user.
        enabled: bool,
        /// Plugin data.
        data: Value,
        /// Plugin information.
        plugin_info: Value,
    }
);

response!(
    /// A user connected to an external auth.
    pub struct ConnectedUser {
        /// The user's UUID.
        uuid: String,
    }
);

fn user_path(user_uuid: &str, auth_type: &str) -> String {
    format!("users/{}/external/{}", seg(user_uuid), seg(auth_type))
}

fn config_path(auth_type: &str) -> String {
    format!("external/{}/config", seg(auth_type))
}

impl ExternalApi<'_> {
    /// `POST /users/{user_uuid}/external/{auth_type}` (plugins answer 200 or 201).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn create(
        &self,
        auth_type: &str,
        user_uuid: &str,
        data: &Value,
    ) -> Result<Value, Error> {
        let call = Call::post("external auth creation", user_path(user_uuid, auth_type)).json(data);
        self.client.run(call).await?.json()
    }

    /// `GET /users/{user_uuid}/external/{auth_type}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(
        &self,
        auth_type: &str,
        user_uuid: &str,
        tenant: Option<&str>,
    ) -> Result<Value, Error> {
        let call = Call::get("external auth", user_path(user_uuid, auth_type)).tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `PUT /users/{user_uuid}/external/{auth_type}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn update(
        &self,
        auth_type: &str,
        user_uuid: &str,
        data: &Value,
    ) -> Result<Value, Error> {
        let call = Call::put("external auth update", user_path(user_uuid, auth_type)).json(data);
        self.client.run(call).await?.json()
    }

    /// `DELETE /users/{user_uuid}/external/{auth_type}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete(&self, auth_type: &str, user_uuid: &str) -> Result<(), Error> {
        let call = Call::delete("external auth deletion", user_path(user_uuid, auth_type));
        self.client.run(call).await.map(drop)
    }

    /// `GET /users/{user_uuid}/external/mobile/sender_id`: the push sender id of the
    /// mobile plugin (not in the Python client).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn mobile_sender_id(&self, user_uuid: &str) -> Result<Value, Error> {
        let path = format!("{}/sender_id", user_path(user_uuid, "mobile"));
        self.client
            .run(Call::get("mobile sender id", path))
            .await?
            .json()
    }

    /// `GET /users/{user_uuid}/external` (`list_` in Python).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        user_uuid: &str,
        params: &ListParams,
    ) -> Result<Page<ExternalAuth>, Error> {
        let call = Call::get(
            "external auth list",
            format!("users/{}/external", seg(user_uuid)),
        )
        .list(params);
        self.client.run(call).await?.json()
    }

    /// `GET /external/{auth_type}/users`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list_connected_users(
        &self,
        auth_type: &str,
        params: &ListParams,
    ) -> Result<Page<ConnectedUser>, Error> {
        let call = Call::get(
            "connected users",
            format!("external/{}/users", seg(auth_type)),
        )
        .list(params);
        self.client.run(call).await?.json()
    }

    /// `POST /external/{auth_type}/config`. The server's body is the JSON string `""`,
    /// so this returns nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (409 when it exists), transport errors.
    pub async fn create_config(
        &self,
        auth_type: &str,
        data: &Value,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let call = Call::post("external config creation", config_path(auth_type))
            .json(data)
            .tenant(tenant);
        self.client.run(call).await.map(drop)
    }

    /// `GET /external/{auth_type}/config`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (404 when none), transport and decode errors.
    pub async fn get_config(&self, auth_type: &str, tenant: Option<&str>) -> Result<Value, Error> {
        let call = Call::get("external config", config_path(auth_type)).tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `PUT /external/{auth_type}/config`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn update_config(
        &self,
        auth_type: &str,
        data: &Value,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let call = Call::put("external config update", config_path(auth_type))
            .json(data)
            .tenant(tenant);
        self.client.run(call).await.map(drop)
    }

    /// `DELETE /external/{auth_type}/config`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete_config(&self, auth_type: &str, tenant: Option<&str>) -> Result<(), Error> {
        let call = Call::delete("external config deletion", config_path(auth_type)).tenant(tenant);
        self.client.run(call).await.map(drop)
    }
}
