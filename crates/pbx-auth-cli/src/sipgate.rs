//! `pbx-auth sipgate …`: browser login with PKCE through the loopback listener, tokens kept
//! in the token store with every rotation, API requests. Every call into `sipgate-oauth`
//! is in this file.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use pbx_auth_core::ErrorKind;
use pbx_auth_core::adapters::reqwest::execute;
use serde_json::json;
use sipgate_oauth::{
    BearerAuth, BearerAuthExt as _, Config, Error, OAuthClient, PersonalAccessToken,
    TokenHttpClient, TokenStore, bearer_auth, bearer_auth_from_login,
};

use crate::Ctx;
use crate::error::{CliError, Kind, Result};
use crate::secret::{SecretSpec, read_file};
use crate::store;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_API: &str = "https://api.sipgate.com/v2";

/// `pbx-auth sipgate`.
#[derive(Debug, Args)]
pub(crate) struct SipgateArgs {
    /// OAuth client id.
    #[arg(long, global = true, env = "PBX_AUTH_SIPGATE_CLIENT_ID")]
    client_id: Option<String>,
    /// File holding the client secret (or set PBX_AUTH_SIPGATE_CLIENT_SECRET).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_SIPGATE_CLIENT_SECRET_FILE",
        value_name = "FILE"
    )]
    client_secret_file: Option<PathBuf>,
    /// Redirect URI registered for the client (a loopback URL; port 0 picks a free one).
    #[arg(long, global = true, env = "PBX_AUTH_SIPGATE_REDIRECT_URI")]
    redirect_uri: Option<String>,
    /// Scopes, separated by spaces.
    #[arg(long, global = true, env = "PBX_AUTH_SIPGATE_SCOPE")]
    scope: Option<String>,
    /// Authorization endpoint (default: sipgate's).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_SIPGATE_AUTH_URL",
        hide_env_values = true
    )]
    auth_url: Option<String>,
    /// Token endpoint (default: sipgate's).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_SIPGATE_TOKEN_URL",
        hide_env_values = true
    )]
    token_url: Option<String>,
    /// Revocation endpoint (RFC 7009).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_SIPGATE_REVOCATION_URL",
        hide_env_values = true
    )]
    revocation_url: Option<String>,
    /// API base URL (default https://api.sipgate.com/v2).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_SIPGATE_API_URL",
        hide_env_values = true
    )]
    api_url: Option<String>,
    #[command(subcommand)]
    command: SipgateCommand,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum SipgateCommand {
    /// Logs in through the browser (PKCE, loopback redirect) and stores the tokens. The
    /// system browser opens, or the command in BROWSER (given the URL); the URL is printed
    /// too.
    Login {
        /// Do not open a browser: print the URL and read the redirected URL pasted back.
        #[arg(long)]
        no_browser: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        login_timeout: u64,
    },
    /// Prints a valid access token, refreshing (and storing the rotated tokens) first.
    Token {
        /// Refresh even when the stored access token is still valid.
        #[arg(long)]
        force_refresh: bool,
    },
    /// Shows the account (`GET /account`).
    Account,
    /// Sends a request with the bearer token (refreshing and retrying once after a 401).
    Request(RequestArgs),
    /// Revokes the grant at the server and forgets the stored tokens.
    Logout,
    /// Personal access tokens (HTTP Basic, no login): id from --token-id or
    /// PBX_AUTH_SIPGATE_TOKEN_ID, token from PBX_AUTH_SIPGATE_TOKEN, --token-file or a prompt.
    Pat {
        /// The token id (`token-…`).
        #[arg(long, env = "PBX_AUTH_SIPGATE_TOKEN_ID")]
        token_id: Option<String>,
        /// File holding the token.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        #[command(subcommand)]
        command: PatCommand,
    },
}

/// `request` arguments.
#[derive(Debug, Args)]
struct RequestArgs {
    /// HTTP method.
    method: String,
    /// Path under the API base URL, e.g. /account.
    path: String,
    /// Request body (`@FILE` reads a file), sent as JSON unless -H sets Content-Type.
    #[arg(short = 'd', long = "data")]
    data: Option<String>,
    /// Extra header `Name: value` (repeat).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
}

/// `pat` commands.
#[derive(Debug, Subcommand)]
enum PatCommand {
    /// Shows the account with the personal access token.
    Account,
    /// Sends a request with the personal access token.
    Request(RequestArgs),
}

