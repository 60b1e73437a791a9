//! `pbx-auth wazo …`: parity with `wazo-auth-cli` (same command and option names where they
//! make sense). Every call into `wazo-auth-client` is in `calls.rs`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use crate::Ctx;
use crate::error::Result;

mod calls;

/// `pbx-auth wazo`.
#[derive(Debug, Args)]
pub(crate) struct WazoArgs {
    /// wazo-auth's base URL, e.g. https://pbx.example.com/api/auth (version 0.1 is added).
    #[arg(long, global = true, env = "PBX_AUTH_WAZO_URL", hide_env_values = true)]
    pub(crate) url: Option<String>,
    /// Username for the run's token (its password: PBX_AUTH_WAZO_PASSWORD, --password-file
    /// or a prompt).
    #[arg(
        long,
        visible_alias = "auth-username",
        global = true,
        env = "PBX_AUTH_WAZO_USERNAME"
    )]
    pub(crate) username: Option<String>,
    /// File holding the password (`-` for standard input).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_WAZO_PASSWORD_FILE",
        value_name = "FILE"
    )]
    pub(crate) password_file: Option<PathBuf>,
    /// File holding a token to use instead of creating one for the run (or set
    /// PBX_AUTH_WAZO_TOKEN).
    #[arg(
        long,
        global = true,
        env = "PBX_AUTH_WAZO_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub(crate) token_file: Option<PathBuf>,
    /// Authentication backend for the run's token (ignored by servers since 24.08).
    #[arg(long, global = true)]
    pub(crate) backend: Option<String>,
    #[command(subcommand)]
    pub(crate) command: WazoCommand,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub(crate) enum WazoCommand {
    /// Tokens: create, show, check, revoke; refresh tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Policies and their accesses.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Groups, their users and policies.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Sessions.
    #[command(subcommand)]
    Session(SessionCommand),
    /// The tenant's LDAP backend configuration.
    #[command(subcommand, name = "ldap-config")]
    LdapConfig(LdapCommand),
    /// Whether wazo-auth answers (`GET /status`).
    Status,
    /// The ACL engine, locally: does an ACL grant an access?
    #[command(subcommand)]
    Acl(AclCommand),
}

/// Where a token argument is read from: PBX_AUTH_WAZO_SUBJECT_TOKEN, FILE, or standard
/// input (a prompt on a terminal). Never a command-line value.
#[derive(Debug, Args)]
pub(crate) struct TokenInput {
    /// File holding the token (`-`: standard input, the default when it is not a terminal).
    #[arg(long = "from", value_name = "FILE")]
    pub(crate) from: Option<PathBuf>,
}

/// `token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Creates a token and prints only the token.
    Create(TokenCreate),
    /// Shows a token's details (the token itself is not printed).
    Show {
        #[command(flatten)]
        input: TokenInput,
        /// Also require this access (`scope`).
        #[arg(long)]
        acl: Option<String>,
        /// Also require this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Checks a token (exit 0 valid, 1 invalid or lacking the access).
    Check {
        #[command(flatten)]
        input: TokenInput,
        /// The access the token must hold.
        #[arg(long)]
        acl: Option<String>,
        /// The tenant the token must be valid in.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revokes a token.
    Revoke {
        #[command(flatten)]
        input: TokenInput,
    },
    /// Refresh tokens.
    #[command(subcommand)]
    Refresh(RefreshCommand),
}

/// `token create`.
#[derive(Debug, Args)]
pub(crate) struct TokenCreate {
    /// Lifetime in seconds.
    #[arg(long)]
    pub(crate) expiration: Option<u32>,
    /// `online`, or `offline` to also get a refresh token (kept in the token store).
    #[arg(long, value_enum, alias = "access_type")]
    pub(crate) access_type: Option<AccessKind>,
    /// Client id of the refresh token.
    #[arg(long, alias = "client_id")]
    pub(crate) client_id: Option<String>,
    /// Log in with a refresh token (PBX_AUTH_WAZO_REFRESH_TOKEN, else the stored one)
    /// instead of the password.
    #[arg(long, alias = "refresh_token", requires = "client_id")]
    pub(crate) refresh_token: bool,
    /// Create a mobile session.
    #[arg(long)]
    pub(crate) mobile: bool,
    /// Tenant of the LDAP backend (`tenant_id`).
    #[arg(long, alias = "tenant_id", alias = "tenant-id")]
    pub(crate) tenant: Option<String>,
    /// Domain selecting the tenant of the LDAP backend.
    #[arg(long)]
    pub(crate) domain_name: Option<String>,
}

/// `--access-type`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum AccessKind {
    /// A plain access token.
    Online,
    /// Also a refresh token.
    Offline,
}

