//! The `fleet` stage: `pbx-auth-redis` and the multi-process fleet tests against a real
//! `redis-server` (and the real OAuth server for sipgate), plus the crate's README example.
//!
//! Tests that need Redis are `#[ignore]`d under plain `cargo test`; here they run with
//! `PBX_REDIS_URL` set and fail, not skip, if something is missing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::figure;
use crate::process::Guard;
use crate::protocols::sipgate::start_oauth_server;
use crate::redis;
use crate::report::{Goal, Row, Src};
use crate::stage::{cargo, cargo_bin, root, run, target_dir};

/// Runs `cargo <args>` in the workspace root with the fleet's environment.
fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result {
    let mut cmd = Command::new(cargo_bin());
    cmd.args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// `cargo xtask test`'s fleet stage.
pub(crate) fn stage() -> Result {
    let server = redis::start()?;
    println!("  - redis-server listening at {}", server.url);
    let (_oauth, issuer) = start_oauth_server()?;
    println!("  - oidc-provider listening at {issuer}");
    let config = server.config.display().to_string();
    let env = [
        ("PBX_REDIS_URL", server.url.as_str()),
        ("PBX_REDIS_CONF", config.as_str()),
        ("OAUTH_ISSUER", issuer.as_str()),
    ];
    cargo_with(
        &[
            "test",
            "-p",
            "pbx-auth-redis",
            "--all-features",
            "--test",
            "redis",
            "--",
            "--ignored",
        ],
        &env,
    )?;
    cargo_with(
        &[
            "run",
            "--quiet",
            "-p",
            "pbx-auth-redis",
            "--example",
            "quickstart",
        ],
        &env,
    )?;
    // One at a time: the tests share the OAuth server's request log. The restart test goes
    // last, on its own: it stops this Redis and starts (and finally stops) another.
    let fleet = [
        "test",
        "-p",
        "pbx-auth-tests",
        "--test",
        "fleet",
        "--",
        "--ignored",
        "--test-threads=1",
    ];
    let mut others = fleet.to_vec();
    others.extend(["--skip", "redis_stopped_and_started_mid_run"]);
    cargo_with(&others, &env)?;
    let mut restart = fleet.to_vec();
    restart.extend(["--exact", "redis_stopped_and_started_mid_run"]);
    cargo_with(&restart, &env)?;
    drop(server.guard);
    Ok(())
}

/// Parses a member's `bench k=v ...` or `summary k=v ...` line.
fn parse_line(out: &str, prefix: &str) -> Result<std::collections::HashMap<String, f64>> {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .ok_or_else(|| format!("a fleet member printed no `{prefix}` line"))?;
    Ok(line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect())
}

/// Starts `count` members with `args` at once and returns each one's output.
fn members(
    member: &Path,
    count: usize,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Vec<String>> {
    let children: Vec<_> = (0..count)
        .map(|_| {
            let mut cmd = Command::new(member);
            cmd.args(args).stdout(Stdio::piped()).stdin(Stdio::null());
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.spawn()
        })
        .collect::<std::io::Result<_>>()?;
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output()?;
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            } else {
                Err(format!("a fleet member exited with {}", out.status).into())
            }
        })
        .collect()
}

/// `cargo xtask bench`'s fleet figures, against a private Redis: eight processes on a cold
/// store (fetches at the server, time until all hold the credential), the shared replay
/// cache against the in-process one (one process and four). The L2 on a warm L1 comes from
/// the criterion stage: per request from the overhead bench (`figure fleet l2-request/...`),
/// the cache alone from the core's `fleet_l2/*`.
pub(crate) fn bench(quick: bool) -> Result {
    cargo(&[
        "build",
        "--release",
        "-p",
        "pbx-auth-tests",
        "-p",
        "pbx-mock",
        "--bins",
    ])?;
    let member = target_dir().join("release").join("fleet-member");
    let server = redis::start()?;
    let mut mock = Guard::spawn(
        "pbx-mock wazo-auth",
        Command::new(target_dir().join("release").join("pbx-mock")).args([
            "wazo-auth",
            "--user",
            "alice:s3cre7",
        ]),
    )?;
    let wazo = mock.wait_for_line("listening on", Duration::from_secs(30))?;

    // Eight processes, cold store: one fetch for all of them.
    let rounds = if quick { 2 } else { 10 };
    let mut times = Vec::new();
    let mut fetches = 0.0;
    for round in 0..rounds {
        let prefix = format!("bench-refresh-{round}-{}", std::process::id());
        let started = Instant::now();
        let outs = members(
            &member,
            8,
            &["wazo", &wazo],
            &[
                ("PBX_REDIS_URL", &server.url),
                ("FLEET_PREFIX", &prefix),
                ("FLEET_KEY", "wazo:alice"),
            ],
        )?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        for out in &outs {
            fetches += parse_line(out, "summary ")?["fetches"];
        }
    }
    times.sort_by(f64::total_cmp);
    let rounds_f = f64::from(u32::try_from(rounds).unwrap_or(u32::MAX));
    figure(
        "fleet",
        "refresh-8-processes/fetches",
        fetches / rounds_f,
        "fetches per cold start",
    );
    figure(
        "fleet",
        "refresh-8-processes/time",
        times[times.len() / 2],
        "ms (median, spawning eight processes until the last exits holding the token)",
    );

    // The replay cache: in process, in Redis from one process, and from four.
    let n = if quick { 5_000 } else { 50_000 };
    let n_text = n.to_string();
    let prefix = format!("bench-replay-{}", std::process::id());
    let env = [
        ("PBX_REDIS_URL", server.url.as_str()),
        ("FLEET_PREFIX", prefix.as_str()),
    ];
    let cases: [(&str, usize, &str, &str); 3] = [
        ("in-process", 1, "1", "local"),
        ("redis-1-process", 1, "64", "redis"),
        ("redis-4-processes", 4, "64", "redis"),
    ];
    for (label, processes, concurrency, mode) in cases {
        let outs = members(
            &member,
            processes,
            &["bench-replay", &n_text, concurrency, mode],
            &env,
        )?;
        let mut count = 0.0;
        let (mut slowest, mut p50, mut p99) = (0.0f64, 0.0f64, 0.0f64);
        for out in &outs {
            let b = parse_line(out, "bench ")?;
            count += b["count"];
            slowest = slowest.max(b["elapsed_ns"]);
            p50 = p50.max(b["p50_ns"]);
            p99 = p99.max(b["p99_ns"]);
        }
        figure(
            "fleet",
            &format!("replay/{label}/rate"),
            (count / (slowest / 1e9)).round(),
            "verifications/s",
        );
        figure("fleet", &format!("replay/{label}/p50"), p50 / 1e3, "µs");
        figure("fleet", &format!("replay/{label}/p99"), p99 / 1e3, "µs");
    }
    drop(mock);
    drop(server);
    Ok(())
}

