//! `cargo xtask bench [--quick]`: every crate's criterion benches, then the side-by-side
//! comparisons against the seeds' Python implementations. Figures are printed one per line
//! as `figure <area> <name>: <value> <unit>`.

use crate::Result;
use crate::protocols;
use crate::stage::{cargo, stage};

pub(crate) fn run(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
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
    Ok(())
}
