//! `cargo xtask bench [--quick] [--report-only]`: every crate's criterion benches, then the side-by-side
//! comparisons against the seeds' Python implementations, then `docs/performance.md` and
//! its chart. Every figure is printed as `figure <area> <name>: <value> <unit>`.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::Result;
use crate::protocols;
use crate::stage::{cargo_bin, root, stage, target_dir};

/// Where figures measured outside criterion are collected for the report.
pub(crate) fn figures_file() -> PathBuf {
    target_dir().join("bench-figures.tsv")
}

/// Records one figure: prints it and keeps it for the report.
pub(crate) fn figure(area: &str, name: &str, value: f64, unit: &str) {
    println!("figure {area} {name}: {value} {unit}");
    keep(area, name, value, unit);
}

/// Parses `figure <area> <name>: <value> <unit...>`, as bench binaries print them.
fn parse_figure(line: &str) -> Option<(&str, &str, f64, &str)> {
    let rest = line.strip_prefix("figure ")?;
    let (head, tail) = rest.split_once(": ")?;
    let (area, name) = head.split_once(' ')?;
    let tail = tail.trim();
    let (value, unit) = tail.split_once(' ').unwrap_or((tail, ""));
    Some((area, name, value.parse().ok()?, unit.trim()))
}

fn keep(area: &str, name: &str, value: f64, unit: &str) {
    let line = format!("{area}\t{name}\t{value}\t{unit}\n");
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(figures_file())
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("cannot record figure {area}/{name}: {e}");
    }
}

pub(crate) fn run(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--report-only") {
        // Rewrites the report from the figures the last run left under target/.
        return crate::report::write(quick);
    }
    std::fs::create_dir_all(target_dir())?;
    let _ = std::fs::remove_file(figures_file());
    stage("criterion", || {
        let mut cargo_args: Vec<&str> = vec![
            "bench",
            "--workspace",
            "--exclude",
            "xtask",
            "--bench",
            "*",
            "--all-features",
        ];
        if quick {
            cargo_args.extend([
                "--",
                "--quick",
                "--warm-up-time",
                "0.2",
                "--measurement-time",
                "0.5",
            ]);
        }
        run_capturing_figures(
            Command::new(cargo_bin())
                .args(&cargo_args)
                .current_dir(root()),
        )
    })?;
    for (name, compare) in protocols::BENCH_COMPARE {
        stage(&format!("compare-{name}"), || compare(quick))?;
    }
    stage("fleet", || crate::fleet::bench(quick))?;
    stage("report", || crate::report::write(quick))
}

/// Runs a command, echoing its stdout and keeping every `figure` line it prints.
fn run_capturing_figures(cmd: &mut Command) -> Result {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
        {
            println!("{line}");
            if let Some((area, name, value, unit)) = parse_figure(&line) {
                keep(area, name, value, unit);
            }
        }
    }
    let status = child.wait()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} exited with {status}", cmd.get_program()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_figure;

    #[test]
    fn figure_lines_parse() {
        assert_eq!(
            parse_figure("figure kalliope sign-header: 123.4 ns"),
            Some(("kalliope", "sign-header", 123.4, "ns"))
        );
        assert_eq!(
            parse_figure("figure kalliope replay-cache: 32.8 bytes/entry (1000 entries)"),
            Some((
                "kalliope",
                "replay-cache",
                32.8,
                "bytes/entry (1000 entries)"
            ))
        );
        assert_eq!(parse_figure("figure authnz target: met"), None);
        assert_eq!(parse_figure("Benchmarking x"), None);
    }
}
