//! `cargo xtask bench [--quick] [--report-only] [--only STAGE...] [--scheme SCHEME...]`:
//! every crate's criterion benches, the client's instructions per request under callgrind,
//! the server layers' (in `server_bench`), then the side-by-side comparisons against the
//! seeds' Python implementations, then `docs/performance.md` and its chart. Every figure is
//! printed as `figure <area> <name>: <value> <unit>`.
//!
//! `--only` runs the named stages alone (`criterion`, `callgrind`, `server-callgrind`,
//! `compare-kalliope`, `compare-authnz`, `fleet`, `report`; repeat it or separate names
//! with commas) and keeps the figures of the last run beside the new ones, so one stage can
//! be measured again while working on it. `--scheme` limits the callgrind stage to the
//! named schemes (`kalliope`, `wazo`, `sipgate`, `passthrough`, and `fleet`: the wazo
//! composition with and without the shared store's L2).

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;
use crate::protocols;
use crate::stage::{cargo_bin, require_tool, root, stage, target_dir};

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

/// What the command line asked for.
struct Options {
    quick: bool,
    report_only: bool,
    /// The stages to run; empty for all.
    only: Vec<String>,
    /// The schemes the callgrind stage counts; empty for its default.
    schemes: Vec<String>,
}

/// Every stage `--only` may name, in the order a full run takes them.
fn stage_names() -> Vec<String> {
    let mut names = vec![
        "criterion".to_owned(),
        "callgrind".to_owned(),
        "server-callgrind".to_owned(),
    ];
    names.extend(
        protocols::BENCH_COMPARE
            .iter()
            .map(|(name, _)| format!("compare-{name}")),
    );
    names.extend(["fleet".to_owned(), "report".to_owned()]);
    names
}

fn parse_options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        quick: false,
        report_only: false,
        only: Vec::new(),
        schemes: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut values = |flag: &str| -> Result<Vec<String>> {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            Ok(value
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect())
        };
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--report-only" => options.report_only = true,
            "--only" => options.only.extend(values("--only")?),
            "--scheme" => options.schemes.extend(values("--scheme")?),
            other => return Err(format!("unknown bench argument {other:?}").into()),
        }
    }
    let known = stage_names();
    if let Some(unknown) = options.only.iter().find(|s| !known.contains(s)) {
        return Err(format!("no bench stage {unknown:?}; stages: {}", known.join(", ")).into());
    }
    if let Some(unknown) = options
        .schemes
        .iter()
        .find(|s| !CALLGRIND_SCHEMES.contains(&s.as_str()) && s.as_str() != FLEET_PAIR)
    {
        return Err(format!(
            "no callgrind scheme {unknown:?}; schemes: {}, {FLEET_PAIR}",
            CALLGRIND_SCHEMES.join(", ")
        )
        .into());
    }
    Ok(options)
}

pub(crate) fn run(args: &[String]) -> Result {
    let options = parse_options(args)?;
    let quick = options.quick;
    if options.report_only {
        // Rewrites the report from the figures the last run left under target/.
        return crate::report::write(quick);
    }
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|s| s == name);
    std::fs::create_dir_all(target_dir())?;
    if options.only.is_empty() {
        let _ = std::fs::remove_file(figures_file());
    }
    if wanted("criterion") {
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
    }
    if wanted("callgrind") {
        stage("callgrind", || callgrind(quick, &options.schemes))?;
    }
    if wanted("server-callgrind") {
        stage("server-callgrind", || crate::server_bench::callgrind(quick))?;
    }
    for (name, compare) in protocols::BENCH_COMPARE {
        let name = format!("compare-{name}");
        if wanted(&name) {
            stage(&name, || compare(quick))?;
        }
    }
    if wanted("fleet") {
        // Alone, the stage also runs the L2 criterion bench that a full run's criterion
        // stage covers.
        if options.only.is_empty() {
            stage("fleet", || crate::fleet::bench(quick))?;
        } else {
            stage("fleet", || crate::fleet::bench_alone(quick))?;
        }
    }
    if wanted("report") {
        stage("report", || crate::report::write(quick))?;
    }
    Ok(())
}

/// The schemes, transports and variants the overhead bench's callgrind mode runs.
const CALLGRIND_SCHEMES: &[&str] = &["kalliope", "wazo", "sipgate", "passthrough"];
const CALLGRIND_TRANSPORTS: &[&str] = &["reqwest", "middleware", "tower"];
const CALLGRIND_VARIANTS: &[&str] = &["plain", "preset", "auth"];
/// The `--scheme` name of the L2 pair (wazo with and without `SharedSource`), counted
/// beside the schemes rather than per transport and variant.
const FLEET_PAIR: &str = "fleet";

