//! Secret values: passwords, tokens and key material that must never reach a log.
//!
//! Every type here has a `Debug` that prints only its type name and `[redacted]`, no
//! `Display`, no `Serialize`, and a single way to read the value: `expose_secret()`.
//! Searching the code for `expose_secret` finds every place a secret leaves its box.

use std::fmt;

/// Declares a string-backed secret newtype. A macro keeps the four types identical in
/// behaviour; they are distinct types so a password can never be passed where a token goes.
macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(Box<str>);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into().into_boxed_str())
            }

            /// Returns the secret value.
            ///
            /// # Security
            ///
            /// The returned string is the secret itself: do not log it, format it into an
            /// error or keep it longer than needed.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl AsRef<$name> for $name {
            fn as_ref(&self) -> &$name {
                self
            }
        }
    };
}

secret_string! {
    /// A password or client secret.
    Password
}

secret_string! {
    /// A bearer-style access token (OAuth access token, wazo token, personal access token).
    AccessToken
}

secret_string! {
    /// A refresh token. Rotating servers hand out a new one on every use.
    RefreshToken
}

/// Binary key material: derived keys, Fernet keys, HMAC keys.
#[derive(Clone)]
pub struct KeyMaterial(Box<[u8]>);

impl KeyMaterial {
    /// Wraps key bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into().into_boxed_slice())
    }

    /// Returns the key bytes.
    ///
    /// # Security
    ///
    /// The returned slice is the key itself: do not log it or keep copies of it.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial([redacted; {} bytes])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let values = [
            format!("{:?}", Password::new("hunter2-secret")),
            format!("{:?}", AccessToken::new("hunter2-secret")),
            format!("{:?}", RefreshToken::new("hunter2-secret")),
            format!("{:?}", KeyMaterial::new(b"hunter2-secret".to_vec())),
        ];
        for text in values {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("redacted"), "{text}");
        }
    }

    #[test]
    fn expose_returns_value() {
        assert_eq!(Password::from("p").expose_secret(), "p");
        assert_eq!(KeyMaterial::new(vec![1, 2]).expose_secret(), &[1, 2]);
    }
}
