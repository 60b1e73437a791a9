//! `config`: `GET|PATCH /config`.

use serde::Serialize;
use serde_json::Value;

use crate::client::Call;
use crate::error::Error;

group!(
    /// Server configuration commands (top tenant only).
    ConfigApi,
    config
);

/// One JSON-Patch operation; the server accepts `replace` on `/debug` and
/// `/profiling_enabled`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ConfigPatch {
    /// The operation.
    pub op: String,
    /// The path.
    pub path: String,
    /// The new value.
    pub value: Value,
}

impl ConfigPatch {
    /// `{"op": "replace", "path": path, "value": value}`.
    pub fn replace(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Self {
            op: "replace".to_owned(),
            path: path.into(),
            value: value.into(),
        }
    }
}

impl ConfigApi<'_> {
    /// `GET /config`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn get(&self) -> Result<Value, Error> {
        self.client
            .run(Call::get("config", "config".to_owned()))
            .await?
            .json()
    }

    /// `PATCH /config`: applies `patch`, returns the new configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Http`], transport and decode errors.
    pub async fn patch(&self, patch: &[ConfigPatch]) -> Result<Value, Error> {
        let call = Call::new("config patch", http::Method::PATCH, "config".to_owned()).json(patch);
        self.client.run(call).await?.json()
    }
}
