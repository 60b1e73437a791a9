//! Running the `pbx-auth` binary as a process, with an environment of its own.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::missing_panics_doc,
    clippy::unwrap_used
)] // Each test file uses a part; setup failures panic.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Canary secrets: none may ever show in any output.
pub const CANARY_PASSWORD: &str = "canary-Pw-7f3a9c1e5b";
pub const CANARY_USER_PASSWORD: &str = "canary-UserPw-2d8e4b6a";
pub const CANARY_BIND_PASSWORD: &str = "canary-Bind-91c0ffee";

/// A private home directory per run: no configuration file or stored token of the machine
/// leaks in, and tests do not see each other's stores.
pub fn home() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "pbx-auth-cli-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary home");
    dir
}

/// `pbx-auth` with a clean environment in `home`.
pub fn cli(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pbx-auth"));
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("PBX_AUTH_DATA_DIR", home.join("tokens"))
        .stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// `pbx-auth -v sipgate` for the OAuth client `(id, secret)` (the secret from the
/// environment) against the server at `url`: its `/auth`, `/token`, the revocation
/// endpoint at the path `revocation` and the API under `/v2`. `BROWSER=true` opens nothing.
pub fn sipgate_cli(
    home: &Path,
    (id, secret): (&str, &str),
    url: &str,
    revocation: &str,
) -> Command {
    let mut cmd = cli(home);
    cmd.env("PBX_AUTH_SIPGATE_CLIENT_SECRET", secret)
        .env("BROWSER", "true")
        .args(["-v", "sipgate", "--client-id", id])
        .args(["--redirect-uri", "http://127.0.0.1:0/oauth"])
        .args(["--auth-url", &format!("{url}/auth")])
        .args(["--token-url", &format!("{url}/token")])
        .args(["--revocation-url", &format!("{url}{revocation}")])
        .args(["--api-url", &format!("{url}/v2")]);
    cmd
}

/// Runs and returns the output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("pbx-auth runs")
}

/// Runs with `input` on standard input.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pbx-auth starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("pbx-auth ends")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code\nstdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

/// Asserts that no canary appears in either stream.
pub fn assert_no_secret(out: &Output, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !stdout(out).contains(secret) && !stderr(out).contains(secret),
            "a secret leaked\nstdout: {}\nstderr: {}",
            stdout(out),
            stderr(out)
        );
    }
}

/// A scripted browser: a cookie-keeping HTTP client following the URL through the login
/// pages into the loopback listener.
pub fn follow(url: &str) {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let agent = reqwest::Client::builder()
                    .cookie_store(true)
                    .build()
                    .unwrap();
                let _ = agent.get(url).send().await;
            });
    });
}

/// Runs `sipgate login` with `BROWSER=true` (so nothing opens) and plays the browser with
/// the URL the command prints.
pub fn sipgate_login(mut cmd: Command) -> (Output, String) {
    let mut child = cmd
        .arg("login")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.starts_with("http") {
            follow(line.trim());
            break;
        }
        line.clear();
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    seen.push_str(&rest);
    let out = child.wait_with_output().unwrap();
    (out, seen)
}

/// The token set a run stored in the token file at `path`, if any, read through the
/// library's store (the file holds it in the store's own format).
pub fn load_stored(path: &Path) -> Option<sipgate_oauth::TokenSet> {
    let path = path.to_owned();
    on_own_runtime(async move { sipgate_oauth::TokenStore::file(path).load().await.unwrap() })
}

/// Writes `tokens` into the token file at `path` through the library's store.
pub fn save_stored(path: &Path, tokens: sipgate_oauth::TokenSet) {
    let path = path.to_owned();
    on_own_runtime(async move {
        sipgate_oauth::TokenStore::file(path)
            .save(&tokens)
            .await
            .unwrap();
    });
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own: some callers
/// are async tests, inside a runtime already.
fn on_own_runtime<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
    .join()
    .unwrap()
}

/// [`load_stored`] as JSON with `access_token` and `refresh_token`.
pub fn stored_tokens(path: &Path) -> serde_json::Value {
    let tokens = load_stored(path).expect("a stored token set");
    serde_json::json!({
        "access_token": tokens.access_token.expose_secret(),
        "refresh_token": tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
    })
}
