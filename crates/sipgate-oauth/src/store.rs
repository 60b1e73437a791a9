//! [`TokenStore`]: where the current token set lives between refreshes and runs — in
//! memory, or in a JSON file written atomically with owner-only permissions.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pbx_auth_core::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};

use crate::client::TokenSet;
use crate::error::Error;

/// Keeps the latest token set. `save` must be durable before it returns: with rotating
/// refresh tokens the old one is dead once the server has answered, so a token handed out
/// before it is stored could be lost with the process.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored token set, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read or holds garbage.
    fn load(&self) -> Result<Option<TokenSet>, Error>;

    /// Replaces the stored token set.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when it cannot be written.
    fn save(&self, tokens: &TokenSet) -> Result<(), Error>;

    /// Forgets the stored token set.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when it cannot be removed.
    fn clear(&self) -> Result<(), Error>;
}

/// A store in memory, for one process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<TokenSet>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<TokenSet>> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        Ok(self.slot().clone())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        *self.slot() = Some(tokens.clone());
        Ok(())
    }

    fn clear(&self) -> Result<(), Error> {
        *self.slot() = None;
        Ok(())
    }
}

/// The file format: plain JSON, one object.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// A JSON file with mode 0600, replaced atomically (write a temporary file in the same
/// directory, sync it, rename it over the old one, sync the directory), so a crash leaves
/// either the old or the new tokens, never half of each.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    // Serialises writers in this process; the rename makes each write atomic for readers.
    lock: Mutex<()>,
}

impl FileStore {
    /// A store at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> Error {
        Error::Store(format!("cannot {what} {} ({e})", self.path.display()))
    }
}

impl TokenStore for FileStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        let text = match read_private(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("read", &e)),
        };
        // serde_json's message may quote the offending input, which could be a token.
        let stored: Stored = serde_json::from_str(&text).map_err(|e| {
            Error::Store(format!(
                "{} is not a token file (line {}, column {})",
                self.path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let mut tokens = TokenSet::new(
            AccessToken::new(stored.access_token),
            stored.refresh_token.map(RefreshToken::new),
            stored.expires_at.map(expiry_from_secs),
        );
        tokens.scopes = stored
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect());
        Ok(Some(tokens))
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        let stored = Stored {
            access_token: tokens.access_token.expose_secret().to_owned(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at: tokens
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            scope: tokens.scopes.as_ref().map(|s| s.join(" ")),
        };
        let json = serde_json::to_vec_pretty(&stored)
            .map_err(|_| Error::Store("cannot encode the tokens".to_owned()))?;
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .ok_or_else(|| Error::Store("the token file path has no file name".to_owned()))?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix)
            .map_err(|_| Error::Store("the random generator failed".to_owned()))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            hex::encode(suffix)
        ));
        let result = write_new_private(&tmp, &json)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .and_then(|()| sync_dir(&dir));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io_error("write", &e));
        }
        Ok(())
    }

    fn clear(&self) -> Result<(), Error> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error("remove", &e)),
        }
    }
}

/// The largest token file [`FileStore::load`] reads. A token set is a few KiB; anything
/// much larger is not ours and would only cost memory.
pub const MAX_TOKEN_FILE_BYTES: u64 = 1024 * 1024;

/// The stored expiry as a wall-clock time. A value past what `SystemTime` can hold (a
/// corrupted or hand-edited file) reads as already expired: the next use refreshes the
/// token instead of trusting it forever, and nothing panics.
fn expiry_from_secs(secs: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .filter(|t| t.duration_since(UNIX_EPOCH).is_ok_and(|d| d <= MAX_EXPIRY))
        .unwrap_or(UNIX_EPOCH)
}

/// Expiries beyond ~year 10000 are treated as corrupt (see [`expiry_from_secs`]); this
/// also keeps every later `Instant + remaining` far from overflowing.
const MAX_EXPIRY: Duration = Duration::from_secs(253_402_300_799);

