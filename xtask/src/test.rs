//! `cargo xtask test`: formatting, lints, every test (doc tests included), then the interop
//! suites against real peers. Stops at the first failing stage.

use crate::Result;
use crate::fleet;
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
    stage("fleet", fleet::stage)?;
    println!("xtask test: all stages passed");
    Ok(())
}