/// `cargo xtask bench --only fleet`: the fleet figures alone, with the cache-level
/// L2-on-a-warm-L1 criterion bench (a full run has it, and the per-request figure, from its
/// criterion stage).
pub(crate) fn bench_alone(quick: bool) -> Result {
    let mut args = vec!["bench", "-p", "pbx-auth-core", "--bench", "shared"];
    if quick {
        args.extend(["--", "--quick"]);
    }
    cargo(&args)?;
    bench(quick)
}

/// The fleet's area in `docs/performance.md`.
pub(crate) const REPORT_AREA: &str = "Fleets (Redis on loopback)";

/// How to read the fleet's table.
pub(crate) const REPORT_INTRO: &str = "The L2 rows compare the wazo composition over \
     `SharedSource` (in-memory store) with the same over the bare source, credential \
     cached. The warm path never reaches the store (the core's `shared` bench asserts it), \
     so the two should cost the same: the client instruction count, which does not drift \
     with the machine's load, is the stable measure of that; the wall-clock ratios, medians \
     of interleaved rounds, are printed as measured and move by a few percent at \
     concurrency 1 between runs on a shared two-core machine.";

/// The fleet's rows in `docs/performance.md`.
pub(crate) fn report_rows() -> Vec<Row> {
    let area = REPORT_AREA;
    let mut rows = vec![
        Row::new(
            area,
            "the L2 on a warm L1: client instructions per authenticated request through \
             reqwest (callgrind), wazo over `SharedSource` / over the bare source",
            Src::figure("callgrind", "fleet/reqwest/shared"),
            Some((
                "without the L2",
                Src::figure("callgrind", "fleet/reqwest/alone"),
            )),
            Goal::AtMost(1.01),
        ),
        Row::new(
            area,
            "the L2 on a warm L1, per request through reqwest, concurrency 1: median of \
             per-round ratios (wazo over `SharedSource` / over the bare source)",
            Src::figure("fleet", "l2-request/c1/ratio"),
            None,
            Goal::AtMost(1.01),
        ),
        Row::new(
            area,
            "the L2 on a warm L1, per request through reqwest, concurrency 64: median of \
             per-round ratios (wazo over `SharedSource` / over the bare source)",
            Src::figure("fleet", "l2-request/c64/ratio"),
            None,
            Goal::AtMost(1.01),
        ),
        Row::new(
            area,
            "the L2 on a warm L1, the cache alone: `TokenCache::get` over `SharedSource` / over \
             the bare source (tens of nanoseconds: code layout moves it by more than the L2)",
            Src::bench("fleet_l2/get_warm_shared"),
            Some(("without the L2", Src::bench("fleet_l2/get_warm_plain"))),
            Goal::Report,
        ),
        Row::new(
            area,
            "eight processes on a cold store: fetches at the server",
            Src::figure("fleet", "refresh-8-processes/fetches"),
            None,
            Goal::Maximum(1.0),
        ),
        Row::new(
            area,
            "eight processes on a cold store: from spawning them until all hold the token",
            Src::figure("fleet", "refresh-8-processes/time"),
            None,
            Goal::Report,
        ),
        Row::new(
            area,
            "replay cache in Redis, one process, 64 in flight (verifications/s)",
            Src::figure("fleet", "replay/redis-1-process/rate"),
            Some((
                "in-process cache",
                Src::figure("fleet", "replay/in-process/rate"),
            )),
            Goal::Minimum(50_000.0),
        ),
        Row::new(
            area,
            "replay cache in Redis, four processes, 64 in flight each (verifications/s)",
            Src::figure("fleet", "replay/redis-4-processes/rate"),
            Some((
                "in-process cache",
                Src::figure("fleet", "replay/in-process/rate"),
            )),
            Goal::Minimum(50_000.0),
        ),
    ];
    for (label, what) in [
        ("redis-1-process", "replay cache in Redis, one process"),
        ("redis-4-processes", "replay cache in Redis, four processes"),
    ] {
        for p in ["p50", "p99"] {
            rows.push(Row::new(
                area,
                &format!("{what}: {p} latency of one verification"),
                Src::figure("fleet", &format!("replay/{label}/{p}")),
                Some((
                    "in-process cache",
                    Src::figure("fleet", &format!("replay/in-process/{p}")),
                )),
                Goal::Report,
            ));
        }
    }
    rows
}
