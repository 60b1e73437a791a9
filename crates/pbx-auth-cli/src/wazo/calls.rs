//! Every call into `wazo-auth-client`, and the run's token: created when no token is given,
//! revoked when the command ends — on success, on error and on Ctrl-C.

use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wazo_auth_client::api::groups::GroupRequest;
use wazo_auth_client::api::ldap_config::LdapConfigRequest;
use wazo_auth_client::api::policies::PolicyRequest;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::api::users::UserRequest;
use wazo_auth_client::{
    AccessCheck, AccessToken, AccessType, Client, Direction, Error, ListParams, NewToken, Password,
    RefreshToken, Token,
};

use super::{
    AccessKind, AclCommand, GroupCommand, LdapCommand, ListOptions, Named, PolicyCommand,
    RefreshCommand, SessionCommand, TenantCommand, TokenCommand, TokenCreate, TokenInput,
    UserCommand, WazoArgs, WazoCommand,
};
use crate::error::{CliError, Kind, Result};
use crate::secret::{SecretSpec, read_file};
use crate::{Ctx, interrupted, interrupted_error, store};

/// The run's token lives this long at most if the revocation never arrives.
const RUN_TOKEN_LIFETIME: u32 = 600;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Maps a library error to the tool's: transport 3, refusals 1, configuration 2.
fn fail(what: &str, e: &Error) -> CliError {
    let kind = match e {
        Error::Transport(_) => Kind::Transport,
        Error::Config(_) => Kind::Usage,
        Error::Core(inner) => match inner.kind() {
            pbx_auth_core::ErrorKind::Transport | pbx_auth_core::ErrorKind::Timeout => {
                Kind::Transport
            }
            pbx_auth_core::ErrorKind::Config => Kind::Usage,
            _ => Kind::Refused,
        },
        _ => Kind::Refused,
    };
    let error = CliError::from_source(kind, &format!("wazo {what} failed"), e);
    match e.status().map(|s| s.as_u16()) {
        Some(401) => error.hint("check the username, the password or the token and its ACL"),
        Some(403) => error.hint("the token lacks the access or tenant this needs"),
        Some(404) => error.hint("check the UUID or name"),
        _ => error,
    }
}

fn client(args: &WazoArgs, ctx: &Ctx) -> Result<Client> {
    let url = ctx.profile.require(args.url.as_deref(), "wazo", "url")?;
    let mut builder = Client::builder_from_url(&url)?.timeout(Some(ctx.timeout(DEFAULT_TIMEOUT)));
    if let Some(pem) = ctx.cacert() {
        builder = builder.ca_bundle_pem(pem);
    }
    if ctx.danger_insecure() {
        builder = builder.danger_accept_invalid_certs();
    }
    builder.build().map_err(|e| fail("client setup", &e))
}

trait BuilderFromUrl {
    fn builder_from_url(url: &str) -> Result<wazo_auth_client::ClientBuilder>;
}

impl BuilderFromUrl for Client {
    fn builder_from_url(url: &str) -> Result<wazo_auth_client::ClientBuilder> {
        wazo_auth_client::ClientBuilder::from_url(url).map_err(|e| {
            fail("configuration", &e).hint("give the URL as https://HOST[:PORT][/PREFIX]")
        })
    }
}

/// The username and password for a new token.
fn credentials(args: &WazoArgs, ctx: &Ctx) -> Result<(String, Password)> {
    let username = ctx
        .profile
        .require(args.username.as_deref(), "wazo", "username")?;
    let file = ctx
        .profile
        .path(args.password_file.as_deref(), "wazo", "password_file");
    let password = SecretSpec {
        what: "wazo password",
        env: "PBX_AUTH_WAZO_PASSWORD",
        file: file.as_deref(),
        file_option: "--password-file",
    }
    .read()?;
    Ok((username, password))
}

/// A token given by the user (PBX_AUTH_WAZO_TOKEN or --token-file), if any.
fn given_token(args: &WazoArgs, ctx: &Ctx) -> Result<Option<AccessToken>> {
    if let Ok(token) = std::env::var("PBX_AUTH_WAZO_TOKEN")
        && !token.is_empty()
    {
        return Ok(Some(AccessToken::new(token)));
    }
    match ctx
        .profile
        .path(args.token_file.as_deref(), "wazo", "token_file")
    {
        Some(path) => Ok(Some(AccessToken::new(
            read_file(&path, "wazo token")?.expose_secret(),
        ))),
        None => Ok(None),
    }
}

