//! Authentication overhead per request, end to end: each scheme's authenticator through
//! plain reqwest, the reqwest-middleware adapter and hyper with the tower layer, against an
//! in-process mock, beside the same requests unauthenticated, at concurrency 1 and 64.
//!
//! Criterion measures each variant on its own. Because a few percent is the figure of
//! interest and a shared machine drifts by more than that between two benchmarks, the
//! binary then measures every pair interleaved (plain, authenticated, plain, ... in
//! rotating order) and prints the medians as `figure overhead ...` lines; the report's
//! ratios come from those. A third variant sends the plain request with the credential
//! header preset, which separates the cost of carrying a credential on the wire (paid by
//! the server as much as the client) from the work of the authenticator itself, and a
//! pass-through authenticator (the `passthrough` scheme) measures each adapter on its own.
//!
//! For `cargo xtask bench`'s instruction counts the binary has a third mode: with
//! `OVERHEAD_CALLGRIND=<scheme>/<transport>/<variant>:<n>` set it runs, on one thread, `n`
//! sequential requests of that one variant inside [`callgrind_round`], which xtask's
//! `valgrind --tool=callgrind --toggle-collect` counts (and nothing else), against a server
//! in a child process (this binary again, with `OVERHEAD_SERVE=1`), so only the client's
//! instructions are counted.

#![allow(clippy::print_stdout)] // the figure lines are this binary's output

use std::hint::black_box;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::adapters::reqwest::execute;
use pbx_auth_core::adapters::tower::AuthLayer;
use pbx_auth_core::{Authenticator, SharedAuthenticator};
use pbx_mock::{MockRequest, MockResponse, MockServer};
use tower::{ServiceBuilder, ServiceExt};

mod schemes;

const CONCURRENCY: [usize; 2] = [1, 64];

/// Set to `<scheme>/<transport>/<variant>:<n>`: the callgrind mode (see the crate docs).
const CALLGRIND_ENV: &str = "OVERHEAD_CALLGRIND";
/// Set: serve the accept-everything mock and exit when stdin closes.
const SERVE_ENV: &str = "OVERHEAD_SERVE";

/// How the binary was started: `cargo test` runs benches once as a smoke test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Test,
    Quick,
    Full,
    /// `n` sequential requests of one variant, counted by callgrind.
    Callgrind(u32),
}

/// The variant the callgrind mode runs, and how many requests.
fn callgrind_target() -> Option<(String, u32)> {
    let value = std::env::var(CALLGRIND_ENV).ok()?;
    let (name, n) = value.rsplit_once(':')?;
    Some((name.to_owned(), n.parse().ok()?))
}

fn mode() -> Mode {
    let args: Vec<String> = std::env::args().collect();
    if let Some((_, n)) = callgrind_target() {
        Mode::Callgrind(n)
    } else if !args.iter().any(|a| a == "--bench") {
        Mode::Test
    } else if args.iter().any(|a| a == "--quick") {
        Mode::Quick
    } else {
        Mode::Full
    }
}

/// Runs `n` copies of `one` concurrently, each as its own task (as a server handling `n`
/// requests at once would), and waits for all.
async fn fan_out<F, Fut>(n: usize, one: &F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if n == 1 {
        one().await;
        return;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        tasks.spawn(one());
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("request task");
    }
}

/// One authenticated request and its unauthenticated twin, over one transport. `plain(true)`
/// sends the twin with the credential header preset.
struct Pair<P, A> {
    transport: &'static str,
    plain: P,
    auth: A,
}

/// Times `batch` rounds of `n` concurrent calls, per round.
fn time_batch<F, Fut>(rt: &tokio::runtime::Runtime, n: usize, batch: u32, one: &F) -> f64
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..batch {
            fan_out(n, one).await;
        }
    });
    start.elapsed().as_secs_f64() * 1e9 / f64::from(batch)
}

/// How many interleaved rounds to time: `full` in a full run, a few in a quick one, one
/// as a smoke test.
fn interleaved_rounds(full: usize) -> usize {
    match mode() {
        Mode::Test => 1,
        Mode::Quick => 11,
        Mode::Full | Mode::Callgrind(_) => full,
    }
}

