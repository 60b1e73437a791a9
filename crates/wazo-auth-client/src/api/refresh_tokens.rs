//! `refresh_tokens`: `GET /tokens`.

use crate::client::Call;
use crate::error::Error;
use crate::list::{ListParams, Page};

pub use crate::api::token::RefreshTokenInfo;

group!(
    /// Refresh-token commands across users.
    RefreshTokensApi,
    refresh_tokens
);

impl RefreshTokensApi<'_> {
    /// `GET /tokens`: every refresh token visible in the tenant (order by `created_at`,
    /// `client_id` or `mobile`).
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(
        &self,
        params: &ListParams,
        tenant: Option<&str>,
    ) -> Result<Page<RefreshTokenInfo>, Error> {
        let call = Call::get("refresh token list", "tokens".to_owned())
            .list(params)
            .tenant(tenant);
        self.client.run(call).await?.json()
    }
}
