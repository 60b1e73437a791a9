//! Writes `docs/performance.md` and `docs/performance.svg` from the figures of one
//! `cargo xtask bench` run: criterion's estimates plus the figures the comparison stages
//! recorded. Every ratio compares two numbers measured in the same run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::Result;
use crate::bench::figures_file;
use crate::stage::{output, root, target_dir};

/// Where a number comes from.
#[derive(Debug, Clone)]
pub(crate) enum Src {
    /// A criterion benchmark's mean time per iteration, by its full id.
    Criterion(String),
    /// A recorded figure, by area and name.
    Figure(String, String),
}

impl Src {
    /// A criterion benchmark by full id.
    pub(crate) fn bench(id: &str) -> Self {
        Self::Criterion(id.to_owned())
    }

    /// A recorded figure.
    pub(crate) fn figure(area: &str, name: &str) -> Self {
        Self::Figure(area.to_owned(), name.to_owned())
    }
}

/// How the ratio is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Goal {
    /// `theirs / ours` should be at least this (we are this many times faster).
    FasterBy(f64),
    /// `ours / theirs` should be at most this (our overhead factor).
    AtMost(f64),
    /// Reported only.
    Report,
    /// Our figure itself should be at least this (a rate).
    Minimum(f64),
    /// Our figure itself should be at most this (a count).
    Maximum(f64),
}

/// One row of a table: our figure, the comparison measured in the same run, the goal.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) area: String,
    pub(crate) what: String,
    pub(crate) ours: Src,
    pub(crate) theirs: Option<(String, Src)>,
    pub(crate) goal: Goal,
}

impl Row {
    /// A row comparing `ours` with `theirs` (labelled `label`) against `goal`.
    pub(crate) fn new(
        area: &str,
        what: &str,
        ours: Src,
        theirs: Option<(&str, Src)>,
        goal: Goal,
    ) -> Self {
        Self {
            area: area.to_owned(),
            what: what.to_owned(),
            ours,
            theirs: theirs.map(|(l, s)| (l.to_owned(), s)),
            goal,
        }
    }
}

/// Every row of the report, by area. Protocol rows are appended by each protocol's module.
fn rows() -> Vec<Row> {
    let area = "Token cache";
    let mut rows = vec![
        Row::new(
            area,
            "`TokenCache::get`, warm, one caller",
            Src::bench("token_cache/get_warm_uncontended"),
            None,
            Goal::Report,
        ),
        Row::new(
            area,
            "`TokenCache::get`, warm, every core calling (time per round of one call per core)",
            Src::bench("token_cache/get_warm_all_cores"),
            Some(("one caller", Src::bench("token_cache/get_warm_uncontended"))),
            Goal::Report,
        ),
        Row::new(
            area,
            "cold-cache stampede: 10,000 tasks until all hold the token (one fetch of 1 ms)",
            Src::bench("token_cache/cold_stampede_10000_tasks"),
            None,
            Goal::Report,
        ),
        Row::new(
            area,
            "`Cached::authorize` with a warm cache (`X-Auth-Token`)",
            Src::bench("cached_authorize_x_auth_token"),
            None,
            Goal::Report,
        ),
    ];
    rows.extend(overhead_rows());
    rows.extend(crate::protocols::report_rows());
    rows.extend(crate::fleet::report_rows());
    rows.extend(crate::server_bench::report_rows());
    rows
}

/// The schemes the overhead bench measures.
const OVERHEAD_SCHEMES: &[&str] = &["kalliope", "wazo", "sipgate"];

/// The overhead table's area.
const OVERHEAD: &str = "Authentication overhead per request (in-process mock)";

/// A paragraph saying how to read an area's table, for the areas that need one.
fn area_intro(area: &str) -> Option<&'static str> {
    if area == crate::server_bench::REPORT_AREA {
        return Some(crate::server_bench::REPORT_INTRO);
    }
    if area == crate::fleet::REPORT_AREA {
        return Some(crate::fleet::REPORT_INTRO);
    }
    (area == OVERHEAD).then_some(
        "Client and mock server share the machine's cores, so at concurrency 64 the figures \
         are CPU time per request, the server's included. Three rows per cell split the \
         overhead: the credential header preset on the unauthenticated request prices the \
         header itself (written, sent and parsed; Kalliope's is about 170 bytes), a \
         pass-through authenticator prices the adapter alone (for reqwest-middleware that \
         includes the cost of having any middleware at all), and what remains is the \
         authenticator's own work. Ratios are medians over interleaved rounds; between two \
         runs on a shared machine they move by up to two percent at concurrency 64.",
    )
}

