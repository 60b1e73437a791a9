//! What the server layers cost a real HTTP service: the server runs in this process, the
//! load generator in another (this binary again, with `SERVER_LOAD` set), with 64 requests
//! in flight over kept-alive HTTP/1.1 connections.
//!
//! Variants, each an axum app serving `GET /users/{user_uuid}`:
//!
//! - `wazo/bare`: the app alone; the requests carry the same `X-Auth-Token`, unchecked;
//! - `wazo/layer`: the same app behind `RequireAcl` (`confd.users.{user_uuid}.read`) with a
//!   warm cache, so every request is a verified cache hit;
//! - `wazo/noop`: the same app behind a route layer that does nothing, which prices what
//!   axum's `route_layer` costs by itself;
//! - `wazo/service`: the same `RequireAcl` wrapped around the handler's service and routed
//!   with `get_service`, which adds no boxed route of its own: the layer's work alone;
//! - `wazo/extension`: the same placement, with axum's `Extension` layer, which only inserts
//!   one `Arc` as a request extension (what handing the verified token to the handler costs
//!   by itself);
//! - `kalliope/verifier`: the app whose handler calls `Verifier::verify_headers` itself (the
//!   bare verifier); every request carries a fresh `X-authenticate` header;
//! - `kalliope/layer`: the same app behind `VerifyXAuth` around the same kind of verifier.
//!
//! Two modes. Run by `cargo bench` (criterion's stage of `cargo xtask bench`), it measures
//! wall-clock time: every app is served at once, the load generator times rounds of each
//! pair interleaved in rotating order, and the binary prints the median requests per second
//! and the median per-round time ratio as `figure server ...` lines. With
//! `SERVER_CALLGRIND=<variant>:<n>` set, xtask runs it under `valgrind --tool=callgrind
//! --collect-atstart=no --toggle-collect=*callgrind_round*`: the one app is served on a
//! current-thread runtime on the main thread, the load generator (not followed by
//! valgrind) warms the connections and the caches, then sends exactly `n` requests while
//! the main thread is inside [`callgrind_round`]. The count divided by `n` is the server's
//! instructions per request in steady state, whatever else runs on the machine.

#![allow(clippy::print_stdout)] // the figure lines are this binary's output

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt as _;
use axum::routing::{get, get_service};
use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use kalliope_auth::server::VerifyXAuth;
use kalliope_auth::verifier::{Verifier, VerifierConfig};
use kalliope_auth::{Credentials, HEADER_NAME, SigningKey, XAuthSigner};
use pbx_auth_core::nonce::SeqNonce;
use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use tower::Layer as _;
use tower::layer::layer_fn;
use wazo_auth_client::server::TokenVerifier;
use wazo_auth_client::{ClientBuilder, NewToken, Password};

/// Requests in flight.
const CONCURRENCY: u64 = 64;
/// Set to `<variant>:<n>`: the callgrind mode (see the crate docs).
const CALLGRIND_ENV: &str = "SERVER_CALLGRIND";
/// Set in the load generator: `variant=url` pairs, comma-separated.
const LOAD_ENV: &str = "SERVER_LOAD";
/// The wazo token the load generator sends.
const TOKEN_ENV: &str = "SERVER_LOAD_TOKEN";
/// Requests that open every connection and fill every cache before anything is measured.
const WARM_UP: u64 = 4 * CONCURRENCY;

/// The pairs compared: (scheme, without the layer, with it).
const PAIRS: [(&str, &str, &str); 2] = [
    ("wazo", "wazo/bare", "wazo/layer"),
    ("kalliope", "kalliope/verifier", "kalliope/layer"),
];

/// How the binary was started: `cargo test` runs benches once as a smoke test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Test,
    Quick,
    Full,
}

fn mode() -> Mode {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        Mode::Test
    } else if args.iter().any(|a| a == "--quick") {
        Mode::Quick
    } else {
        Mode::Full
    }
}

