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
    let kind = kind(ctx);
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

/// The keyring service every entry is filed under (the user is the store's name).
#[cfg(feature = "keyring")]
const KEYRING_SERVICE: &str = "pbx-auth";

/// Which store the profile asks for: `PBX_AUTH_STORE`, then the profile's `store`, then
/// `file`.
fn kind(ctx: &Ctx) -> String {
    std::env::var("PBX_AUTH_STORE")
        .ok()
        .filter(|k| !k.is_empty())
        .or_else(|| ctx.profile.get(None, "store"))
        .unwrap_or_else(|| "file".to_owned())
}

/// Where the store keeps its tokens, for messages.
pub(crate) fn describe(ctx: &Ctx, what: &str) -> String {
    let name = format!("{what}-{}", ctx.profile.name());
    if kind(ctx) == "keyring" {
        return format!("the OS keyring (service pbx-auth, entry {name})");
    }
    match data_dir() {
        Ok(dir) => dir.join(format!("{name}.json")).display().to_string(),
        Err(_) => name,
    }
}

#[cfg(feature = "keyring")]
mod keyring_store {
    use pbx_auth_core::store::StoredToken as _;
    use sipgate_oauth::{Error, TokenSet, TokenStore};

    use crate::error::{CliError, Result};

    /// One keyring entry (service `pbx-auth`, user = store name) holding the token set in
    /// the library's stored form (the bytes its fleet store keeps).
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
            let entry = keyring::Entry::new(super::KEYRING_SERVICE, name).map_err(|_| {
                CliError::usage("the OS keyring cannot be opened")
                    .hint("use the file store: set `store = \"file\"` or PBX_AUTH_STORE=file")
            })?;
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
            match self.entry.get_secret() {
                Ok(bytes) => TokenSet::from_stored(&bytes)
                    .map(Some)
                    .map_err(|_| store_error("read")),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(_) => Err(store_error("read")),
            }
        }

        fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
            self.entry
                .set_secret(&tokens.to_stored())
                .map_err(|_| store_error("save"))
        }

        fn clear(&self) -> Result<(), Error> {
            match self.entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(_) => Err(store_error("delete")),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]

        use std::time::{Duration, UNIX_EPOCH};

        use pbx_auth_core::{AccessToken, RefreshToken};
        use sipgate_oauth::{TokenSet, TokenStore as _};

        use super::KeyringStore;

        /// The keyring crate's mock store: no persistence beyond the entry itself, and
        /// errors on demand. Set once for the whole test binary.
        fn mock_store() -> KeyringStore {
            static MOCK: std::sync::Once = std::sync::Once::new();
            MOCK.call_once(|| {
                let mock = keyring::mock::default_credential_builder();
                keyring::set_default_credential_builder(mock);
            });
            KeyringStore::new("sipgate-test").unwrap()
        }

        fn fail_next(store: &KeyringStore, message: &str) {
            let mock: &keyring::mock::MockCredential =
                store.entry.get_credential().downcast_ref().unwrap();
            mock.set_error(keyring::Error::Invalid(
                message.to_owned(),
                message.to_owned(),
            ));
        }

        #[test]
        fn tokens_round_trip_through_the_keyring_and_are_forgotten() {
            let store = mock_store();
            assert!(store.load().unwrap().is_none(), "empty at first");
            let mut tokens = TokenSet::new(
                AccessToken::new("canary-access"),
                Some(RefreshToken::new("canary-refresh")),
                Some(UNIX_EPOCH + Duration::from_secs(4_000_000_000)),
            );
            tokens.scopes = Some(vec!["account:read".to_owned(), "history:read".to_owned()]);
            store.save(&tokens).unwrap();
            let back = store.load().unwrap().unwrap();
            assert_eq!(back.access_token.expose_secret(), "canary-access");
            assert_eq!(
                back.refresh_token.unwrap().expose_secret(),
                "canary-refresh"
            );
            assert_eq!(back.expires_at, tokens.expires_at);
            assert_eq!(back.scopes, tokens.scopes);
            store.clear().unwrap();
            assert!(store.load().unwrap().is_none(), "forgotten");
            store.clear().unwrap();
        }

        #[test]
        fn keyring_failures_are_store_errors_without_the_secret() {
            let store = mock_store();
            let tokens = TokenSet::new(AccessToken::new("canary-access"), None, None);
            fail_next(&store, "canary-access");
            let err = store.save(&tokens).unwrap_err();
            assert!(matches!(&err, sipgate_oauth::Error::Store(_)), "{err:?}");
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
            fail_next(&store, "canary-access");
            let err = store.load().unwrap_err();
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");

            // Bytes that are not a token set are an error that does not quote them.
            store.entry.set_secret(b"canary-not-json").unwrap();
            let err = store.load().unwrap_err();
            assert!(matches!(&err, sipgate_oauth::Error::Store(_)), "{err:?}");
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        }
    }
}
