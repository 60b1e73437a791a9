//! The command groups of the wazo-auth API, one module each, as in the Python client.

/// A request body: every field optional, only set fields are sent, unknown fields can be
/// added with `field()`.
macro_rules! request {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, serde::Serialize)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Fields this crate does not know, sent as they are.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// Nothing set.
            pub fn new() -> Self {
                Self::default()
            }

            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                #[must_use]
                pub fn $field(mut self, value: impl crate::api::IntoField<$ty>) -> Self {
                    self.$field = Some(value.into_field());
                    self
                }
            )*

            /// Sets a field this crate does not know.
            #[must_use]
            pub fn field(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
                self.extra.insert(name.into(), value.into());
                self
            }
        }
    };
}

/// A response object: every field defaulted when missing, unknown fields kept in
/// `extra`.
macro_rules! response {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(default)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// Fields this crate does not know, kept as they came.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}

/// A command group: a borrowed client.
macro_rules! group {
    ($(#[$meta:meta])* $name:ident, $method:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a> {
            client: &'a crate::Client,
        }

        impl crate::Client {
            $(#[$meta])*
            pub fn $method(&self) -> $name<'_> {
                $name { client: self }
            }
        }
    };
}

pub mod admin;
pub mod backends;
pub mod config;
pub mod emails;
pub mod external;
pub mod groups;
pub mod idp;
pub mod ldap_config;
pub mod policies;
pub mod refresh_tokens;
pub mod saml;
pub mod saml_config;
pub mod sessions;
pub mod status;
pub mod tenants;
pub mod token;
pub mod users;

/// Serializes a secret for the wire (and only there).
pub(crate) fn expose<S: serde::Serializer>(
    value: &Option<pbx_auth_core::Password>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_str(v.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// What a request setter accepts for a field of type `T`: a `T` itself, or a borrowed
/// form (`&str` for `String` and secrets, string slices for lists of strings). Unlike
/// `Into`, it lets integer literals infer their type.
pub trait IntoField<T> {
    /// Converts to the field's type.
    fn into_field(self) -> T;
}

impl<T> IntoField<T> for T {
    fn into_field(self) -> T {
        self
    }
}

impl IntoField<String> for &str {
    fn into_field(self) -> String {
        self.to_owned()
    }
}

impl IntoField<String> for &String {
    fn into_field(self) -> String {
        self.clone()
    }
}

impl IntoField<pbx_auth_core::Password> for &str {
    fn into_field(self) -> pbx_auth_core::Password {
        pbx_auth_core::Password::new(self)
    }
}

impl IntoField<pbx_auth_core::RefreshToken> for &str {
    fn into_field(self) -> pbx_auth_core::RefreshToken {
        pbx_auth_core::RefreshToken::new(self)
    }
}

impl IntoField<Vec<String>> for Vec<&str> {
    fn into_field(self) -> Vec<String> {
        self.into_iter().map(str::to_owned).collect()
    }
}

impl IntoField<Vec<String>> for &[&str] {
    fn into_field(self) -> Vec<String> {
        self.iter().map(|s| (*s).to_owned()).collect()
    }
}

impl<const N: usize> IntoField<Vec<String>> for [&str; N] {
    fn into_field(self) -> Vec<String> {
        self.into_iter().map(str::to_owned).collect()
    }
}

/// The body of a fetch-merge-put edit: the `fields` the server's `PUT` takes, from the
/// object as it is now (`current`), overlaid with what `changes` sets. The server's `PUT`
/// replaces the whole object (a field left out becomes null or its default), so an edit
/// that sent only the changed fields would wipe the others.
pub(crate) fn merged<C: serde::Serialize, R: serde::Serialize>(
    current: &C,
    changes: &R,
    fields: &[&str],
) -> Result<serde_json::Value, crate::Error> {
    let as_object = |value: serde_json::Result<serde_json::Value>| match value {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(crate::Error::Config("an edit must serialize as an object")),
    };
    let current = as_object(serde_json::to_value(current))?;
    let changes = as_object(serde_json::to_value(changes))?;
    let mut body: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter_map(|f| current.get(*f).map(|v| ((*f).to_owned(), v.clone())))
        .collect();
    body.extend(changes);
    Ok(serde_json::Value::Object(body))
}
