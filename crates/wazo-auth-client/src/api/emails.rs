//! `emails`: `PUT /emails/{email_uuid}/confirm`.

use crate::client::{Call, seg};
use crate::error::Error;

group!(
    /// E-mail confirmation commands.
    EmailsApi,
    emails
);

impl EmailsApi<'_> {
    /// `PUT /emails/{email_uuid}/confirm`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn confirm(&self, email_uuid: &str) -> Result<(), Error> {
        let call = Call::put(
            "email confirmation",
            format!("emails/{}/confirm", seg(email_uuid)),
        );
        self.client.run(call).await.map(drop)
    }
}