/// Cached authentication against the same request unauthenticated, per transport and
/// concurrency, from the bench's interleaved medians (`figure overhead ...`), then the
/// adapters' own share (the `passthrough` scheme).
fn overhead_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for scheme in OVERHEAD_SCHEMES {
        for transport in ["reqwest", "middleware", "tower"] {
            for n in [1, 64] {
                let name = format!("{scheme}/{transport}/c{n}");
                rows.push(Row::new(
                    OVERHEAD,
                    &format!(
                        "{scheme} via {transport}, concurrency {n}: median of per-round ratios \
                         (authenticated / unauthenticated)"
                    ),
                    Src::figure("overhead", &format!("{name}/ratio")),
                    None,
                    Goal::AtMost(1.05),
                ));
                rows.push(Row::new(
                    OVERHEAD,
                    &format!(
                        "{scheme} via {transport}, concurrency {n}: the authenticator's own work \
                         (authenticated / the same request with its credential header preset)"
                    ),
                    Src::figure("overhead", &format!("{name}/ratio_preset")),
                    None,
                    Goal::Report,
                ));
            }
        }
    }
    for transport in ["reqwest", "middleware", "tower"] {
        for n in [1, 64] {
            rows.push(Row::new(
                OVERHEAD,
                &format!(
                    "the {transport} adapter alone, concurrency {n}: a pass-through \
                     authenticator that adds nothing / unauthenticated"
                ),
                Src::figure("overhead", &format!("passthrough/{transport}/c{n}/ratio")),
                None,
                Goal::Report,
            ));
        }
    }
    rows
}

/// Reads criterion's mean (ns) for every benchmark under `target/criterion`.
fn criterion_means() -> BTreeMap<String, f64> {
    let mut means = BTreeMap::new();
    collect(&target_dir().join("criterion"), &mut means);
    means
}

fn collect(dir: &Path, out: &mut BTreeMap<String, f64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "new") {
            let read = |name: &str| -> Option<serde_json::Value> {
                let text = std::fs::read_to_string(path.join(name)).ok()?;
                serde_json::from_str(&text).ok()
            };
            let id = read("benchmark.json").as_ref().and_then(full_id);
            let mean = read("estimates.json").as_ref().and_then(mean_estimate);
            if let (Some(id), Some(mean)) = (id, mean) {
                out.insert(id, mean);
            }
        } else if path.is_dir() {
            collect(&path, out);
        }
    }
}

/// The benchmark's id from criterion's `benchmark.json`.
fn full_id(benchmark: &serde_json::Value) -> Option<String> {
    benchmark["full_id"].as_str().map(str::to_owned)
}

/// The mean's point estimate (ns) from criterion's `estimates.json`.
fn mean_estimate(estimates: &serde_json::Value) -> Option<f64> {
    estimates["mean"]["point_estimate"].as_f64()
}

fn recorded_figures() -> BTreeMap<(String, String), (f64, String)> {
    let text = std::fs::read_to_string(figures_file()).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let area = cols.next()?.to_owned();
            let name = cols.next()?.to_owned();
            let value = cols.next()?.parse().ok()?;
            let unit = cols.next().unwrap_or("").to_owned();
            Some(((area, name), (value, unit)))
        })
        .collect()
}

struct Figures {
    criterion: BTreeMap<String, f64>,
    recorded: BTreeMap<(String, String), (f64, String)>,
}

impl Figures {
    fn get(&self, from: &Src) -> Option<(f64, String)> {
        match from {
            Src::Criterion(id) => self.criterion.get(id).map(|ns| (*ns, "ns".to_owned())),
            Src::Figure(area, name) => self.recorded.get(&(area.clone(), name.clone())).cloned(),
        }
    }
}

fn human(value: f64, unit: &str) -> String {
    if unit == "ns" {
        if value >= 1e6 {
            format!("{:.2} ms", value / 1e6)
        } else if value >= 1e3 {
            format!("{:.2} µs", value / 1e3)
        } else {
            format!("{value:.1} ns")
        }
    } else if unit.starts_with("instructions") || unit == "requests/s" {
        // Counts: decimals would be noise.
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.3} {unit}")
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{:.0} GiB", kb / 1_048_576.0),
        );
    let rustc = output(Command::new("rustc").arg("--version")).unwrap_or_default();
    let python = output(Command::new("python3").arg("--version")).unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {memory} memory; {}; {}",
        rustc.trim(),
        python.trim()
    )
}