fn fail(what: &str, e: &Error) -> CliError {
    let kind = match e {
        Error::Store(_) => Kind::Usage,
        _ => match e.kind() {
            ErrorKind::Transport | ErrorKind::Timeout => Kind::Transport,
            ErrorKind::Config => Kind::Usage,
            _ => Kind::Refused,
        },
    };
    let error = CliError::from_source(kind, &format!("sipgate {what} failed"), e);
    match e {
        Error::InvalidGrant { .. } => error.hint("log in again with `pbx-auth sipgate login`"),
        Error::InvalidClient { .. } => error.hint("check the client id and the client secret"),
        Error::Unauthorized { .. } => error.hint("log in again, or check the token's scopes"),
        _ => error,
    }
}

impl SipgateArgs {
    fn config(&self, ctx: &Ctx) -> Result<Config> {
        let p = &ctx.profile;
        let id = p.require(self.client_id.as_deref(), "sipgate", "client_id")?;
        let mut config = Config::new(id).map_err(|e| fail("configuration", &e))?;
        let secret_env = std::env::var("PBX_AUTH_SIPGATE_CLIENT_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        if let Some(secret) = secret_env {
            config = config.with_client_secret(secret);
        } else if let Some(path) = p.path(
            self.client_secret_file.as_deref(),
            "sipgate",
            "client_secret_file",
        ) {
            config = config
                .with_client_secret(read_file(&path, "sipgate client secret")?.expose_secret());
        }
        if let Some(uri) = p.pick(self.redirect_uri.as_deref(), "sipgate", "redirect_uri") {
            config = config
                .with_redirect_uri(&uri)
                .map_err(|e| fail("configuration", &e))?;
        }
        if let Some(scope) = p.pick(self.scope.as_deref(), "sipgate", "scope") {
            config = config
                .with_scopes(&scope)
                .map_err(|e| fail("configuration", &e))?;
        }
        let auth = p
            .pick(self.auth_url.as_deref(), "sipgate", "auth_url")
            .unwrap_or_else(|| config.auth_url.to_string());
        let token = p
            .pick(self.token_url.as_deref(), "sipgate", "token_url")
            .unwrap_or_else(|| config.token_url.to_string());
        let api = self.api_url(ctx);
        let account = format!("{api}/account");
        config = config
            .with_endpoints(&auth, &token, &account)
            .map_err(|e| fail("configuration", &e))?;
        if let Some(url) = p.pick(self.revocation_url.as_deref(), "sipgate", "revocation_url") {
            config = config
                .with_revocation_url(&url)
                .map_err(|e| fail("configuration", &e))?;
        }
        Ok(config)
    }

    fn api_url(&self, ctx: &Ctx) -> String {
        ctx.profile
            .pick(self.api_url.as_deref(), "sipgate", "api_url")
            .unwrap_or_else(|| DEFAULT_API.to_owned())
            .trim_end_matches('/')
            .to_owned()
    }

    fn client(&self, ctx: &Ctx) -> Result<OAuthClient> {
        // As the library's own token client: no redirects, no idle connections (a
        // rotated refresh token must never be spent on a connection that is closing).
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .timeout(ctx.timeout(DEFAULT_TIMEOUT));
        let http = ctx
            .tls()?
            .apply(builder)
            .build()
            .map_err(|_| CliError::usage("the HTTP client cannot be set up"))?;
        OAuthClient::with_http(self.config(ctx)?, TokenHttpClient::from_reqwest(http))
            .map_err(|e| fail("configuration", &e))
    }
}

/// The stored grant, or an error saying to log in.
async fn stored_auth(client: OAuthClient, store: TokenStore) -> Result<BearerAuth> {
    let present = store
        .load()
        .await
        .map_err(|e| fail("token store", &e))?
        .is_some();
    if !present {
        return Err(
            CliError::usage("not logged in to sipgate").hint("run `pbx-auth sipgate login` first")
        );
    }
    Ok(bearer_auth(client, store))
}

/// A spinner on standard error while the browser is out, only on a terminal.
fn spinner(ctx: &Ctx) -> Option<tokio::task::JoinHandle<()>> {
    if ctx.out.quiet || ctx.out.json || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(tokio::spawn(async {
        let frames = ['|', '/', '-', '\\'];
        let mut tick = tokio::time::interval(Duration::from_millis(120));
        for i in 0usize.. {
            tick.tick().await;
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{} waiting for the browser login…",
                frames[i % frames.len()]
            );
            let _ = err.flush();
        }
    }))
}

