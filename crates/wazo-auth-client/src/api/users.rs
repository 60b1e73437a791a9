//! `users`: `/users`, `/users/{uuid}` and its `password`, `emails`, `policies`, `groups`
//! and `sessions`; `/users/register`, `/users/password/reset`.

use pbx_auth_core::{AccessToken, Password};
use serde::Serialize;

use crate::api::groups::Group;
use crate::api::policies::Policy;
use crate::api::sessions::Session;
use crate::client::{Call, X_AUTH_TOKEN, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};

group!(
    /// User commands.
    UsersApi,
    users
);

request!(
    /// A user to create, register or the new state of one.
    pub struct UserRequest {
        /// UUID (creation only).
        uuid: String,
        /// Login (at most 256 characters).
        username: String,
        /// Password (creation and registration only).
        #[serde(serialize_with = "crate::api::expose")]
        password: Password,
        /// Main e-mail address (creation and registration only).
        email_address: String,
        /// First name.
        firstname: String,
        /// Last name.
        lastname: String,
        /// `user`, `internal` or `external_api`.
        purpose: String,
        /// `default`, `native`, `ldap` or `saml`.
        authentication_method: String,
        /// Whether the user may log in.
        enabled: bool,
    }
);

response!(
    /// One of a user's e-mail addresses.
    pub struct Email {
        /// UUID.
        uuid: String,
        /// Address.
        address: String,
        /// Whether it is the main one.
        main: bool,
        /// Whether it is confirmed.
        confirmed: bool,
    }
);

response!(
    /// A user.
    pub struct User {
        /// UUID.
        uuid: String,
        /// Login.
        username: Option<String>,
        /// First name.
        firstname: Option<String>,
        /// Last name.
        lastname: Option<String>,
        /// `user`, `internal` or `external_api`.
        purpose: Option<String>,
        /// Addresses.
        emails: Vec<Email>,
        /// Whether the user may log in.
        enabled: Option<bool>,
        /// Tenant.
        tenant_uuid: Option<String>,
        /// Authentication method.
        authentication_method: Option<String>,
    }
);

/// An address in an e-mail update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EmailUpdate {
    /// Address.
    pub address: String,
    /// Whether it is the main one (exactly one must be).
    pub main: bool,
    /// Whether it is confirmed (administrators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
}

impl EmailUpdate {
    /// An address.
    pub fn new(address: impl Into<String>, main: bool) -> Self {
        Self {
            address: address.into(),
            main,
            confirmed: None,
        }
    }

    /// Sets `confirmed`.
    #[must_use]
    pub fn confirmed(mut self, confirmed: bool) -> Self {
        self.confirmed = Some(confirmed);
        self
    }
}

