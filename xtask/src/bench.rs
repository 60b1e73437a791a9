//! `cargo xtask bench [--quick] [--report-only]`: every crate's criterion benches, then the side-by-side
//! comparisons against the seeds' Python implementations, then `docs/performance.md` and
//! its chart. Every figure is printed as `figure <area> <name>: <value> <unit>`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use crate::Result;
use crate::protocols;
use crate::stage::{cargo, stage, target_dir};

/// Where figures measured outside criterion are collected for the report.
pub(crate) fn figures_file() -> PathBuf {
    target_dir().join("bench-figures.tsv")
}

/// Records one figure: prints it and keeps it for the report.
pub(crate) fn figure(area: &str, name: &str, value: f64, unit: &str) {
    println!("figure {area} {name}: {value:.6} {unit}");
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
        let mut cargo_args = vec![
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
        cargo(&cargo_args)
    })?;
    for (name, compare) in protocols::BENCH_COMPARE {
        stage(&format!("compare-{name}"), || compare(quick))?;
    }
    stage("report", || crate::report::write(quick))
}
