//! Stages with one summary line each, and running cargo.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::Result;

/// The workspace root (xtask lives one level below it).
pub(crate) fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// The target directory, where installed peers live too.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The cargo that runs us.
pub(crate) fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs `f` as a named stage and prints `stage <name>: ok|FAILED (<secs>s)`.
pub(crate) fn stage(name: &str, f: impl FnOnce() -> Result) -> Result {
    println!("==> stage {name}");
    let started = Instant::now();
    let result = f();
    let secs = started.elapsed().as_secs_f64();
    match &result {
        Ok(()) => println!("stage {name}: ok ({secs:.1}s)"),
        Err(e) => println!("stage {name}: FAILED ({secs:.1}s): {e}"),
    }
    result.map_err(|e| format!("stage {name} failed: {e}").into())
}

/// Runs cargo with `args` in the workspace root; fails if it fails.
pub(crate) fn cargo(args: &[&str]) -> Result {
    run(Command::new(cargo_bin()).args(args).current_dir(root()))
}

/// Runs a command to completion, inheriting stdio; fails on a non-zero exit.
pub(crate) fn run(cmd: &mut Command) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} exited with {status}", cmd.get_program()).into())
    }
}

/// Runs a command and returns its stdout; fails on a non-zero exit.
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} exited with {}: {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into())
    }
}

/// Fails with an install hint when `tool` is not on PATH.
pub(crate) fn require_tool(tool: &str, hint: &str) -> Result {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        Ok(())
    } else {
        Err(format!("`{tool}` is required but was not found: {hint}").into())
    }
}