/// The Kalliope user both processes know: the server verifies, the load generator signs.
fn kalliope_key() -> SigningKey {
    let credentials = Credentials::new("admin", "admin", "default").expect("valid credentials");
    SigningKey::derive(&credentials, "b5a8fdcf2f8d5acdad33c4a072a97d7a").expect("valid salt")
}

async fn user() -> &'static str {
    "ok"
}

/// The bare verifier: the handler checks the header itself.
async fn verify_in_handler(State(verifier): State<Arc<Verifier>>, req: Request) -> StatusCode {
    match verifier.verify_headers(req.headers()) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

fn kalliope_verifier() -> Verifier {
    let mut verifier = Verifier::new(VerifierConfig::default());
    verifier.add_key(&kalliope_key());
    verifier
}

/// Every variant's app, and what the load generator and the checks need.
struct Apps {
    routers: Vec<(&'static str, Router)>,
    token: String,
    wazo: TokenVerifier,
    _mock: MockServer,
}

fn apps(rt: &tokio::runtime::Runtime) -> Apps {
    let wazo = WazoMock::new();
    wazo.add_user("reader", "pw", &["confd.users.*.read"]);
    let mock = MockServer::start(wazo);
    mock.set_recording(false);
    let builder = || {
        ClientBuilder::from_url(mock.url())
            .expect("mock URL")
            .prefix("")
    };
    let login = builder()
        .credentials("reader", Password::new("pw"))
        .build()
        .expect("client");
    let token = rt
        .block_on(login.token().create(&NewToken::new()))
        .expect("token")
        .token
        .expose_secret()
        .to_owned();
    let verifier = TokenVerifier::builder(builder().build().expect("client"))
        // Warm for the whole run: the bench measures hits.
        .cache_ttl(Duration::from_secs(24 * 3600))
        .build();
    let route = "/users/{user_uuid}";
    let routers = vec![
        ("wazo/bare", Router::new().route(route, get(user))),
        (
            "wazo/layer",
            Router::new().route(
                route,
                get(user).route_layer(
                    verifier
                        .require_acl(route, "confd.users.{user_uuid}.read")
                        .expect("template"),
                ),
            ),
        ),
        // The layer around the handler's own service, routed with `get_service`: the same
        // app and the same layer, without the extra boxed route `route_layer` adds.
        (
            "wazo/service",
            Router::new().route(
                route,
                get_service(
                    verifier
                        .require_acl(route, "confd.users.{user_uuid}.read")
                        .expect("template")
                        .layer(user.into_service()),
                ),
            ),
        ),
        // What handing a value to the handler costs by itself: axum's `Extension` layer
        // around the handler, which only inserts one `Arc` as a request extension, as
        // `RequireAcl` does with the verified token.
        (
            "wazo/extension",
            Router::new().route(
                route,
                get_service(axum::Extension(Arc::new(0_u64)).layer(user.into_service())),
            ),
        ),
        // The framework's share: the same app with a route layer that does nothing.
        (
            "wazo/noop",
            Router::new().route(route, get(user).route_layer(layer_fn(|route| route))),
        ),
        (
            "kalliope/verifier",
            Router::new()
                .route(route, get(verify_in_handler))
                .with_state(Arc::new(kalliope_verifier())),
        ),
        (
            "kalliope/layer",
            Router::new().route(
                route,
                get(user).route_layer(VerifyXAuth::<Verifier>::new(kalliope_verifier())),
            ),
        ),
    ];
    Apps {
        routers,
        token,
        wazo: verifier,
        _mock: mock,
    }
}

/// Serves `router` on a free loopback port; returns its base URL.
fn serve(rt: &tokio::runtime::Runtime, router: Router) -> String {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    rt.spawn(async move { axum::serve(listener, router).await });
    url
}

/// The load generator in its child process, driven line by line over its stdin and stdout.
struct Loader {
    child: Child,
    stdin: ChildStdin,
    done: tokio::sync::mpsc::UnboundedReceiver<u64>,
}

impl Loader {
    fn spawn(targets: &[(&str, String)], token: &str) -> Self {
        let targets: Vec<String> = targets
            .iter()
            .map(|(v, url)| format!("{v}={url}"))
            .collect();
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .env(LOAD_ENV, targets.join(","))
            .env(TOKEN_ENV, token)
            .env_remove(CALLGRIND_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the load generator");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, done) = tokio::sync::mpsc::unbounded_channel();
        // A plain thread reads the answers, so the runtime serving the app is never blocked
        // and a current-thread runtime keeps serving while the main thread waits.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.expect("the load generator's output");
                let ns = line
                    .strip_prefix("done ")
                    .and_then(|ns| ns.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected line from the load generator: {line}"));
                if tx.send(ns).is_err() {
                    return;
                }
            }
        });
        Self { child, stdin, done }
    }

    /// Has `n` requests of `variant` sent, serving them meanwhile; returns the load
    /// generator's wall-clock time for them, in nanoseconds.
    fn run(&mut self, rt: &tokio::runtime::Runtime, variant: &str, n: u64) -> u64 {
        writeln!(self.stdin, "run {variant} {n}").expect("command the load generator");
        self.stdin.flush().expect("command the load generator");
        rt.block_on(self.done.recv())
            .expect("the load generator stopped early")
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// [`LOAD_ENV`] mode: runs each `run <variant> <n>` command read from stdin and answers
/// `done <nanoseconds>`, until stdin closes. Each of the 64 workers owns one connection,
/// opened at the variant's first command and kept, so nothing is accepted or opened while
/// a later command is counted.
fn load(targets: &str) {
    let targets: HashMap<String, String> = targets
        .split(',')
        .filter_map(|t| t.split_once('='))
        .map(|(v, url)| (v.to_owned(), url.to_owned()))
        .collect();
    let ctx = Arc::new(LoadCtx {
        token: std::env::var(TOKEN_ENV)
            .unwrap_or_default()
            .parse()
            .expect("token header value"),
        key: kalliope_key(),
        nonces: SeqNonce::starting_at(1),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut connections: HashMap<String, Vec<Sender>> = HashMap::new();
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let mut words = line.split_whitespace();
        let (Some("run"), Some(variant), Some(n)) = (words.next(), words.next(), words.next())
        else {
            panic!("unexpected command: {line}");
        };
        let n: u64 = n.parse().expect("a request count");
        let kalliope = variant.starts_with("kalliope/");
        let senders = match connections.remove(variant) {
            Some(senders) => senders,
            None => {
                let addr = targets[variant].trim_start_matches("http://").to_owned();
                rt.block_on(async {
                    let mut senders = Vec::new();
                    for _ in 0..CONCURRENCY {
                        senders.push(connect(&addr).await);
                    }
                    senders
                })
            }
        };
        let start = Instant::now();
        let senders = rt.block_on(async {
            let next = Arc::new(AtomicU64::new(0));
            let mut workers = tokio::task::JoinSet::new();
            for mut sender in senders {
                let (ctx, next) = (Arc::clone(&ctx), Arc::clone(&next));
                workers.spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return sender;
                        }
                        ctx.one(&mut sender, i, kalliope).await;
                    }
                });
            }
            let mut senders = Vec::new();
            while let Some(done) = workers.join_next().await {
                senders.push(done.expect("load worker"));
            }
            senders
        });
        writeln!(out, "done {}", start.elapsed().as_nanos()).expect("stdout");
        out.flush().expect("stdout");
        connections.insert(variant.to_owned(), senders);
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// One kept-alive HTTP/1.1 connection to `addr`.
async fn connect(addr: &str) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// What the load generator's workers share.
struct LoadCtx {
    token: http::HeaderValue,
    key: SigningKey,
    nonces: SeqNonce,
}

impl LoadCtx {
    /// One request on `sender`'s connection, which must be accepted.
    async fn one(&self, sender: &mut Sender, i: u64, kalliope: bool) {
        let mut req = http::Request::get(format!("/users/u-{}", i % 4))
            .body(Empty::new())
            .expect("request");
        if kalliope {
            let value = XAuthSigner::fresh_value(&self.key, &self.nonces, SystemTime::now())
                .expect("signs");
            req.headers_mut().insert(HEADER_NAME, value);
        } else {
            req.headers_mut().insert("x-auth-token", self.token.clone());
        }
        sender.ready().await.expect("connection open");
        let res = sender.send_request(req).await.expect("request");
        assert_eq!(res.status(), 200, "request refused");
        res.into_body().collect().await.expect("body");
    }
}

/// The only code callgrind counts: xtask runs the binary with `--collect-atstart=no
/// --toggle-collect=*callgrind_round*`, so collection is on exactly while this frame is on
/// the stack of the thread that entered it. Not generic, so it is one symbol.
#[inline(never)]
fn callgrind_round(work: &mut dyn FnMut()) {
    work();
}

/// [`CALLGRIND_ENV`] mode: serves one variant on the main thread and counts `n` requests.
fn count_instructions(variant: &str, n: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut apps = apps(&rt);
    let index = apps
        .routers
        .iter()
        .position(|(v, _)| *v == variant)
        .unwrap_or_else(|| panic!("no variant {variant}"));
    let (name, router) = apps.routers.swap_remove(index);
    let url = serve(&rt, router);
    let mut loader = Loader::spawn(&[(name, url)], &apps.token);
    loader.run(&rt, name, WARM_UP);
    let checks = apps.wazo.remote_checks();
    println!("callgrind-counted {name} {n}");
    std::io::stdout().flush().expect("stdout");
    callgrind_round(&mut || {
        loader.run(&rt, name, n);
    });
    // Steady state: nothing but cache hits while counting.
    assert_eq!(apps.wazo.remote_checks(), checks, "the cache was warm");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Wall-clock mode: every app served at once, each pair timed in interleaved rounds.
fn wall_clock(mode: Mode) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let apps = apps(&rt);
    let targets: Vec<(&str, String)> = apps
        .routers
        .iter()
        .map(|(v, router)| (*v, serve(&rt, router.clone())))
        .collect();
    let mut loader = Loader::spawn(&targets, &apps.token);
    let (rounds, batch) = match mode {
        Mode::Test => (1, CONCURRENCY),
        Mode::Quick => (5, 10 * CONCURRENCY),
        // Enough rounds that the median ratio settles on a shared two-core machine.
        Mode::Full => (31, 50 * CONCURRENCY),
    };
    for (scheme, bare, layer) in PAIRS {
        loader.run(&rt, bare, WARM_UP);
        loader.run(&rt, layer, WARM_UP);
        let (mut bare_rps, mut layer_rps, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            // Rotate which goes first so neither always meets a warmer machine; the ratio
            // of neighbours cancels slow drift.
            let order = if round % 2 == 0 {
                [bare, layer]
            } else {
                [layer, bare]
            };
            let mut ns = [0.0; 2];
            for variant in order {
                #[allow(clippy::cast_precision_loss)] // nanoseconds of a round: far below 2^52
                let t = loader.run(&rt, variant, batch) as f64;
                ns[usize::from(variant == layer)] = t;
            }
            #[allow(clippy::cast_precision_loss)]
            let per_second = |t: f64| batch as f64 * 1e9 / t;
            bare_rps.push(per_second(ns[0]));
            layer_rps.push(per_second(ns[1]));
            ratios.push(ns[1] / ns[0]);
        }
        println!(
            "figure server {bare}/rps: {:.0} requests/s",
            median(bare_rps)
        );
        println!(
            "figure server {layer}/rps: {:.0} requests/s",
            median(layer_rps)
        );
        println!("figure server {scheme}/time_ratio: {:.4} x", median(ratios));
    }
}

fn main() {
    if let Ok(targets) = std::env::var(LOAD_ENV) {
        load(&targets);
        return;
    }
    if let Ok(value) = std::env::var(CALLGRIND_ENV) {
        let (variant, n) = value
            .rsplit_once(':')
            .and_then(|(v, n)| Some((v.to_owned(), n.parse().ok()?)))
            .unwrap_or_else(|| panic!("{CALLGRIND_ENV} is `<variant>:<requests>`"));
        count_instructions(&variant, n);
        return;
    }
    wall_clock(mode());
}
