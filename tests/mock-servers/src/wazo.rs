//! A wazo-auth stand-in: `POST /0.1/token` with HTTP Basic against configured users,
//! token checks (`HEAD`/`GET /0.1/token/{token}` with `scope` and `tenant`), revocation,
//! scope checks, refresh tokens, and in-memory tenants, users, policies and groups with
//! wazo-auth's ACL checks and both of its error formats.
//!
//! Written from the wazo-auth description, never from the client crate. Served by
//! `pbx-mock wazo-auth --port 9497 --user alice:s3cre7`.

mod acl;
mod extra;
mod reply;
mod routes;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::message::{Handler, MockRequest, MockResponse};
use state::State;

/// Whether `acl`, held by user `user` in session `session`, grants `required`, by the
/// stand-in's own reading of the wazo ACL rules (for differential tests).
pub fn acl_grants(acl: &[String], user: &str, session: &str, required: &str) -> bool {
    acl::grants(acl, user, session, required)
}

/// The ACL given to users configured with `--user` or [`WazoMock::with_user`]: all of
/// wazo-auth, as the bootstrap administrator of a real server has.
pub const DEFAULT_ACL: &[&str] = &["auth.#"];

/// The wazo-auth stand-in. Cloning gives another handle to the same data.
#[derive(Debug, Clone)]
pub struct WazoMock {
    state: Arc<Mutex<State>>,
    debug: bool,
}

impl Default for WazoMock {
    fn default() -> Self {
        Self::new()
    }
}

impl WazoMock {
    /// An empty server with one top tenant.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State::new())),
            debug: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a user of the top tenant with [`DEFAULT_ACL`]; returns its UUID.
    #[must_use]
    pub fn with_user(self, username: &str, password: &str) -> Self {
        self.add_user(username, password, DEFAULT_ACL);
        self
    }

    /// Adds a user of the top tenant holding `acl`; returns its UUID.
    pub fn add_user(&self, username: &str, password: &str, acl: &[&str]) -> String {
        let mut state = self.lock();
        let mut fields = Map::new();
        fields.insert("username".to_owned(), json!(username));
        fields.insert("password".to_owned(), json!(password));
        let uuid = state.add_user(&fields, None);
        state
            .user_acl
            .insert(uuid.clone(), acl.iter().map(|s| (*s).to_owned()).collect());
        uuid
    }

    /// Adds the bootstrap administrator a real server creates: a user of the top tenant with
    /// purpose `internal` (its tokens say `xivo_user_uuid: null`) holding `#`.
    #[must_use]
    pub fn with_admin(self, username: &str, password: &str) -> Self {
        let mut state = self.lock();
        let mut fields = Map::new();
        fields.insert("username".to_owned(), json!(username));
        fields.insert("password".to_owned(), json!(password));
        fields.insert("purpose".to_owned(), json!("internal"));
        let uuid = state.add_user(&fields, None);
        state.user_acl.insert(uuid, vec!["#".to_owned()]);
        drop(state);
        self
    }

    /// Lets the endpoints that send mail succeed (204), as with a reachable mail server. By
    /// default there is none, as on the recorded server, and they answer 500.
    #[must_use]
    pub fn with_mail(self) -> Self {
        self.lock().mail = true;
        self
    }

    /// Sets the lifetime of tokens created without `expiration` (default 7200 s).
    #[must_use]
    pub fn with_default_expiration(self, seconds: u64) -> Self {
        self.lock().default_expiration = seconds;
        self
    }

    /// The top tenant's UUID.
    pub fn top_tenant(&self) -> String {
        self.lock().top_tenant.clone()
    }

    /// Moves the server's clock forward, so tokens expire without waiting.
    pub fn advance(&self, by: Duration) {
        self.lock().clock_offset += by;
    }

    /// How many tokens exist (revoked ones excluded).
    pub fn token_count(&self) -> usize {
        self.lock().tokens.len()
    }
}

impl Handler for WazoMock {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        #[allow(clippy::print_stderr)]
        if self.debug {
            eprintln!("wazo-auth: {} {}", request.method, request.path);
        }
        let mut state = self.lock();
        let mut response = routes::route(&mut state, request);
        // A HEAD answer has the GET answer's status and headers, never a body.
        if request.method == http::Method::HEAD {
            response.body = bytes::Bytes::new();
        }
        response
    }
}

const USAGE: &str = "wazo-auth options: [--user NAME:PASSWORD]... [-c|--config FILE] \
[--expiration SECONDS] [-d|--debug] [-l|--log-level LEVEL] [-f|--foreground]";

/// Builds the mock from its command-line options: `--user NAME:PASSWORD` (repeatable),
/// `-c/--config FILE` (JSON: `{"users": [{"username", "password", "acl"?}],
/// "default_token_lifetime"?}`), `--expiration SECONDS`, `-d/--debug` (log requests to
/// stderr), `-l/--log-level LEVEL` (`debug` logs requests) and `-f/--foreground` (always
/// the case; accepted for compatibility).
///
/// # Errors
///
/// Returns a message for invalid options or an unreadable configuration file.
pub fn from_args(args: &[String]) -> Result<Arc<dyn Handler>, String> {
    let mut server = WazoMock::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--user" => {
                let spec = value("--user")?;
                let (name, password) = spec
                    .split_once(':')
                    .ok_or_else(|| format!("--user wants NAME:PASSWORD\n{USAGE}"))?;
                server.add_user(name, password, DEFAULT_ACL);
            }
            "-c" | "--config" | "--config-file" => {
                let path = value("--config")?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                let config: Value =
                    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
                apply_config(&server, &config)?;
            }
            "--expiration" => {
                let seconds = value("--expiration")?
                    .parse()
                    .map_err(|_| format!("--expiration wants seconds\n{USAGE}"))?;
                server = server.with_default_expiration(seconds);
            }
            "-d" | "--debug" => server.debug = true,
            "-l" | "--log-level" => {
                let level = value("--log-level")?;
                match level.as_str() {
                    "critical" | "error" | "warning" | "info" => {}
                    "debug" => server.debug = true,
                    _ => return Err(format!("unknown log level {level}\n{USAGE}")),
                }
            }
            "-f" | "--foreground" => {}
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(Arc::new(server))
}

fn apply_config(server: &WazoMock, config: &Value) -> Result<(), String> {
    if let Some(seconds) = config.get("default_token_lifetime").and_then(Value::as_u64) {
        server.lock().default_expiration = seconds;
    }
    for user in config
        .get("users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = user
            .get("username")
            .and_then(Value::as_str)
            .ok_or("a user has no username")?;
        let password = user
            .get("password")
            .and_then(Value::as_str)
            .ok_or("a user has no password")?;
        let acl: Vec<&str> = match user.get("acl").and_then(Value::as_array) {
            Some(entries) => entries.iter().filter_map(Value::as_str).collect(),
            None => DEFAULT_ACL.to_vec(),
        };
        server.add_user(name, password, &acl);
    }
    Ok(())
}
