//! `POST /` — an authnzerver 0.1.3 look-alike (<https://github.com/waqasbhatti/authnzerver>).
//!
//! Written from the protocol description, not from the client crate: the envelope
//! (JSON → Fernet → standard base64), the reqid replay refusal, the HTTP statuses of the
//! real server (401 undecryptable, 400 malformed/unknown/repeated, 500 no `request`,
//! 404 other paths, 405 other methods), and in-memory sessions, users with activation,
//! logins and API keys. Faults are injected with [`crate::MockServer::inject`].

mod actions;
mod wire;

use std::sync::{Arc, Mutex};

use crate::message::{Handler, MockRequest, MockResponse};

pub use actions::{State, User};

/// The authnzerver mock.
#[derive(Debug)]
pub struct AuthnzMock {
    fernet: wire::Key,
    state: Mutex<State>,
}

impl AuthnzMock {
    /// A mock using the Fernet key `key` (44 characters of URL-safe base64), with the
    /// superuser `admin@localhost` / `admin_password`.
    ///
    /// # Errors
    ///
    /// Returns a message when the key is not a Fernet key.
    pub fn new(key: &str, admin_password: &str) -> Result<Self, String> {
        Ok(Self {
            fernet: wire::Key::new(key)?,
            state: Mutex::new(State::new("admin@localhost", admin_password)),
        })
    }

    /// Runs `f` on the mock's state (for assertions).
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state)
    }
}

impl Handler for AuthnzMock {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if request.path != "/" {
            return wire::html(404);
        }
        if request.method != http::Method::POST {
            return wire::html(405);
        }
        let Some(plaintext) = self.fernet.open(&request.body) else {
            return wire::html(401);
        };
        let message = match wire::parse_request(&plaintext) {
            Ok(m) => m,
            Err(status) => return wire::html(status),
        };
        let outcome = {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !state.record_reqid(&message.reqid) {
                return wire::html(400);
            }
            state.dispatch(&message.request, &message.body)
        };
        match outcome {
            Ok(reply) => {
                let text = wire::reply_json(&message.reqid, reply);
                MockResponse::text(200, "text/plain; charset=UTF-8", self.fernet.seal(&text))
            }
            Err(status) => wire::html(status),
        }
    }
}

/// Builds the mock from its command-line options: `--key KEY`, `--key-file FILE` or
/// `--key-env VAR` (one is required), and `--admin-password PASSWORD`.
///
/// # Errors
///
/// Returns a message for invalid options.
pub fn from_args(args: &[String]) -> Result<Arc<dyn Handler>, String> {
    let mut key = None;
    let mut admin_password = "pbx-mock-admin-Kq7#Vw2!".to_owned();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--key" => key = Some(value()?),
            "--key-file" => {
                let path = value()?;
                key = Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read key file {path}: {e}"))?,
                );
            }
            "--key-env" => {
                let var = value()?;
                key = Some(std::env::var(&var).map_err(|_| format!("{var} is not set"))?);
            }
            "--admin-password" => admin_password = value()?,
            other => return Err(format!("unknown authnz option {other}")),
        }
    }
    let key = key.ok_or("authnz needs --key, --key-file or --key-env")?;
    Ok(Arc::new(AuthnzMock::new(key.trim(), &admin_password)?))
}
