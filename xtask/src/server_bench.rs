//! The server layers' cost as the server process counts it: `cargo xtask bench`'s
//! `server-callgrind` stage runs the `server_overhead` bench of `tests/integration` under
//! callgrind once per variant, and this module's rows put the counts beside the
//! wall-clock figures the same bench printed in the criterion stage.

use crate::Result;
use crate::bench::{bench_executable, callgrind_per_request, figure};
use crate::report::{Goal, Row, Src};
use crate::stage::{require_tool, target_dir};

/// The bench's variants, as (scheme, without the layer, with it).
const PAIRS: [(&str, &str, &str); 2] = [
    ("wazo", "wazo/bare", "wazo/layer"),
    ("kalliope", "kalliope/verifier", "kalliope/layer"),
];

/// The wazo app with a route layer that does nothing.
const NOOP: &str = "wazo/noop";

/// The wazo app with `RequireAcl` around the handler's service, routed with `get_service`.
const SERVICE: &str = "wazo/service";

/// The wazo app with, in the same place, a service that only inserts a request extension.
const EXTENSION: &str = "wazo/extension";

/// The figures' area.
const AREA: &str = "server-callgrind";

/// Server instructions per request, counted by callgrind. Per variant, the bench runs with
/// `SERVER_CALLGRIND=<variant>:<n>`: it serves that one app on its main thread, its load
/// generator (a child process valgrind does not follow) opens 64 kept-alive connections
/// and fills the caches, then sends `n` requests 64 at a time while the main thread is
/// inside `callgrind_round`, the only function counted (`--collect-atstart=no
/// --toggle-collect`). The run's total over `n` is the server's instructions per request
/// in steady state, HTTP parsing and the app included.
pub(crate) fn callgrind(quick: bool) -> Result {
    require_tool(
        "valgrind",
        "install valgrind (Debian: apt-get install valgrind; `.ci/run` installs it)",
    )?;
    let exe = bench_executable("server_overhead")?;
    let dir = target_dir().join("callgrind-server");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    // A quick run proves the harness works and still gives the wazo goal's figure: each
    // valgrind start costs seconds, so it counts fewer requests of the wazo pair alone.
    let (requests, pairs): (u32, &[_]) = if quick {
        (256, &PAIRS[..1])
    } else {
        (2048, &PAIRS)
    };
    for &(scheme, bare, layer) in pairs {
        // wazo also runs the app with a pass-through route layer (axum's share), with the
        // layer placed where axum adds nothing (the layer's own work), and with a service
        // there that only inserts a request extension (the hand-over's share).
        let extra: &[&str] = if scheme == "wazo" {
            &[NOOP, SERVICE, EXTENSION]
        } else {
            &[]
        };
        for &variant in [bare, layer].iter().chain(extra) {
            let value = callgrind_per_request(&exe, &dir, "SERVER_CALLGRIND", variant, requests)?;
            figure(AREA, variant, value, "instructions/request");
        }
    }
    Ok(())
}

/// The report's area for these rows.
pub(crate) const REPORT_AREA: &str = "Server layers (server process, load from another process)";

/// The most instructions per request the layer may add, against the same app without it:
/// wazo's `RequireAcl` 5 %. Kalliope's goal (at least 80 % of the bare verifier's
/// throughput) is judged in process against the verifier alone (`kalliope_server`
/// criterion bench), which is stricter than a whole request; its counts here are reported.
fn instruction_goal(scheme: &str) -> Goal {
    match scheme {
        "wazo" => Goal::AtMost(1.05),
        _ => Goal::Report,
    }
}

/// Per scheme: the instruction counts against the goal, then the wall-clock throughput
/// and time ratio measured in the same bench (criterion stage) beside them.
pub(crate) fn report_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for (scheme, bare, layer) in PAIRS {
        let (layer_what, bare_what) = match scheme {
            "wazo" => (
                "`RequireAcl` with a warm cache, every request a verified hit",
                "the same axum app without the layer",
            ),
            _ => (
                "`VerifyXAuth`, a fresh `X-authenticate` header per request",
                "the bare verifier called in the handler",
            ),
        };
        rows.push(Row::new(
            REPORT_AREA,
            &format!(
                "{scheme}: server instructions per request (callgrind), {layer_what}, \
                 concurrency 64"
            ),
            Src::figure(AREA, layer),
            Some((bare_what, Src::figure(AREA, bare))),
            instruction_goal(scheme),
        ));
        if scheme == "wazo" {
            rows.push(Row::new(
                REPORT_AREA,
                "wazo: server instructions per request with a route layer that does nothing \
                 (axum's own cost of `route_layer`)",
                Src::figure(AREA, NOOP),
                Some((bare_what, Src::figure(AREA, bare))),
                Goal::Report,
            ));
            rows.push(Row::new(
                REPORT_AREA,
                "wazo: server instructions per request, `RequireAcl` against the pass-through \
                 route layer (the layer's own work)",
                Src::figure(AREA, layer),
                Some(("pass-through route layer", Src::figure(AREA, NOOP))),
                Goal::Report,
            ));
            rows.push(Row::new(
                REPORT_AREA,
                "wazo: server instructions per request, `RequireAcl` around the handler's \
                 service, routed with `get_service` (no boxed route of axum's own)",
                Src::figure(AREA, SERVICE),
                Some((bare_what, Src::figure(AREA, bare))),
                Goal::Report,
            ));
            rows.push(Row::new(
                REPORT_AREA,
                "wazo: server instructions per request with, in the same place, a service \
                 that only inserts one `Arc` request extension (handing the verified token \
                 to the handler, priced alone)",
                Src::figure(AREA, EXTENSION),
                Some((bare_what, Src::figure(AREA, bare))),
                Goal::Report,
            ));
        }
        rows.push(Row::new(
            REPORT_AREA,
            &format!(
                "{scheme}: wall-clock requests per second through the layer, concurrency 64 \
                 (ratio: share of the throughput without it)"
            ),
            Src::figure("server", &format!("{layer}/rps")),
            Some((bare_what, Src::figure("server", &format!("{bare}/rps")))),
            Goal::Report,
        ));
        rows.push(Row::new(
            REPORT_AREA,
            &format!(
                "{scheme}: wall-clock time per round with the layer / without, median of \
                 interleaved rounds, concurrency 64"
            ),
            Src::figure("server", &format!("{scheme}/time_ratio")),
            None,
            Goal::Report,
        ));
    }
    rows
}

/// How to read the area's table.
pub(crate) const REPORT_INTRO: &str = "The server runs in the bench's process and a load \
     generator in another, with 64 requests in flight over kept-alive HTTP/1.1 \
     connections. Instructions are the server process's own per request in steady state \
     (connections open, caches warm), counted by callgrind while the load generator sends \
     a fixed number of requests; they include hyper and axum, and do not drift with the \
     machine's load. The goals are judged on them. The wall-clock figures come from the \
     same bench run natively with both apps served at once and rounds interleaved; the \
     load generator shares the machine's cores with the server.";
