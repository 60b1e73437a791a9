//! What a sipgate client reads: a `.env` file, the `FileStore`'s JSON file and a stored
//! token set. No panic (an absurd expiry reads as expired), and no error repeats the
//! input (the seeds carry a canary token for the fuzzer to move around).

#![no_main]

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pbx_auth_core::store::StoredToken as _;
use sipgate_oauth::{Config, DEFAULT_KEY, FileStore, TokenSet};

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("pbx-auth-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
});

fn write_private(name: &str, data: &[u8]) -> PathBuf {
    let path = DIR.join(name);
    let _ = std::fs::remove_file(&path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .expect("a private file");
    file.write_all(data).expect("written");
    path
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 3 == 0 {
        let path = write_private("tokens.json", rest);
        match FileStore::new(&path).load_blocking(DEFAULT_KEY) {
            Ok(value) => {
                let _ = format!("{value:?}");
            }
            Err(e) => {
                // serde_json would quote the offending value; the store's errors must not.
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains("fuzz-canary-token"), "{shown}");
            }
        }
    } else if mode & 3 == 2 {
        match TokenSet::from_stored(rest) {
            Ok(tokens) => {
                let _ = format!("{tokens:?}");
            }
            Err(e) => {
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains("fuzz-canary-token"), "{shown}");
            }
        }
    } else {
        let path = write_private("sipgate.env", rest);
        if let Ok(config) = Config::from_env_file(&path) {
            let _ = format!("{config:?}");
        }
    }
});
