//! `pbx-auth authnz GROUP ACTION [FIELD=VALUE | FIELD:=JSON]…`: any authnzerver request
//! type, checked against the typed API before it is sealed. Every call into
//! `authnz-proto` is in this file.

use std::path::PathBuf;
use std::time::Duration;

use authnz_proto::{AuthnzRequest, Client, Error, FernetKey, RequestName};
use clap::Args;
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::error::{CliError, Kind, Result};
use crate::secret::{SecretSpec, read_file};

/// Fields that hold passwords or tokens: never taken from the command line.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "current_password",
    "new_password",
    "session_token",
    "tkn",
    "verification_token",
];

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The request groups (`session`, `user`, `apikey`, …), from the typed API.
fn groups() -> Vec<&'static str> {
    let mut groups: Vec<&str> = RequestName::ALL
        .iter()
        .filter_map(|n| n.as_str().split_once('-').map(|(g, _)| g))
        .collect();
    groups.dedup();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// The actions (`new`, `exists`, `check-access`, …), from the typed API.
fn actions() -> Vec<&'static str> {
    let mut actions: Vec<&str> = RequestName::ALL
        .iter()
        .filter_map(|n| n.as_str().split_once('-').map(|(_, a)| a))
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// `pbx-auth authnz`.
#[derive(Debug, Args)]
#[command(
    after_help = "Secret fields (password, current_password, new_password, session_token, \
tkn, verification_token) come from --secret FIELD (environment PBX_AUTH_AUTHNZ_<FIELD> or a \
prompt) or --secret-file FIELD=FILE, never from FIELD=VALUE.\n\n\
Example: pbx-auth authnz session new ip_address=127.0.0.1 user_agent=cli user_id:=null \
expires=2099-01-01T00:00:00.000000 extra_info_json:=null"
)]
pub(crate) struct AuthnzArgs {
    /// authnzerver's URL, e.g. http://127.0.0.1:13431/.
    #[arg(long, env = "PBX_AUTH_AUTHNZ_URL", hide_env_values = true)]
    url: Option<String>,
    /// File holding the shared Fernet key (else PBX_AUTH_AUTHNZ_KEY, else
    /// AUTHNZERVER_SECRET as the server reads it).
    #[arg(long, env = "PBX_AUTH_AUTHNZ_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Request group.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(groups()))]
    group: String,
    /// Action within the group.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(actions()))]
    action: String,
    /// Body fields: FIELD=text, or FIELD:=JSON for numbers, booleans, null, lists, objects.
    fields: Vec<String>,
    /// The whole body as a JSON object (`@FILE` reads a file); FIELDs are added to it.
    #[arg(long)]
    body: Option<String>,
    /// A secret field read from PBX_AUTH_AUTHNZ_<FIELD> or a prompt (repeat).
    #[arg(long = "secret", value_name = "FIELD")]
    secrets: Vec<String>,
    /// A secret field read from a file, as FIELD=FILE (repeat).
    #[arg(long = "secret-file", value_name = "FIELD=FILE")]
    secret_files: Vec<String>,
}

fn fail(what: &str, e: &Error) -> CliError {
    let kind = match e {
        Error::Transport(_) => Kind::Transport,
        Error::Config(_)
        | Error::InvalidKey(_)
        | Error::KeyUnavailable { .. }
        | Error::UnknownRequest(_)
        | Error::MalformedRequest(_) => Kind::Usage,
        _ => Kind::Refused,
    };
    let error = CliError::from_source(kind, &format!("authnz {what} failed"), e);
    match e {
        Error::BadSignature => error.hint("the key is not the server's key"),
        Error::InvalidKey(_) | Error::KeyUnavailable { .. } => {
            error.hint("give the key with --key-file, PBX_AUTH_AUTHNZ_KEY or AUTHNZERVER_SECRET")
        }
        Error::MalformedRequest(_) => error.hint("check the FIELD=VALUE arguments"),
        _ => error,
    }
}