/// The token a `token show|check|revoke` is about.
fn subject_token(input: &TokenInput) -> Result<Password> {
    let stdin_default = (!std::io::stdin().is_terminal()).then(|| Path::new("-"));
    SecretSpec {
        what: "token",
        env: "PBX_AUTH_WAZO_SUBJECT_TOKEN",
        file: input.from.as_deref().or(stdin_default),
        file_option: "--from",
    }
    .read()
}

/// Runs the command; commands that act on the server's resources get the run's token.
pub(super) async fn run(args: WazoArgs, ctx: &Ctx) -> Result<()> {
    if let WazoCommand::Acl(AclCommand::Check {
        acl,
        required,
        auth_id,
        session_id,
    }) = &args.command
    {
        return acl_check(ctx, acl, required, auth_id, session_id);
    }
    let client = client(&args, ctx)?;
    let needs_token = !matches!(
        args.command,
        WazoCommand::Status
            | WazoCommand::Token(
                TokenCommand::Create(_)
                    | TokenCommand::Show { .. }
                    | TokenCommand::Check { .. }
                    | TokenCommand::Revoke { .. }
            )
    );
    if !needs_token {
        return tokio::select! {
            r = unauthenticated(&args, &client, ctx) => r,
            () = interrupted() => Err(interrupted_error()),
        };
    }
    // The run's token, once created: revoked below whatever happens in between.
    let run_token: Arc<Mutex<Option<AccessToken>>> = Arc::default();
    let result = tokio::select! {
        r = async {
            let token = match given_token(&args, ctx)? {
                Some(token) => token,
                None => {
                    let (username, password) = credentials(&args, ctx)?;
                    let mut request = NewToken::new()
                        .expiration(RUN_TOKEN_LIFETIME)
                        .username(username)
                        .password(password);
                    if let Some(backend) = &args.backend {
                        request = request.backend(backend.clone());
                    }
                    let token = client
                        .token()
                        .create(&request)
                        .await
                        .map_err(|e| fail("token creation", &e))?
                        .token;
                    *run_token.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(token.clone());
                    token
                }
            };
            client.set_token(Some(token));
            authenticated(&args.command, &client, ctx).await
        } => r,
        () = interrupted() => Err(interrupted_error()),
    };
    let token = run_token
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(token) = token
        && let Err(e) = client.token().revoke(token.expose_secret()).await
    {
        ctx.out
            .note(&fail("revocation of the run's token", &e).line());
    }
    result
}

fn acl_check(
    ctx: &Ctx,
    acl: &[String],
    required: &str,
    auth_id: &str,
    session_id: &str,
) -> Result<()> {
    let granted =
        AccessCheck::new(auth_id, session_id, acl).matches_required_access(Some(required));
    ctx.out
        .result(&json!({ "required": required, "granted": granted }), || {
            if granted { "granted" } else { "denied" }.to_owned()
        });
    if granted {
        Ok(())
    } else {
        Err(
            CliError::refused(format!("the ACL does not grant {required}"))
                .hint("add a matching entry to the ACL"),
        )
    }
}

/// A token as JSON without its secrets.
fn token_json(token: &Token) -> Value {
    let mut value = serde_json::to_value(token).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("token");
        map.remove("refresh_token");
    }
    value
}

async fn unauthenticated(args: &WazoArgs, client: &Client, ctx: &Ctx) -> Result<()> {
    match &args.command {
        WazoCommand::Status => {
            client
                .status()
                .check()
                .await
                .map_err(|e| fail("status check", &e))?;
            ctx.out
                .result(&json!({ "status": "ok" }), || "ok".to_owned());
            Ok(())
        }
        WazoCommand::Token(TokenCommand::Create(create)) => {
            token_create(args, create, client, ctx).await
        }
        WazoCommand::Token(TokenCommand::Show { input, acl, tenant }) => {
            let token = subject_token(input)?;
            let info = client
                .token()
                .get(token.expose_secret(), acl.as_deref(), tenant.as_deref())
                .await
                .map_err(|e| fail("token show", &e))?;
            ctx.out.object(&token_json(&info));
            Ok(())
        }
        WazoCommand::Token(TokenCommand::Check { input, acl, tenant }) => {
            let token = subject_token(input)?;
            let result = client
                .token()
                .check(token.expose_secret(), acl.as_deref(), tenant.as_deref())
                .await;
            let (valid, error) = match result {
                Ok(valid) => (valid, None),
                Err(Error::InvalidToken | Error::MissingPermissions) => (false, None),
                Err(e) => (false, Some(e)),
            };
            if let Some(e) = error {
                return Err(fail("token check", &e));
            }
            ctx.out.result(&json!({ "valid": valid }), || {
                if valid { "valid" } else { "invalid" }.to_owned()
            });
            if valid {
                Ok(())
            } else {
                Err(
                    CliError::refused("the token is not valid for this access or tenant")
                        .hint("create a new token or check --acl and --tenant"),
                )
            }
        }
        WazoCommand::Token(TokenCommand::Revoke { input }) => {
            let token = subject_token(input)?;
            client
                .token()
                .revoke(token.expose_secret())
                .await
                .map_err(|e| fail("token revocation", &e))?;
            ctx.out.done("revoked", &json!({ "revoked": true }));
            Ok(())
        }
        _ => Err(CliError::usage("this command needs a token")),
    }
}