/// Runs `pbx-auth sipgate …`.
pub(crate) async fn run(args: SipgateArgs, ctx: &Ctx) -> Result<()> {
    tokio::select! {
        r = command(&args, ctx) => r,
        () = crate::interrupted() => Err(crate::interrupted_error()),
    }
}

#[allow(clippy::too_many_lines)] // One arm per command.
async fn command(args: &SipgateArgs, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match &args.command {
        SipgateCommand::Login {
            no_browser,
            login_timeout,
        } => {
            let client = args.client(ctx)?;
            let store = store::open(ctx, "sipgate")?;
            let tokens = if *no_browser {
                let stdin = tokio::io::BufReader::new(tokio::io::stdin());
                // The library never prints; the URL holds no secret (state and the PKCE
                // challenge are public), so the CLI shows it.
                let show = |url: &url::Url| {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "Please open the following URL in your browser:\n{url}\n\
                         After logging in, paste the full URL from the browser's address bar here:"
                    );
                };
                client
                    .login_with_pasted_url(show, stdin)
                    .await
                    .map_err(|e| fail("login", &e))?
            } else {
                // The system browser, or the command in BROWSER. The URL is shown as well
                // (it holds no secret: state and the PKCE challenge are public), for a
                // browser on another screen.
                let opener = |url: &url::Url| {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "Opening the browser for the sipgate login; if it does not open, visit:\n{url}"
                    );
                    sipgate_oauth::default_opener().open(url)
                };
                // Called by the library when the opener failed; the URL is shown above.
                let no_browser = |_: &url::Url| {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "No browser could be opened: open the URL above in a browser on this \
                         machine (set BROWSER to choose one), or use --no-browser"
                    );
                };
                let spin = spinner(ctx);
                let result = client
                    .login(&opener, &no_browser, Duration::from_secs(*login_timeout))
                    .await;
                if let Some(spin) = spin {
                    spin.abort();
                    let _ = writeln!(std::io::stderr().lock());
                }
                result.map_err(|e| fail("login", &e))?
            };
            let scopes = tokens.scopes.clone();
            let expires = tokens
                .expires_at
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            bearer_auth_from_login(client, store.clone(), &tokens)
                .await
                .map_err(|e| fail("token store", &e))?;
            let where_ = store::describe(ctx, "sipgate");
            out.done(
                &format!("logged in; tokens stored in {where_}"),
                &json!({
                    "logged_in": true,
                    "refresh_token": tokens.refresh_token.is_some(),
                    "expires_at_unix": expires,
                    "scopes": scopes,
                    "store": where_,
                }),
            );
            Ok(())
        }
        SipgateCommand::Token { force_refresh } => {
            let auth = stored_auth(args.client(ctx)?, store::open(ctx, "sipgate")?).await?;
            let token = if *force_refresh {
                auth.force_refresh()
                    .await
                    .map_err(|e| fail("refresh", &e))?
            } else {
                auth.access_token().await.map_err(|e| fail("refresh", &e))?
            };
            // The token is this command's result: printed alone, or in `--json`.
            out.result(
                &json!({ "access_token": token.expose_secret(), "refreshes": auth.refresh_count() }),
                || token.expose_secret().to_owned(),
            );
            Ok(())
        }
        SipgateCommand::Account => {
            let client = args.client(ctx)?;
            let url = client.config().test_api_endpoint.clone();
            let auth = stored_auth(client, store::open(ctx, "sipgate")?).await?;
            let http = ctx.http_client(DEFAULT_TIMEOUT)?;
            let account = sipgate_oauth::account(&http, &auth, &url)
                .await
                .map_err(|e| fail("account", &e))?;
            out.object(&serde_json::to_value(&account).unwrap_or_default());
            Ok(())
        }
        SipgateCommand::Request(request) => {
            let auth = stored_auth(args.client(ctx)?, store::open(ctx, "sipgate")?).await?;
            send(args, ctx, &auth, request).await
        }
        SipgateCommand::Logout => {
            let store = store::open(ctx, "sipgate")?;
            let auth = stored_auth(args.client(ctx)?, store.clone()).await?;
            match auth.revoke().await {
                Ok(()) => {
                    out.done(
                        "logged out: the grant is revoked and forgotten",
                        &json!({ "logged_out": true, "revoked": true }),
                    );
                    Ok(())
                }
                Err(Error::Unsupported(_)) => {
                    store.clear().await.map_err(|e| fail("token store", &e))?;
                    out.done(
                        "logged out: tokens forgotten (no revocation endpoint is configured)",
                        &json!({ "logged_out": true, "revoked": false }),
                    );
                    Ok(())
                }
                Err(e) => {
                    // The library forgets the tokens locally even when the server refused.
                    Err(fail("revocation", &e).hint("the tokens are forgotten locally anyway"))
                }
            }
        }
        SipgateCommand::Pat {
            token_id,
            token_file,
            command,
        } => {
            let id = ctx
                .profile
                .require(token_id.as_deref(), "sipgate", "token_id")?;
            let file = ctx
                .profile
                .path(token_file.as_deref(), "sipgate", "token_file");
            let token = SecretSpec {
                what: "sipgate personal access token",
                env: "PBX_AUTH_SIPGATE_TOKEN",
                file: file.as_deref(),
                file_option: "--token-file",
            }
            .read()?;
            let pat = PersonalAccessToken::new(id, token.expose_secret())
                .map_err(|e| fail("configuration", &e))?;
            match command {
                PatCommand::Account => {
                    let url = url::Url::parse(&format!("{}/account", args.api_url(ctx)))
                        .map_err(|_| CliError::usage("the API URL is not a URL"))?;
                    let http = ctx.http_client(DEFAULT_TIMEOUT)?;
                    let account = sipgate_oauth::account(&http, &pat, &url)
                        .await
                        .map_err(|e| fail("account", &e))?;
                    out.object(&serde_json::to_value(&account).unwrap_or_default());
                    Ok(())
                }
                PatCommand::Request(request) => send(args, ctx, &pat, request).await,
            }
        }
    }
}

