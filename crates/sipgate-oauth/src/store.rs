//! [`TokenStore`]: where a login's token set lives between refreshes and runs. An adapter
//! over the core's [`SharedStore`] seam: one key in an in-memory store, a [`FileStore`]
//! (one host, one process or several) or Redis (`pbx-auth-redis`, a fleet of hosts). The
//! same login, refresh and rotation code runs over each of them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pbx_auth_core::store::{
    InMemoryStore, SharedOptions, SharedStore, StoredToken, clear_token, load_token, store_token,
};
use pbx_auth_core::{AccessToken, ErrorKind, Issued, RefreshToken};
use serde::{Deserialize, Serialize};

use crate::client::TokenSet;
use crate::error::Error;
use crate::file_store::FileStore;

/// The key [`TokenStore::in_memory`] and [`TokenStore::file`] keep the token set under.
pub const DEFAULT_KEY: &str = "sipgate";

/// One login's token set in a core [`SharedStore`], under one key.
///
/// Every write goes through the store's refresh lease and fenced compare-and-set, so a
/// login saved while another process refreshes cannot be overwritten by that refresh, and
/// the refresh token a refresh rotated is stored before the new access token is used.
/// Clones share the store.
#[derive(Clone)]
pub struct TokenStore {
    shared: Arc<dyn SharedStore>,
    key: String,
    options: SharedOptions,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("shared", &self.shared)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn store_error(e: &pbx_auth_core::Error) -> Error {
    Error::Store(e.message().to_owned())
}

impl TokenStore {
    /// The token set under `key` in `shared` (a [`FileStore`], the Redis store of
    /// `pbx-auth-redis`, an [`InMemoryStore`]). Every process sharing one login uses the
    /// same store and key.
    pub fn new(shared: Arc<dyn SharedStore>, key: impl Into<String>) -> Self {
        Self {
            shared,
            key: key.into(),
            options: SharedOptions::default(),
        }
    }

    /// A store in this process's memory (the tokens are gone when it exits).
    pub fn in_memory() -> Self {
        Self::new(Arc::new(InMemoryStore::new()), DEFAULT_KEY)
    }

    /// A [`FileStore`] at `path`: JSON with mode 0600, replaced atomically, locked with
    /// `flock` so several processes of one host can share it.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::new(Arc::new(FileStore::new(path)), DEFAULT_KEY)
    }

    /// Sets how the login is shared (lease TTL, when a stored token counts as fresh, how
    /// long to wait for another process's refresh).
    #[must_use]
    pub fn with_options(mut self, options: SharedOptions) -> Self {
        self.options = options;
        self
    }

    /// The underlying store.
    pub fn shared(&self) -> &Arc<dyn SharedStore> {
        &self.shared
    }

    /// The key of the token set in it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The sharing options.
    pub fn options(&self) -> &SharedOptions {
        &self.options
    }

    /// The stored token set, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read or holds garbage (or, for a
    /// [`FileStore`], a file other users may read: the message says to run `chmod 600`).
    pub async fn load(&self) -> Result<Option<TokenSet>, Error> {
        let issued = load_token::<TokenSet>(&*self.shared, &self.key)
            .await
            .map_err(|e| store_error(&e))?;
        Ok(issued.map(|i| i.token))
    }

    /// Replaces the stored token set (after a login), under the refresh lease.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when it cannot be written, or another process holds the refresh
    /// lease for longer than the options' wait limit.
    pub async fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        let lifetime = match tokens.expires_at {
            Some(at) => Some(
                at.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            ),
            None => tokens.expires_in,
        };
        store_token(
            &*self.shared,
            &self.key,
            &self.options,
            &Issued::new(tokens.clone(), lifetime),
        )
        .await
        .map(drop)
        .map_err(|e| store_error(&e))
    }

    /// Forgets the stored token set (a logout), for every process sharing it.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    pub async fn clear(&self) -> Result<(), Error> {
        clear_token(&*self.shared, &self.key, &self.options)
            .await
            .map_err(|e| store_error(&e))
    }
}

/// The stored form of a [`TokenSet`]: JSON (stores that leave the process seal it).
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// Expiries beyond ~year 10000 are treated as corrupt: they read as already expired, so
/// the next use refreshes the token instead of trusting it forever, and nothing panics.
const MAX_EXPIRY: Duration = Duration::from_secs(253_402_300_799);

fn expiry_from_millis(ms: u64) -> SystemTime {
    let d = Duration::from_millis(ms);
    if d > MAX_EXPIRY {
        return UNIX_EPOCH;
    }
    UNIX_EPOCH.checked_add(d).unwrap_or(UNIX_EPOCH)
}

