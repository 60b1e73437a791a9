//! The `fleet` stage: `pbx-auth-redis` and the multi-process fleet tests against a real
//! `redis-server` (and the real OAuth server for sipgate), plus the crate's README example.
//!
//! Tests that need Redis are `#[ignore]`d under plain `cargo test`; here they run with
//! `PBX_REDIS_URL` set and fail, not skip, if something is missing.

use std::process::Command;

use crate::Result;
use crate::protocols::sipgate::start_oauth_server;
use crate::redis;
use crate::stage::{cargo_bin, root, run};

/// Runs `cargo <args>` in the workspace root with the fleet's environment.
fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result {
    let mut cmd = Command::new(cargo_bin());
    cmd.args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// `cargo xtask test`'s fleet stage.
pub(crate) fn stage() -> Result {
    let server = redis::start()?;
    println!("  - redis-server listening at {}", server.url);
    let (_oauth, issuer) = start_oauth_server()?;
    println!("  - oidc-provider listening at {issuer}");
    let config = server.config.display().to_string();
    let env = [
        ("PBX_REDIS_URL", server.url.as_str()),
        ("PBX_REDIS_CONF", config.as_str()),
        ("OAUTH_ISSUER", issuer.as_str()),
    ];
    cargo_with(
        &[
            "test",
            "-p",
            "pbx-auth-redis",
            "--all-features",
            "--test",
            "redis",
            "--",
            "--ignored",
        ],
        &env,
    )?;
    cargo_with(
        &[
            "run",
            "--quiet",
            "-p",
            "pbx-auth-redis",
            "--example",
            "quickstart",
        ],
        &env,
    )?;
    // One at a time: the tests share the OAuth server's request log. The restart test goes
    // last, on its own: it stops this Redis and starts (and finally stops) another.
    let fleet = [
        "test",
        "-p",
        "pbx-auth-tests",
        "--test",
        "fleet",
        "--",
        "--ignored",
        "--test-threads=1",
    ];
    let mut others = fleet.to_vec();
    others.extend(["--skip", "redis_stopped_and_started_mid_run"]);
    cargo_with(&others, &env)?;
    let mut restart = fleet.to_vec();
    restart.extend(["--exact", "redis_stopped_and_started_mid_run"]);
    cargo_with(&restart, &env)?;
    drop(server.guard);
    Ok(())
}