/// `token refresh …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RefreshCommand {
    /// Lists a user's refresh tokens (`me` for the token's user), or all with --all.
    List {
        /// User UUID or `me`.
        #[arg(default_value = "me", conflicts_with = "all")]
        user: String,
        /// Every refresh token visible in the tenant (`GET /tokens`).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        list: ListOptions,
    },
    /// Deletes a user's refresh token.
    Delete {
        /// User UUID or `me`.
        #[arg(long, alias = "user_uuid", default_value = "me")]
        user_uuid: String,
        /// The refresh token's client id.
        #[arg(long, alias = "client_id")]
        client_id: String,
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// The resource a command is about.
#[derive(Debug, Args)]
pub(crate) struct Named {
    /// Name (username for users) or UUID.
    pub(crate) identifier: String,
}

/// Options of every list command.
#[derive(Debug, Args, Default)]
pub(crate) struct ListOptions {
    /// Include sub-tenants.
    #[arg(long)]
    pub(crate) recurse: bool,
    /// Tenant (`Wazo-Tenant`).
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// Free-text search.
    #[arg(long)]
    pub(crate) search: Option<String>,
    /// Sort column.
    #[arg(long)]
    pub(crate) order: Option<String>,
    /// Sort direction.
    #[arg(long, value_parser = ["asc", "desc"])]
    pub(crate) direction: Option<String>,
    /// Most items.
    #[arg(long)]
    pub(crate) limit: Option<u64>,
    /// Items to skip.
    #[arg(long)]
    pub(crate) offset: Option<u64>,
}

/// `user …`.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Creates a user; its password comes from PBX_AUTH_WAZO_USER_PASSWORD,
    /// --user-password-file or a prompt.
    Create {
        /// Username.
        name: String,
        /// UUID (to match a PBX user).
        #[arg(long)]
        uuid: Option<String>,
        /// File holding the new user's password (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        user_password_file: Option<PathBuf>,
        /// Create the user without a password.
        #[arg(long, conflicts_with = "user_password_file")]
        no_password: bool,
        /// Main e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// First name.
        #[arg(long)]
        firstname: Option<String>,
        /// Last name.
        #[arg(long)]
        lastname: Option<String>,
        /// `user`, `internal` or `external_api`.
        #[arg(long)]
        purpose: Option<String>,
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
        /// Enable the login.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the login.
        #[arg(long)]
        disable: bool,
    },
    /// Changes a user (fields not given keep their value).
    Update {
        /// Username or UUID.
        identifier: String,
        /// New username.
        #[arg(long)]
        new_username: Option<String>,
        /// First name.
        #[arg(long)]
        firstname: Option<String>,
        /// Last name.
        #[arg(long)]
        lastname: Option<String>,
        /// Purpose.
        #[arg(long)]
        purpose: Option<String>,
        /// Enable the login.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the login.
        #[arg(long)]
        disable: bool,
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Shows a user with its policies, groups and sessions.
    Show(Named),
    /// Lists users.
    List(ListOptions),
    /// Deletes a user.
    Delete(Named),
    /// Sets a user's password (from PBX_AUTH_WAZO_USER_PASSWORD, --user-password-file or a
    /// prompt).
    Password {
        /// Username or UUID.
        identifier: String,
        /// File holding the password (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        user_password_file: Option<PathBuf>,
    },
    /// Adds a policy or a group to a user.
    #[command(group(ArgGroup::new("relation").required(true).args(["policy", "group"])))]
    Add {
        /// Username or UUID.
        identifier: String,
        /// Policy name or UUID.
        #[arg(long)]
        policy: Option<String>,
        /// Group name or UUID.
        #[arg(long)]
        group: Option<String>,
    },
    /// Removes a policy, a group or a session from a user.
    #[command(group(ArgGroup::new("relation").required(true).args(["policy", "group", "session"])))]
    Remove {
        /// Username or UUID.
        identifier: String,
        /// Policy name or UUID.
        #[arg(long)]
        policy: Option<String>,
        /// Group name or UUID.
        #[arg(long)]
        group: Option<String>,
        /// Session UUID.
        #[arg(long)]
        session: Option<String>,
    },
}

/// `tenant …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Creates a tenant.
    Create {
        /// Name.
        name: String,
        /// Parent tenant name or UUID.
        #[arg(long)]
        parent: Option<String>,
        /// Force the UUID (not recommended).
        #[arg(long)]
        uuid: Option<String>,
        /// Slug.
        #[arg(long)]
        slug: Option<String>,
        /// Domain names (repeat the option).
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
    /// Shows a tenant.
    Show(Named),
    /// Lists tenants.
    List(ListOptions),
    /// Deletes a tenant.
    Delete(Named),
    /// Adds a domain name to a tenant, or moves it under a parent. (The server no longer
    /// has tenant-user links, which wazo-auth-cli's `--user` managed.)
    #[command(group(ArgGroup::new("relation").required(true).args(["domain", "parent"])))]
    Add {
        /// Name or UUID.
        identifier: String,
        /// Domain name to add.
        #[arg(long)]
        domain: Option<String>,
        /// New parent tenant (name or UUID).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Removes a domain name from a tenant.
    Remove {
        /// Name or UUID.
        identifier: String,
        /// Domain name to remove.
        #[arg(long)]
        domain: String,
    },
}

/// `policy …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Creates a policy.
    Create {
        /// Name.
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Accesses (repeat or separate with spaces).
        #[arg(long, num_args = 1..)]
        acl: Vec<String>,
        /// Slug.
        #[arg(long)]
        slug: Option<String>,
        /// Visible to sub-tenants.
        #[arg(long)]
        shared: bool,
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Shows a policy.
    Show(Named),
    /// Lists policies.
    List(ListOptions),
    /// Deletes a policy.
    Delete(Named),
    /// Adds an access to a policy.
    Add {
        /// Name or UUID.
        identifier: String,
        /// The access, e.g. `auth.users.read`.
        #[arg(long)]
        access: String,
    },
    /// Removes an access from a policy.
    Remove {
        /// Name or UUID.
        identifier: String,
        /// The access.
        #[arg(long)]
        access: String,
    },
}

/// `group …`.
#[derive(Debug, Subcommand)]
pub(crate) enum GroupCommand {
    /// Creates a group.
    Create {
        /// Name.
        name: String,
        /// Slug.
        #[arg(long)]
        slug: Option<String>,
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Shows a group with its users.
    Show(Named),
    /// Lists groups.
    List(ListOptions),
    /// Deletes a group.
    Delete(Named),
    /// Adds a user or a policy to a group.
    #[command(group(ArgGroup::new("relation").required(true).args(["user", "policy"])))]
    Add {
        /// Name or UUID.
        identifier: String,
        /// Username or UUID.
        #[arg(long)]
        user: Option<String>,
        /// Policy name or UUID.
        #[arg(long)]
        policy: Option<String>,
    },
    /// Removes a user or a policy from a group.
    #[command(group(ArgGroup::new("relation").required(true).args(["user", "policy"])))]
    Remove {
        /// Name or UUID.
        identifier: String,
        /// Username or UUID.
        #[arg(long)]
        user: Option<String>,
        /// Policy name or UUID.
        #[arg(long)]
        policy: Option<String>,
    },
}

/// `session …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionCommand {
    /// Lists sessions.
    List(ListOptions),
    /// Shows a session.
    Show {
        /// Session UUID.
        identifier: String,
    },
    /// Deletes a session.
    Delete {
        /// Session UUID.
        identifier: String,
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `ldap-config …`.
#[derive(Debug, Subcommand)]
pub(crate) enum LdapCommand {
    /// Shows the LDAP configuration.
    Show {
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Stores the LDAP configuration (the bind password from PBX_AUTH_WAZO_BIND_PASSWORD or
    /// --bind-password-file).
    Update(Box<LdapUpdate>),
    /// Deletes the LDAP configuration.
    Delete {
        /// Tenant (`Wazo-Tenant`).
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `ldap-config update`.
#[derive(Debug, Args)]
pub(crate) struct LdapUpdate {
    /// LDAP server host.
    pub(crate) host: String,
    /// LDAP server port.
    pub(crate) port: u16,
    /// 2 or 3.
    #[arg(long, alias = "protocol_version")]
    pub(crate) protocol_version: Option<u8>,
    /// `ldaps` or `tls`.
    #[arg(long, alias = "protocol_security")]
    pub(crate) protocol_security: Option<String>,
    /// DN the service binds as.
    #[arg(long, alias = "bind_dn")]
    pub(crate) bind_dn: Option<String>,
    /// File holding the bind password.
    #[arg(long, value_name = "FILE")]
    pub(crate) bind_password_file: Option<PathBuf>,
    /// Base DN of the users.
    #[arg(long, alias = "user_base_dn")]
    pub(crate) user_base_dn: String,
    /// Login attribute.
    #[arg(long, alias = "user_login_attribute")]
    pub(crate) user_login_attribute: String,
    /// E-mail attribute.
    #[arg(long, alias = "user_email_attribute")]
    pub(crate) user_email_attribute: String,
    /// User search filters.
    #[arg(long, alias = "search_filters")]
    pub(crate) search_filters: Option<String>,
    /// Tenant (`Wazo-Tenant`).
    #[arg(long)]
    pub(crate) tenant: Option<String>,
}

/// `acl …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AclCommand {
    /// Does the ACL grant the required access? (exit 0 yes, 1 no; nothing is sent)
    Check {
        /// ACL entries (repeat).
        #[arg(long, required = true)]
        acl: Vec<String>,
        /// The required access, e.g. `auth.users.read`.
        #[arg(long)]
        required: String,
        /// The token's user (for `me` entries).
        #[arg(long, default_value = "")]
        auth_id: String,
        /// The token's session (for `my_session` entries).
        #[arg(long, default_value = "")]
        session_id: String,
    },
}

/// Runs `pbx-auth wazo …`.
pub(crate) async fn run(args: WazoArgs, ctx: &Ctx) -> Result<()> {
    calls::run(args, ctx).await
}
