//! [`FileStore`]: the core's [`SharedStore`] in one JSON file, for one process or several
//! on one host. Every operation takes an exclusive `flock` on `<file>.lock` (Unix), reads
//! the state, changes it and replaces the file atomically (a temporary file with mode 0600,
//! sync, rename, sync of the directory), so a crash leaves the old or the new state, never
//! half of each.
//!
//! It is interchangeable with the Redis store (`pbx-auth-redis`) behind a
//! [`TokenStore`](crate::TokenStore): the same lease, fencing and compare-and-set rules,
//! with the lease's expiry on the wall clock that all processes of the host share.
//!
//! The file is refused when other users may read or write it (like OpenSSH with private
//! keys): the tokens in it are as good as a password until they expire. Refusing rather
//! than warning, because a warning in a log nobody reads protects nothing, and `chmod 600`
//! is the whole fix.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use pbx_auth_core::ErrorKind;
use pbx_auth_core::store::{Lease, SharedStore, StoreFuture, Versioned, WriteOutcome};
use serde::{Deserialize, Serialize};

/// The largest token file a [`FileStore`] reads. A token set is a few KiB; anything much
/// larger is not ours and would only cost memory.
pub const MAX_TOKEN_FILE_BYTES: u64 = 1024 * 1024;

// Unknown fields are refused, so a token file of the earlier format (one token set at the
// top level) is recognised instead of reading as empty.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct State {
    #[serde(default)]
    entries: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize, Default)]
struct Entry {
    #[serde(default)]
    version: u64,
    /// The newest fencing number granted.
    #[serde(default)]
    fence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease: Option<LeaseState>,
    /// The value, base64 (it is a credential: the file is readable by its owner only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct LeaseState {
    holder: String,
    fence: u64,
    /// Milliseconds since the Unix epoch.
    until_ms: u64,
}

/// A credential store in one JSON file (mode 0600), shared by the processes of one host
/// through `flock` on `<file>.lock`. Without `flock` (not Unix) it serialises the
/// operations of one process only.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> pbx_auth_core::Error {
    pbx_auth_core::Error::new(
        ErrorKind::Transport,
        format!("cannot {what} {} ({})", path.display(), e.kind()),
    )
}

impl FileStore {
    /// A store in the file at `path` (created on the first write), locked through
    /// `<path>.lock`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `change` on the state under the lock; writes the state back when it says so.
    fn locked<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut State, u64) -> (T, bool) + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let path = self.path.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || Self::locked_blocking(&path, change))
                .await
                .map_err(|_| {
                    pbx_auth_core::Error::new(ErrorKind::Transport, "the file store task failed")
                })?
        })
    }

    /// What the file holds under `key`, read now on this thread (what
    /// [`SharedStore::load`] runs on a blocking thread).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when other users may read or write the file (the message says
    /// to run `chmod 600`), [`ErrorKind::Protocol`] when it is not a token file or larger
    /// than [`MAX_TOKEN_FILE_BYTES`], [`ErrorKind::Transport`] when it cannot be read.
    pub fn load_blocking(&self, key: &str) -> Result<Option<Versioned>, pbx_auth_core::Error> {
        Self::locked_blocking(&self.path, |state, _| (value_of(state, key), false))
    }

    fn locked_blocking<T>(
        path: &Path,
        change: impl FnOnce(&mut State, u64) -> (T, bool),
    ) -> Result<T, pbx_auth_core::Error> {
        // Released when dropped, also if this process dies.
        let _lock = lock(path)?;
        let mut state = match read_private(path)? {
            Some(text) => parse(path, &text)?,
            None => State::default(),
        };
        let (result, changed) = change(&mut state, now_ms());
        if changed {
            Self::replace(path, &state)?;
        }
        Ok(result)
    }

    fn replace(path: &Path, state: &State) -> Result<(), pbx_auth_core::Error> {
        let json = serde_json::to_vec(state).map_err(|_| {
            pbx_auth_core::Error::new(ErrorKind::Protocol, "cannot encode the shared state")
        })?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|_| {
            pbx_auth_core::Error::new(ErrorKind::Config, "the random generator failed")
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(suffix)));
        let result = write_new_private(&tmp, &json)
            .and_then(|()| std::fs::rename(&tmp, path))
            .and_then(|()| sync_dir(&dir));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("write", path, &e));
        }
        Ok(())
    }
}

impl SharedStore for FileStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Versioned>> {
        let key = key.to_owned();
        self.locked(move |state, _| (value_of(state, &key), false))
    }

    fn acquire<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<Lease>> {
        let key = key.to_owned();
        let holder = match Lease::random_holder() {
            Ok(h) => h,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.locked(move |state, now| {
            let entry = state.entries.entry(key).or_default();
            if entry.lease.as_ref().is_some_and(|l| now < l.until_ms) {
                return (None, false);
            }
            entry.fence += 1;
            entry.lease = Some(LeaseState {
                holder: hex::encode(holder),
                fence: entry.fence,
                until_ms: now.saturating_add(ttl_ms),
            });
            (Some(Lease::new(entry.fence, holder)), true)
        })
    }

    fn write<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        lease: &'a Lease,
        value: &'a [u8],
    ) -> StoreFuture<'a, WriteOutcome> {
        let key = key.to_owned();
        let fence = lease.fence();
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        self.locked(move |state, _| {
            let entry = state.entries.entry(key).or_default();
            if fence < entry.fence {
                return (WriteOutcome::Fenced, false);
            }
            let current = entry.value.is_some().then_some(entry.version);
            if current != expected {
                return (WriteOutcome::VersionChanged, false);
            }
            entry.version = expected.unwrap_or(0) + 1;
            entry.value = Some(encoded);
            (WriteOutcome::Written(entry.version), true)
        })
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a Lease) -> StoreFuture<'a, bool> {
        let key = key.to_owned();
        let holder = hex::encode(lease.holder());
        let fence = lease.fence();
        self.locked(move |state, _| {
            let Some(entry) = state.entries.get_mut(&key) else {
                return (false, false);
            };
            let ours = entry
                .lease
                .as_ref()
                .is_some_and(|l| l.holder == holder && l.fence == fence);
            if ours {
                entry.lease = None;
            }
            (ours, ours)
        })
    }
}

