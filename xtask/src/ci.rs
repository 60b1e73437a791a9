//! `cargo xtask ci`: `test`, then documentation with warnings denied, packaging (with
//! verification) of each published crate, and the tidy checks. `test` packages them
//! without building the tarballs (see [`Verify`]).

use std::process::Command;

use crate::Result;
use crate::stage::{cargo, cargo_bin, output, root, stage};

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
        let mut cmd = Command::new(cargo_bin());
        cmd.args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(root());
        crate::stage::run(&mut cmd)
    })?;
    stage("package", || package(Verify::Yes))?;
    stage("tidy", || cargo(&["test", "-p", "xtask", "--", "tidy"]))?;
    println!("xtask ci: all stages passed");
    Ok(())
}

/// Whether `cargo package` builds each packaged crate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Unpack every tarball and build it on its own, against the others through cargo's
    /// local overlay of the workspace's packages (cargo 1.90 and later), so a file missing
    /// from `include` or a feature only the workspace turned on fails here rather than at
    /// release time. `cargo xtask ci`.
    Yes,
    /// Only build the tarballs (manifest rewritten, versions on path dependencies, readme
    /// and license fields checked) and check each one's file list; no compilation, so it
    /// fits the time of `cargo xtask test`.
    No,
}

/// What every published crate's tarball must hold: its manifest, the README that is its
/// crate docs (`include_str!`), the changelog and both licence texts.
const REQUIRED_FILES: &[&str] = &[
    "Cargo.toml",
    "README.md",
    "CHANGELOG.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
];

/// `cargo package` for every published crate, with or without verification. Only the
/// published crates: `--workspace` would package the `publish = false` members too.
pub(crate) fn package(verify: Verify) -> Result {
    let mut args = vec!["package", "--allow-dirty"];
    if verify == Verify::No {
        args.push("--no-verify");
    }
    for krate in PUBLISHED {
        args.extend(["-p", krate]);
    }
    cargo(&args)?;
    if verify == Verify::No {
        for krate in PUBLISHED {
            let list = output(
                Command::new(cargo_bin())
                    .args(["package", "--list", "--allow-dirty", "-p", krate])
                    .current_dir(root()),
            )?;
            let files: Vec<&str> = list.lines().collect();
            let missing: Vec<&str> = REQUIRED_FILES
                .iter()
                .copied()
                .filter(|f| !files.contains(f))
                .chain(
                    (!files
                        .iter()
                        .any(|f| *f == "src/lib.rs" || *f == "src/main.rs"))
                    .then_some("src/lib.rs or src/main.rs"),
                )
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "the {krate} package lacks {}: see `include` in its Cargo.toml",
                    missing.join(", ")
                )
                .into());
            }
        }
    }
    Ok(())
}
