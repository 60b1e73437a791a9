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
    rows
}

/// The schemes the overhead bench measures.
const OVERHEAD_SCHEMES: &[&str] = &["kalliope", "wazo", "sipgate"];

/// The overhead table's area.
const OVERHEAD: &str = "Authentication overhead per request (in-process mock)";

/// A paragraph saying how to read an area's table, for the areas that need one.
fn area_intro(area: &str) -> Option<&'static str> {
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
            let id = std::fs::read_to_string(path.join("benchmark.json"))
                .ok()
                .and_then(|b| json_string(&b, "full_id"));
            let mean = std::fs::read_to_string(path.join("estimates.json"))
                .ok()
                .and_then(|e| json_number_after(&e, "\"mean\"", "\"point_estimate\":"));
            if let (Some(id), Some(mean)) = (id, mean) {
                out.insert(id, mean);
            }
        } else if path.is_dir() {
            collect(&path, out);
        }
    }
}

/// The string value of `"key":"..."` (criterion writes compact JSON with plain ids).
fn json_string(text: &str, key: &str) -> Option<String> {
    let start = text.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_owned())
}

/// The number after `field` that follows `anchor`.
fn json_number_after(text: &str, anchor: &str, field: &str) -> Option<f64> {
    let from = text.find(anchor)?;
    let at = text[from..].find(field)? + from + field.len();
    let rest = &text[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
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
                Goal::AtMost(_) | Goal::Report => ours / t,
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
    let extra: Vec<_> = figures
        .recorded
        .iter()
        .filter(|((area, name), _)| !used(area, name))
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
    std::fs::write(docs.join("performance.svg"), svg(&chart))?;
    println!("wrote docs/performance.md and docs/performance.svg");
    Ok(())
}

/// A horizontal bar per goal row: the bar is the measured ratio, the tick the goal.
fn svg(bars: &[(String, f64, f64, bool)]) -> String {
    let row_h = 34.0;
    let label_w = 470.0;
    let plot_w = 360.0;
    let height = 50.0 + row_h * bars.len() as f64;
    let max = bars
        .iter()
        .map(|(_, r, g, _)| r.max(*g))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = label_w + plot_w + 120.0
    );
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">Ratios measured by cargo xtask bench (bar: measured, tick: goal)</text>"#
    );
    for (i, (what, ratio, goal, faster)) in bars.iter().enumerate() {
        let y = 40.0 + row_h * i as f64;
        let ok = if *faster {
            ratio >= goal
        } else {
            ratio <= goal
        };
        let colour = if ok { "#2e7d32" } else { "#c62828" };
        let label: String = what.replace('`', "").chars().take(70).collect();
        let _ = writeln!(
            out,
            r#"<text x="10" y="{ty}">{}</text>"#,
            escape(&label),
            ty = y + 16.0
        );
        let bar_w = plot_w * ratio / max;
        let _ = writeln!(
            out,
            r#"<rect x="{label_w}" y="{y}" width="{bar_w:.1}" height="22" fill="{colour}"/>"#
        );
        let gx = label_w + plot_w * goal / max;
        let _ = writeln!(
            out,
            r#"<line x1="{gx:.1}" y1="{y0}" x2="{gx:.1}" y2="{y1}" stroke="black" stroke-width="2"/>"#,
            y0 = y - 3.0,
            y1 = y + 25.0
        );
        let suffix = if *faster { "x faster" } else { "x" };
        let _ = writeln!(
            out,
            r#"<text x="{tx:.1}" y="{ty}">{ratio:.2}{suffix}</text>"#,
            tx = label_w + bar_w.max(gx - label_w) + 8.0,
            ty = y + 16.0
        );
    }
    out.push_str("</svg>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_json() {
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5e2,"standard_error":0.1},"median":{"point_estimate":9.0}}"#;
        assert_eq!(
            json_number_after(estimates, "\"mean\"", "\"point_estimate\":"),
            Some(250.0)
        );
        let bench = r#"{"group_id":"g","function_id":"f","value_str":null,"throughput":null,"full_id":"g/f","directory_name":"g/f"}"#;
        assert_eq!(json_string(bench, "full_id").as_deref(), Some("g/f"));
    }

    #[test]
    fn svg_is_well_formed_enough() {
        let text = svg(&[
            ("a < b".to_owned(), 30.0, 25.0, true),
            ("c".to_owned(), 1.02, 1.05, false),
        ]);
        assert!(text.starts_with("<svg"));
        assert!(text.contains("a &lt; b"));
        assert!(text.trim_end().ends_with("</svg>"));
    }
}