/// The value under `key`. A value that is not base64 (edited by hand) reads as absent.
fn value_of(state: &State, key: &str) -> Option<Versioned> {
    state.entries.get(key).and_then(|e| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(e.value.as_deref()?)
            .ok()?;
        Some(Versioned::new(e.version, bytes))
    })
}

fn parse(path: &Path, text: &str) -> Result<State, pbx_auth_core::Error> {
    // serde_json's message may quote the offending input, which could be a token.
    serde_json::from_str(text).map_err(|e| {
        let legacy = serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|v| v.get("access_token").is_some());
        let message = if legacy {
            format!(
                "{} was written by an earlier release of this crate; log in again to replace it",
                path.display()
            )
        } else {
            format!(
                "{} is not a token file (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            )
        };
        pbx_auth_core::Error::new(ErrorKind::Protocol, message)
    })
}

/// Takes the exclusive lock of `<path>.lock` (Unix); the lock lasts as long as the file
/// handle.
fn lock(path: &Path) -> Result<File, pbx_auth_core::Error> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let lock = options
        .open(&lock_path)
        .map_err(|e| io_error("open", &lock_path, &e))?;
    #[cfg(unix)]
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io_error("lock", &lock_path, &e.into()))?;
    Ok(lock)
}

/// Reads the token file (`None`: it does not exist), refusing one that other users may
/// read or write, or one larger than [`MAX_TOKEN_FILE_BYTES`].
fn read_private(path: &Path) -> Result<Option<String>, pbx_auth_core::Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, &e)),
    };
    let meta = file.metadata().map_err(|e| io_error("read", path, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(pbx_auth_core::Error::new(
                ErrorKind::Config,
                format!(
                    "{} is accessible by other users (mode {:o}); run `chmod 600` on it, the tokens in it may have been read",
                    path.display(),
                    mode & 0o777
                ),
            ));
        }
    }
    let too_large = || {
        pbx_auth_core::Error::new(
            ErrorKind::Protocol,
            format!(
                "{} is larger than {MAX_TOKEN_FILE_BYTES} bytes",
                path.display()
            ),
        )
    };
    if meta.len() > MAX_TOKEN_FILE_BYTES {
        return Err(too_large());
    }
    let mut text = String::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => pbx_auth_core::Error::new(
                ErrorKind::Protocol,
                format!("{} is not a token file (not UTF-8)", path.display()),
            ),
            _ => io_error("read", path, &e),
        })?;
    if text.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(too_large());
    }
    Ok(Some(text))
}

/// Creates `path` (failing if it exists) readable by the owner only, writes and syncs.
fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use pbx_auth_core::store::{SharedOptions, SharedSource};
    use pbx_auth_core::{AccessToken, Error, Issued, TokenCache, TokenSource};

    use super::*;

    fn temp_file(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sipgate-shared-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("fleet.json")
    }

    #[tokio::test]
    async fn two_handles_on_one_file_share_lease_fence_and_versions() {
        let path = temp_file("lease");
        // Two stores on one file stand in for two processes: nothing is shared in memory.
        let (a, b) = (FileStore::new(&path), FileStore::new(&path));
        let ttl = Duration::from_millis(200);
        let first = a.acquire("k", ttl).await.unwrap().unwrap();
        assert!(b.acquire("k", ttl).await.unwrap().is_none());
        assert_eq!(
            a.write("k", None, &first, b"v1").await.unwrap(),
            WriteOutcome::Written(1)
        );
        tokio::time::sleep(ttl * 2).await;
        let second = b.acquire("k", ttl).await.unwrap().unwrap();
        assert!(second.fence() > first.fence());
        assert_eq!(
            a.write("k", Some(1), &first, b"stale").await.unwrap(),
            WriteOutcome::Fenced
        );
        assert!(!a.release("k", &first).await.unwrap());
        assert_eq!(
            b.write("k", Some(1), &second, b"v2").await.unwrap(),
            WriteOutcome::Written(2)
        );
        assert!(b.release("k", &second).await.unwrap());
        assert_eq!(a.load("k").await.unwrap().unwrap().value, b"v2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(a.load("k").await.unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicU64);

    impl TokenSource for Counting {
        type Token = AccessToken;
        async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Issued::new(
                AccessToken::new("t"),
                Some(Duration::from_secs(300)),
            ))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn caches_over_one_file_fetch_once() {
        let path = temp_file("caches");
        let caches: Vec<_> = (0..4)
            .map(|_| {
                TokenCache::new(SharedSource::new(
                    Counting::default(),
                    Arc::new(FileStore::new(&path)),
                    "login",
                    SharedOptions::default().with_poll_interval(Duration::from_millis(5)),
                ))
            })
            .collect();
        let mut tasks = Vec::new();
        for cache in &caches {
            let cache = cache.clone();
            tasks.push(tokio::spawn(async move { cache.get().await.unwrap() }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().expose_secret(), "t");
        }
        let fetches: u64 = caches
            .iter()
            .map(|c| {
                c.source()
                    .inner()
                    .0
                    .load(std::sync::atomic::Ordering::SeqCst)
            })
            .sum();
        assert_eq!(fetches, 1);
    }
}
