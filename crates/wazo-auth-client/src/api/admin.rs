//! `admin`: `PUT /admin/users/{user_uuid}/emails`.

use crate::api::users::Email;

use crate::api::users::EmailUpdate;
use crate::client::{Call, seg};
use crate::error::Error;

group!(
    /// Administrator commands.
    AdminApi,
    admin
);

impl AdminApi<'_> {
    /// `PUT /admin/users/{user_uuid}/emails`: replaces a user's addresses, confirmed or
    /// not (exactly one must be `main`).
    ///
    /// # Errors
    ///
    /// [`Error::Http`] (400 for zero or several main addresses), transport and decode
    /// errors.
    pub async fn update_user_emails(
        &self,
        user_uuid: &str,
        emails: &[EmailUpdate],
    ) -> Result<Vec<Email>, Error> {
        let call = Call::put(
            "admin email update",
            format!("admin/users/{}/emails", seg(user_uuid)),
        )
        .json(serde_json::json!({ "emails": emails }));
        self.client.run(call).await?.json()
    }
}
