//! `pbx-auth kalliope …`: X-authenticate headers, signed requests, the salt, and the
//! server-side check. Every call into `kalliope-auth` is in this file.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use kalliope_auth::verifier::{Verifier, VerifierConfig};
use kalliope_auth::{
    Auth, Body, Credentials, DEFAULT_DOMAIN, Error, PBX_ADMIN_SCOPE, SaltSource, Session,
};
use pbx_auth_core::{ErrorKind, Password};
use serde_json::json;

use crate::Ctx;
use crate::error::{CliError, Kind, Result};
use crate::secret::SecretSpec;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// `pbx-auth kalliope`.
#[derive(Debug, Args)]
pub(crate) struct KalliopeArgs {
    /// The PBX's base URL, e.g. https://pbx.example.com.
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_KALLIOPE_URL",
        hide_env_values = true
    )]
    url: Option<String>,
    /// Username (its password: PBX_AUTH_KALLIOPE_PASSWORD, --password-file or a prompt).
    #[arg(long, global = true, env = "PBX_AUTH_KALLIOPE_USERNAME")]
    username: Option<String>,
    /// Tenant domain (default `default`).
    #[arg(long, global = true, env = "PBX_AUTH_KALLIOPE_DOMAIN")]
    domain: Option<String>,
    /// File holding the password (`-` for standard input).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_KALLIOPE_PASSWORD_FILE",
        value_name = "FILE"
    )]
    password_file: Option<PathBuf>,
    /// pbxadmin on a multi-tenant PBX: salt scope and domain `pbxAdmin`.
    #[arg(long, global = true)]
    pbx_admin: bool,
    #[command(subcommand)]
    command: KalliopeCommand,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum KalliopeCommand {
    /// Prints a fresh X-authenticate header (or, with --curl, a ready curl command).
    Sign {
        /// Print a curl command line for METHOD and PATH instead.
        #[arg(long)]
        curl: bool,
        /// Method for --curl.
        #[arg(long, default_value = "GET")]
        method: String,
        /// Path for --curl.
        #[arg(long, default_value = "/rest/dashboard")]
        path: String,
        /// Use this salt instead of fetching it.
        #[arg(long)]
        salt: Option<String>,
    },
    /// Sends a signed request (a fresh header per request and retry; one salt fetch).
    Request {
        /// HTTP method.
        method: String,
        /// Path, e.g. /rest/account.
        path: String,
        /// Request body (`@FILE` reads a file).
        #[arg(short = 'd', long = "data")]
        data: Option<String>,
        /// Extra header `Name: value` (repeat).
        #[arg(short = 'H', long = "header")]
        headers: Vec<String>,
    },
    /// Prints the tenant's salt.
    Salt,
    /// Checks an X-authenticate header against the credentials and a time window.
    Verify {
        /// The header value (`RestApiUsernameToken …`), or the whole line.
        header: String,
        /// Use this salt instead of fetching it from --url.
        #[arg(long)]
        salt: Option<String>,
        /// Largest accepted clock difference, in seconds.
        #[arg(long, default_value_t = 300)]
        window: u64,
    },
}

fn fail(what: &str, e: &Error) -> CliError {
    let kind = match e.kind() {
        ErrorKind::Transport | ErrorKind::Timeout => Kind::Transport,
        ErrorKind::Config => Kind::Usage,
        _ if matches!(
            e,
            Error::InvalidCredentials(_) | Error::InvalidConnectionString(_)
        ) =>
        {
            Kind::Usage
        }
        _ => Kind::Refused,
    };
    let error = CliError::from_source(kind, &format!("kalliope {what} failed"), e);
    match e {
        Error::Unauthorized { .. } => error.hint("check the username, the password and the domain"),
        Error::SaltStatus { .. } => error.hint("check the URL and the domain"),
        _ => error,
    }
}

struct Login {
    url: String,
    username: String,
    domain: String,
    scope: String,
    password: Password,
}

impl KalliopeArgs {
    fn url(&self, ctx: &Ctx) -> Result<String> {
        ctx.profile.require(self.url.as_deref(), "kalliope", "url")
    }

