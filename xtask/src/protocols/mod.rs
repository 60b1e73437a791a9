//! Each protocol's share of the tasks: interop against real peers, its demo, and its
//! side-by-side benchmark. One file per protocol so their owners do not collide.

pub(crate) mod authnz;
pub(crate) mod cli;
pub(crate) mod kalliope;
pub(crate) mod sipgate;
pub(crate) mod wazo;

use crate::Result;
use crate::demo::Demo;

type Task = fn() -> Result;
type DemoTask = fn(&Demo) -> Result;
type CompareTask = fn(bool) -> Result;

/// Interop suites run by `cargo xtask test`, after the workspace tests.
pub(crate) const INTEROP: &[(&str, Task)] = &[
    ("kalliope", kalliope::interop),
    ("authnz", authnz::interop),
    ("sipgate", sipgate::interop),
];

/// Demos run by `cargo xtask demo`.
pub(crate) const DEMOS: &[(&str, DemoTask)] = &[
    ("kalliope", kalliope::demo),
    ("wazo", wazo::demo),
    ("sipgate", sipgate::demo),
    ("authnz", authnz::demo),
    ("cli", cli::demo),
];

/// Side-by-side comparisons run by `cargo xtask bench` (the flag is `--quick`).
pub(crate) const BENCH_COMPARE: &[(&str, CompareTask)] =
    &[("kalliope", kalliope::bench), ("authnz", authnz::bench)];

/// Rows each protocol adds to `docs/performance.md`.
pub(crate) fn report_rows() -> Vec<crate::report::Row> {
    let mut rows = kalliope::report_rows();
    rows.extend(wazo::report_rows());
    rows.extend(authnz::report_rows());
    rows
}
