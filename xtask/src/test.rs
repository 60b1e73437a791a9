//! `cargo xtask test`: formatting, lints, every test (doc tests included), then the interop
//! suites against real peers. Stops at the first failing stage.

use crate::Result;
use crate::protocols;
use crate::stage::{cargo, stage};

pub(crate) fn run() -> Result {
    stage("fmt", || cargo(&["fmt", "--all", "--check"]))?;
    stage("clippy", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    stage("test", || {
        cargo(&["test", "--workspace", "--all-targets", "--all-features"])
    })?;
    stage("doctest", || {
        cargo(&["test", "--workspace", "--doc", "--all-features"])
    })?;
    for (name, interop) in protocols::INTEROP {
        stage(&format!("interop-{name}"), *interop)?;
    }
    println!("xtask test: all stages passed");
    Ok(())
}

/// `cargo xtask interop [protocol...]`: only the interop stages (all, or the named ones).
pub(crate) fn interop(names: &[String]) -> Result {
    for (name, interop) in protocols::INTEROP {
        if names.is_empty() || names.iter().any(|n| n == name) {
            stage(&format!("interop-{name}"), *interop)?;
        }
    }
    println!("xtask interop: every stage passed");
    Ok(())
}