/// Reads the token file, refusing one that other users may read or write (like OpenSSH
/// with private keys): the tokens in it are as good as a password until they expire.
/// Refusing rather than warning, because a warning in a log nobody reads protects nothing,
/// and `chmod 600` is the whole fix.
fn read_private(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "is accessible by other users (mode {:o}); run `chmod 600` on it, the tokens in it may have been read",
                    mode & 0o777
                ),
            ));
        }
    }
    if meta.len() > MAX_TOKEN_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("is larger than {MAX_TOKEN_FILE_BYTES} bytes"),
        ));
    }
    let mut text = String::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("is larger than {MAX_TOKEN_FILE_BYTES} bytes"),
        ));
    }
    Ok(text)
}

/// Creates `path` (failing if it exists) readable by the owner only, writes and syncs.
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    let _ = dir;
    Ok(())
}

/// Wall-clock expiry → remaining lifetime, for seeding a cache.
pub(crate) fn remaining(expires_at: Option<SystemTime>) -> Option<Duration> {
    expires_at.map(|t| {
        t.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_EXPIRY)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> TokenSet {
        TokenSet::new(
            AccessToken::new("acc-secret"),
            Some(RefreshToken::new("ref-secret")),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
        )
    }

    #[test]
    fn file_round_trip_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("sipgate-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = FileStore::new(dir.join("tokens.json"));
        assert!(store.load().unwrap().is_none());
        store.save(&tokens()).unwrap();
        store.save(&tokens()).unwrap();
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.access_token.expose_secret(), "acc-secret");
        assert_eq!(loaded.refresh_token.unwrap().expose_secret(), "ref-secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the token file is left: no temporary files.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        store.clear().unwrap();
        assert!(store.load().unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn garbage_file_is_a_typed_error_without_its_content() {
        let dir = std::env::temp_dir().join(format!("sipgate-store-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        write_mode(
            &path,
            "{\"access_token\": 5, \"x\": \"leaky-secret\"",
            0o600,
        );
        let err = FileStore::new(&path).load().unwrap_err();
        assert!(matches!(err, Error::Store(_)));
        assert!(!format!("{err} {err:?}").contains("leaky-secret"));
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

    // Issue 13, item 1: an expiry past `i64::MAX` seconds panicked in `load`.
    #[test]
    fn absurd_expiry_reads_as_expired() {
        let dir = std::env::temp_dir().join(format!("sipgate-store-exp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        for secs in [
            u64::MAX,
            i64::MAX as u64 + 1,
            i64::MAX as u64,
            253_402_300_800,
        ] {
            write_mode(
                &path,
                &format!("{{\"access_token\": \"a\", \"expires_at\": {secs}}}"),
                0o600,
            );
            let tokens = FileStore::new(&path).load().unwrap().unwrap();
            assert_eq!(tokens.expires_at, Some(UNIX_EPOCH), "{secs}");
            assert_eq!(remaining(tokens.expires_at), Some(Duration::ZERO));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // Issue 13, item 10: a token file others can read was loaded silently.
    #[cfg(unix)]
    #[test]
    fn world_readable_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("sipgate-store-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        for mode in [0o644, 0o640, 0o604, 0o620] {
            write_mode(&path, "{\"access_token\": \"mode-secret\"}", mode);
            let err = FileStore::new(&path).load().unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(matches!(err, Error::Store(_)), "{mode:o}");
            assert!(text.contains("chmod 600"), "{text}");
            assert!(!text.contains("mode-secret"));
        }
        write_mode(&path, "{\"access_token\": \"ok\"}", 0o400);
        assert!(FileStore::new(&path).load().unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn oversized_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("sipgate-store-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        let big = format!("{{\"access_token\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
        write_mode(&path, &big, 0o600);
        assert!(matches!(FileStore::new(&path).load(), Err(Error::Store(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_directory_is_a_typed_error() {
        let store = FileStore::new("/nonexistent-dir-for-sipgate/tokens.json");
        assert!(matches!(store.save(&tokens()), Err(Error::Store(_))));
    }

    #[test]
    fn memory_store() {
        let store = MemoryStore::new();
        store.save(&tokens()).unwrap();
        assert!(store.load().unwrap().is_some());
        store.clear().unwrap();
        assert!(store.load().unwrap().is_none());
    }
}