async fn token_create(
    args: &WazoArgs,
    create: &TokenCreate,
    client: &Client,
    ctx: &Ctx,
) -> Result<()> {
    let mut request = NewToken::new();
    if let Some(e) = create.expiration {
        request = request.expiration(e);
    }
    if let Some(kind) = create.access_type {
        request = request.access_type(match kind {
            AccessKind::Online => AccessType::Online,
            AccessKind::Offline => AccessType::Offline,
        });
    }
    if let Some(id) = &create.client_id {
        request = request.client_id(id.clone());
    }
    if let Some(t) = &create.tenant {
        request = request.tenant_id(t.clone());
    }
    if let Some(d) = &create.domain_name {
        request = request.domain_name(d.clone());
    }
    if let Some(b) = &args.backend {
        request = request.backend(b.clone());
    }
    if create.mobile {
        request = request.session_type("mobile".to_owned());
    }
    let store = store::open(ctx, "wazo")?;
    if create.refresh_token {
        let refresh = match std::env::var("PBX_AUTH_WAZO_REFRESH_TOKEN") {
            Ok(t) if !t.is_empty() => RefreshToken::new(t),
            _ => store
                .load()
                .await
                .map_err(|e| CliError::from_source(Kind::Usage, "the token store failed", &e))?
                .and_then(|t| t.refresh_token)
                .ok_or_else(|| {
                    CliError::usage("no refresh token is stored").hint(
                        "create one with --access-type offline --client-id ID, or set PBX_AUTH_WAZO_REFRESH_TOKEN",
                    )
                })?,
        };
        request = request.refresh_token(refresh);
    } else {
        let (username, password) = credentials(args, ctx)?;
        request = request.username(username).password(password);
    }
    let token = client
        .token()
        .create(&request)
        .await
        .map_err(|e| fail("token creation", &e))?;
    let mut value = token_json(&token);
    if let Some(refresh) = &token.refresh_token {
        let set = sipgate_oauth::TokenSet::new(token.token.clone(), Some(refresh.clone()), None);
        store.save(&set).await.map_err(|e| {
            CliError::from_source(Kind::Usage, "the refresh token could not be stored", &e)
        })?;
        value["refresh_token_stored"] = json!(store::describe(ctx, "wazo"));
        ctx.out.note(&format!(
            "refresh token stored in {}",
            store::describe(ctx, "wazo")
        ));
    }
    // The token is this command's result: printed alone, or in `--json` as `token`.
    value["token"] = json!(token.token.expose_secret());
    ctx.out
        .result(&value, || token.token.expose_secret().to_owned());
    Ok(())
}

