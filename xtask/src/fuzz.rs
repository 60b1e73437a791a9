//! `cargo xtask fuzz [--time SECS] [TARGET...]`: builds every cargo-fuzz target in `fuzz/`
//! and runs each for `SECS` seconds (default 15, a smoke run), on the stable toolchain
//! without a sanitizer (`-s none`) and with debug assertions and overflow checks (`-a`).
//! Each run starts from the committed seeds (`fuzz/seeds/<target>`) and the local corpus
//! (`fuzz/corpus/<target>`, not committed). Prints one line per target with its
//! executions and coverage; a crash fails the task and leaves its input in
//! `fuzz/artifacts/<target>`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;
use crate::stage::{cargo_bin, root, stage};

/// Seconds per target when `--time` is not given.
const DEFAULT_SECS: u64 = 15;

/// Largest input: the ACL target's bound, enough for every other parser.
const MAX_LEN: usize = 64 * 1024;

/// What one run reports.
struct Figures {
    target: String,
    executions: u64,
    coverage: u64,
    features: u64,
    corpus: u64,
}

pub(crate) fn run(args: &[String]) -> Result {
    let mut secs = DEFAULT_SECS;
    let mut only = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--time" => {
                secs = rest
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|&s| s > 0)
                    .ok_or("--time needs a number of seconds")?;
            }
            name => only.push(name.to_owned()),
        }
    }
    let has_cargo_fuzz = Command::new(cargo_bin())
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_cargo_fuzz {
        return Err(
            "cargo-fuzz is required: install it with `cargo install cargo-fuzz --locked`".into(),
        );
    }
    let root = root();
    let mut targets = targets(&root.join("fuzz/fuzz_targets"))?;
    if !only.is_empty() {
        for name in &only {
            if !targets.contains(name) {
                return Err(
                    format!("no fuzz target `{name}` (have: {})", targets.join(", ")).into(),
                );
            }
        }
        targets.retain(|t| only.contains(t));
    }
    stage("fuzz build", || {
        crate::stage::run(
            Command::new(cargo_bin())
                .args(["fuzz", "build", "-s", "none", "-a"])
                .current_dir(&root),
        )
    })?;
    let mut figures = Vec::new();
    for target in &targets {
        stage(&format!("fuzz {target} ({secs}s)"), || {
            figures.push(run_one(&root, target, secs)?);
            Ok(())
        })?;
    }
    println!("target | executions | coverage (cov) | features (ft) | corpus");
    for f in &figures {
        println!(
            "{} | {} | {} | {} | {}",
            f.target, f.executions, f.coverage, f.features, f.corpus
        );
    }
    Ok(())
}

/// The targets: one file each in `fuzz/fuzz_targets`.
fn targets(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    Ok(names)
}

fn run_one(root: &Path, target: &str, secs: u64) -> Result<Figures> {
    let corpus = root.join("fuzz/corpus").join(target);
    let seeds = root.join("fuzz/seeds").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut cmd = Command::new(cargo_bin());
    cmd.args(["fuzz", "run", "-s", "none", "-a", target])
        .arg(&corpus)
        .current_dir(root);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-max_len={MAX_LEN}"))
        // A single input taking this long is a stall, reported like a crash.
        .arg("-timeout=60")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1");
    let out = cmd
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{target} failed ({}); its input is in fuzz/artifacts/{target}:\n{}",
            out.status,
            tail.join("\n")
        )
        .into());
    }
    Ok(figures(target, &log))
}

/// Reads libFuzzer's last status line (`#N DONE cov: C ft: F corp: K/...`) and its final
/// `stat::number_of_executed_units`.
fn figures(target: &str, log: &str) -> Figures {
    let field = |line: &str, name: &str| -> Option<u64> {
        let mut words = line.split_whitespace();
        words.find(|w| *w == name)?;
        words.next()?.split('/').next()?.parse().ok()
    };
    let last = log
        .lines()
        .rev()
        .find(|l| l.starts_with('#') && l.contains("cov:"))
        .unwrap_or_default();
    let executions = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_default();
    Figures {
        target: target.to_owned(),
        executions,
        coverage: field(last, "cov:").unwrap_or_default(),
        features: field(last, "ft:").unwrap_or_default(),
        corpus: field(last, "corp:").unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_figures() {
        let log = "#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #4096\tDONE   cov: 812 ft: 2301 corp: 154/9876b lim: 4096 exec/s: 273 rss: 61Mb\n\
                   stat::number_of_executed_units: 4096\n";
        let f = figures("t", log);
        assert_eq!(
            (f.executions, f.coverage, f.features, f.corpus),
            (4096, 812, 2301, 154)
        );
    }
}
