//! Prints one `X-authenticate` header line, as the seed's `print(auth)` does.
//!
//! ```text
//! cargo run -p kalliope-auth --example xauth -- --username U --password P --domain D \
//!     --salt S [--nonce N --created C]
//! ```
//!
//! Without `--nonce` a fresh one comes from the operating system's generator; without
//! `--created` the current UTC time is used.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::SystemTime;

use kalliope_auth::created::created_string;
use kalliope_auth::{Auth, NONCE_BYTES};
use pbx_auth_core::{NonceSource, OsNonce};

const USAGE: &str =
    "usage: xauth --username U --password P --domain D --salt S [--nonce N --created C]";

fn main() -> ExitCode {
    let mut username = None;
    let mut password = None;
    let mut domain = None;
    let mut salt = None;
    let mut nonce = None;
    let mut created = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--username" => &mut username,
            "--password" => &mut password,
            "--domain" => &mut domain,
            "--salt" => &mut salt,
            "--nonce" => &mut nonce,
            "--created" => &mut created,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument `{other}`\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return ExitCode::from(2);
        };
        *slot = Some(value);
    }
    let (Some(username), Some(password), Some(domain), Some(salt)) =
        (username, password, domain, salt)
    else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let nonce = nonce.unwrap_or_else(|| OsNonce::default().hex(NONCE_BYTES));
    let Some(created) = created.or_else(|| created_string(SystemTime::now())) else {
        eprintln!("the system clock is outside the years 0000 to 9999");
        return ExitCode::FAILURE;
    };
    let line = Auth::new(username, password, domain, Some(&salt))
        .and_then(|auth| auth.xauth_with(&nonce, &created));
    match line {
        Ok(value) => {
            println!(
                "X-authenticate: {}",
                String::from_utf8_lossy(value.as_bytes())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xauth: {e}");
            ExitCode::FAILURE
        }
    }
}