fn key(args: &AuthnzArgs, ctx: &Ctx) -> Result<FernetKey> {
    if let Some(path) = ctx
        .profile
        .path(args.key_file.as_deref(), "authnz", "key_file")
    {
        return FernetKey::from_file(&path).map_err(|e| fail("key", &e));
    }
    if std::env::var_os("PBX_AUTH_AUTHNZ_KEY").is_some() {
        return FernetKey::from_env("PBX_AUTH_AUTHNZ_KEY").map_err(|e| fail("key", &e));
    }
    FernetKey::from_default_env().map_err(|e| fail("key", &e))
}

fn body(args: &AuthnzArgs) -> Result<Map<String, Value>> {
    let mut body = match &args.body {
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path).map_err(|e| {
                    CliError::usage(format!(
                        "the body file {path} could not be read: {}",
                        e.kind()
                    ))
                })?,
                None => text.clone(),
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                _ => return Err(CliError::usage("--body must be a JSON object")),
            }
        }
        None => Map::new(),
    };
    for field in &args.fields {
        let (name, value) = if let Some((name, raw)) = field.split_once(":=") {
            let value = serde_json::from_str(raw).map_err(|_| {
                CliError::usage(format!("the value of {name} is not JSON"))
                    .hint("quote text with FIELD=text, or write JSON after :=")
            })?;
            (name, value)
        } else if let Some((name, text)) = field.split_once('=') {
            (name, Value::String(text.to_owned()))
        } else {
            return Err(CliError::usage(format!("`{field}` is not FIELD=VALUE"))
                .hint("write FIELD=text or FIELD:=JSON"));
        };
        if SECRET_FIELDS.contains(&name) {
            return Err(CliError::usage(format!(
                "{name} is a secret and cannot be given on the command line"
            ))
            .hint(format!(
                "use --secret {name} (PBX_AUTH_AUTHNZ_{} or a prompt) or --secret-file {name}=FILE",
                name.to_ascii_uppercase()
            )));
        }
        body.insert(name.to_owned(), value);
    }
    for name in &args.secrets {
        let env = format!("PBX_AUTH_AUTHNZ_{}", name.to_ascii_uppercase());
        let value = SecretSpec {
            what: &format!("authnz {name}"),
            env: &env,
            file: None,
            file_option: &format!("--secret-file {name}="),
        }
        .read()?;
        body.insert(
            name.clone(),
            Value::String(value.expose_secret().to_owned()),
        );
    }
    for spec in &args.secret_files {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| CliError::usage("--secret-file takes FIELD=FILE"))?;
        let value = read_file(path.as_ref(), &format!("authnz {name}"))?;
        body.insert(
            name.to_owned(),
            Value::String(value.expose_secret().to_owned()),
        );
    }
    Ok(body)
}

/// Runs `pbx-auth authnz …`.
pub(crate) async fn run(args: AuthnzArgs, ctx: &Ctx) -> Result<()> {
    let name = format!("{}-{}", args.group, args.action);
    let request_name: RequestName = name.parse().map_err(|e| {
        fail("request", &e).hint("see `pbx-auth authnz --help` for the request types")
    })?;
    let body = Value::Object(body(&args)?);
    // The typed API checks the body before anything is sent; its errors name the field.
    AuthnzRequest::from_parts(&name, body.clone()).map_err(|e| fail("request", &e))?;
    let url = ctx.profile.require(args.url.as_deref(), "authnz", "url")?;
    let client = Client::builder(url, key(&args, ctx)?)
        .timeout(ctx.timeout(DEFAULT_TIMEOUT))
        .http_client(ctx.http_client(DEFAULT_TIMEOUT)?)
        .build()
        .map_err(|e| fail("setup", &e))?;
    if request_name.needs_newer_server() {
        ctx.out.note(&format!(
            "note: {name} needs an authnzerver newer than 0.1.3"
        ));
    }
    let reply = tokio::select! {
        r = client.send_raw(&name, &body) => r.map_err(|e| fail(&name, &e))?,
        () = crate::interrupted() => return Err(crate::interrupted_error()),
    };
    let value = json!({
        "success": reply.success,
        "response": reply.response,
        "messages": reply.messages,
    });
    ctx.out
        .result(&value, || crate::output::fields(&reply.response));
    if reply.success {
        Ok(())
    } else {
        Err(CliError::refused(format!(
            "authnzerver refused {name}: {}",
            reply.messages.join(" ")
        ))
        .hint("see the server's messages"))
    }
}
