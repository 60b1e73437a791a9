//! Serde glue for the core's secret types, which on purpose implement neither `Serialize`
//! nor `Deserialize`: putting a secret on the wire is spelled out field by field here.

use pbx_auth_core::{AccessToken, Password};
use serde::{Deserialize, Deserializer, Serializer};

/// A string-backed secret.
pub(crate) trait SecretStr: Sized {
    fn expose(&self) -> &str;
    fn wrap(value: String) -> Self;
}

impl SecretStr for Password {
    fn expose(&self) -> &str {
        self.expose_secret()
    }
    fn wrap(value: String) -> Self {
        Self::new(value)
    }
}

impl SecretStr for AccessToken {
    fn expose(&self) -> &str {
        self.expose_secret()
    }
    fn wrap(value: String) -> Self {
        Self::new(value)
    }
}

/// `#[serde(with = "crate::secret_serde::required")]`
pub(crate) mod required {
    use super::*;

    pub(crate) fn serialize<T: SecretStr, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.expose())
    }

    pub(crate) fn deserialize<'de, T: SecretStr, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        String::deserialize(deserializer).map(T::wrap)
    }
}

/// `#[serde(with = "crate::secret_serde::optional", default)]`
pub(crate) mod optional {
    use super::*;

    #[allow(clippy::ref_option)] // serde's `with` hands us `&Option<T>`.
    pub(crate) fn serialize<T: SecretStr, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.serialize_some(v.expose()),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: SecretStr, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        Option::<String>::deserialize(deserializer).map(|v| v.map(T::wrap))
    }
}
