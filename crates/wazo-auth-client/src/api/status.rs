//! `status`: `HEAD /status`.

use crate::client::Call;
use crate::error::Error;

group!(
    /// Service status commands.
    StatusApi,
    status
);

impl StatusApi<'_> {
    /// `HEAD /status`: `Ok` when every component is fine.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] with 503 when a component fails, transport errors.
    pub async fn check(&self) -> Result<(), Error> {
        let call = Call::new("status", http::Method::HEAD, "status".to_owned()).no_token();
        self.client.run(call).await.map(drop)
    }
}
