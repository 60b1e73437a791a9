//! Tokens that outlive a run (sipgate grants, wazo refresh tokens): the library's
//! `FileStore` (JSON, mode 0600, replaced atomically) in the data directory, or with the
//! `keyring` feature and `store = "keyring"` in the profile, the OS keyring.

use std::sync::Arc;

use sipgate_oauth::{FileStore, TokenStore};

use crate::Ctx;
use crate::config::data_dir;
use crate::error::{CliError, Result};

/// The store for `what` (`sipgate`, `wazo`) in the current profile.
pub(crate) fn open(ctx: &Ctx, what: &str) -> Result<Arc<dyn TokenStore>> {
    let name = format!("{what}-{}", ctx.profile.name());
    let kind = std::env::var("PBX_AUTH_STORE")
        .ok()
        .or_else(|| ctx.profile.get(None, "store"))
        .unwrap_or_else(|| "file".to_owned());
    match kind.as_str() {
        "file" => {
            let dir = data_dir()?;
            create_private_dir(&dir)?;
            Ok(Arc::new(FileStore::new(dir.join(format!("{name}.json")))))
        }
        #[cfg(feature = "keyring")]
        "keyring" => Ok(Arc::new(keyring_store::KeyringStore::new(&name)?)),
        #[cfg(not(feature = "keyring"))]
        "keyring" => Err(CliError::usage("this build has no keyring support")
            .hint("install with `cargo install pbx-auth-cli --features keyring`")),
        _ => {
            Err(CliError::usage(format!("unknown store `{kind}`")).hint("use `file` or `keyring`"))
        }
    }
}

/// Creates the data directory, readable by its owner only where the platform allows.
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| {
        CliError::usage(format!(
            "the token directory {} cannot be created: {}",
            dir.display(),
            e.kind()
        ))
        .hint("set PBX_AUTH_DATA_DIR to a writable directory")
    })
}

/// Where the store keeps its tokens, for messages.
pub(crate) fn describe(ctx: &Ctx, what: &str) -> String {
    let name = format!("{what}-{}", ctx.profile.name());
    match data_dir() {
        Ok(dir) => dir.join(format!("{name}.json")).display().to_string(),
        Err(_) => name,
    }
}

#[cfg(feature = "keyring")]
mod keyring_store {
    use std::time::{Duration, UNIX_EPOCH};

    use pbx_auth_core::{AccessToken, RefreshToken};
    use sipgate_oauth::{Error, TokenSet, TokenStore};

    use crate::error::{CliError, Result};

    /// One keyring entry (service `pbx-auth`, user = store name) holding the token set as
    /// JSON.
    pub(super) struct KeyringStore {
        entry: keyring::Entry,
        name: String,
    }

    impl std::fmt::Debug for KeyringStore {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("KeyringStore")
                .field("name", &self.name)
                .finish_non_exhaustive()
        }
    }

    impl KeyringStore {
        pub(super) fn new(name: &str) -> Result<Self> {
            let entry = keyring::Entry::new("pbx-auth", name)
                .map_err(|_| CliError::usage("the OS keyring cannot be opened"))?;
            Ok(Self {
                entry,
                name: name.to_owned(),
            })
        }
    }

    fn store_error(what: &str) -> Error {
        // `Error::Store` is the library's variant for store failures; the keyring's own
        // message is left out because some backends echo the secret's attributes.
        Error::Store(format!("the OS keyring could not {what} the tokens"))
    }

    impl TokenStore for KeyringStore {
        fn load(&self) -> Result<Option<TokenSet>, Error> {
            let text = match self.entry.get_password() {
                Ok(text) => text,
                Err(keyring::Error::NoEntry) => return Ok(None),
                Err(_) => return Err(store_error("read")),
            };
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|_| store_error("parse"))?;
            let access = value["access_token"]
                .as_str()
                .ok_or_else(|| store_error("parse"))?;
            let refresh = value["refresh_token"].as_str().map(RefreshToken::new);
            let expires = value["expires_at"]
                .as_u64()
                .map(|s| UNIX_EPOCH + Duration::from_secs(s));
            Ok(Some(TokenSet::new(
                AccessToken::new(access),
                refresh,
                expires,
            )))
        }

        fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
            let value = serde_json::json!({
                "access_token": tokens.access_token.expose_secret(),
                "refresh_token": tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
                "expires_at": tokens
                    .expires_at
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
            });
            self.entry
                .set_password(&value.to_string())
                .map_err(|_| store_error("save"))
        }

        fn clear(&self) -> Result<(), Error> {
            match self.entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(_) => Err(store_error("delete")),
            }
        }
    }
}
