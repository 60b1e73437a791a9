//! Fleets of real OS processes (`fleet-member`, spawned many times) sharing one credential
//! and one replay cache through a real Redis, against the real OAuth server for sipgate and
//! the wazo-auth mock. `cargo xtask test` starts Redis and the OAuth server and sets
//! `PBX_REDIS_URL`, `PBX_REDIS_CONF` and `OAUTH_ISSUER`; under plain `cargo test` these
//! tests are ignored.
#![allow(clippy::unwrap_used, clippy::print_stderr)] // helpers panic on setup failure too

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kalliope_auth::{Credentials, SigningKey, XAuthSigner};
use pbx_auth_core::store::SharedStore;
use pbx_auth_redis::{RedisStore, SealingKey};
use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use sipgate_oauth::{Config, OAuthClient, TokenSet, TokenStore, bearer_auth};

const MEMBER: &str = env!("CARGO_BIN_EXE_fleet-member");
/// Half the lifetime of the OAuth server's access tokens as xtask starts it
/// (`ACCESS_TOKEN_TTL=4`).
const ACCESS_TOKEN_HALF_LIFE_SECS: f64 = 2.0;
/// The members' sealing key (see `src/bin/fleet-member.rs`).
const SEALING_KEY: [u8; 32] = [9; 32];

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests need the redis-server and OAuth server that `cargo xtask test` starts")
    })
}

fn prefix(test: &str) -> String {
    format!("fleet-{test}-{}", std::process::id())
}

/// A member process, killed (SIGKILL) if the test ends before it does.
struct Member {
    child: Child,
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str], env: &[(&str, &str)], stdin: bool) -> Member {
    let mut cmd = Command::new(MEMBER);
    cmd.args(args)
        .env("PBX_REDIS_URL", var("PBX_REDIS_URL"))
        .stdout(Stdio::piped())
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() });
    if let Ok(issuer) = std::env::var("OAUTH_ISSUER") {
        cmd.env("OAUTH_ISSUER", issuer);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    Member {
        child: cmd.spawn().unwrap(),
    }
}

/// Waits for the member and parses its `summary k=v ...` line.
fn summary(mut member: Member) -> HashMap<String, i64> {
    let mut out = String::new();
    let mut stdout = member.child.stdout.take().unwrap();
    std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
    let status = member.child.wait().unwrap();
    assert!(status.success(), "member failed: {status}\n{out}");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("summary "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().unwrap()))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn oauth_client() -> OAuthClient {
    let issuer = var("OAUTH_ISSUER");
    let config = Config::new("sipgate-post")
        .unwrap()
        .with_client_secret("post-secret-0123456789abcdef")
        .with_redirect_uri("http://127.0.0.1:0/oauth")
        .unwrap()
        .with_endpoints(
            &format!("{issuer}/auth"),
            &format!("{issuer}/token"),
            &format!("{issuer}/v2/account"),
        )
        .unwrap();
    OAuthClient::new(config).unwrap()
}

/// Logs in through the real server with a cookie-keeping HTTP client as the browser.
async fn login(client: &OAuthClient) -> TokenSet {
    let open = |url: &url::Url| {
        let url = url.clone();
        tokio::spawn(async move {
            let agent = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap();
            let _ = agent.get(url).send().await;
        });
        Ok(())
    };
    client
        .login(&open, &|_| {}, Duration::from_secs(60))
        .await
        .unwrap()
}

/// Logs in and stores the login as the fleet's credential under `prefix` / `key`.
async fn seed(prefix: &str, key: &str) -> Arc<RedisStore> {
    let client = oauth_client();
    let tokens = login(&client).await;
    let url = format!("{}?prefix={prefix}", var("PBX_REDIS_URL"));
    let store = Arc::new(
        RedisStore::connect(&url, SealingKey::from_bytes(SEALING_KEY))
            .await
            .unwrap(),
    );
    let dyn_store: Arc<dyn SharedStore> = store.clone();
    TokenStore::new(dyn_store, key).save(&tokens).await.unwrap();
    store
}