/// Rounds of `n` concurrent calls per timed batch: 50 in a full run (20 in a quick one, 1
/// as a smoke test), divided by `n` up to 8, and at least one.
fn batch_size(n: usize) -> u32 {
    let calls = match mode() {
        Mode::Test => 1,
        Mode::Quick => 20,
        Mode::Full | Mode::Callgrind(_) => 50,
    };
    (calls / u32::try_from(n).unwrap_or(1).min(8)).max(1)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn measure<P, PF, A, AF>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    scheme: &str,
    pair: &Pair<P, A>,
) where
    P: Fn(bool) -> PF,
    PF: Future<Output = ()> + Send + 'static,
    A: Fn() -> AF,
    AF: Future<Output = ()> + Send + 'static,
{
    if let Mode::Callgrind(n) = mode() {
        count_instructions(rt, scheme, pair, n);
        return;
    }
    let mut group = c.benchmark_group(format!("overhead/{scheme}"));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in CONCURRENCY {
        let id = |kind: &str| BenchmarkId::new(format!("{}/{kind}", pair.transport), n);
        group.bench_function(id("auth"), |b| {
            b.to_async(rt).iter(|| fan_out(n, &pair.auth));
        });
        let plain_one = || (pair.plain)(false);
        group.bench_function(id("plain"), |b| {
            b.to_async(rt).iter(|| fan_out(n, &plain_one));
        });
    }
    group.finish();

    // Enough rounds that the median ratio settles to within about a percent on a shared
    // two-core machine.
    let rounds = interleaved_rounds(151);
    for n in CONCURRENCY {
        let batch = batch_size(n);
        let plain_one = || (pair.plain)(false);
        let preset_one = || (pair.plain)(true);
        let (mut plain, mut preset, mut auth) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ratios, mut ratios_preset) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            // Rotate which goes first so none always meets a warmer machine, and compare
            // neighbours: the ratio of each round cancels slow drift.
            let mut times = [0.0; 3];
            for k in 0..3 {
                let which = (round + k) % 3;
                times[which] = match which {
                    0 => time_batch(rt, n, batch, &plain_one),
                    1 => time_batch(rt, n, batch, &preset_one),
                    _ => time_batch(rt, n, batch, &pair.auth),
                };
            }
            let [p, h, a] = times;
            plain.push(p);
            preset.push(h);
            auth.push(a);
            ratios.push(a / p);
            ratios_preset.push(a / h);
        }
        let name = format!("{scheme}/{}/c{n}", pair.transport);
        println!("figure overhead {name}/auth: {:.0} ns", median(auth));
        println!("figure overhead {name}/plain: {:.0} ns", median(plain));
        println!("figure overhead {name}/preset: {:.0} ns", median(preset));
        println!("figure overhead {name}/ratio: {:.4} x", median(ratios));
        println!(
            "figure overhead {name}/ratio_preset: {:.4} x",
            median(ratios_preset)
        );
    }
}

/// The only code callgrind counts: xtask runs the binary with `--collect-atstart=no
/// --toggle-collect=*callgrind_round*`, so collection is on exactly while this frame is on
/// the stack of the thread that entered it. Not generic, so it is one symbol.
#[inline(never)]
fn callgrind_round(work: &dyn Fn()) {
    work();
}

/// Callgrind mode: for the one variant named in [`CALLGRIND_ENV`], warms the connection and
/// the caches, then runs `n` sequential requests inside [`callgrind_round`]; every other
/// variant is skipped.
fn count_instructions<P, PF, A, AF>(
    rt: &tokio::runtime::Runtime,
    scheme: &str,
    pair: &Pair<P, A>,
    n: u32,
) where
    P: Fn(bool) -> PF,
    PF: Future<Output = ()> + Send + 'static,
    A: Fn() -> AF,
    AF: Future<Output = ()> + Send + 'static,
{
    let target = callgrind_target().map(|(name, _)| name);
    let name = |variant: &str| format!("{scheme}/{}/{variant}", pair.transport);
    let selected = |variant: &str| target.as_deref() == Some(name(variant).as_str());
    if selected("plain") {
        count_variant(rt, &name("plain"), n, || (pair.plain)(false));
    }
    if selected("preset") {
        count_variant(rt, &name("preset"), n, || (pair.plain)(true));
    }
    if selected("auth") {
        count_variant(rt, &name("auth"), n, &pair.auth);
    }
}

/// Warms up, then counts `n` sequential calls of `one`. Each request's future is awaited
/// where it is made, not boxed: the variants' futures differ in size, and a box would add
/// an allocator path that depends on that size to what is counted.
fn count_variant<F, Fut>(rt: &tokio::runtime::Runtime, name: &str, n: u32, one: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    rt.block_on(async {
        for _ in 0..20 {
            one().await;
        }
    });
    println!("callgrind-counted {name} {n}");
    callgrind_round(&|| {
        rt.block_on(async {
            for _ in 0..n {
                one().await;
            }
        });
    });
}

/// The accept-everything server in a child process (this binary, [`SERVE_ENV`] set), so a
/// profiler of this process counts the client alone. Killed when dropped; it also exits
/// when its stdin closes.
struct ChildServer {
    child: Child,
    url: String,
}

