#![doc = include_str!("../README.md")]
// Doc comments here are the help text users read in a terminal, where backticks and
// angle brackets would show as they are.
#![allow(clippy::doc_markdown, rustdoc::bare_urls, rustdoc::invalid_html_tags)]

mod authnz;
mod cli;
mod config;
mod error;
mod kalliope;
mod output;
mod secret;
mod sipgate;
mod store;
mod wazo;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory as _, Parser as _};
use pbx_auth_core::adapters::tls::TlsOptions;

use crate::cli::{Cli, Command, Global};
use crate::config::Profile;
use crate::error::{CliError, Kind, Result};
use crate::output::Output;

/// What every command gets: how to print, the chosen profile and the global settings.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) out: Output,
    pub(crate) profile: Profile,
    timeout: Option<Duration>,
    cacert: Option<Vec<u8>>,
    danger_insecure: bool,
}

impl Ctx {
    fn new(global: &Global, out: Output) -> Result<Self> {
        let profile = Profile::load(global.config.as_deref(), &global.profile)?;
        let timeout = match global.timeout {
            Some(s) => Some(s),
            None => match profile.get(None, "timeout") {
                Some(t) => Some(t.parse::<u64>().map_err(|_| {
                    CliError::usage("the profile's timeout is not a number of seconds")
                })?),
                None => None,
            },
        };
        if timeout == Some(0) {
            return Err(CliError::usage("--timeout must be at least 1 second"));
        }
        let cacert_path = global
            .cacert
            .clone()
            .or_else(|| profile.get(None, "cacert").map(Into::into));
        let cacert = match cacert_path {
            Some(path) => Some(std::fs::read(&path).map_err(|e| {
                CliError::usage(format!(
                    "the CA file {} could not be read: {}",
                    path.display(),
                    e.kind()
                ))
                .hint("check --cacert")
            })?),
            None => None,
        };
        let danger_insecure = global.danger_insecure || profile.flag(None, "danger_insecure");
        Ok(Self {
            out,
            profile,
            timeout: timeout.map(Duration::from_secs),
            cacert,
            danger_insecure,
        })
    }

    /// The request timeout, `default` unless configured.
    pub(crate) fn timeout(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }

    /// A reqwest client honouring `--timeout`, `--cacert` and `--danger-insecure`.
    pub(crate) fn http_client(&self, default_timeout: Duration) -> Result<reqwest::Client> {
        let builder = reqwest::Client::builder().timeout(self.timeout(default_timeout));
        self.tls()?
            .apply(builder)
            .build()
            .map_err(|_| CliError::usage("the HTTP client cannot be set up"))
    }

    /// The trust `--cacert` and `--danger-insecure` ask for.
    pub(crate) fn tls(&self) -> Result<TlsOptions> {
        let mut tls = TlsOptions::new();
        if let Some(pem) = &self.cacert {
            tls.add_ca_bundle_pem(pem)
                .map_err(|_| CliError::usage("the --cacert file holds no PEM certificate"))?;
        }
        if self.danger_insecure {
            tls.danger_accept_invalid_certs();
        }
        Ok(tls)
    }

    /// The CA bundle given with `--cacert`.
    pub(crate) fn cacert(&self) -> Option<&[u8]> {
        self.cacert.as_deref()
    }

    /// Whether `--danger-insecure` is on.
    pub(crate) fn danger_insecure(&self) -> bool {
        self.danger_insecure
    }
}

/// Resolves when Ctrl-C (SIGINT) arrives.
pub(crate) async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::interrupt()) {
            Ok(mut sigint) => {
                sigint.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The error for a command stopped by Ctrl-C.
pub(crate) fn interrupted_error() -> CliError {
    CliError::new(Kind::Interrupted, "interrupted")
}

async fn run(cli: Cli, out: Output) -> Result<()> {
    match cli.command {
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "pbx-auth", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { dir } => write_man_pages(&dir),
        Command::Kalliope(args) => kalliope::run(args, &Ctx::new(&cli.global, out)?).await,
        Command::Wazo(args) => wazo::run(args, &Ctx::new(&cli.global, out)?).await,
        Command::Sipgate(args) => sipgate::run(args, &Ctx::new(&cli.global, out)?).await,
        Command::Authnz(args) => authnz::run(args, &Ctx::new(&cli.global, out)?).await,
    }
}

/// Writes `pbx-auth.1` and a page per subcommand (`pbx-auth-wazo-token-create.1`, ...).
fn write_man_pages(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    fn walk(command: &clap::Command, name: &str, dir: &std::path::Path) -> Result<()> {
        let command = command.clone().name(name.to_owned());
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone()).render(&mut page)?;
        std::fs::write(dir.join(format!("{name}.1")), page)?;
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, &format!("{name}-{}", sub.get_name()), dir)?;
        }
        Ok(())
    }
    let mut command = Cli::command();
    command.build();
    walk(&command, "pbx-auth", dir)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with success, usage errors to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(Kind::Usage.exit_code())
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let out = Output {
        json: cli.global.json,
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&CliError::from_source(Kind::Usage, "cannot start", &e));
            return ExitCode::from(Kind::Usage.exit_code());
        }
    };
    match runtime.block_on(run(cli, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::from(e.kind.exit_code())
        }
    }
}
