//! `cargo xtask test`: formatting, lints, every test (doc tests included), the feature matrix
//! of the published crates, their packages (unverified), each published crate tested alone,
//! then the interop suites against real peers, the fleet stage and the real-browser run
//! (`e2e`). Stops at the first failing stage.

use crate::Result;
use crate::ci::PUBLISHED;
use crate::fleet;
use crate::protocols;
use crate::stage::{cargo, cargo_bin, stage};

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
    stage("features", features)?;
    // The tarballs and their file lists; `cargo xtask ci` builds each one too.
    stage("package-list", || crate::ci::package(crate::ci::Verify::No))?;
    for krate in PUBLISHED {
        stage(&format!("alone-{krate}"), || cargo(&["test", "-p", krate]))?;
    }
    for (name, interop) in protocols::INTEROP {
        stage(&format!("interop-{name}"), *interop)?;
    }
    stage("fleet", fleet::stage)?;
    stage("e2e", protocols::sipgate::e2e)?;
    println!("xtask test: all stages passed");
    Ok(())
}

/// Every published crate's library checked without dev-dependencies (so nothing a test
/// needs can hide a missing feature) with no features, its defaults, each feature alone and
/// all of them. Each crate is resolved on its own, so the workspace's other members unify
/// no feature into it. (Every crate has at most three features, and the protocol crates'
/// two adapter features only pass through to the core's, so pairs add nothing to check.)
fn features() -> Result {
    let found = std::process::Command::new(cargo_bin())
        .args(["hack", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        return Err(
            "`cargo hack` is required but was not found: install it with \
                    `cargo install cargo-hack --locked` (`.ci/run` does)"
                .into(),
        );
    }
    let mut args = vec!["hack", "check", "--each-feature", "--no-dev-deps"];
    for krate in PUBLISHED {
        args.extend(["-p", krate]);
    }
    cargo(&args)
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