impl ChildServer {
    fn spawn() -> Self {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .env(SERVE_ENV, "1")
            .env_remove(CALLGRIND_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the server's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Accepts every request: the bench measures the client side, not a verifier.
fn accept_all() -> MockServer {
    let server = MockServer::start(|_: &MockRequest| MockResponse::text(200, "text/plain", "ok"));
    server.set_recording(false);
    server
}

/// [`SERVE_ENV`] mode: serve until stdin closes.
fn serve() {
    let server = accept_all();
    println!("listening on {}", server.url());
    std::io::stdout().flush().expect("stdout");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// What a reqwest task needs, behind one shared handle.
struct ReqwestCtx {
    client: reqwest::Client,
    url: Arc<str>,
    auth: SharedAuthenticator,
}

/// What a reqwest-middleware task needs, behind one shared handle.
struct MiddlewareCtx {
    client: reqwest_middleware::ClientWithMiddleware,
    url: Arc<str>,
}

fn bench_scheme(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    server_url: &str,
    scheme: &str,
    auth: &SharedAuthenticator,
    preset: &http::HeaderMap,
) {
    let url: Arc<str> = format!("{server_url}/bench").into();
    let uri: http::Uri = url.parse().expect("uri");
    let client = reqwest::Client::new();

    // Each task takes one shared handle, whichever variant it runs, so the variants differ
    // in authentication and in nothing the harness does.
    let reqwest_ctx = Arc::new(ReqwestCtx {
        client: client.clone(),
        url: Arc::clone(&url),
        auth: auth.clone(),
    });
    let reqwest_pair = Pair {
        transport: "reqwest",
        plain: |with_header: bool| {
            let ctx = Arc::clone(&reqwest_ctx);
            let headers = if with_header {
                preset.clone()
            } else {
                http::HeaderMap::new()
            };
            async move {
                let req = ctx.client.get(&*ctx.url).headers(headers).build();
                let res = ctx.client.execute(req.expect("request")).await;
                black_box(res.expect("send").bytes().await.expect("body"));
            }
        },
        auth: || {
            let ctx = Arc::clone(&reqwest_ctx);
            async move {
                let req = ctx.client.get(&*ctx.url).build().expect("request");
                let res = execute(&ctx.client, &ctx.auth, req).await.expect("send");
                black_box(res.bytes().await.expect("body"));
            }
        },
    };
    measure(c, rt, scheme, &reqwest_pair);

    let with_auth = Arc::new(MiddlewareCtx {
        client: reqwest_middleware::ClientBuilder::new(client.clone())
            .with(AuthMiddleware::new(auth.clone()))
            .build(),
        url: Arc::clone(&url),
    });
    let without = Arc::new(MiddlewareCtx {
        client: reqwest_middleware::ClientBuilder::new(client).build(),
        url: Arc::clone(&url),
    });
    let middleware_pair = Pair {
        transport: "middleware",
        plain: |with_header: bool| {
            let ctx = Arc::clone(&without);
            let headers = if with_header {
                preset.clone()
            } else {
                http::HeaderMap::new()
            };
            async move {
                let res = ctx.client.get(&*ctx.url).headers(headers).send().await;
                black_box(res.expect("send").bytes().await.expect("body"));
            }
        },
        auth: || {
            let ctx = Arc::clone(&with_auth);
            async move {
                let res = ctx.client.get(&*ctx.url).send().await.expect("send");
                black_box(res.bytes().await.expect("body"));
            }
        },
    };
    measure(c, rt, scheme, &middleware_pair);

    let hyper: HyperClient<HttpConnector, Empty<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    let layered = ServiceBuilder::new()
        .layer(AuthLayer::new(auth.clone()))
        .service(hyper.clone());
    let tower_pair = Pair {
        transport: "tower",
        // Both variants call their service as tower requires (`oneshot`: ready, then call),
        // so they differ in the layer alone.
        plain: |with_header: bool| {
            let (service, uri) = (hyper.clone(), uri.clone());
            let headers = if with_header {
                preset.clone()
            } else {
                http::HeaderMap::new()
            };
            async move {
                let mut req = http::Request::get(uri).body(Empty::new()).expect("request");
                *req.headers_mut() = headers;
                let res = service.oneshot(req).await.expect("send");
                black_box(res.into_body().collect().await.expect("body"));
            }
        },
        auth: || {
            let (service, uri) = (layered.clone(), uri.clone());
            async move {
                let req = http::Request::get(uri).body(Empty::new()).expect("request");
                let res = service.oneshot(req).await.expect("send");
                black_box(res.into_body().collect().await.expect("body"));
            }
        },
    };
    measure(c, rt, scheme, &tower_pair);
}

fn main() {
    if std::env::var_os(SERVE_ENV).is_some() {
        serve();
        return;
    }
    let callgrind = matches!(mode(), Mode::Callgrind(_));
    // Callgrind mode: one thread runs every client task inside `callgrind_round`, and the
    // server is another process.
    let rt = if callgrind {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()
    .expect("runtime");
    let (_in_process, _child, server_url) = if callgrind {
        let child = ChildServer::spawn();
        let url = child.url.clone();
        (None, Some(child), url)
    } else {
        let server = accept_all();
        let url = server.url().to_owned();
        (Some(server), None, url)
    };
    let mut c = if callgrind {
        Criterion::default()
    } else {
        Criterion::default().configure_from_args()
    };
    let (peers, schemes) = rt.block_on(schemes::all());
    // First, while the process is fresh: the pair differs by a fraction of a percent, less
    // than the drift that hundreds of benchmarks leave behind (pools, tasks, heap).
    fleet_l2(&rt, &server_url, &peers);
    for (scheme, auth) in &schemes {
        // Warm the cache so the figures are the cached path; the headers it wrote are the
        // preset credential of the third variant.
        let (mut parts, ()) = http::Request::new(()).into_parts();
        rt.block_on(auth.authorize(&mut parts, None))
            .expect("warm the cache");
        bench_scheme(&mut c, &rt, &server_url, scheme, auth, &parts.headers);
    }
    if !callgrind {
        c.final_summary();
    }
}

/// The L2 on a warm L1, per request: the wazo composition over the bare source against the
/// same over `SharedSource`, both authenticated through reqwest, timed in interleaved
/// rounds like the pairs above and printed as `figure fleet l2-request/c<n>/...`. In
/// callgrind mode the variants are `fleet/reqwest/alone` and `fleet/reqwest/shared`.
fn fleet_l2(rt: &tokio::runtime::Runtime, server_url: &str, peers: &schemes::Peers) {
    let (alone, fleet) = schemes::fleet_pair(peers);
    let url: Arc<str> = format!("{server_url}/bench").into();
    let client = reqwest::Client::new();
    let ctx = |auth: &SharedAuthenticator| {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        rt.block_on(auth.authorize(&mut parts, None))
            .expect("warm the cache");
        Arc::new(ReqwestCtx {
            client: client.clone(),
            url: Arc::clone(&url),
            auth: auth.clone(),
        })
    };
    let (alone, fleet) = (ctx(&alone), ctx(&fleet));
    let one = |ctx: &Arc<ReqwestCtx>| {
        let ctx = Arc::clone(ctx);
        async move {
            let req = ctx.client.get(&*ctx.url).build().expect("request");
            let res = execute(&ctx.client, &ctx.auth, req).await.expect("send");
            black_box(res.bytes().await.expect("body"));
        }
    };
    if let Mode::Callgrind(n) = mode() {
        let target = callgrind_target().map(|(name, _)| name);
        match target.as_deref() {
            Some("fleet/reqwest/alone") => {
                count_variant(rt, "fleet/reqwest/alone", n, || one(&alone));
            }
            Some("fleet/reqwest/shared") => {
                count_variant(rt, "fleet/reqwest/shared", n, || one(&fleet));
            }
            _ => {}
        }
        return;
    }
    // Twice the pairs' rounds: two variants instead of three, and a goal of one percent.
    let rounds = interleaved_rounds(301);
    for n in CONCURRENCY {
        let batch = batch_size(n);
        // Warm-up: connections opened, caches and allocator settled, for both.
        time_batch(rt, n, batch, &|| one(&alone));
        time_batch(rt, n, batch, &|| one(&fleet));
        let (mut without, mut with, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            // Alternate which goes first, and compare neighbours, as `measure` does.
            let mut times = [0.0; 2];
            for k in 0..2 {
                let which = (round + k) % 2;
                times[which] = if which == 0 {
                    time_batch(rt, n, batch, &|| one(&alone))
                } else {
                    time_batch(rt, n, batch, &|| one(&fleet))
                };
            }
            without.push(times[0]);
            with.push(times[1]);
            ratios.push(times[1] / times[0]);
        }
        println!(
            "figure fleet l2-request/c{n}/without: {:.0} ns",
            median(without)
        );
        println!("figure fleet l2-request/c{n}/with: {:.0} ns", median(with));
        println!(
            "figure fleet l2-request/c{n}/ratio: {:.4} x",
            median(ratios)
        );
    }
}
