//! The command line as clap sees it. Secrets never appear here as option values: they
//! come from the environment, a file or a prompt (see `secret.rs`).

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::authnz::AuthnzArgs;
use crate::kalliope::KalliopeArgs;
use crate::sipgate::SipgateArgs;
use crate::wazo::WazoArgs;

/// One command line for KalliopePBX, wazo-auth, sipgate OAuth 2.0 and authnzerver.
///
/// Settings come from the profile in the configuration file, then from `PBX_AUTH_…`
/// environment variables, then from flags. Exit codes: 0 ok, 1 the server refused,
/// 2 usage or configuration, 3 transport (unreachable, broken, timed out), 130 interrupted.
#[derive(Debug, Parser)]
#[command(
    name = "pbx-auth",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Profile to read from the configuration file.
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_PROFILE",
        default_value = "default"
    )]
    pub(crate) profile: String,
    /// Configuration file (default: config.toml in the platform's configuration directory).
    #[arg(long, global = true, env = "PBX_AUTH_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Machine-readable JSON output (documented in docs/cli.md, stable).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// More detail: -v adds each error's causes.
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,
    /// Print only the result, no progress or notes.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Timeout of each HTTP request, in seconds.
    #[arg(long, global = true, env = "PBX_AUTH_TIMEOUT", value_name = "SECONDS")]
    pub(crate) timeout: Option<u64>,
    /// PEM file with extra CA certificates to trust.
    #[arg(long, global = true, env = "PBX_AUTH_CACERT", value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// Accept any TLS certificate (dangerous: only for lab servers).
    #[arg(long, global = true, env = "PBX_AUTH_DANGER_INSECURE")]
    pub(crate) danger_insecure: bool,
}

/// The protocols and helpers.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// KalliopePBX REST API: X-authenticate headers, signed requests, verification.
    Kalliope(KalliopeArgs),
    /// wazo-auth: tokens, users, tenants, policies, groups, sessions (as wazo-auth-cli).
    Wazo(WazoArgs),
    /// sipgate OAuth 2.0: browser login with PKCE, tokens, API requests.
    Sipgate(SipgateArgs),
    /// authnzerver: every request type, sealed with the shared Fernet key.
    Authnz(AuthnzArgs),
    /// Prints a completion script for SHELL to standard output.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Writes the man pages (pbx-auth.1 and one per subcommand) into DIR.
    #[command(hide = true)]
    Man {
        /// The directory to write into (created when missing).
        dir: PathBuf,
    },
}
