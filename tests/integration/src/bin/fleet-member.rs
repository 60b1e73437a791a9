//! One process of a fleet, spawned many times by `tests/fleet.rs` (run by `cargo xtask
//! test` against a real Redis). Modes:
//!
//! - `sipgate N`: N authorized requests to the OAuth server's API through the shared login
//!   under `FLEET_KEY`; with `FLEET_HANG=1` the process hangs inside its first refresh,
//!   holding the lease, after printing `holding the lease`.
//! - `wazo URL`: one token from the wazo-auth at URL through the shared store.
//! - `verify`: reads `X-authenticate` values from stdin, one a line, and answers each with
//!   `accepted`, `replayed`, `unavailable` or `rejected`.
//!
//! - `bench-replay N CONCURRENCY redis|local`: verifies N fresh headers, CONCURRENCY at a
//!   time, with the replay cache in Redis or in process, and prints
//!   `bench count=.. elapsed_ns=.. p50_ns=.. p99_ns=..` (for `cargo xtask bench`).
//!
//! Every mode prints one `summary ...` or `bench ...` line at the end.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use kalliope_auth::verifier::{Verifier, VerifierConfig};
use kalliope_auth::{FleetRejectReason, FleetVerifier};
use pbx_auth_core::adapters::reqwest::execute;
use pbx_auth_core::store::{SharedOptions, SharedSource, SharedStore};
use pbx_auth_core::{
    Cached, Error, ErrorKind, HeaderToken, Issued, RefreshPolicy, TokenCache, TokenSource,
};
use pbx_auth_redis::{RedisStore, SealingKey};
use sipgate_oauth::{Config, OAuthClient, RefreshingSource, TokenSet, TokenStore};
use wazo_auth_client::{ClientBuilder, NewToken, Password, WazoTokenSource};

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn env(name: &str) -> Result<String, Failure> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// The sealing key every member shares (a test key).
const SEALING_KEY: [u8; 32] = [9; 32];

async fn store() -> Result<Arc<RedisStore>, Failure> {
    let url = format!("{}?prefix={}", env("PBX_REDIS_URL")?, env("FLEET_PREFIX")?);
    Ok(Arc::new(
        RedisStore::connect(&url, SealingKey::from_bytes(SEALING_KEY)).await?,
    ))
}