fn list_params(list: &ListOptions) -> ListParams {
    let mut params = ListParams::new();
    if list.recurse {
        params = params.recurse(true);
    }
    if let Some(s) = &list.search {
        params = params.search(s.clone());
    }
    if let Some(o) = &list.order {
        params = params.order(o.clone());
    }
    if let Some(d) = &list.direction {
        params = params.direction(if d == "desc" {
            Direction::Desc
        } else {
            Direction::Asc
        });
    }
    if let Some(l) = list.limit {
        params = params.limit(l);
    }
    if let Some(o) = list.offset {
        params = params.offset(o);
    }
    params
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Resolves a name to a UUID through a list filtered on `column`, as wazo-auth-cli does.
async fn resolve<T, F, Fut>(what: &str, identifier: &str, column: &str, list: F) -> Result<String>
where
    T: serde::Serialize,
    F: FnOnce(ListParams) -> Fut,
    Fut: Future<Output = Result<wazo_auth_client::Page<T>, Error>>,
{
    if is_uuid(identifier) || identifier == "me" {
        return Ok(identifier.to_owned());
    }
    let page = list(ListParams::new().recurse(true).filter(column, identifier))
        .await
        .map_err(|e| fail(&format!("{what} lookup"), &e))?;
    let uuids: Vec<String> = page
        .items
        .iter()
        .filter_map(|item| {
            serde_json::to_value(item).ok()?["uuid"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    match uuids.as_slice() {
        [uuid] => Ok(uuid.clone()),
        [] => Err(
            CliError::refused(format!("no {what} is named {identifier}"))
                .hint(format!("check the name or give the {what}'s UUID")),
        ),
        _ => Err(
            CliError::refused(format!("several {what}s are named {identifier}"))
                .hint(format!("give the {what}'s UUID")),
        ),
    }
}

async fn user_uuid(client: &Client, identifier: &str) -> Result<String> {
    resolve("user", identifier, "username", |p| async move {
        client.users().list(&p, None).await
    })
    .await
}

async fn policy_uuid(client: &Client, identifier: &str) -> Result<String> {
    resolve("policy", identifier, "name", |p| async move {
        client.policies().list(&p, None).await
    })
    .await
}

async fn group_uuid(client: &Client, identifier: &str) -> Result<String> {
    resolve("group", identifier, "name", |p| async move {
        client.groups().list(&p, None).await
    })
    .await
}

async fn tenant_uuid(client: &Client, identifier: &str) -> Result<String> {
    resolve("tenant", identifier, "name", |p| async move {
        client.tenants().list(&p, None).await
    })
    .await
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A list page: a table of `columns`, or with `--json` the page with every field.
fn print_page<T: serde::Serialize>(
    out: &crate::output::Output,
    page: &wazo_auth_client::Page<T>,
    columns: &[&str],
) {
    let items: Vec<Value> = page.items.iter().map(to_json).collect();
    let value = json!({ "total": page.total, "filtered": page.filtered, "items": items });
    out.table(&value, &items, columns);
}

fn new_user_password(file: Option<&Path>) -> Result<Password> {
    SecretSpec {
        what: "new user password",
        env: "PBX_AUTH_WAZO_USER_PASSWORD",
        file,
        file_option: "--user-password-file",
    }
    .read()
}

#[allow(clippy::too_many_lines)] // One arm per command, each a few calls.
async fn authenticated(command: &WazoCommand, client: &Client, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match command {
        WazoCommand::Token(TokenCommand::Refresh(refresh)) => match refresh {
            RefreshCommand::List { user, all, list } => {
                let params = list_params(list);
                let page = if *all {
                    client
                        .refresh_tokens()
                        .list(&params, list.tenant.as_deref())
                        .await
                } else {
                    client
                        .token()
                        .list(user, &params, list.tenant.as_deref())
                        .await
                }
                .map_err(|e| fail("refresh token list", &e))?;
                print_page(
                    out,
                    &page,
                    &["client_id", "user_uuid", "mobile", "created_at"],
                );
            }
            RefreshCommand::Delete {
                user_uuid,
                client_id,
                tenant,
            } => {
                client
                    .token()
                    .delete(user_uuid, client_id, tenant.as_deref())
                    .await
                    .map_err(|e| fail("refresh token deletion", &e))?;
                out.done("deleted", &json!({ "deleted": client_id }));
            }
        },
        WazoCommand::User(user) => users(user, client, ctx).await?,
        WazoCommand::Tenant(tenant) => tenants(tenant, client, ctx).await?,
        WazoCommand::Policy(policy) => policies(policy, client, ctx).await?,
        WazoCommand::Group(group) => groups(group, client, ctx).await?,
        WazoCommand::Session(session) => match session {
            SessionCommand::List(list) => {
                let page = client
                    .sessions()
                    .list(&list_params(list), list.tenant.as_deref())
                    .await
                    .map_err(|e| fail("session list", &e))?;
                print_page(out, &page, &["uuid", "user_uuid", "tenant_uuid", "mobile"]);
            }
            SessionCommand::Show { identifier } => {
                let page = client
                    .sessions()
                    .list(&ListParams::new().recurse(true), None)
                    .await
                    .map_err(|e| fail("session lookup", &e))?;
                let session = page
                    .items
                    .iter()
                    .find(|s| &s.uuid == identifier)
                    .ok_or_else(|| {
                        CliError::refused(format!("no session {identifier}"))
                            .hint("list them with `pbx-auth wazo session list --recurse`")
                    })?;
                out.object(&to_json(session));
            }
            SessionCommand::Delete { identifier, tenant } => {
                client
                    .sessions()
                    .delete(identifier, tenant.as_deref())
                    .await
                    .map_err(|e| fail("session deletion", &e))?;
                out.done("deleted", &json!({ "deleted": identifier }));
            }
        },
        WazoCommand::LdapConfig(ldap) => match ldap {
            LdapCommand::Show { tenant } => {
                let config = client
                    .ldap_config()
                    .get(tenant.as_deref())
                    .await
                    .map_err(|e| fail("ldap config show", &e))?;
                out.object(&to_json(&config));
            }
            LdapCommand::Update(update) => {
                let mut request = LdapConfigRequest::new()
                    .host(update.host.clone())
                    .port(update.port)
                    .user_base_dn(update.user_base_dn.clone())
                    .user_login_attribute(update.user_login_attribute.clone())
                    .user_email_attribute(update.user_email_attribute.clone());
                if let Some(v) = update.protocol_version {
                    request = request.protocol_version(v);
                }
                if let Some(v) = &update.protocol_security {
                    request = request.protocol_security(v.clone());
                }
                if let Some(v) = &update.bind_dn {
                    request = request.bind_dn(v.clone());
                }
                if let Some(v) = &update.search_filters {
                    request = request.search_filters(v.clone());
                }
                let env_password = std::env::var("PBX_AUTH_WAZO_BIND_PASSWORD")
                    .ok()
                    .filter(|p| !p.is_empty());
                if let Some(p) = env_password {
                    request = request.bind_password(Password::new(p));
                } else if let Some(path) = &update.bind_password_file {
                    request = request.bind_password(read_file(path, "bind password")?);
                }
                let config = client
                    .ldap_config()
                    .update(&request, update.tenant.as_deref())
                    .await
                    .map_err(|e| fail("ldap config update", &e))?;
                out.object(&to_json(&config));
            }
            LdapCommand::Delete { tenant } => {
                client
                    .ldap_config()
                    .delete(tenant.as_deref())
                    .await
                    .map_err(|e| fail("ldap config deletion", &e))?;
                out.done("deleted", &json!({ "deleted": "ldap-config" }));
            }
        },
        WazoCommand::Status | WazoCommand::Acl(_) | WazoCommand::Token(_) => {
            return Err(CliError::usage("this command takes no token"));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_lines)] // One arm per command.
async fn users(command: &UserCommand, client: &Client, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match command {
        UserCommand::Create {
            name,
            uuid,
            user_password_file,
            no_password,
            email,
            firstname,
            lastname,
            purpose,
            tenant,
            enable,
            disable,
        } => {
            let mut request = UserRequest::new().username(name.clone());
            if !no_password {
                request = request.password(new_user_password(user_password_file.as_deref())?);
            }
            if let Some(v) = uuid {
                request = request.uuid(v.clone());
            }
            if let Some(v) = email {
                request = request.email_address(v.clone());
            }
            if let Some(v) = firstname {
                request = request.firstname(v.clone());
            }
            if let Some(v) = lastname {
                request = request.lastname(v.clone());
            }
            if let Some(v) = purpose {
                request = request.purpose(v.clone());
            }
            if *enable || *disable {
                request = request.enabled(*enable);
            }
            let user = client
                .users()
                .create(&request, tenant.as_deref())
                .await
                .map_err(|e| fail("user creation", &e))?;
            out.object(&to_json(&user));
        }
        UserCommand::Update {
            identifier,
            new_username,
            firstname,
            lastname,
            purpose,
            enable,
            disable,
            tenant,
        } => {
            let uuid = user_uuid(client, identifier).await?;
            let current = client
                .users()
                .get(&uuid, tenant.as_deref())
                .await
                .map_err(|e| fail("user lookup", &e))?;
            let mut request = UserRequest::new();
            if let Some(v) = new_username.clone().or(current.username) {
                request = request.username(v);
            }
            if let Some(v) = firstname.clone().or(current.firstname) {
                request = request.firstname(v);
            }
            if let Some(v) = lastname.clone().or(current.lastname) {
                request = request.lastname(v);
            }
            if let Some(v) = purpose.clone().or(current.purpose) {
                request = request.purpose(v);
            }
            let enabled = if *enable || *disable {
                Some(*enable)
            } else {
                current.enabled
            };
            if let Some(v) = enabled {
                request = request.enabled(v);
            }
            let user = client
                .users()
                .edit(&uuid, &request, tenant.as_deref())
                .await
                .map_err(|e| fail("user update", &e))?;
            out.object(&to_json(&user));
        }
        UserCommand::Show(Named { identifier }) => {
            let uuid = user_uuid(client, identifier).await?;
            let user = client
                .users()
                .get(&uuid, None)
                .await
                .map_err(|e| fail("user show", &e))?;
            let all = ListParams::new();
            let policies = client
                .users()
                .get_policies(&uuid, &all, None)
                .await
                .map_err(|e| fail("user policies", &e))?;
            let groups = client
                .users()
                .get_groups(&uuid, &all, None)
                .await
                .map_err(|e| fail("user groups", &e))?;
            let sessions = client
                .users()
                .get_sessions(&uuid, &all, None)
                .await
                .map_err(|e| fail("user sessions", &e))?;
            let mut value = to_json(&user);
            value["policies"] = to_json(&policies.items);
            value["groups"] = to_json(&groups.items);
            value["sessions"] = to_json(&sessions.items);
            out.object(&value);
        }
        UserCommand::List(list) => {
            let page = client
                .users()
                .list(&list_params(list), list.tenant.as_deref())
                .await
                .map_err(|e| fail("user list", &e))?;
            print_page(
                out,
                &page,
                &["uuid", "username", "firstname", "lastname", "enabled"],
            );
        }
        UserCommand::Delete(Named { identifier }) => {
            let uuid = user_uuid(client, identifier).await?;
            client
                .users()
                .delete(&uuid, None)
                .await
                .map_err(|e| fail("user deletion", &e))?;
            out.done("deleted", &json!({ "deleted": uuid }));
        }
        UserCommand::Password {
            identifier,
            user_password_file,
        } => {
            let uuid = user_uuid(client, identifier).await?;
            let password = new_user_password(user_password_file.as_deref())?;
            client
                .users()
                .set_password(&uuid, Some(&password), None)
                .await
                .map_err(|e| fail("password change", &e))?;
            out.done("password set", &json!({ "password_set": uuid }));
        }
        UserCommand::Add {
            identifier,
            policy,
            group,
        } => {
            let user = user_uuid(client, identifier).await?;
            if let Some(policy) = policy {
                user_policy(client, &user, policy, Link::Add).await?;
            }
            if let Some(group) = group {
                let group = group_uuid(client, group).await?;
                group_user(client, &group, &user, Link::Add).await?;
            }
            out.done("added", &json!({ "added": true }));
        }
        UserCommand::Remove {
            identifier,
            policy,
            group,
            session,
        } => {
            let user = user_uuid(client, identifier).await?;
            if let Some(policy) = policy {
                user_policy(client, &user, policy, Link::Remove).await?;
            }
            if let Some(group) = group {
                let group = group_uuid(client, group).await?;
                group_user(client, &group, &user, Link::Remove).await?;
            }
            if let Some(session) = session {
                client
                    .users()
                    .remove_session(&user, session)
                    .await
                    .map_err(|e| fail("user session removal", &e))?;
            }
            out.done("removed", &json!({ "removed": true }));
        }
    }
    Ok(())
}

async fn tenants(command: &TenantCommand, client: &Client, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match command {
        TenantCommand::Create {
            name,
            parent,
            uuid,
            slug,
            domains,
        } => {
            let mut request = TenantRequest::new().name(name.clone());
            if let Some(v) = uuid {
                request = request.uuid(v.clone());
            }
            if let Some(v) = slug {
                request = request.slug(v.clone());
            }
            if !domains.is_empty() {
                request = request.domain_names(domains.clone());
            }
            let parent = match parent {
                Some(p) => Some(tenant_uuid(client, p).await?),
                None => None,
            };
            let tenant = client
                .tenants()
                .create(&request, parent.as_deref())
                .await
                .map_err(|e| fail("tenant creation", &e))?;
            out.object(&to_json(&tenant));
        }
        TenantCommand::Show(Named { identifier }) => {
            let uuid = tenant_uuid(client, identifier).await?;
            let tenant = client
                .tenants()
                .get(&uuid)
                .await
                .map_err(|e| fail("tenant show", &e))?;
            out.object(&to_json(&tenant));
        }
        TenantCommand::List(list) => {
            let page = client
                .tenants()
                .list(&list_params(list), list.tenant.as_deref())
                .await
                .map_err(|e| fail("tenant list", &e))?;
            print_page(out, &page, &["uuid", "name", "slug", "parent_uuid"]);
        }
        TenantCommand::Delete(Named { identifier }) => {
            let uuid = tenant_uuid(client, identifier).await?;
            client
                .tenants()
                .delete(&uuid, None)
                .await
                .map_err(|e| fail("tenant deletion", &e))?;
            out.done("deleted", &json!({ "deleted": uuid }));
        }
        TenantCommand::Add {
            identifier,
            domain,
            parent,
        } => {
            let uuid = tenant_uuid(client, identifier).await?;
            if let Some(parent) = parent {
                let parent = tenant_uuid(client, parent).await?;
                client
                    .tenants()
                    .set_parent(&uuid, &parent)
                    .await
                    .map_err(|e| fail("tenant move", &e))?;
            }
            if let Some(domain) = domain {
                edit_domains(client, &uuid, |d| {
                    if !d.contains(domain) {
                        d.push(domain.clone());
                    }
                })
                .await?;
            }
            out.done("added", &json!({ "added": true }));
        }
        TenantCommand::Remove { identifier, domain } => {
            let uuid = tenant_uuid(client, identifier).await?;
            edit_domains(client, &uuid, |d| d.retain(|x| x != domain)).await?;
            out.done("removed", &json!({ "removed": true }));
        }
    }
    Ok(())
}

/// Changes a tenant's domain names: `PUT` with the current name, slug and contact.
async fn edit_domains(
    client: &Client,
    uuid: &str,
    change: impl FnOnce(&mut Vec<String>),
) -> Result<()> {
    let tenant = client
        .tenants()
        .get(uuid)
        .await
        .map_err(|e| fail("tenant lookup", &e))?;
    let mut domains = tenant.domain_names.clone();
    change(&mut domains);
    let mut request = TenantRequest::new().domain_names(domains);
    if let Some(v) = tenant.name {
        request = request.name(v);
    }
    if let Some(v) = tenant.contact {
        request = request.contact(v);
    }
    if let Some(v) = tenant.phone {
        request = request.phone(v);
    }
    client
        .tenants()
        .edit(uuid, &request)
        .await
        .map_err(|e| fail("tenant update", &e))?;
    Ok(())
}

async fn policies(command: &PolicyCommand, client: &Client, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match command {
        PolicyCommand::Create {
            name,
            description,
            acl,
            slug,
            shared,
            tenant,
        } => {
            let mut request = PolicyRequest::new().name(name.clone()).acl(acl.clone());
            if let Some(v) = description {
                request = request.description(v.clone());
            }
            if let Some(v) = slug {
                request = request.slug(v.clone());
            }
            if *shared {
                request = request.shared(true);
            }
            let policy = client
                .policies()
                .create(&request, tenant.as_deref())
                .await
                .map_err(|e| fail("policy creation", &e))?;
            out.object(&to_json(&policy));
        }
        PolicyCommand::Show(Named { identifier }) => {
            let uuid = policy_uuid(client, identifier).await?;
            let policy = client
                .policies()
                .get(&uuid)
                .await
                .map_err(|e| fail("policy show", &e))?;
            out.object(&to_json(&policy));
        }
        PolicyCommand::List(list) => {
            let page = client
                .policies()
                .list(&list_params(list), list.tenant.as_deref())
                .await
                .map_err(|e| fail("policy list", &e))?;
            print_page(out, &page, &["uuid", "name", "slug", "acl"]);
        }
        PolicyCommand::Delete(Named { identifier }) => {
            let uuid = policy_uuid(client, identifier).await?;
            client
                .policies()
                .delete(&uuid)
                .await
                .map_err(|e| fail("policy deletion", &e))?;
            out.done("deleted", &json!({ "deleted": uuid }));
        }
        PolicyCommand::Add { identifier, access } => {
            let uuid = policy_uuid(client, identifier).await?;
            client
                .policies()
                .add_access(&uuid, access)
                .await
                .map_err(|e| fail("policy access addition", &e))?;
            out.done("added", &json!({ "added": access }));
        }
        PolicyCommand::Remove { identifier, access } => {
            let uuid = policy_uuid(client, identifier).await?;
            client
                .policies()
                .remove_access(&uuid, access)
                .await
                .map_err(|e| fail("policy access removal", &e))?;
            out.done("removed", &json!({ "removed": access }));
        }
    }
    Ok(())
}

async fn groups(command: &GroupCommand, client: &Client, ctx: &Ctx) -> Result<()> {
    let out = &ctx.out;
    match command {
        GroupCommand::Create { name, slug, tenant } => {
            let mut request = GroupRequest::new().name(name.clone());
            if let Some(v) = slug {
                request = request.slug(v.clone());
            }
            let group = client
                .groups()
                .create(&request, tenant.as_deref())
                .await
                .map_err(|e| fail("group creation", &e))?;
            out.object(&to_json(&group));
        }
        GroupCommand::Show(Named { identifier }) => {
            let uuid = group_uuid(client, identifier).await?;
            let group = client
                .groups()
                .get(&uuid)
                .await
                .map_err(|e| fail("group show", &e))?;
            let users = client
                .groups()
                .get_users(&uuid, &ListParams::new())
                .await
                .map_err(|e| fail("group users", &e))?;
            let mut value = to_json(&group);
            value["users"] = to_json(&users.items);
            out.object(&value);
        }
        GroupCommand::List(list) => {
            let page = client
                .groups()
                .list(&list_params(list), list.tenant.as_deref())
                .await
                .map_err(|e| fail("group list", &e))?;
            print_page(out, &page, &["uuid", "name", "slug", "tenant_uuid"]);
        }
        GroupCommand::Delete(Named { identifier }) => {
            let uuid = group_uuid(client, identifier).await?;
            client
                .groups()
                .delete(&uuid)
                .await
                .map_err(|e| fail("group deletion", &e))?;
            out.done("deleted", &json!({ "deleted": uuid }));
        }
        GroupCommand::Add {
            identifier,
            user,
            policy,
        }
        | GroupCommand::Remove {
            identifier,
            user,
            policy,
        } => {
            let link = match command {
                GroupCommand::Add { .. } => Link::Add,
                _ => Link::Remove,
            };
            group_links(client, identifier, user.as_deref(), policy.as_deref(), link).await?;
            out.done(link.done(), &json!({ link.done(): true }));
        }
    }
    Ok(())
}

/// Whether a relation command adds or removes the link.
#[derive(Debug, Clone, Copy)]
enum Link {
    Add,
    Remove,
}

impl Link {
    /// The command's result: "added" or "removed".
    fn done(self) -> &'static str {
        match self {
            Self::Add => "added",
            Self::Remove => "removed",
        }
    }

    /// For error messages: "user policy addition".
    fn noun(self) -> &'static str {
        match self {
            Self::Add => "addition",
            Self::Remove => "removal",
        }
    }
}

/// Links a user (UUID) and a policy (name or UUID), or unlinks them.
async fn user_policy(client: &Client, user: &str, policy: &str, link: Link) -> Result<()> {
    let policy = policy_uuid(client, policy).await?;
    let users = client.users();
    match link {
        Link::Add => users.add_policy(user, &policy, None).await,
        Link::Remove => users.remove_policy(user, &policy, None).await,
    }
    .map_err(|e| fail(&format!("user policy {}", link.noun()), &e))
}

/// Puts a user into a group or takes it out (both UUIDs): `user add|remove --group` and
/// `group add|remove --user` are the same call.
async fn group_user(client: &Client, group: &str, user: &str, link: Link) -> Result<()> {
    let groups = client.groups();
    match link {
        Link::Add => groups.add_user(group, user).await,
        Link::Remove => groups.remove_user(group, user).await,
    }
    .map_err(|e| fail(&format!("group user {}", link.noun()), &e))
}

/// `group add|remove NAME [--user U] [--policy P]`.
async fn group_links(
    client: &Client,
    identifier: &str,
    user: Option<&str>,
    policy: Option<&str>,
    link: Link,
) -> Result<()> {
    let group = group_uuid(client, identifier).await?;
    if let Some(user) = user {
        let user = user_uuid(client, user).await?;
        group_user(client, &group, &user, link).await?;
    }
    if let Some(policy) = policy {
        let policy = policy_uuid(client, policy).await?;
        let groups = client.groups();
        match link {
            Link::Add => groups.add_policy(&group, &policy, None).await,
            Link::Remove => groups.remove_policy(&group, &policy, None).await,
        }
        .map_err(|e| fail(&format!("group policy {}", link.noun()), &e))?;
    }
    Ok(())
}