/// The client's instructions per request, counted by callgrind: for each scheme, transport
/// and variant, the overhead bench in its callgrind mode
/// (`OVERHEAD_CALLGRIND=<scheme>/<transport>/<variant>:<n>`) runs `n` sequential requests
/// inside `callgrind_round`, on one thread, against a server in a child process that
/// valgrind does not follow (`--trace-children=no`, the default). Collection is off at start
/// and on only inside that function (`--toggle-collect`), so neither start-up, warm-up nor
/// the server is counted. One valgrind run per variant keeps the attribution trivial: the
/// run's total is the variant's.
fn callgrind(quick: bool, only: &[String]) -> Result {
    require_tool(
        "valgrind",
        "install valgrind (Debian: apt-get install valgrind; `.ci/run` installs it)",
    )?;
    let exe = bench_executable("overhead")?;
    let dir = target_dir().join("callgrind");
    std::fs::create_dir_all(&dir)?;
    let requests: u32 = if quick { 20 } else { 200 };
    // A quick run only proves the harness still works: each valgrind start costs seconds,
    // so it counts one scheme (every transport and variant) instead of all four.
    let schemes: Vec<&str> = if !only.is_empty() {
        only.iter()
            .map(String::as_str)
            .filter(|s| *s != FLEET_PAIR)
            .collect()
    } else if quick {
        CALLGRIND_SCHEMES[1..2].to_vec()
    } else {
        CALLGRIND_SCHEMES.to_vec()
    };
    for scheme in schemes {
        for transport in CALLGRIND_TRANSPORTS {
            let mut per_request = [0.0; 3];
            for (variant, slot) in CALLGRIND_VARIANTS.iter().zip(&mut per_request) {
                let name = format!("{scheme}/{transport}/{variant}");
                let value =
                    callgrind_per_request(&exe, &dir, "OVERHEAD_CALLGRIND", &name, requests)?;
                figure("callgrind", &name, value, "instructions/request");
                *slot = value;
            }
            // The share the report judges, printed at once for whoever works on it.
            let [plain, preset, auth] = per_request;
            println!(
                "callgrind {scheme}/{transport}: authenticator's own work {:+.2} %, total \
                 added {:+.2} % of the unauthenticated request",
                (auth - preset) / plain * 100.0,
                (auth - plain) / plain * 100.0
            );
        }
    }
    // The L2 on a warm L1 (the fleet issue's figure): the wazo composition with and without
    // `SharedSource`, one authenticated request through reqwest each. Only in a run of
    // every scheme, or when `--scheme fleet` names it.
    if only.is_empty() || only.iter().any(|s| s == FLEET_PAIR) {
        for variant in ["alone", "shared"] {
            let name = format!("fleet/reqwest/{variant}");
            let value = callgrind_per_request(&exe, &dir, "OVERHEAD_CALLGRIND", &name, requests)?;
            figure("callgrind", &name, value, "instructions/request");
        }
    }
    Ok(())
}

/// [`callgrind_count`] divided by `requests`: the instructions per request, rounded.
pub(crate) fn callgrind_per_request(
    exe: &Path,
    dir: &Path,
    env: &str,
    name: &str,
    requests: u32,
) -> Result<f64> {
    let total = callgrind_count(exe, dir, env, name, requests)?;
    #[allow(clippy::cast_precision_loss)] // instruction counts are far below 2^52
    Ok((total as f64 / f64::from(requests)).round())
}

/// Runs one variant of a callgrind-mode bench under callgrind; returns the instructions
/// it counted. The bench reads `<env>=<name>:<requests>`, counts only inside its
/// `callgrind_round` function, and prints `callgrind-counted <name> ` when it ran.
fn callgrind_count(exe: &Path, dir: &Path, env: &str, name: &str, requests: u32) -> Result<u64> {
    let out_file = dir.join(name.replace('/', "-"));
    let stdout = crate::stage::output(
        Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--collect-atstart=no")
            .arg("--toggle-collect=*callgrind_round*")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(exe)
            .env(env, format!("{name}:{requests}"))
            .current_dir(root()),
    )?;
    if !stdout.contains(&format!("callgrind-counted {name} ")) {
        return Err(format!("the bench {} did not run {name}", exe.display()).into());
    }
    let text = std::fs::read_to_string(&out_file)
        .map_err(|e| format!("callgrind wrote nothing for {name}: {e}"))?;
    let total = callgrind_total(&text)
        .ok_or_else(|| format!("no `totals:` line in {}", out_file.display()))?;
    if total == 0 {
        return Err(format!(
            "callgrind counted nothing for {name}: is `callgrind_round` still the bench's \
             counted function?"
        )
        .into());
    }
    Ok(total)
}

/// The `totals:` (or older `summary:`) line of one callgrind output.
fn callgrind_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Builds one bench of the workspace (bench profile) and returns its executable.
pub(crate) fn bench_executable(name: &str) -> Result<PathBuf> {
    let out = crate::stage::output(
        Command::new(cargo_bin())
            // The criterion stage's selection and features, so nothing is built twice.
            .args([
                "bench",
                "--workspace",
                "--exclude",
                "xtask",
                "--all-features",
                "--bench",
                name,
                "--no-run",
                "--message-format=json",
            ])
            .current_dir(root()),
    )?;
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo built no `{name}` bench executable").into())
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

    #[test]
    fn options_name_stages_and_schemes() {
        let args = |list: &[&str]| list.iter().map(|&a| a.to_owned()).collect::<Vec<_>>();
        let o = super::parse_options(&args(&[
            "--only",
            "callgrind,report",
            "--scheme",
            "kalliope",
            "--quick",
        ]))
        .unwrap();
        assert!(o.quick && !o.report_only);
        assert_eq!(o.only, ["callgrind", "report"]);
        assert_eq!(o.schemes, ["kalliope"]);
        assert!(super::parse_options(&args(&["--only", "nonsense"])).is_err());
        assert!(super::parse_options(&args(&["--scheme", "nonsense"])).is_err());
        assert!(super::parse_options(&args(&["--scheme", "fleet"])).is_ok());
        assert!(super::parse_options(&args(&["--only"])).is_err());
        assert!(super::parse_options(&args(&["--fast"])).is_err());
    }

    #[test]
    fn callgrind_totals_parse() {
        let part = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=x\n0 5\ntotals: 6005\n";
        assert_eq!(super::callgrind_total(part), Some(6005));
        assert_eq!(super::callgrind_total("summary: 12\n"), Some(12));
        assert_eq!(super::callgrind_total("events: Ir\n"), None);
    }
}