async fn send<A: pbx_auth_core::Authenticator + ?Sized>(
    args: &SipgateArgs,
    ctx: &Ctx,
    auth: &A,
    request: &RequestArgs,
) -> Result<()> {
    let api = args.api_url(ctx);
    if request.path.contains("://") {
        return Err(
            CliError::usage("give a path under the API URL, not a full URL")
                .hint("e.g. /account; set --api-url for another server"),
        );
    }
    let url = format!("{api}/{}", request.path.trim_start_matches('/'));
    let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::usage("the method is not an HTTP method"))?;
    let http = ctx.http_client(DEFAULT_TIMEOUT)?;
    let mut builder = http
        .request(method, &url)
        .header(http::header::ACCEPT, "application/json");
    let mut content_type = "application/json".to_owned();
    for header in &request.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| CliError::usage("a header must look like `Name: value`"))?;
        if name.trim().eq_ignore_ascii_case("content-type") {
            value.trim().clone_into(&mut content_type);
        } else {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    if let Some(data) = &request.data {
        let bytes = match data.strip_prefix('@') {
            Some(path) => std::fs::read(path).map_err(|e| {
                CliError::usage(format!(
                    "the body file {path} could not be read: {}",
                    e.kind()
                ))
            })?,
            None => data.clone().into_bytes(),
        };
        builder = builder
            .header(http::header::CONTENT_TYPE, content_type)
            .body(bytes);
    }
    let req = builder
        .build()
        .map_err(|_| CliError::usage("the request cannot be built (check the path and headers)"))?;
    let response = execute(&http, auth, req).await.map_err(|e| {
        let kind = match e.kind() {
            ErrorKind::Transport | ErrorKind::Timeout => Kind::Transport,
            ErrorKind::Config => Kind::Usage,
            _ => Kind::Refused,
        };
        CliError::from_source(kind, "sipgate request failed", &e)
    })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|_| CliError::transport("the reply body could not be read"))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.clone()));
    ctx.out
        .result(&json!({ "status": status.as_u16(), "body": body }), || {
            text.clone()
        });
    if status.is_client_error() || status.is_server_error() {
        return Err(
            CliError::refused(format!("the API answered HTTP {}", status.as_u16()))
                .hint("check the method, the path, the body and the token's scopes"),
        );
    }
    Ok(())
}
