//! Tokens that outlive a run (sipgate grants, wazo refresh tokens): the library's
//! `TokenStore` over its `FileStore` (JSON, mode 0600, replaced atomically, `flock`ed) in
//! the data directory, or with the `keyring` feature and `store = "keyring"` in the
//! profile, over the OS keyring.

use sipgate_oauth::TokenStore;

use crate::Ctx;
use crate::config::data_dir;
use crate::error::{CliError, Result};

/// The store for `what` (`sipgate`, `wazo`) in the current profile.
pub(crate) fn open(ctx: &Ctx, what: &str) -> Result<TokenStore> {
    let name = format!("{what}-{}", ctx.profile.name());
    let kind = kind(ctx);
    match kind.as_str() {
        "file" => {
            let dir = data_dir()?;
            create_private_dir(&dir)?;
            Ok(TokenStore::file(dir.join(format!("{name}.json"))))
        }
        #[cfg(feature = "keyring")]
        "keyring" => Ok(TokenStore::new(
            std::sync::Arc::new(keyring_store::KeyringStore::new(&name)?),
            name,
        )),
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
    //! The library's store seam on one OS keyring entry. A keyring has no lock, so the
    //! refresh lease lives in this process: one `pbx-auth` run at a time per profile.

    use std::sync::Mutex;
    use std::time::Duration;

    use pbx_auth_core::ErrorKind;
    use pbx_auth_core::store::{Lease, SharedStore, StoreFuture, Versioned, WriteOutcome};
    use serde::{Deserialize, Serialize};

    use crate::error::{CliError, Result};

    /// What the entry holds (service `pbx-auth`, user = store name).
    #[derive(Serialize, Deserialize)]
    struct Entry {
        version: u64,
        value: Vec<u8>,
    }

    /// One keyring entry holding the token set and its version.
    pub(super) struct KeyringStore {
        entry: keyring::Entry,
        name: String,
        /// The newest fencing number granted, and the live lease.
        lease: Mutex<(u64, Option<(Lease, std::time::Instant)>)>,
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
                lease: Mutex::new((0, None)),
            })
        }

        fn read(&self) -> std::result::Result<Option<Entry>, pbx_auth_core::Error> {
            let text = match self.entry.get_password() {
                Ok(text) => text,
                Err(keyring::Error::NoEntry) => return Ok(None),
                Err(_) => return Err(store_error("read")),
            };
            serde_json::from_str(&text).map(Some).map_err(|_| {
                pbx_auth_core::Error::new(
                    ErrorKind::Protocol,
                    "the OS keyring holds tokens of an earlier release or garbage; log in again",
                )
            })
        }

        fn lease(&self) -> std::sync::MutexGuard<'_, (u64, Option<(Lease, std::time::Instant)>)> {
            self.lease
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    fn store_error(what: &str) -> pbx_auth_core::Error {
        // The keyring's own message is left out because some backends echo the secret's
        // attributes.
        pbx_auth_core::Error::new(
            ErrorKind::Transport,
            format!("the OS keyring could not {what} the tokens"),
        )
    }

    impl SharedStore for KeyringStore {
        fn load<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<Versioned>> {
            let result = self
                .read()
                .map(|e| e.map(|e| Versioned::new(e.version, e.value)));
            Box::pin(async move { result })
        }

        fn acquire<'a>(&'a self, _: &'a str, ttl: Duration) -> StoreFuture<'a, Option<Lease>> {
            let result = Lease::random_holder().map(|holder| {
                let now = std::time::Instant::now();
                let mut lease = self.lease();
                if lease.1.as_ref().is_some_and(|(_, until)| now < *until) {
                    return None;
                }
                lease.0 += 1;
                let granted = Lease::new(lease.0, holder);
                lease.1 = Some((granted.clone(), now + ttl));
                Some(granted)
            });
            Box::pin(async move { result })
        }

        fn write<'a>(
            &'a self,
            _: &'a str,
            expected: Option<u64>,
            lease: &'a Lease,
            value: &'a [u8],
        ) -> StoreFuture<'a, WriteOutcome> {
            let result = (|| {
                if lease.fence() < self.lease().0 {
                    return Ok(WriteOutcome::Fenced);
                }
                let current = self.read()?.map(|e| e.version);
                if current != expected {
                    return Ok(WriteOutcome::VersionChanged);
                }
                let version = expected.unwrap_or(0) + 1;
                let text = serde_json::to_string(&Entry {
                    version,
                    value: value.to_vec(),
                })
                .map_err(|_| store_error("encode"))?;
                self.entry
                    .set_password(&text)
                    .map_err(|_| store_error("save"))?;
                Ok(WriteOutcome::Written(version))
            })();
            Box::pin(async move { result })
        }

        fn release<'a>(&'a self, _: &'a str, lease: &'a Lease) -> StoreFuture<'a, bool> {
            let mut state = self.lease();
            let ours = state.1.as_ref().is_some_and(|(l, _)| l == lease);
            if ours {
                state.1 = None;
            }
            Box::pin(async move { Ok(ours) })
        }
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]

        use std::sync::Arc;
        use std::time::{Duration, UNIX_EPOCH};

        use pbx_auth_core::{AccessToken, RefreshToken};
        use sipgate_oauth::{TokenSet, TokenStore};

        use super::KeyringStore;

        /// The keyring crate's mock store: no persistence beyond the entry itself, and
        /// errors on demand. Set once for the whole test binary.
        fn mock_store(name: &str) -> (Arc<KeyringStore>, TokenStore) {
            static MOCK: std::sync::Once = std::sync::Once::new();
            MOCK.call_once(|| {
                let mock = keyring::mock::default_credential_builder();
                keyring::set_default_credential_builder(mock);
            });
            let keyring = Arc::new(KeyringStore::new(name).unwrap());
            let store = TokenStore::new(keyring.clone(), name);
            (keyring, store)
        }

        fn fail_next(store: &KeyringStore, message: &str) {
            let mock: &keyring::mock::MockCredential =
                store.entry.get_credential().downcast_ref().unwrap();
            mock.set_error(keyring::Error::Invalid(
                message.to_owned(),
                message.to_owned(),
            ));
        }

        #[tokio::test]
        async fn tokens_round_trip_through_the_keyring_and_are_forgotten() {
            let (_, store) = mock_store("sipgate-test");
            assert!(store.load().await.unwrap().is_none(), "empty at first");
            let mut tokens = TokenSet::new(
                AccessToken::new("canary-access"),
                Some(RefreshToken::new("canary-refresh")),
                Some(UNIX_EPOCH + Duration::from_secs(4_000_000_000)),
            );
            tokens.scopes = Some(vec!["account:read".to_owned(), "history:read".to_owned()]);
            store.save(&tokens).await.unwrap();
            let back = store.load().await.unwrap().unwrap();
            assert_eq!(back.access_token.expose_secret(), "canary-access");
            assert_eq!(
                back.refresh_token.unwrap().expose_secret(),
                "canary-refresh"
            );
            assert_eq!(back.expires_at, tokens.expires_at);
            assert_eq!(back.scopes, tokens.scopes);
            store.clear().await.unwrap();
            assert!(store.load().await.unwrap().is_none(), "forgotten");
            store.clear().await.unwrap();
        }

        #[tokio::test]
        async fn keyring_failures_are_store_errors_without_the_secret() {
            let (keyring, store) = mock_store("sipgate-test-failures");
            let tokens = TokenSet::new(AccessToken::new("canary-access"), None, None);
            fail_next(&keyring, "canary-access");
            let err = store.save(&tokens).await.unwrap_err();
            assert!(matches!(&err, sipgate_oauth::Error::Store(_)), "{err:?}");
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
            fail_next(&keyring, "canary-access");
            let err = store.load().await.unwrap_err();
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");

            // Text that is not a stored entry is an error that does not quote it.
            keyring.entry.set_password("canary-not-json").unwrap();
            let err = store.load().await.unwrap_err();
            assert!(matches!(&err, sipgate_oauth::Error::Store(_)), "{err:?}");
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        }
    }
}