/// How `reset_password` finds the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetBy<'a> {
    /// By username.
    Username(&'a str),
    /// By e-mail address.
    Email(&'a str),
    /// By username or e-mail address.
    Login(&'a str),
}

/// The fields `PUT /users/{uuid}` takes.
const USER_PUT_FIELDS: &[&str] = &[
    "username",
    "firstname",
    "lastname",
    "purpose",
    "enabled",
    "authentication_method",
];

fn user_path(user_uuid: &str) -> String {
    format!("users/{}", seg(user_uuid))
}

impl UsersApi<'_> {
    /// `POST /users`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (409 when the login exists), transport and decode errors.
    pub async fn create(&self, user: &UserRequest, tenant: Option<&str>) -> Result<User, Error> {
        let call = Call::post("user creation", "users".to_owned())
            .json(user)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `POST /users/register` (disabled on stock servers: 404).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn register(&self, user: &UserRequest) -> Result<User, Error> {
        let call = Call::post("user registration", "users/register".to_owned())
            .json(user)
            .no_token();
        self.client.run(call).await?.json()
    }

    /// `GET /users/{user_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self, user_uuid: &str, tenant: Option<&str>) -> Result<User, Error> {
        let call = Call::get("user", user_path(user_uuid)).tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// Changes the fields `changes` sets and keeps the others: reads the user, merges,
    /// and sends the whole user (`GET`, then `PUT /users/{user_uuid}`). The server's `PUT`
    /// replaces the whole user, so sending only the changes would reset the rest
    /// (names to null, `enabled` to true, `purpose` to `user`). Not atomic: a change made
    /// by someone else between the two requests is overwritten.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn edit(
        &self,
        user_uuid: &str,
        changes: &UserRequest,
        tenant: Option<&str>,
    ) -> Result<User, Error> {
        let current = self.get(user_uuid, tenant).await?;
        let body = crate::api::merged(&current, changes, USER_PUT_FIELDS)?;
        self.replace_body(user_uuid, body, tenant).await
    }

    /// `PUT /users/{user_uuid}` as it is: `user` replaces the whole user, and every field
    /// it leaves out takes the server's default (null names, `enabled` true, `purpose`
    /// `user`). Use [`edit`](Self::edit) to change some fields only.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn replace(
        &self,
        user_uuid: &str,
        user: &UserRequest,
        tenant: Option<&str>,
    ) -> Result<User, Error> {
        let body = serde_json::to_value(user)
            .map_err(|_| Error::Config("the user must serialize as an object"))?;
        self.replace_body(user_uuid, body, tenant).await
    }

    async fn replace_body(
        &self,
        user_uuid: &str,
        body: serde_json::Value,
        tenant: Option<&str>,
    ) -> Result<User, Error> {
        let call = Call::put("user update", user_path(user_uuid))
            .json(body)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `DELETE /users/{user_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete(&self, user_uuid: &str, tenant: Option<&str>) -> Result<(), Error> {
        let call = Call::delete("user deletion", user_path(user_uuid)).tenant(tenant);
        self.client.run(call).await.map(drop)
    }

    /// `GET /users`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<User>, Error> {
        let call = Call::get("user list", "users".to_owned())
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `PUT /users/{user_uuid}/password`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (405 `password-managed-externally`), transport errors.
    pub async fn change_password(
        &self,
        user_uuid: &str,
        old_password: &Password,
        new_password: &Password,
    ) -> Result<(), Error> {
        let body = serde_json::json!({
            "old_password": old_password.expose_secret(),
            "new_password": new_password.expose_secret(),
        });
        let call = Call::put(
            "password change",
            format!("{}/password", user_path(user_uuid)),
        )
        .json(body);
        self.client.run(call).await.map(drop)
    }

    /// `GET /users/password/reset`: sends a reset e-mail (always 204, even for unknown
    /// users).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn reset_password(&self, by: ResetBy<'_>) -> Result<(), Error> {
        let (key, value) = match by {
            ResetBy::Username(v) => ("username", v),
            ResetBy::Email(v) => ("email", v),
            ResetBy::Login(v) => ("login", v),
        };
        let call = Call::get("password reset", "users/password/reset".to_owned())
            .param(key, value)
            .no_token();
        self.client.run(call).await.map(drop)
    }

    /// `POST /users/password/reset?user_uuid=...`: sets a password (`None` deletes it),
    /// authorized by `token` (from the reset e-mail) or the client's token.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (401), transport errors.
    pub async fn set_password(
        &self,
        user_uuid: &str,
        password: Option<&Password>,
        token: Option<&AccessToken>,
    ) -> Result<(), Error> {
        let body = serde_json::json!({ "password": password.map(Password::expose_secret) });
        let mut call = Call::post("password set", "users/password/reset".to_owned())
            .param("user_uuid", user_uuid)
            .json(body);
        if let Some(token) = token {
            let mut value = http::HeaderValue::try_from(token.expose_secret())
                .map_err(|_| Error::Config("the token is not a valid header value"))?;
            value.set_sensitive(true);
            call = call.header(X_AUTH_TOKEN, value);
        }
        self.client.run(call).await.map(drop)
    }

    /// `PUT /users/{user_uuid}/emails`: replaces the user's addresses (exactly one
    /// `main`); known addresses keep their confirmation, new ones are unconfirmed. Returns
    /// the new list.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (400 `invalid-data` for zero or several main addresses, duplicates or
    /// a bad address; 409 for an address another user has), transport and decode errors.
    pub async fn update_emails(
        &self,
        user_uuid: &str,
        emails: &[EmailUpdate],
    ) -> Result<Vec<Email>, Error> {
        let call = Call::put("email update", format!("{}/emails", user_path(user_uuid)))
            .json(serde_json::json!({ "emails": emails }));
        self.client.run(call).await?.json()
    }

    /// `GET /users/{user_uuid}/emails/{email_uuid}/confirm`: sends a confirmation e-mail.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (409 when already confirmed), transport errors.
    pub async fn request_confirmation_email(
        &self,
        user_uuid: &str,
        email_uuid: &str,
    ) -> Result<(), Error> {
        let path = format!(
            "{}/emails/{}/confirm",
            user_path(user_uuid),
            seg(email_uuid)
        );
        self.client
            .run(Call::get("confirmation request", path))
            .await
            .map(drop)
    }

    /// `PUT /users/{user_uuid}/policies/{policy_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (401 with `required_access`), transport errors.
    pub async fn add_policy(
        &self,
        user_uuid: &str,
        policy_uuid: &str,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let path = format!("{}/policies/{}", user_path(user_uuid), seg(policy_uuid));
        self.client
            .run(Call::put("user policy addition", path).tenant(tenant))
            .await
            .map(drop)
    }

    /// `DELETE /users/{user_uuid}/policies/{policy_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn remove_policy(
        &self,
        user_uuid: &str,
        policy_uuid: &str,
        tenant: Option<&str>,
    ) -> Result<(), Error> {
        let path = format!("{}/policies/{}", user_path(user_uuid), seg(policy_uuid));
        self.client
            .run(Call::delete("user policy removal", path).tenant(tenant))
            .await
            .map(drop)
    }

    /// `GET /users/{user_uuid}/groups`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_groups(
        &self,
        user_uuid: &str,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Group>, Error> {
        let call = Call::get("user groups", format!("{}/groups", user_path(user_uuid)))
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `GET /users/{user_uuid}/policies`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_policies(
        &self,
        user_uuid: &str,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Policy>, Error> {
        let call = Call::get(
            "user policies",
            format!("{}/policies", user_path(user_uuid)),
        )
        .list(params)
        .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `GET /users/{user_uuid}/sessions`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get_sessions(
        &self,
        user_uuid: &str,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Session>, Error> {
        let call = Call::get(
            "user sessions",
            format!("{}/sessions", user_path(user_uuid)),
        )
        .list(params)
        .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `DELETE /users/{user_uuid}/sessions/{session_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn remove_session(&self, user_uuid: &str, session_uuid: &str) -> Result<(), Error> {
        let path = format!("{}/sessions/{}", user_path(user_uuid), seg(session_uuid));
        self.client
            .run(Call::delete("user session removal", path))
            .await
            .map(drop)
    }
}
