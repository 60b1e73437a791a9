//! `sessions`: `GET /sessions`, `DELETE /sessions/{session_uuid}`.

use crate::client::{Call, seg};
use crate::error::Error;
use crate::list::{ListParams, Page};

group!(
    /// Session commands.
    SessionsApi,
    sessions
);

response!(
    /// A session.
    pub struct Session {
        /// Its UUID.
        uuid: String,
        /// Whether it is a mobile session.
        mobile: bool,
        /// Its tenant.
        tenant_uuid: Option<String>,
        /// Its user.
        user_uuid: Option<String>,
    }
);

impl SessionsApi<'_> {
    /// `GET /sessions`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<Session>, Error> {
        let call = Call::get("session list", "sessions".to_owned())
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }

    /// `DELETE /sessions/{session_uuid}`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport errors.
    pub async fn delete(&self, session_uuid: &str, tenant: Option<&str>) -> Result<(), Error> {
        let call = Call::delete(
            "session deletion",
            format!("sessions/{}", seg(session_uuid)),
        )
        .tenant(tenant);
        self.client.run(call).await.map(drop)
    }
}
