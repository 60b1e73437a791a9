//! `cargo xtask <command>`: the project's tasks, in Rust so they run wherever cargo does.
//!
//! Commands: `test` (what CI runs), `demo` (every crate end to end against the mocks),
//! `bench [--quick] [--only STAGE] [--scheme SCHEME]`, `ci` (`test` plus docs, packaging
//! and tidy checks), `e2e` (a real headless browser), `fleet` (the fleet stage of `test`
//! alone), `interop [protocol...]` (only the interop stages), `man [dir]` (the `pbx-auth`
//! man pages), `fuzz [--time SECS]` (every fuzz target, a smoke run by default),
//! `package [--no-verify]` (the packaging stage of `ci`, or the cheaper one of `test`),
//! `tidy`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod demo;
mod fleet;
mod fuzz;
mod peers;
mod process;
mod protocols;
mod redis;
mod report;
mod server_bench;
mod stage;
mod test;
#[cfg(test)]
mod tidy;

use std::process::ExitCode;

/// The error type of every task: a message for the person at the terminal.
pub(crate) type DynError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Result<T = ()> = std::result::Result<T, DynError>;

const USAGE: &str = "usage: cargo xtask <test|demo|bench [--quick] [--only STAGE] [--scheme SCHEME]|ci|e2e|fleet|interop [protocol...]|man [dir]|fuzz [--time SECS] [TARGET...]|package [--no-verify]|tidy>";

/// `cargo xtask man [dir]`: builds `pbx-auth` and writes its man pages (default
/// `target/man`).
fn man(dir: Option<&str>) -> Result {
    stage::cargo(&["build", "-p", "pbx-auth-cli"])?;
    let dir = dir.map_or_else(|| stage::target_dir().join("man"), std::path::PathBuf::from);
    stage::run(
        std::process::Command::new(stage::target_dir().join("debug").join("pbx-auth"))
            .arg("man")
            .arg(&dir),
    )?;
    println!("man pages written to {}", dir.display());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(),
        Some("demo") => demo::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("ci") => ci::run(),
        Some("e2e") => protocols::sipgate::e2e(),
        Some("fleet") => stage::stage("fleet", fleet::stage),
        Some("interop") => test::interop(&args[1..]),
        Some("man") => man(args.get(1).map(String::as_str)),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("package") => match args.get(1).map(String::as_str) {
            None => stage::stage("package", || ci::package(ci::Verify::Yes)),
            Some("--no-verify") => stage::stage("package-list", || ci::package(ci::Verify::No)),
            Some(other) => Err(format!("unknown option `{other}`\n{USAGE}").into()),
        },
        Some("tidy") => stage::cargo(&["test", "-p", "xtask", "--", "tidy"]),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
