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
    let kind = std::env::var("PBX_AUTH_STORE")
        .ok()
        .or_else(|| ctx.profile.get(None, "store"))
        .unwrap_or_else(|| "file".to_owned());
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
            let entry = keyring::Entry::new("pbx-auth", name)
                .map_err(|_| CliError::usage("the OS keyring cannot be opened"))?;
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
}
