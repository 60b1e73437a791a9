//! The shared Fernet key: from a string, an environment variable or a key file.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Error;

/// The environment variable the server (and this crate's default) reads the key from.
pub const SECRET_ENV: &str = "AUTHNZERVER_SECRET";

/// The largest key file [`FernetKey::from_file`] reads.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// A Fernet key: 32 bytes, written as 44 characters of URL-safe base64.
///
/// The first 16 bytes sign (HMAC-SHA256), the last 16 encrypt (AES-128-CBC). `Debug`
/// prints no part of it, and no error ever quotes it.
#[derive(Clone)]
pub struct FernetKey {
    pub(crate) fernet: fernet::Fernet,
}

impl FernetKey {
    /// Parses a key from its text form. Surrounding whitespace is ignored, because the
    /// server strips newlines from key files too.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] when the text is not URL-safe base64 of exactly 32 bytes.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidKey("the key is empty"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| Error::InvalidKey("the key is not URL-safe base64"))?;
        if bytes.len() != 32 {
            return Err(Error::InvalidKey(
                "the key must decode to 32 bytes (44 base64 characters)",
            ));
        }
        let fernet = fernet::Fernet::new(text)
            .ok_or(Error::InvalidKey("the key is not a valid Fernet key"))?;
        Ok(Self { fernet })
    }

    /// Reads the key from a file (a trailing newline is fine).
    ///
    /// # Errors
    ///
    /// [`Error::KeyUnavailable`] when the file cannot be read, [`Error::InvalidKey`] when
    /// its content is not a key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        use std::io::Read as _;
        let unavailable = |reason: String| Error::KeyUnavailable {
            origin: format!("file {}", path.display()),
            reason,
        };
        // A key is 44 characters; a few KiB allow for whitespace, nothing allows a big file.
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_KEY_FILE_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| unavailable(e.kind().to_string()))?;
        if text.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(unavailable(format!(
                "the file is larger than {MAX_KEY_FILE_BYTES} bytes"
            )));
        }
        Self::from_text(&text)
    }

    /// Reads the key from the environment variable `var`. Like the server, a value that is
    /// not a key but names an existing file is read as a key file.
    ///
    /// # Errors
    ///
    /// [`Error::KeyUnavailable`] when the variable is unset or not UTF-8,
    /// [`Error::InvalidKey`] when it holds neither a key nor a key file's path.
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let value = std::env::var(var).map_err(|e| Error::KeyUnavailable {
            origin: format!("environment variable {var}"),
            reason: e.to_string(),
        })?;
        match Self::from_text(&value) {
            Ok(key) => Ok(key),
            Err(e) => {
                let path = Path::new(value.trim());
                if !value.trim().is_empty() && path.is_file() {
                    Self::from_file(path)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Reads the key from `AUTHNZERVER_SECRET`, as the server does.
    ///
    /// # Errors
    ///
    /// As [`FernetKey::from_env`].
    pub fn from_default_env() -> Result<Self, Error> {
        Self::from_env(SECRET_ENV)
    }

    /// A fresh random key from the operating system's CSPRNG, in its text form.
    pub fn generate() -> pbx_auth_core::Password {
        pbx_auth_core::Password::new(fernet::Fernet::generate_key())
    }
}

impl fmt::Debug for FernetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FernetKey([redacted])")
    }
}

impl std::str::FromStr for FernetKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_text(s)
    }
}
