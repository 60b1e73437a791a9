//! `idp`: `GET /idp`, `PUT|DELETE /idp/{idp_type}/users[/{user_uuid}]`.

use crate::client::{Call, seg};
use crate::error::Error;
use crate::list::Page;

group!(
    /// Identity-provider commands.
    IdpApi,
    idp
);

impl IdpApi<'_> {
    /// `GET /idp`: the identity-provider types (strings, although the Swagger says objects).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(&self) -> Result<Page<String>, Error> {
        self.client
            .run(Call::get("idp list", "idp".to_owned()))
            .await?
            .json()
    }

    /// `PUT /idp/{idp_type}/users/{user_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (404 `unknown-idp-type`), transport errors.
    pub async fn add_user(&self, idp_type: &str, user_uuid: &str) -> Result<(), Error> {
        let call = Call::put(
            "idp user addition",
            format!("idp/{}/users/{}", seg(idp_type), seg(user_uuid)),
        );
        self.client.run(call).await.map(drop)
    }

    /// `PUT /idp/{idp_type}/users` with `{"users": [{"uuid": ...}]}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn add_users(&self, idp_type: &str, user_uuids: &[&str]) -> Result<(), Error> {
        let users: Vec<_> = user_uuids
            .iter()
            .map(|u| serde_json::json!({ "uuid": u }))
            .collect();
        let call = Call::put("idp users update", format!("idp/{}/users", seg(idp_type)))
            .json(serde_json::json!({ "users": users }));
        self.client.run(call).await.map(drop)
    }

    /// `DELETE /idp/{idp_type}/users/{user_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn remove_user(&self, idp_type: &str, user_uuid: &str) -> Result<(), Error> {
        let call = Call::delete(
            "idp user removal",
            format!("idp/{}/users/{}", seg(idp_type), seg(user_uuid)),
        );
        self.client.run(call).await.map(drop)
    }
}
