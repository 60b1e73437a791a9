//! `cargo xtask ci`: `test`, then documentation with warnings denied, packaging (with
//! verification) of each published crate, and the tidy checks.

use crate::Result;
use crate::stage::{cargo, stage};

/// The published crates, in dependency order.
pub(crate) const PUBLISHED: &[&str] = &[
    "pbx-auth-core",
    "kalliope-auth",
    "wazo-auth-client",
    "sipgate-oauth",
    "authnz-proto",
    "pbx-auth-redis",
    "pbx-auth-cli",
];

pub(crate) fn run() -> Result {
    crate::test::run()?;
    stage("doc", || {
        let mut cmd = std::process::Command::new(crate::stage::cargo_bin());
        cmd.args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(crate::stage::root());
        crate::stage::run(&mut cmd)
    })?;
    // Packages and verifies every published crate: each tarball is unpacked and built on
    // its own, against the others through a local registry, so a file missing from
    // `include` or a feature that only the workspace turned on fails here rather than at
    // release time. (`--workspace` would package the `publish = false` members too.)
    stage("package", || {
        let mut args = vec!["package", "--allow-dirty"];
        for krate in PUBLISHED {
            args.extend(["-p", krate]);
        }
        cargo(&args)
    })?;
    stage("tidy", || cargo(&["test", "-p", "xtask", "--", "tidy"]))?;
    println!("xtask ci: all stages passed");
    Ok(())
}