/// The OAuth server's log of token-endpoint requests.
async fn token_log() -> Vec<serde_json::Value> {
    let url = format!("{}/__test/token-requests", var("OAUTH_ISSUER"));
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn clear_token_log() {
    let url = format!("{}/__test/token-requests", var("OAUTH_ISSUER"));
    reqwest::Client::new().delete(url).send().await.unwrap();
}

fn refreshes(log: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    log.iter()
        .filter(|e| e["grant_type"] == "refresh_token")
        .collect()
}

/// A refresh with the fleet's stored refresh token still works: the grant was not revoked.
async fn grant_still_alive(prefix: &str, key: &str) {
    let url = format!("{}?prefix={prefix}", var("PBX_REDIS_URL"));
    let store: Arc<dyn SharedStore> = Arc::new(
        RedisStore::connect(&url, SealingKey::from_bytes(SEALING_KEY))
            .await
            .unwrap(),
    );
    let bearer = bearer_auth(oauth_client(), TokenStore::new(store, key));
    // Force a refresh from the stored (newest) refresh token.
    let stored = bearer.cache().get().await.unwrap();
    bearer.cache().invalidate(&stored);
    bearer.cache().get().await.unwrap();
}

#[test]
#[ignore = "needs Redis and the real OAuth server; run by cargo xtask test"]
fn eight_processes_share_one_rotating_login() {
    let rt = runtime();
    let prefix = prefix("sipgate");
    rt.block_on(async {
        seed(&prefix, "sipgate:w0").await;
        clear_token_log().await;
    });
    let started = std::time::Instant::now();
    let members: Vec<Member> = (0..8)
        .map(|_| {
            spawn(
                &["sipgate", "200"],
                &[("FLEET_PREFIX", &prefix), ("FLEET_KEY", "sipgate:w0")],
                false,
            )
        })
        .collect();
    let summaries: Vec<_> = members.into_iter().map(summary).collect();
    let elapsed = started.elapsed();
    for s in &summaries {
        assert_eq!(s["ok"], 200, "{s:?}");
        assert_eq!(s["invalid_grant"], 0, "{s:?}");
    }
    let sent: i64 = summaries.iter().map(|s| s["refreshes"]).sum();
    rt.block_on(async {
        let log = token_log().await;
        let refreshes = refreshes(&log);
        // Each member ran for more than one token lifetime, so there were refreshes; every
        // one was answered 200: a second refresh of the same generation would have been
        // reuse, answered invalid_grant, and revoked the grant.
        assert!(!refreshes.is_empty());
        assert!(refreshes.iter().all(|e| e["status"] == 200), "{log:?}");
        assert_eq!(i64::try_from(refreshes.len()).unwrap(), sent);
        // One refresh per expiry for the fleet, not one per process: the server's tokens
        // live ACCESS_TOKEN_TTL (4 s, see xtask) and are refreshed after at least half of
        // that, so a run of `elapsed` sees at most elapsed / 2 s of them (plus the first).
        // Slowness only raises the bound; eight refreshing processes would exceed it.
        let bound = elapsed.as_secs_f64() / ACCESS_TOKEN_HALF_LIFE_SECS + 1.0;
        #[allow(clippy::cast_precision_loss)] // a handful of refreshes
        let count = refreshes.len() as f64;
        assert!(count <= bound, "{count} refreshes in {elapsed:?}");
        grant_still_alive(&prefix, "sipgate:w0").await;
    });
}

#[test]
#[ignore = "needs Redis and the real OAuth server; run by cargo xtask test"]
fn a_killed_lease_holder_is_taken_over_after_the_lease_ttl() {
    let rt = runtime();
    let prefix = prefix("killed");
    rt.block_on(async {
        seed(&prefix, "sipgate:w0").await;
        clear_token_log().await;
    });
    let env = [
        ("FLEET_PREFIX", prefix.as_str()),
        ("FLEET_KEY", "sipgate:w0"),
        ("FLEET_LEASE_MS", "3000"),
    ];
    // The holder takes the lease at its first refresh and hangs there.
    let mut holder_env = env.to_vec();
    holder_env.push(("FLEET_HANG", "1"));
    let mut holder = spawn(&["sipgate", "1000"], &holder_env, false);
    let stdout = holder.child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().unwrap().unwrap();
    assert_eq!(line, "holding the lease");
    // SIGKILL: no destructor, no release; only the lease TTL frees the key.
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let members: Vec<Member> = (0..3)
        .map(|_| spawn(&["sipgate", "150"], &env, false))
        .collect();
    let summaries: Vec<_> = members.into_iter().map(summary).collect();
    for s in &summaries {
        // Waiting for the dead holder's lease costs time, never a failed request.
        assert_eq!(s["ok"], 150, "{s:?}");
        assert_eq!(s["invalid_grant"], 0, "{s:?}");
    }
    rt.block_on(async {
        let log = token_log().await;
        let refreshes = refreshes(&log);
        assert!(!refreshes.is_empty());
        assert!(refreshes.iter().all(|e| e["status"] == 200), "{log:?}");
        grant_still_alive(&prefix, "sipgate:w0").await;
    });
}

#[test]
#[ignore = "needs Redis and the real OAuth server; run by cargo xtask test"]
fn redis_stopped_and_started_mid_run() {
    let rt = runtime();
    let prefix = prefix("restart");
    rt.block_on(async {
        seed(&prefix, "sipgate:w0").await;
    });
    let env = [
        ("FLEET_PREFIX", prefix.as_str()),
        ("FLEET_KEY", "sipgate:w0"),
        ("FLEET_PAUSE_MS", "40"),
    ];
    let members: Vec<Member> = (0..4)
        .map(|_| spawn(&["sipgate", "300"], &env, false))
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    // Stop Redis (saving, so the fleet's login survives the restart as it would with
    // persistence), keep it down across a token refresh point, start it again.
    let url = var("PBX_REDIS_URL");
    let _ = Command::new("redis-cli")
        .args(["-u", &url, "shutdown", "save"])
        .status();
    std::thread::sleep(Duration::from_secs(4));
    let _restarted = RestartedRedis::start(&var("PBX_REDIS_CONF"));
    let summaries: Vec<_> = members.into_iter().map(summary).collect();
    for s in &summaries {
        assert_eq!(s["invalid_grant"], 0, "{s:?}");
        assert_eq!(s["other"], 0, "{s:?}");
        // Requests with a valid L1 token kept working while Redis was down...
        assert!(s["ok"] > 0, "{s:?}");
        // ...and the fleet recovered without a restart: the last requests all passed.
        assert!(s["last_failure"] < 250, "{s:?}");
    }
}

/// The Redis started again by the restart test, stopped with its process group on drop.
struct RestartedRedis(Child);

impl RestartedRedis {
    fn start(config: &str) -> Self {
        let child = Command::new("redis-server")
            .arg(config)
            .process_group(0)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let url = var("PBX_REDIS_URL");
        let port: u16 = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Self(child)
    }
}

impl Drop for RestartedRedis {
    fn drop(&mut self) {
        // Keep serving the stages after this test: xtask stops the server at the end by
        // the same port; here only a server that outlives xtask would be a leak, and
        // xtask's guard cannot reach this process group.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// A verifier process behind the round-robin client.
struct Verifier {
    member: Member,
    stdin: ChildStdin,
    stdout: std::io::Lines<BufReader<ChildStdout>>,
}

impl Verifier {
    fn start(prefix: &str) -> Self {
        let mut member = spawn(&["verify"], &[("FLEET_PREFIX", prefix)], true);
        let stdin = member.child.stdin.take().unwrap();
        let stdout = BufReader::new(member.child.stdout.take().unwrap()).lines();
        Self {
            member,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, header: &str) -> String {
        writeln!(self.stdin, "{header}").unwrap();
        self.stdin.flush().unwrap();
        self.stdout.next().unwrap().unwrap()
    }
}

#[test]
#[ignore = "needs Redis; run by cargo xtask test"]
fn four_verifiers_accept_each_header_once() {
    let prefix = prefix("verify");
    let mut fleet: Vec<Verifier> = (0..4).map(|_| Verifier::start(&prefix)).collect();
    let key =
        SigningKey::derive(&Credentials::new("alice", "pw", "default").unwrap(), "salt").unwrap();
    let forger = SigningKey::derive(
        &Credentials::new("alice", "guess", "default").unwrap(),
        "salt",
    )
    .unwrap();
    let mut next = 0usize;
    let mut ask = |fleet: &mut Vec<Verifier>, header: &str| {
        let n = fleet.len();
        let answer = fleet[next % n].ask(header);
        next += 1;
        answer
    };
    let (mut accepted, mut replays_refused) = (0, 0);
    for i in 0..100u32 {
        let nonce = format!("{i:08x}{:024x}", std::process::id());
        let now = SystemTime::now();
        // A forged digest first: refused, and it must not spend the nonce.
        let forged = XAuthSigner::value_with(&forger, &nonce, now).unwrap();
        assert_eq!(ask(&mut fleet, forged.to_str().unwrap()), "rejected");
        let header = XAuthSigner::value_with(&key, &nonce, now).unwrap();
        let header = header.to_str().unwrap();
        assert_eq!(ask(&mut fleet, header), "accepted");
        accepted += 1;
        // The captured header replayed at every process, the accepting one included.
        for _ in 0..4 {
            assert_eq!(ask(&mut fleet, header), "replayed");
            replays_refused += 1;
        }
    }
    assert_eq!((accepted, replays_refused), (100, 400));
    let answered: usize = fleet
        .into_iter()
        .map(|mut v| {
            drop(v.stdin);
            let last = v.stdout.next().unwrap().unwrap();
            assert!(v.member.child.wait().unwrap().success());
            last.strip_prefix("summary answered=")
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(answered, 600);
}

#[test]
#[ignore = "needs Redis; run by cargo xtask test"]
fn eight_wazo_processes_on_a_cold_fleet_cache_post_one_token() {
    let wazo = MockServer::start(WazoMock::new().with_user("alice", "s3cre7"));
    let prefix = prefix("wazo");
    let members: Vec<Member> = (0..8)
        .map(|_| {
            spawn(
                &["wazo", wazo.url()],
                &[("FLEET_PREFIX", &prefix), ("FLEET_KEY", "wazo:alice")],
                false,
            )
        })
        .collect();
    let fetches: i64 = members.into_iter().map(|m| summary(m)["fetches"]).sum();
    assert_eq!(fetches, 1);
    let posts: Vec<String> = wazo
        .requests_to("*")
        .into_iter()
        .filter(|r| r.method == http::Method::POST && r.path.ends_with("/token"))
        .map(|r| r.path)
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
}