fn options() -> SharedOptions {
    let ttl = std::env::var("FLEET_LEASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    SharedOptions::default()
        .with_lease_ttl(Duration::from_millis(ttl))
        .with_poll_interval(Duration::from_millis(20))
}

/// The confidential client the OAuth server knows (as in the sipgate interop tests).
fn oauth_client() -> Result<OAuthClient, Failure> {
    let issuer = env("OAUTH_ISSUER")?;
    let config = Config::new("sipgate-post")?
        .with_client_secret("post-secret-0123456789abcdef")
        .with_redirect_uri("http://127.0.0.1:0/oauth")?
        .with_endpoints(
            &format!("{issuer}/auth"),
            &format!("{issuer}/token"),
            &format!("{issuer}/v2/account"),
        )?;
    Ok(OAuthClient::new(config)?)
}

/// Holds the lease forever inside the refresh when `FLEET_HANG=1`, before the request
/// leaves: the test kills the process there.
#[derive(Debug)]
struct MaybeHang(RefreshingSource, bool);

impl TokenSource for MaybeHang {
    type Token = TokenSet;

    async fn fetch(&self, previous: Option<&TokenSet>) -> Result<Issued<TokenSet>, Error> {
        if self.1 {
            println!("holding the lease");
            let _ = std::io::stdout().flush();
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        self.0.fetch(previous).await
    }
}

async fn sipgate(requests: usize) -> Result<(), Failure> {
    let client = oauth_client()?;
    let api = client.config().test_api_endpoint.clone();
    let hang = std::env::var("FLEET_HANG").is_ok_and(|v| v == "1");
    let store: Arc<dyn SharedStore> = store().await?;
    let key = env("FLEET_KEY")?;
    // The composition of `sipgate_oauth::bearer_auth`, with the hang injected.
    let tokens = TokenStore::new(Arc::clone(&store), key.clone()).with_options(options());
    let source = SharedSource::new(
        MaybeHang(RefreshingSource::new(client, tokens), hang),
        store,
        key,
        options(),
    );
    let auth = Cached::new(
        TokenCache::with_policy(source, RefreshPolicy::default()),
        HeaderToken::bearer(),
    );
    let http = reqwest::Client::new();
    let pause = Duration::from_millis(
        std::env::var("FLEET_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    );
    let (mut ok, mut transient, mut invalid_grant, mut other, mut last_failure) =
        (0, 0, 0, 0, None);
    for i in 0..requests {
        let request = http.get(api.as_str()).build()?;
        match execute(&http, &auth, request).await {
            Ok(response) if response.status().is_success() => ok += 1,
            Ok(response) => {
                eprintln!("request {i}: status {}", response.status());
                other += 1;
                last_failure = Some(i);
            }
            Err(e) => {
                eprintln!("request {i}: {:?}: {e}", e.kind());
                match e.kind() {
                    ErrorKind::InvalidCredentials => invalid_grant += 1,
                    _ if e.is_transient() => transient += 1,
                    _ => other += 1,
                }
                last_failure = Some(i);
            }
        }
        tokio::time::sleep(pause).await;
    }
    let refreshes = auth.cache().source().inner().0.refresh_count();
    let last_failure = last_failure.map_or(-1, |i| i64::try_from(i).unwrap_or(i64::MAX));
    println!(
        "summary ok={ok} transient={transient} invalid_grant={invalid_grant} other={other} \
         refreshes={refreshes} last_failure={last_failure}"
    );
    Ok(())
}

async fn wazo(url: &str) -> Result<(), Failure> {
    let client = ClientBuilder::from_url(url)?
        .prefix("")
        .credentials("alice", Password::new("s3cre7"))
        .build()?;
    let store: Arc<dyn SharedStore> = store().await?;
    let source = SharedSource::new(
        WazoTokenSource::new(client, NewToken::new()),
        store,
        env("FLEET_KEY")?,
        options(),
    );
    let cache = TokenCache::new(source);
    cache.get().await?;
    println!("summary ok=1 fetches={}", cache.source().fetch_count());
    Ok(())
}

async fn verify() -> Result<(), Failure> {
    let mut verifier = Verifier::new(VerifierConfig::default());
    verifier.add_user("alice", "default", "pw", "salt")?;
    let store = store().await?;
    let fleet = FleetVerifier::new(verifier, store);
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut answered = 0;
    for line in stdin.lock().lines() {
        let line = line?;
        let answer = match fleet.verify_value(line.trim().as_bytes()).await {
            Ok(_) => "accepted",
            Err(e) => match e.reason() {
                FleetRejectReason::Replayed => "replayed",
                FleetRejectReason::StoreUnavailable => "unavailable",
                _ => "rejected",
            },
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
        answered += 1;
    }
    writeln!(out, "summary answered={answered}")?;
    Ok(())
}

/// Fresh headers for alice, made before the clock starts.
fn headers(n: usize) -> Result<Vec<String>, Failure> {
    let key = kalliope_auth::SigningKey::derive(
        &kalliope_auth::Credentials::new("alice", "pw", "default")?,
        "salt",
    )?;
    let now = std::time::SystemTime::now();
    let pid = std::process::id();
    (0..n)
        .map(|i| {
            let nonce = format!("{pid:08x}{i:024x}");
            let value = kalliope_auth::XAuthSigner::value_with(&key, &nonce, now)?;
            Ok(value.to_str()?.to_owned())
        })
        .collect()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at]
}

async fn bench_replay(n: usize, concurrency: usize, redis: bool) -> Result<(), Failure> {
    let headers = Arc::new(headers(n)?);
    let mut verifier = Verifier::new(VerifierConfig::default());
    verifier.add_user("alice", "default", "pw", "salt")?;
    let started;
    let mut latencies = Vec::with_capacity(n);
    if redis {
        let fleet = Arc::new(FleetVerifier::new(verifier, store().await?));
        // One verification first, so connecting is not measured.
        let _ = fleet.verify_value(b"warm-up").await;
        started = std::time::Instant::now();
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (fleet, headers, next) =
                (Arc::clone(&fleet), Arc::clone(&headers), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(header) = headers.get(i) else { break };
                    let t = std::time::Instant::now();
                    let ok = fleet.verify_value(header.as_bytes()).await.is_ok();
                    mine.push((ok, t.elapsed()));
                }
                mine
            }));
        }
        for task in tasks {
            for (ok, took) in task.await? {
                if !ok {
                    return Err("a fresh header was refused".into());
                }
                latencies.push(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX));
            }
        }
    } else {
        started = std::time::Instant::now();
        for header in headers.iter() {
            let t = std::time::Instant::now();
            verifier
                .verify_value(header.as_bytes())
                .map_err(|_| "a fresh header was refused")?;
            latencies.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    println!(
        "bench count={} elapsed_ns={} p50_ns={} p99_ns={}",
        latencies.len(),
        elapsed.as_nanos(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("sipgate") => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200);
            sipgate(n).await
        }
        Some("wazo") => match args.get(1) {
            Some(url) => wazo(url).await,
            None => Err("usage: fleet-member wazo URL".into()),
        },
        Some("verify") => verify().await,
        Some("bench-replay") => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
            let c = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(64);
            bench_replay(n, c, args.get(3).is_none_or(|m| m == "redis")).await
        }
        _ => Err(
            "usage: fleet-member sipgate N | wazo URL | verify | bench-replay N C redis|local"
                .into(),
        ),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet-member: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