pub(crate) fn write(quick: bool) -> Result {
    let figures = Figures {
        criterion: criterion_means(),
        recorded: recorded_figures(),
    };
    // When the figures were recorded, which `--report-only` does not change.
    let date = output(
        Command::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M UTC", "-r"])
            .arg(figures_file()),
    )
    .unwrap_or_default();
    let mut md = String::new();
    writeln!(md, "# Performance")?;
    writeln!(md)?;
    writeln!(
        md,
        "Written by `cargo xtask bench`{} on {} ({}).",
        if quick {
            " --quick (short runs: rough figures)"
        } else {
            ""
        },
        date.trim(),
        machine()
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "Every ratio compares two figures measured in the same run. Times are criterion's \
         mean per iteration unless a unit says otherwise. To reproduce: `cargo xtask bench` \
         (Python 3 with venv needed for the seed comparisons)."
    )?;
    writeln!(md)?;
    writeln!(md, "![ratios](performance.svg)")?;
    let mut chart: Vec<(String, f64, f64, bool)> = Vec::new();
    let mut area = String::new();
    let mut unmeasured = Vec::new();
    let all_rows = rows();
    for row in &all_rows {
        let Some((ours, ours_unit)) = figures.get(&row.ours) else {
            unmeasured.push(format!("{}: {}", row.area, row.what));
            continue;
        };
        if row.area != area {
            area.clone_from(&row.area);
            writeln!(md)?;
            writeln!(md, "## {area}")?;
            writeln!(md)?;
            if let Some(intro) = area_intro(&area) {
                writeln!(md, "{intro}")?;
                writeln!(md)?;
            }
            writeln!(
                md,
                "| what | ours | compared with | theirs | ratio | goal |"
            )?;
            writeln!(md, "| --- | --- | --- | --- | --- | --- |")?;
        }
        let theirs = row
            .theirs
            .as_ref()
            .map(|(label, from)| (label.as_str(), figures.get(from)));
        let (label, theirs_text) = match &theirs {
            Some((label, Some((v, u)))) => ((*label).to_owned(), human(*v, u)),
            Some((label, None)) => ((*label).to_owned(), "not measured".to_owned()),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let ratio = match &theirs {
            Some((_, Some((t, _)))) if ours > 0.0 && *t > 0.0 => Some(match row.goal {
                Goal::FasterBy(_) => t / ours,
                Goal::AtMost(_) | Goal::Report | Goal::Minimum(_) | Goal::Maximum(_) => ours / t,
            }),
            // A figure that is itself a ratio, measured pairwise by its bench.
            None if matches!(row.goal, Goal::AtMost(_)) => Some(ours),
            _ => None,
        };
        let (ratio_text, goal_text) = match (ratio, row.goal) {
            (Some(r), Goal::FasterBy(min)) => {
                chart.push((row.what.clone(), r, min, true));
                (
                    format!("{r:.1}x faster"),
                    format!("≥ {min}x {}", if r >= min { "✔ met" } else { "✘ missed" }),
                )
            }
            (Some(r), Goal::AtMost(max)) => {
                chart.push((row.what.clone(), r, max, false));
                (
                    format!("{r:.3}x"),
                    format!("≤ {max}x {}", if r <= max { "✔ met" } else { "✘ missed" }),
                )
            }
            (Some(r), Goal::Report) => (format!("{r:.2}x"), "reported".to_owned()),
            (r, Goal::Minimum(min)) => (
                r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}x")),
                format!(
                    "≥ {} {}",
                    human(min, &ours_unit),
                    if ours >= min { "✔ met" } else { "✘ missed" }
                ),
            ),
            (r, Goal::Maximum(max)) => (
                r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}x")),
                format!(
                    "≤ {} {}",
                    human(max, &ours_unit),
                    if ours <= max { "✔ met" } else { "✘ missed" }
                ),
            ),
            (None, _) => ("—".to_owned(), "—".to_owned()),
        };
        writeln!(
            md,
            "| {} | {} | {label} | {theirs_text} | {ratio_text} | {goal_text} |",
            row.what,
            human(ours, &ours_unit)
        )?;
    }
    let used = |area: &str, name: &str| {
        all_rows.iter().any(|r| {
            matches!(&r.ours, Src::Figure(a, n) if a == area && n == name)
                || matches!(&r.theirs, Some((_, Src::Figure(a, n))) if a == area && n == name)
        })
    };
    callgrind_section(&figures, &mut md)?;
    let extra: Vec<_> = figures
        .recorded
        .iter()
        .filter(|((area, name), _)| area != "callgrind" && !used(area, name))
        .collect();
    if !extra.is_empty() {
        writeln!(md)?;
        writeln!(md, "## Other recorded figures")?;
        writeln!(md)?;
        writeln!(md, "| area | figure | value |")?;
        writeln!(md, "| --- | --- | --- |")?;
        for ((area, name), (value, unit)) in extra {
            writeln!(md, "| {area} | {name} | {} |", human(*value, unit))?;
        }
    }
    if !unmeasured.is_empty() {
        writeln!(md)?;
        writeln!(md, "Not measured in this run: {}.", unmeasured.join("; "))?;
    }
    let docs = root().join("docs");
    std::fs::create_dir_all(&docs)?;
    std::fs::write(docs.join("performance.md"), md)?;
    std::fs::write(docs.join("performance.svg"), svg(&chart)?)?;
    println!("wrote docs/performance.md and docs/performance.svg");
    Ok(())
}

