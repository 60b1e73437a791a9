//! The sipgate OAuth interop suite (real OAuth server), demo and real-browser run.
//!
//! The real server is npm `oidc-provider` (pinned by `xtask/peers/oauth-server/
//! package-lock.json`) with the project's own `server.mjs`, which approves login and
//! consent without a person. It is installed under `target/peers/oauth-server`, started on
//! 127.0.0.1 on a free port in its own process group, and stopped as a group afterwards.

use std::process::Command;
use std::time::Duration;

use crate::Result;
use crate::demo::Demo;
use crate::peers::npm_project;
use crate::process::{Guard, free_port, wait_for_port};
use crate::stage::{cargo_bin, require_tool, root, run};

/// Access tokens live this long on the interop server, so a test can wait for one to
/// expire; codes a little longer, so a slow machine still exchanges them in time.
const ACCESS_TOKEN_TTL: &str = "4";
const AUTH_CODE_TTL: &str = "10";

/// Installs and starts the OAuth server; returns its guard and issuer URL.
pub(crate) fn start_oauth_server() -> Result<(Guard, String)> {
    let dir = npm_project("oauth-server", &root().join("xtask/peers/oauth-server"))?;
    let port = free_port()?;
    let mut guard = Guard::spawn(
        "oidc-provider",
        Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("ACCESS_TOKEN_TTL", ACCESS_TOKEN_TTL)
            .env("AUTH_CODE_TTL", AUTH_CODE_TTL)
            .env("KEYCLOAK_STYLE", "1")
            .env("PKCE_REQUIRED", "1")
            .env("STRICT_CLIENT_AUTH", "1")
            .env("ROTATE_REFRESH_TOKEN", "1"),
    )?;
    guard.wait_for_line("oauth test server listening:", Duration::from_secs(60))?;
    wait_for_port(port, Duration::from_secs(30))?;
    Ok((guard, format!("http://127.0.0.1:{port}")))
}

/// The library's tests (every feature on) and the command line's.
const LIBRARY: &[&str] = &["-p", "sipgate-oauth", "--all-features"];
const CLI: &[&str] = &["-p", "pbx-auth-cli"];

/// Runs the ignored tests of one test file of `package` (those matching `filter`, if
/// given) against the server at `issuer`.
fn run_ignored_tests(
    package: &[&str],
    test: &str,
    filter: Option<&str>,
    issuer: &str,
    extra_env: &[(&str, &str)],
) -> Result {
    let mut cmd = Command::new(cargo_bin());
    cmd.arg("test")
        .args(package)
        .args(["--test", test, "--", "--ignored"])
        // One at a time: the server's token-request log is shared, and the expiry tests
        // count refreshes.
        .arg("--test-threads=1")
        .args(filter)
        .current_dir(root())
        .env("OAUTH_ISSUER", issuer);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// Interop against the real OAuth 2.0 server:
/// `cargo test -p sipgate-oauth --all-features --test interop -- --ignored --test-threads=1`
/// and `cargo test -p pbx-auth-cli --test interop -- --ignored sipgate`, with `OAUTH_ISSUER`
/// set.
pub(crate) fn interop() -> Result {
    let (_server, issuer) = start_oauth_server()?;
    println!("  - oidc-provider listening at {issuer}");
    run_ignored_tests(LIBRARY, "interop", None, &issuer, &[])?;
    // The `pbx-auth` command line: login with the scripted browser, refresh with
    // rotation, request, logout.
    run_ignored_tests(CLI, "interop", Some("sipgate"), &issuer, &[])
}

/// The end-to-end demo against the mock: the `oauth` example logs in with a scripted
/// browser (a cookie-keeping HTTP client), calls `/v2/account`, refreshes, calls it again.
pub(crate) fn demo(demo: &Demo) -> Result {
    demo.step("start the sipgate mock (login server, token endpoint, /v2/account)");
    let (_mock, url) = demo.mock("sipgate", &[])?;
    demo.step("run the `oauth` example with a scripted browser through the loopback listener");
    let auth = format!("{url}/auth");
    let token = format!("{url}/token");
    let account = format!("{url}/v2/account");
    demo.run_example(
        "oauth",
        &[],
        &[
            (
                "CLIENT_ID",
                "2556404-0-dc848ae6-085c-11e8-92a6-31b99c83912e",
            ),
            ("CLIENT_SECRET", "mock-secret-0123456789abcdef"),
            ("REDIRECT_URI", "http://127.0.0.1:0/oauth"),
            ("OAUTH_SCOPE", "account:read"),
            ("AUTH_URL", &auth),
            ("TOKEN_URL", &token),
            ("TEST_API_ENDPOINT", &account),
            ("BROWSER_MODE", "scripted"),
        ],
    )
}

/// `cargo xtask e2e` (also a stage of `cargo xtask test`): headless Chromium goes through
/// the authorization URL of the real OAuth server to the loopback listener, once for the
/// library (`cargo test -p sipgate-oauth --all-features --test browser -- --ignored
/// --test-threads=1`) and once opened by `pbx-auth sipgate login` through its `BROWSER`
/// hook (`cargo test -p pbx-auth-cli --test browser -- --ignored`), with `OAUTH_ISSUER` and
/// `CHROMIUM` set.
pub(crate) fn e2e() -> Result {
    require_tool(
        "chromium",
        "install Chromium (Debian: apt-get update && apt-get install -y chromium)",
    )?;
    let (_server, issuer) = start_oauth_server()?;
    println!("  - oidc-provider listening at {issuer}");
    let chromium = [("CHROMIUM", "chromium")];
    run_ignored_tests(LIBRARY, "browser", None, &issuer, &chromium)?;
    run_ignored_tests(CLI, "browser", None, &issuer, &chromium)
}