    fn login(&self, ctx: &Ctx) -> Result<Login> {
        let url = self.url(ctx)?;
        let username = ctx
            .profile
            .require(self.username.as_deref(), "kalliope", "username")?;
        let pbx_admin = self.pbx_admin || ctx.profile.flag(Some("kalliope"), "pbx_admin");
        let domain = ctx
            .profile
            .pick(self.domain.as_deref(), "kalliope", "domain")
            .unwrap_or_else(|| {
                if pbx_admin {
                    PBX_ADMIN_SCOPE
                } else {
                    DEFAULT_DOMAIN
                }
                .to_owned()
            });
        let scope = if pbx_admin {
            PBX_ADMIN_SCOPE.to_owned()
        } else {
            domain.clone()
        };
        let file = ctx
            .profile
            .path(self.password_file.as_deref(), "kalliope", "password_file");
        let password = SecretSpec {
            what: "kalliope password",
            env: "PBX_AUTH_KALLIOPE_PASSWORD",
            file: file.as_deref(),
            file_option: "--password-file",
        }
        .read()?;
        Ok(Login {
            url,
            username,
            domain,
            scope,
            password,
        })
    }
}

async fn fetch_salt(ctx: &Ctx, login: &Login) -> Result<String> {
    let base = url::Url::parse(&login.url).map_err(|_| {
        CliError::usage("the kalliope URL is not a URL").hint("give https://HOST[:PORT]")
    })?;
    let credentials = Credentials::new(
        login.username.clone(),
        login.password.clone(),
        login.domain.clone(),
    )
    .map_err(|e| fail("login", &e))?;
    let source = SaltSource::new(
        ctx.http_client(DEFAULT_TIMEOUT)?,
        &base,
        &login.scope,
        credentials,
    )
    .map_err(|e| fail("salt request", &e))?;
    source
        .fetch_salt()
        .await
        .map_err(|e| fail("salt request", &e))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs `pbx-auth kalliope …`.
pub(crate) async fn run(args: KalliopeArgs, ctx: &Ctx) -> Result<()> {
    tokio::select! {
        r = command(&args, ctx) => r,
        () = crate::interrupted() => Err(crate::interrupted_error()),
    }
}

async fn command(args: &KalliopeArgs, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match &args.command {
        KalliopeCommand::Sign {
            curl,
            method,
            path,
            salt,
        } => {
            let login = args.login(ctx)?;
            let salt = match salt {
                Some(s) => s.clone(),
                None => fetch_salt(ctx, &login).await?,
            };
            let auth = Auth::new(
                login.username.clone(),
                login.password.clone(),
                login.domain.clone(),
                Some(&salt),
            )
            .map_err(|e| fail("signing", &e))?;
            let value = auth.xauth().map_err(|e| fail("signing", &e))?;
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            // A connection string may carry `user:password@`: never print it.
            let mut base = url::Url::parse(&login.url)
                .map_err(|_| CliError::usage("the kalliope URL is not a URL"))?;
            let _ = base.set_username("");
            let _ = base.set_password(None);
            let url = format!(
                "{}/{}",
                base.as_str().trim_end_matches('/'),
                path.trim_start_matches('/')
            );
            let curl_line = format!(
                "curl -X {} -H {} {}",
                shell_quote(method),
                shell_quote(&format!("X-authenticate: {value}")),
                shell_quote(&url)
            );
            let json = json!({ "header": "X-authenticate", "value": value, "curl": curl_line });
            out.result(&json, || {
                if *curl {
                    curl_line.clone()
                } else {
                    format!("X-authenticate: {value}")
                }
            });
            Ok(())
        }
        KalliopeCommand::Request {
            method,
            path,
            data,
            headers,
        } => {
            let login = args.login(ctx)?;
            let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| CliError::usage("the method is not an HTTP method"))?;
            let mut builder = Session::builder(&login.url)
                .map_err(|e| fail("setup", &e))?
                .credentials(login.username.clone(), login.password.clone())
                .domain(login.domain.clone())
                .timeout(ctx.timeout(DEFAULT_TIMEOUT));
            if login.scope != login.domain {
                builder = builder.salt_scope(login.scope.clone());
            }
            if let Some(pem) = ctx.cacert() {
                builder = builder.ca_bundle_pem(pem);
            }
            if ctx.danger_insecure() {
                builder = builder.danger_accept_invalid_certs();
            }
            let mut content_type = "application/json".to_owned();
            for header in headers {
                let (name, value) = header
                    .split_once(':')
                    .ok_or_else(|| CliError::usage("a header must look like `Name: value`"))?;
                if name.trim().eq_ignore_ascii_case("content-type") {
                    value.trim().clone_into(&mut content_type);
                    continue;
                }
                builder = builder
                    .header(name.trim(), value.trim())
                    .map_err(|e| fail("setup", &e))?;
            }
            let session = builder.build().map_err(|e| fail("setup", &e))?;
            let body = match data {
                Some(d) => {
                    let bytes = match d.strip_prefix('@') {
                        Some(path) => std::fs::read(path).map_err(|e| {
                            CliError::usage(format!(
                                "the body file {path} could not be read: {}",
                                e.kind()
                            ))
                        })?,
                        None => d.clone().into_bytes(),
                    };
                    Some(Body::bytes(bytes, &content_type).map_err(|e| fail("setup", &e))?)
                }
                None => None,
            };
            let response = session
                .request(method, path, body)
                .await
                .map_err(|e| fail("request", &e))?;
            let status = response.status();
            let text = response
                .text()
                .await
                .map_err(|_| CliError::transport("the reply body could not be read"))?;
            let body: serde_json::Value =
                serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.clone()));
            out.result(&json!({ "status": status.as_u16(), "body": body }), || {
                text.clone()
            });
            if status.is_client_error() || status.is_server_error() {
                return Err(CliError::refused(format!(
                    "the PBX answered HTTP {}",
                    status.as_u16()
                ))
                .hint("check the method, the path and the body"));
            }
            out.note(&format!("HTTP {}", status.as_u16()));
            Ok(())
        }
        KalliopeCommand::Salt => {
            let url = args.url(ctx)?;
            let base = url::Url::parse(&url)
                .map_err(|_| CliError::usage("the kalliope URL is not a URL"))?;
            let pbx_admin = args.pbx_admin || ctx.profile.flag(Some("kalliope"), "pbx_admin");
            let scope = if pbx_admin {
                PBX_ADMIN_SCOPE.to_owned()
            } else {
                ctx.profile
                    .pick(args.domain.as_deref(), "kalliope", "domain")
                    .unwrap_or_else(|| DEFAULT_DOMAIN.to_owned())
            };
            // The salt is public: it needs no credentials, so placeholders sign nothing.
            let credentials = Credentials::new("salt", "salt", scope.clone())
                .map_err(|e| fail("salt request", &e))?;
            let source = SaltSource::new(
                ctx.http_client(DEFAULT_TIMEOUT)?,
                &base,
                &scope,
                credentials,
            )
            .map_err(|e| fail("salt request", &e))?;
            let salt = source
                .fetch_salt()
                .await
                .map_err(|e| fail("salt request", &e))?;
            out.result(&json!({ "scope": scope, "salt": salt }), || salt.clone());
            Ok(())
        }
        KalliopeCommand::Verify {
            header,
            salt,
            window,
        } => {
            let login = args.login(ctx)?;
            let salt = match salt {
                Some(s) => s.clone(),
                None => fetch_salt(ctx, &login).await?,
            };
            let mut verifier =
                Verifier::new(VerifierConfig::default().with_skew(Duration::from_secs(*window)));
            verifier
                .add_user(
                    &login.username,
                    &login.domain,
                    login.password.expose_secret(),
                    &salt,
                )
                .map_err(|e| fail("verification", &e))?;
            let value = header
                .split_once(':')
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("x-authenticate"))
                .map_or(header.as_str(), |(_, v)| v)
                .trim();
            match verifier.verify_value(value.as_bytes()) {
                Ok(verified) => {
                    let created = verified
                        .created
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default();
                    out.result(
                        &json!({
                            "valid": true,
                            "username": verified.username,
                            "domain": verified.domain,
                            "created_unix": created,
                        }),
                        || format!("valid: {}@{}", verified.username, verified.domain),
                    );
                    Ok(())
                }
                Err(rejected) => {
                    let reason = format!("{:?}", rejected.reason());
                    out.result(&json!({ "valid": false, "reason": reason }), || {
                        format!("invalid: {reason}")
                    });
                    Err(
                        CliError::refused(format!("the header was refused ({reason})")).hint(
                            "sign a new header; check the clock, the domain and the password",
                        ),
                    )
                }
            }
        }
    }
}
