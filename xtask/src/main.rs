//! `cargo xtask <command>`: the project's tasks, in Rust so they run wherever cargo does.
//!
//! Commands: `test` (what CI runs), `demo` (every crate end to end against the mocks),
//! `bench [--quick]`, `ci` (`test` plus docs, packaging and tidy checks), `e2e` (a real
//! headless browser), `fuzz [--time SECS]` (every fuzz target, a smoke run by default),
//! `tidy`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod demo;
mod fuzz;
mod peers;
mod process;
mod protocols;
mod report;
mod stage;
mod test;
#[cfg(test)]
mod tidy;

use std::process::ExitCode;

/// The error type of every task: a message for the person at the terminal.
pub(crate) type DynError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Result<T = ()> = std::result::Result<T, DynError>;

const USAGE: &str =
    "usage: cargo xtask <test|demo|bench [--quick]|ci|e2e|fuzz [--time SECS] [TARGET...]|tidy>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(),
        Some("demo") => demo::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("ci") => ci::run(),
        Some("e2e") => protocols::sipgate::e2e(),
        Some("fuzz") => fuzz::run(&args[1..]),
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