impl StoredToken for TokenSet {
    fn to_stored(&self) -> Vec<u8> {
        let stored = Stored {
            access_token: self.access_token.expose_secret().to_owned(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at_ms: self
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .and_then(|d| u64::try_from(d.as_millis()).ok()),
            scope: self.scopes.as_ref().map(|s| s.join(" ")),
        };
        // Strings and integers only: encoding cannot fail.
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    fn from_stored(bytes: &[u8]) -> Result<Self, pbx_auth_core::Error> {
        // serde_json's message may quote the input, which is a token: say nothing of it.
        let stored: Stored = serde_json::from_slice(bytes).map_err(|_| {
            pbx_auth_core::Error::new(
                ErrorKind::Protocol,
                "the store holds something that is not a sipgate token set",
            )
        })?;
        let mut tokens = Self::new(
            AccessToken::new(stored.access_token),
            stored.refresh_token.map(RefreshToken::new),
            stored.expires_at_ms.map(expiry_from_millis),
        );
        tokens.expires_in = tokens.expires_at.map(|t| {
            t.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        });
        tokens.scopes = stored
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect());
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn tokens() -> TokenSet {
        TokenSet::new(
            AccessToken::new("acc-secret"),
            Some(RefreshToken::new("ref-secret")),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
        )
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sipgate-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn file_round_trip_with_mode_0600() {
        let dir = temp_dir("file");
        let store = TokenStore::file(dir.join("tokens.json"));
        assert!(store.load().await.unwrap().is_none());
        store.save(&tokens()).await.unwrap();
        store.save(&tokens()).await.unwrap();
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.access_token.expose_secret(), "acc-secret");
        assert_eq!(loaded.refresh_token.unwrap().expose_secret(), "ref-secret");
        assert_eq!(loaded.expires_at, tokens().expires_at);
        #[cfg(unix)]
        for name in ["tokens.json", "tokens.json.lock"] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        // The token file and its lock only: no temporary files.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        store.clear().await.unwrap();
        assert!(store.load().await.unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn write_mode(path: &Path, text: &str, mode: u32) {
        std::fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let _ = mode;
    }

    #[tokio::test]
    async fn garbage_and_old_files_are_typed_errors_without_their_content() {
        let dir = temp_dir("bad");
        let path = dir.join("tokens.json");
        write_mode(
            &path,
            "{\"access_token\": 5, \"x\": \"leaky-secret\"",
            0o600,
        );
        let err = TokenStore::file(&path).load().await.unwrap_err();
        assert!(matches!(err, Error::Store(_)));
        assert!(!format!("{err} {err:?}").contains("leaky-secret"));
        // A file of the earlier one-token-set format says what to do.
        write_mode(&path, "{\"access_token\": \"old-secret\"}", 0o600);
        let err = TokenStore::file(&path).load().await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("log in again"), "{text}");
        assert!(!text.contains("old-secret"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // Issue 13, item 1: an expiry past `i64::MAX` seconds panicked in `load`.
    #[test]
    fn absurd_expiry_reads_as_expired() {
        for ms in [
            u64::MAX,
            i64::MAX as u64 + 1,
            i64::MAX as u64,
            253_402_300_800_000,
        ] {
            let text = format!("{{\"access_token\": \"a\", \"expires_at_ms\": {ms}}}");
            let tokens = TokenSet::from_stored(text.as_bytes()).unwrap();
            assert_eq!(tokens.expires_at, Some(UNIX_EPOCH), "{ms}");
            assert_eq!(tokens.expires_in, Some(Duration::ZERO));
        }
    }

    // Issue 13, item 10: a token file others can read was loaded silently.
    #[cfg(unix)]
    #[tokio::test]
    async fn world_readable_file_is_refused() {
        let dir = temp_dir("mode");
        let path = dir.join("tokens.json");
        let store = TokenStore::file(&path);
        store.save(&tokens()).await.unwrap();
        let good = std::fs::read_to_string(&path).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            write_mode(&path, &good, mode);
            let err = store.load().await.unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(matches!(err, Error::Store(_)), "{mode:o}");
            assert!(text.contains("chmod 600"), "{text}");
            assert!(!text.contains("acc-secret"));
            // Writing is refused too: the file is not silently made private again.
            assert!(store.save(&tokens()).await.is_err());
        }
        write_mode(&path, &good, 0o400);
        assert!(store.load().await.unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn oversized_file_is_refused() {
        let dir = temp_dir("big");
        let path = dir.join("tokens.json");
        let big = format!(
            "{{\"entries\": {{}}, \"x\": \"{}\"}}",
            "a".repeat(2 * 1024 * 1024)
        );
        write_mode(&path, &big, 0o600);
        assert!(matches!(
            TokenStore::file(&path).load().await,
            Err(Error::Store(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn unwritable_directory_is_a_typed_error() {
        let store = TokenStore::file("/nonexistent-dir-for-sipgate/tokens.json");
        assert!(matches!(store.save(&tokens()).await, Err(Error::Store(_))));
    }

    #[tokio::test]
    async fn memory_store() {
        let store = TokenStore::in_memory();
        store.save(&tokens()).await.unwrap();
        assert!(store.load().await.unwrap().is_some());
        store.clear().await.unwrap();
        assert!(store.load().await.unwrap().is_none());
    }
}