/// The most the authenticator's own work may add, as a share of the unauthenticated
/// request's client instructions: token headers 2 %, Kalliope's digest 3 %.
fn instruction_goal(scheme: &str) -> Option<f64> {
    match scheme {
        "kalliope" => Some(0.03),
        "wazo" | "sipgate" => Some(0.02),
        _ => None,
    }
}

/// The callgrind table: client instructions per request for the three variants, the share
/// the authenticator adds, and the wall-clock ratios at concurrency 64 beside them.
fn callgrind_section(figures: &Figures, md: &mut String) -> Result {
    let count = |name: &str| {
        figures
            .recorded
            .get(&("callgrind".to_owned(), name.to_owned()))
            .map(|(v, _)| *v)
    };
    let wall = |name: &str| {
        figures
            .recorded
            .get(&("overhead".to_owned(), name.to_owned()))
            .map_or_else(|| "not measured".to_owned(), |(v, _)| format!("{v:.3}x"))
    };
    let mut lines = Vec::new();
    for scheme in OVERHEAD_SCHEMES.iter().chain(&["passthrough"]) {
        for transport in ["reqwest", "middleware", "tower"] {
            let key = |variant: &str| format!("{scheme}/{transport}/{variant}");
            let (Some(plain), Some(preset), Some(auth)) = (
                count(&key("plain")),
                count(&key("preset")),
                count(&key("auth")),
            ) else {
                continue;
            };
            if plain <= 0.0 {
                continue;
            }
            let added = (auth - plain) / plain;
            let own = (auth - preset) / plain;
            let goal = instruction_goal(scheme).map_or_else(
                || "reported".to_owned(),
                |max| {
                    format!(
                        "≤ {:.0} % {}",
                        max * 100.0,
                        if own <= max { "✔ met" } else { "✘ missed" }
                    )
                },
            );
            lines.push(format!(
                "| {scheme} | {transport} | {plain:.0} | {preset:.0} | {auth:.0} | {:+.2} % | \
                 {:+.2} % | {goal} | {} | {} |",
                added * 100.0,
                own * 100.0,
                wall(&format!("{scheme}/{transport}/c64/ratio")),
                wall(&format!("{scheme}/{transport}/c64/ratio_preset")),
            ));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(md)?;
    writeln!(md, "## Client instructions per request (callgrind)")?;
    writeln!(md)?;
    writeln!(
        md,
        "Instructions the client executes per request, counted by `valgrind --tool=callgrind` \
         over sequential requests on one thread after a warm-up (connection open, credential \
         cached). Only the bench's `callgrind_round` function is counted (`--collect-atstart=no \
         --toggle-collect`), and the server runs in a child process that valgrind does not \
         follow, so these are the client's instructions alone and do not drift with the \
         machine's load. *Unauthenticated* sends the bare request, *preset* the same request \
         with the credential header already set (the cost of carrying the header), \
         *authenticated* goes through the authenticator. The goal is judged on the \
         authenticator's own work, (authenticated − preset) / unauthenticated; the total \
         added, (authenticated − unauthenticated) / unauthenticated, stands beside it. The \
         wall-clock columns are the concurrency-64 medians of the table above, as measured \
         (client and server together)."
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "| scheme | transport | unauthenticated | preset | authenticated | total added | \
         authenticator's own work | goal (own work) | wall clock c64 auth / unauth | \
         wall clock c64 auth / preset |"
    )?;
    writeln!(
        md,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )?;
    for line in lines {
        writeln!(md, "{line}")?;
    }
    Ok(())
}

/// A horizontal bar per goal row: the bar is the measured ratio, the tick the goal.
fn svg(bars: &[(String, f64, f64, bool)]) -> Result<String> {
    use plotters::prelude::*;

    let rows = bars.len().max(1);
    let height = 90 + 34 * u32::try_from(rows).unwrap_or(u32::MAX / 64);
    let max = bars
        .iter()
        .map(|(_, r, g, _)| r.max(*g))
        .fold(1.0_f64, f64::max)
        * 1.15;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (950, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Ratios measured by cargo xtask bench (bar: measured, tick: goal)",
                ("sans-serif", 15),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(470)
            .build_cartesian_2d(0.0..max, (0..rows).into_segmented())?;
        let label = |at: &SegmentValue<usize>| match at {
            SegmentValue::CenterOf(i) => bars
                .get(*i)
                .map(|(what, ..)| what.replace('`', "").chars().take(70).collect())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows)
            .y_label_formatter(&label)
            .x_desc("ratio")
            .draw()?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, (_, ratio, goal, faster))| {
                    let ok = if *faster {
                        ratio >= goal
                    } else {
                        ratio <= goal
                    };
                    let colour = if ok {
                        RGBColor(0x2e, 0x7d, 0x32)
                    } else {
                        RGBColor(0xc6, 0x28, 0x28)
                    };
                    let mut bar = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(i)),
                            (*ratio, SegmentValue::Exact(i + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(5, 5, 0, 0);
                    bar
                }),
        )?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, _, goal, _))| {
            PathElement::new(
                vec![
                    (*goal, SegmentValue::Exact(i)),
                    (*goal, SegmentValue::Exact(i + 1)),
                ],
                BLACK.stroke_width(2),
            )
        }))?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, (_, ratio, goal, faster))| {
                    let suffix = if *faster { "x faster" } else { "x" };
                    Text::new(
                        format!(" {ratio:.2}{suffix}"),
                        (ratio.max(*goal), SegmentValue::CenterOf(i)),
                        ("sans-serif", 12),
                    )
                }),
        )?;
        root.present()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_json() {
        let estimates = serde_json::from_str(
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5e2,"standard_error":0.1},"median":{"point_estimate":9.0}}"#,
        )
        .unwrap();
        assert_eq!(mean_estimate(&estimates), Some(250.0));
        let bench = serde_json::from_str(
            r#"{"group_id":"g","function_id":"f","value_str":null,"throughput":null,"full_id":"g/f \"q\"","directory_name":"g/f"}"#,
        )
        .unwrap();
        assert_eq!(full_id(&bench).as_deref(), Some("g/f \"q\""));
        assert_eq!(full_id(&serde_json::json!({})), None);
    }

    #[test]
    fn callgrind_table_judges_the_authenticators_own_work() {
        let mut recorded = BTreeMap::new();
        for (name, value) in [
            ("wazo/tower/plain", 1000.0),
            ("wazo/tower/preset", 1010.0),
            ("wazo/tower/auth", 1025.0),
            ("kalliope/reqwest/plain", 1000.0),
            ("kalliope/reqwest/preset", 1010.0),
            ("kalliope/reqwest/auth", 1050.0),
        ] {
            recorded.insert(
                ("callgrind".to_owned(), name.to_owned()),
                (value, "instructions/request".to_owned()),
            );
        }
        recorded.insert(
            ("overhead".to_owned(), "wazo/tower/c64/ratio".to_owned()),
            (1.036, "x".to_owned()),
        );
        let figures = Figures {
            criterion: BTreeMap::new(),
            recorded,
        };
        let mut md = String::new();
        callgrind_section(&figures, &mut md).unwrap();
        let wazo = md
            .lines()
            .find(|l| l.starts_with("| wazo | tower |"))
            .unwrap();
        assert!(wazo.contains("| +2.50 % | +1.50 % | ≤ 2 % ✔ met | 1.036x | not measured |"));
        let kalliope = md
            .lines()
            .find(|l| l.starts_with("| kalliope | reqwest |"))
            .unwrap();
        assert!(kalliope.contains("| +5.00 % | +4.00 % | ≤ 3 % ✘ missed |"));
        // Nothing measured, no section.
        let empty = Figures {
            criterion: BTreeMap::new(),
            recorded: BTreeMap::new(),
        };
        let mut md = String::new();
        callgrind_section(&empty, &mut md).unwrap();
        assert!(md.is_empty());
    }

    #[test]
    fn svg_is_well_formed_enough() {
        let text = svg(&[
            ("a < b".to_owned(), 30.0, 25.0, true),
            ("c".to_owned(), 1.02, 1.05, false),
        ])
        .unwrap();
        assert!(text.starts_with("<svg"));
        assert!(text.contains("a &lt; b"));
        assert!(text.contains("30.00x faster"));
        assert!(text.trim_end().ends_with("</svg>"));
    }
}
