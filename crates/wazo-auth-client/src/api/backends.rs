//! `backends`: `GET /backends`.

use crate::client::Call;
use crate::error::Error;

group!(
    /// Authentication backend commands.
    BackendsApi,
    backends
);

impl BackendsApi<'_> {
    /// `GET /backends`: the names of the enabled backends.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn list(&self) -> Result<Vec<String>, Error> {
        let call = Call::get("backend list", "backends".to_owned()).no_token();
        self.client.run(call).await?.data()
    }
}
