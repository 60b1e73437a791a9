//! `cargo xtask demo [protocol...]`: builds the mocks and examples, then runs each
//! protocol's demo end to end against mocks started out of process.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::Result;
use crate::process::Guard;
use crate::protocols;
use crate::stage::{cargo, stage, target_dir};

/// What a protocol's demo gets: started mocks and built examples.
#[derive(Debug, Default)]
pub(crate) struct Demo {
    _private: (),
}

impl Demo {
    /// Starts `pbx-mock <name> <args>` and returns its guard and base URL.
    pub(crate) fn mock(&self, name: &str, args: &[&str]) -> Result<(Guard, String)> {
        let bin = target_dir().join("debug").join("pbx-mock");
        let mut guard = Guard::spawn(
            &format!("pbx-mock {name}"),
            Command::new(bin).arg(name).args(args),
        )?;
        let url = guard.wait_for_line("listening on ", Duration::from_secs(20))?;
        Ok((guard, url))
    }

    /// The path of a built example binary.
    pub(crate) fn example(&self, name: &str) -> PathBuf {
        target_dir().join("debug").join("examples").join(name)
    }

    /// Runs a built example with `args` and `env`, printing its output as it goes.
    pub(crate) fn run_example(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
        let mut cmd = Command::new(self.example(name));
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        crate::stage::run(&mut cmd)
    }

    /// Prints one step of a demo.
    pub(crate) fn step(&self, text: &str) {
        println!("  - {text}");
    }
}

pub(crate) fn run(args: &[String]) -> Result {
    stage("build", || {
        cargo(&[
            "build",
            "--workspace",
            "--exclude",
            "xtask",
            "--bins",
            "--examples",
            "--all-features",
        ])
    })?;
    let demo = Demo::default();
    for (name, run) in protocols::DEMOS {
        if !args.is_empty() && !args.iter().any(|a| a == name) {
            continue;
        }
        stage(&format!("demo-{name}"), || run(&demo))?;
    }
    println!("xtask demo: every demo passed");
    Ok(())
}
