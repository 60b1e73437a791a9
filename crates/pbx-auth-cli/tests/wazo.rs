//! `pbx-auth wazo` against `pbx-mock`'s wazo-auth: every command sends what the library
//! sends for the same operation, the run's token is revoked on success, on a server error
//! and on Ctrl-C, and no secret is ever printed.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

mod common;

use std::future::Future;
use std::pin::Pin;
use std::process::Output;

use common::*;
use pbx_mock::wazo::WazoMock;
use pbx_mock::{Fault, FaultRule, MockRequest, MockServer};
use wazo_auth_client::api::groups::GroupRequest;
use wazo_auth_client::api::ldap_config::LdapConfigRequest;
use wazo_auth_client::api::policies::PolicyRequest;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::api::users::UserRequest;
use wazo_auth_client::{Client, ListParams, NewToken, Password};

const ADMIN: &str = "admin";
const BOB: &str = "0b0b0b0b-0000-4000-8000-000000000b0b";
const CHILD_TENANT: &str = "c41dc41d-0000-4000-8000-00000000c41d";

/// What the setup created, to name in arguments.
#[derive(Debug, Clone, Default)]
struct Ids {
    user: String,
    policy: String,
    group: String,
    tenant: String,
    session: String,
    token: String,
}

type Fut = Pin<Box<dyn Future<Output = ()> + Send>>;

fn server() -> (MockServer, WazoMock) {
    let wazo = WazoMock::new().with_user(ADMIN, CANARY_PASSWORD);
    (MockServer::start(wazo.clone()), wazo)
}

async fn admin_client(url: &str) -> Client {
    let client = Client::builder(url.trim_start_matches("http://").split(':').next().unwrap())
        .legacy_direct()
        .port(url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()))
        .danger_plain_http()
        .build()
        .unwrap();
    let token = client
        .token()
        .create(
            &NewToken::new()
                .username(ADMIN)
                .password(Password::new(CANARY_PASSWORD)),
        )
        .await
        .unwrap();
    client.set_token(Some(token.token));
    client
}

/// The same starting state on every server: a user, a policy, a group, a child tenant and
/// a session (of a token the test can name).
async fn setup(client: &Client) -> Ids {
    let user = client
        .users()
        .create(
            &UserRequest::new()
                .uuid(BOB)
                .username("bob")
                .password(Password::new(CANARY_USER_PASSWORD)),
            None,
        )
        .await
        .unwrap();
    let policy = client
        .policies()
        .create(
            &PolicyRequest::new()
                .name("readers")
                .acl(vec!["auth.users.read".to_owned()]),
            None,
        )
        .await
        .unwrap();
    let group = client
        .groups()
        .create(&GroupRequest::new().name("staff"), None)
        .await
        .unwrap();
    let tenant = client
        .tenants()
        .create(&TenantRequest::new().uuid(CHILD_TENANT).name("child"), None)
        .await
        .map(|t| t.uuid)
        .unwrap_or_else(|_| CHILD_TENANT.to_owned());
    let token = client
        .token()
        .create(
            &NewToken::new()
                .username("bob")
                .password(Password::new(CANARY_USER_PASSWORD)),
        )
        .await
        .unwrap();
    Ids {
        user: user.uuid,
        policy: policy.uuid,
        group: group.uuid,
        tenant,
        session: token.session_uuid.clone().unwrap_or_default(),
        token: token.token.expose_secret().to_owned(),
    }
}

/// One request as compared: method, path, query, body and the headers that matter, with
/// every UUID replaced by its order of first appearance (servers pick their own).
fn shape(requests: &[MockRequest]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut normalize = |text: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            let candidate = rest.get(..36).filter(|c| is_uuid(c));
            if let Some(uuid) = candidate {
                let n = match seen.iter().position(|s| s == uuid) {
                    Some(n) => n,
                    None => {
                        seen.push(uuid.to_owned());
                        seen.len() - 1
                    }
                };
                out.push_str(&format!("<uuid{n}>"));
                rest = &rest[36..];
            } else {
                let c = rest.chars().next().unwrap();
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    };
    requests
        .iter()
        .map(|r| {
            let headers: Vec<String> = [
                "content-type",
                "wazo-tenant",
                "wazo-session-type",
                "accept",
                "user-agent",
            ]
            .iter()
            .filter_map(|h| r.header(h).map(|v| format!("{h}={v}")))
            .chain(r.header("x-auth-token").map(|_| "x-auth-token".to_owned()))
            .chain(
                r.header("authorization")
                    .map(|_| "authorization".to_owned()),
            )
            .collect();
            let body = r
                .json()
                .map(|v| v.to_string())
                .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
            normalize(&format!(
                "{} {}?{} {} [{}]",
                r.method,
                r.path,
                r.query.clone().unwrap_or_default(),
                body,
                headers.join(" ")
            ))
        })
        .collect()
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

fn requests(server: &MockServer) -> Vec<MockRequest> {
    server.journal().into_iter().map(|r| r.request).collect()
}

fn wazo_cli(home: &std::path::Path, url: &str, args: &[String]) -> Output {
    run(cli(home)
        .env("PBX_AUTH_WAZO_PASSWORD", CANARY_PASSWORD)
        .env("PBX_AUTH_WAZO_USER_PASSWORD", CANARY_USER_PASSWORD)
        .env("PBX_AUTH_WAZO_BIND_PASSWORD", CANARY_BIND_PASSWORD)
        .args(["-v", "wazo", "--url", url, "--username", ADMIN])
        .args(args))
}

/// Runs `args` through the CLI on one server and `op` through the library on another,
/// both from the same state, and compares what each server received.
async fn same_as_library(
    args: impl Fn(&Ids) -> Vec<String>,
    op: impl Fn(Client, Ids) -> Fut,
    with_run_token: bool,
) {
    let (cli_server, cli_wazo) = server();
    let cli_ids = setup(&admin_client(cli_server.url()).await).await;
    cli_server.reset_journal();
    let home = home();
    let args = args(&cli_ids);
    let out = wazo_cli(&home, cli_server.url(), &args);
    assert_no_secret(
        &out,
        &[CANARY_PASSWORD, CANARY_USER_PASSWORD, CANARY_BIND_PASSWORD],
    );
    let mut sent = requests(&cli_server);

    let (lib_server, lib_wazo) = server();
    let lib_client = admin_client(lib_server.url()).await;
    let lib_ids = setup(&lib_client).await;
    lib_server.reset_journal();
    op(lib_client, lib_ids).await;
    let expected = requests(&lib_server);

    if with_run_token {
        let first = sent.first().expect("the run's token creation");
        assert_eq!(
            (first.method.as_str(), first.path.as_str()),
            ("POST", "/0.1/token"),
            "{args:?}"
        );
        let last = sent.last().expect("the run's token revocation");
        assert_eq!(
            last.method,
            http::Method::DELETE,
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(last.path.starts_with("/0.1/token/"), "{args:?}");
        sent = sent[1..sent.len() - 1].to_vec();
        // The same tokens are left as after the library's calls: the run's is gone.
        assert_eq!(
            cli_wazo.token_count(),
            lib_wazo.token_count(),
            "{args:?}: the run's token is revoked"
        );
    }
    assert_eq!(
        shape(&sent),
        shape(&expected),
        "{args:?}\nstderr: {}",
        stderr(&out)
    );
}

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Arguments written as one line (none holds a space).
fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// `same_as_library` for a command that runs with a token made for the run.
macro_rules! same {
    ($args:expr, |$c:ident, $ids:ident| $body:expr) => {
        same_as_library($args, op!(|$c, $ids| $body), true).await
    };
}

macro_rules! op {
    (|$c:ident, $ids:ident| $body:expr) => {
        |$c: Client, $ids: Ids| -> Fut {
            Box::pin(async move {
                let _ = &$ids;
                let _ = $body;
            })
        }
    };
}

#[tokio::test(flavor = "multi_thread")]
async fn user_commands_send_what_the_library_sends() {
    same!(
        |_| words("user create carol --email c@example.com --firstname Carol --enable"),
        |c, ids| c
            .users()
            .create(
                &UserRequest::new()
                    .username("carol")
                    .password(Password::new(CANARY_USER_PASSWORD))
                    .email_address("c@example.com")
                    .firstname("Carol")
                    .enabled(true),
                None,
            )
            .await
    );
    same!(|i| s(&["user", "show", &i.user]), |c, ids| {
        let all = ListParams::new();
        let _ = c.users().get(&ids.user, None).await;
        let _ = c.users().get_policies(&ids.user, &all, None).await;
        let _ = c.users().get_groups(&ids.user, &all, None).await;
        c.users().get_sessions(&ids.user, &all, None).await
    });
    same!(
        |_| words("user list --recurse --limit 5 --order username --direction desc"),
        |c, ids| c
            .users()
            .list(
                &ListParams::new()
                    .recurse(true)
                    .order("username")
                    .direction(wazo_auth_client::Direction::Desc)
                    .limit(5),
                None
            )
            .await
    );
    same!(
        |i| {
            s(&[
                "user",
                "update",
                &i.user,
                "--lastname",
                "Builder",
                "--disable",
            ])
        },
        |c, ids| {
            let user = c.users().get(&ids.user, None).await.unwrap();
            let mut request = UserRequest::new().lastname("Builder").enabled(false);
            if let Some(v) = user.username {
                request = request.username(v);
            }
            if let Some(v) = user.firstname {
                request = request.firstname(v);
            }
            if let Some(v) = user.purpose {
                request = request.purpose(v);
            }
            c.users().edit(&ids.user, &request, None).await
        }
    );
    same!(|i| s(&["user", "password", &i.user]), |c, ids| c
        .users()
        .set_password(&ids.user, Some(&Password::new(CANARY_USER_PASSWORD)), None)
        .await);
    same!(
        |i| s(&["user", "add", &i.user, "--policy", &i.policy]),
        |c, ids| c.users().add_policy(&ids.user, &ids.policy, None).await
    );
    same!(
        |i| s(&["user", "add", &i.user, "--group", &i.group]),
        |c, ids| c.groups().add_user(&ids.group, &ids.user).await
    );
    same!(
        |i| s(&["user", "remove", &i.user, "--policy", &i.policy]),
        |c, ids| c.users().remove_policy(&ids.user, &ids.policy, None).await
    );
    same!(
        |i| s(&["user", "remove", &i.user, "--group", &i.group]),
        |c, ids| c.groups().remove_user(&ids.group, &ids.user).await
    );
    same!(
        |i| s(&["user", "remove", &i.user, "--session", &i.session]),
        |c, ids| c.users().remove_session(&ids.user, &ids.session).await
    );
    same!(|i| s(&["user", "delete", &i.user]), |c, ids| c
        .users()
        .delete(&ids.user, None)
        .await);
    // A name is resolved through the list, as wazo-auth-cli does.
    same!(|_| words("user delete bob"), |c, ids| {
        let _ = c
            .users()
            .list(
                &ListParams::new().recurse(true).filter("username", "bob"),
                None,
            )
            .await;
        c.users().delete(&ids.user, None).await
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_policy_group_commands_send_what_the_library_sends() {
    same!(
        |_| words("tenant create branch --slug branch --domain branch.example.com"),
        |c, ids| c
            .tenants()
            .create(
                &TenantRequest::new()
                    .name("branch")
                    .slug("branch")
                    .domain_names(vec!["branch.example.com".to_owned()]),
                None
            )
            .await
    );
    same!(|i| s(&["tenant", "show", &i.tenant]), |c, ids| c
        .tenants()
        .get(&ids.tenant)
        .await);
    same!(|_| words("tenant list --search chi"), |c, ids| c
        .tenants()
        .list(&ListParams::new().search("chi"), None)
        .await);
    same!(|i| s(&["tenant", "delete", &i.tenant]), |c, ids| c
        .tenants()
        .delete(&ids.tenant, None)
        .await);
    same!(
        |_| words("policy create writers --acl auth.users.create auth.users.read --description w"),
        |c, ids| c
            .policies()
            .create(
                &PolicyRequest::new()
                    .name("writers")
                    .acl(vec![
                        "auth.users.create".to_owned(),
                        "auth.users.read".to_owned()
                    ])
                    .description("w"),
                None
            )
            .await
    );
    same!(|i| s(&["policy", "show", &i.policy]), |c, ids| c
        .policies()
        .get(&ids.policy)
        .await);
    same!(|_| words("policy list"), |c, ids| c
        .policies()
        .list(&ListParams::new(), None)
        .await);
    same!(
        |i| s(&["policy", "add", &i.policy, "--access", "auth.tenants.read"]),
        |c, ids| c
            .policies()
            .add_access(&ids.policy, "auth.tenants.read")
            .await
    );
    same!(
        |i| s(&["policy", "remove", &i.policy, "--access", "auth.users.read"]),
        |c, ids| c
            .policies()
            .remove_access(&ids.policy, "auth.users.read")
            .await
    );
    same!(|i| s(&["policy", "delete", &i.policy]), |c, ids| c
        .policies()
        .delete(&ids.policy)
        .await);
    same!(|_| words("group create ops"), |c, ids| c
        .groups()
        .create(&GroupRequest::new().name("ops"), None)
        .await);
    same!(|i| s(&["group", "show", &i.group]), |c, ids| {
        let _ = c.groups().get(&ids.group).await;
        c.groups().get_users(&ids.group, &ListParams::new()).await
    });
    same!(|_| words("group list --recurse"), |c, ids| c
        .groups()
        .list(&ListParams::new().recurse(true), None)
        .await);
    same!(
        |i| s(&["group", "add", &i.group, "--policy", &i.policy]),
        |c, ids| c.groups().add_policy(&ids.group, &ids.policy, None).await
    );
    same!(
        |i| s(&["group", "remove", &i.group, "--user", &i.user]),
        |c, ids| c.groups().remove_user(&ids.group, &ids.user).await
    );
    same!(|i| s(&["group", "delete", &i.group]), |c, ids| c
        .groups()
        .delete(&ids.group)
        .await);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_session_ldap_status_commands_send_what_the_library_sends() {
    same_as_library(
        |_| words("token create --expiration 120 --mobile"),
        op!(|c, ids| c
            .token()
            .create(
                &{
                    // A token request carries no token of its own.
                    c.set_token(None);
                    NewToken::new()
                }
                .expiration(120)
                .session_type("mobile")
                .username(ADMIN)
                .password(Password::new(CANARY_PASSWORD))
            )
            .await),
        false,
    )
    .await;
    same!(|_| words("session list --recurse"), |c, ids| c
        .sessions()
        .list(&ListParams::new().recurse(true), None)
        .await);
    same!(|i| s(&["session", "show", &i.session]), |c, ids| c
        .sessions()
        .list(&ListParams::new().recurse(true), None)
        .await);
    same!(|i| s(&["session", "delete", &i.session]), |c, ids| c
        .sessions()
        .delete(&ids.session, None)
        .await);
    same!(|_| words("token refresh list"), |c, ids| c
        .token()
        .list("me", &ListParams::new(), None)
        .await);
    same!(|_| words("token refresh list --all"), |c, ids| c
        .refresh_tokens()
        .list(&ListParams::new(), None)
        .await);
    same!(
        |i| {
            s(&[
                "token",
                "refresh",
                "delete",
                "--user-uuid",
                &i.user,
                "--client-id",
                "my-app",
            ])
        },
        |c, ids| c.token().delete(&ids.user, "my-app", None).await
    );
    same!(|_| words("ldap-config show"), |c, ids| c
        .ldap_config()
        .get(None)
        .await);
    same!(
        |_| words(concat!(
            "ldap-config update ldap.example.com 636 --user-base-dn ou=people ",
            "--user-login-attribute uid --user-email-attribute mail --bind-dn cn=svc ",
            "--protocol-security ldaps",
        )),
        |c, ids| c
            .ldap_config()
            .update(
                &LdapConfigRequest::new()
                    .host("ldap.example.com")
                    .port(636u16)
                    .user_base_dn("ou=people")
                    .user_login_attribute("uid")
                    .user_email_attribute("mail")
                    .protocol_security("ldaps")
                    .bind_dn("cn=svc")
                    .bind_password(Password::new(CANARY_BIND_PASSWORD)),
                None
            )
            .await
    );
    same!(|_| words("ldap-config delete"), |c, ids| c
        .ldap_config()
        .delete(None)
        .await);
    same_as_library(
        |_| words("status"),
        op!(|c, ids| {
            // `status` needs no token, so the command creates none.
            c.set_token(None);
            c.status().check().await
        }),
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_show_check_revoke_read_the_token_from_stdin() {
    let (server, _) = server();
    let ids = setup(&admin_client(server.url()).await).await;
    let home = home();
    let base = |args: &[&str]| {
        let mut cmd = cli(&home);
        cmd.args(["wazo", "--url", server.url()]).args(args);
        cmd
    };
    let out = run_with_stdin(&mut base(&["token", "show"]), &ids.token);
    assert_code(&out, 0);
    assert!(stdout(&out).contains(&ids.user), "{}", stdout(&out));
    assert_no_secret(&out, &[&ids.token, CANARY_USER_PASSWORD]);

    let out = run_with_stdin(
        &mut base(&["--json", "token", "check", "--acl", "auth.users.read"]),
        &ids.token,
    );
    assert_code(&out, 1); // bob's token holds no ACL
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);

    let out = run_with_stdin(&mut base(&["token", "revoke"]), &ids.token);
    assert_code(&out, 0);
    let out = run_with_stdin(&mut base(&["token", "check"]), &ids.token);
    assert_code(&out, 1);
    assert_no_secret(&out, &[&ids.token]);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_create_prints_only_the_token_and_stores_the_refresh_token() {
    let (server, _) = server();
    let home = home();
    let out = wazo_cli(&home, server.url(), &words("token create"));
    assert_code(&out, 0);
    let token = stdout(&out).trim().to_owned();
    assert!(is_uuid(&token), "only the token: {token:?}");

    let out = wazo_cli(
        &home,
        server.url(),
        &words("--json token create --access-type offline --client-id cli-test"),
    );
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["token"].is_string());
    assert!(
        json.get("refresh_token").is_none(),
        "the refresh token is stored, not printed"
    );
    let refresh = stored_tokens(&home.join("tokens/wazo-default.json"))["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_no_secret(&out, &[&refresh, CANARY_PASSWORD]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(home.join("tokens/wazo-default.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The stored refresh token logs in without the password.
    let out = run(cli(&home).args([
        "wazo",
        "--url",
        server.url(),
        "token",
        "create",
        "--refresh-token",
        "--client-id",
        "cli-test",
    ]));
    assert_code(&out, 0);
    assert!(is_uuid(stdout(&out).trim()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_run_token_is_revoked_after_a_server_error() {
    let (server, wazo) = server();
    let _ids = setup(&admin_client(server.url()).await).await;
    server.inject(FaultRule::new("/0.1/users", Fault::status(500)).times(1));
    let home = home();
    let out = wazo_cli(&home, server.url(), &words("user list"));
    assert_code(&out, 1);
    assert!(
        stderr(&out).starts_with("error: wazo user list failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(wazo.token_count(), 2, "the run's token is revoked");
    let last = requests(&server).pop().unwrap();
    assert_eq!(last.method, http::Method::DELETE);
    assert_no_secret(&out, &[CANARY_PASSWORD]);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_run_token_is_revoked_on_ctrl_c() {
    let (server, wazo) = server();
    let _ids = setup(&admin_client(server.url()).await).await;
    // The user list hangs long enough for the signal to arrive while it is in flight.
    server.reset_journal();
    server.inject(
        FaultRule::new(
            "/0.1/users",
            Fault::Delay(std::time::Duration::from_secs(600)),
        )
        .times(1),
    );
    let home = home();
    let child = cli(&home)
        .env("PBX_AUTH_WAZO_PASSWORD", CANARY_PASSWORD)
        .args([
            "wazo",
            "--url",
            server.url(),
            "--username",
            ADMIN,
            "user",
            "list",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the command is in flight: its request has reached the server.
    while server.count("/0.1/users") == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_code(&out, 130);
    assert_eq!(wazo.token_count(), 2, "the run's token is revoked");
    assert!(
        requests(&server)
            .iter()
            .any(|r| r.method == http::Method::DELETE && r.path.starts_with("/0.1/token/"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_one_line_with_exit_codes_and_no_secret() {
    let (server, _) = server();
    let home = home();
    // Wrong password: refused (1); the canary is the wrong password here.
    let out = run(cli(&home)
        .env("PBX_AUTH_WAZO_PASSWORD", CANARY_USER_PASSWORD)
        .args([
            "-v",
            "wazo",
            "--url",
            server.url(),
            "--username",
            ADMIN,
            "user",
            "list",
        ]));
    assert_code(&out, 1);
    assert_eq!(
        stderr(&out)
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1
    );
    assert_no_secret(&out, &[CANARY_USER_PASSWORD]);
    let out = run(cli(&home)
        .env("PBX_AUTH_WAZO_PASSWORD", CANARY_USER_PASSWORD)
        .args([
            "--json",
            "-v",
            "wazo",
            "--url",
            server.url(),
            "--username",
            ADMIN,
            "user",
            "list",
        ]));
    assert_code(&out, 1);
    let json: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(json["error"]["kind"], "refused");
    assert_eq!(json["error"]["exit_code"], 1);
    assert_no_secret(&out, &[CANARY_USER_PASSWORD]);
    // Nothing listens: transport (3).
    let out = run(cli(&home).args(["wazo", "--url", "http://127.0.0.1:9", "status"]));
    assert_code(&out, 3);
    // Usage (2): a missing URL, and no password without a terminal.
    let out = run(cli(&home).args(["wazo", "status"]));
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("PBX_AUTH_WAZO_URL"),
        "{}",
        stderr(&out)
    );
    let out = run(cli(&home).args([
        "wazo",
        "--url",
        server.url(),
        "--username",
        ADMIN,
        "user",
        "list",
    ]));
    assert_code(&out, 2);
    let out = run(cli(&home).args(["wazo", "--bogus"]));
    assert_code(&out, 2);
}

#[test]
fn acl_check_uses_the_local_engine() {
    let home = home();
    let out = run(cli(&home).args([
        "wazo",
        "acl",
        "check",
        "--acl",
        "auth.users.*",
        "--required",
        "auth.users.read",
    ]));
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim(), "granted");
    let out = run(cli(&home).args([
        "--json",
        "wazo",
        "acl",
        "check",
        "--acl",
        "auth.#",
        "--acl",
        "!auth.users.delete",
        "--required",
        "auth.users.delete",
    ]));
    assert_code(&out, 1);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["granted"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_are_read_and_overridden_by_env_and_flags() {
    let (server, _) = server();
    let home = home();
    let config = home.join("pbx-auth.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.lab.wazo]\nurl = \"http://127.0.0.1:9\"\nusername = \"{ADMIN}\"\n\n[profiles.good.wazo]\nurl = \"{}\"\n",
            server.url()
        ),
    )
    .unwrap();
    let base = || {
        let mut cmd = cli(&home);
        cmd.env("PBX_AUTH_CONFIG", &config)
            .env("PBX_AUTH_WAZO_PASSWORD", CANARY_PASSWORD);
        cmd
    };
    // The profile's URL is wrong: transport error.
    assert_code(
        &run(base().args(["--profile", "lab", "wazo", "user", "list"])),
        3,
    );
    // The environment overrides the profile.
    assert_code(
        &run(base().env("PBX_AUTH_WAZO_URL", server.url()).args([
            "--profile",
            "lab",
            "wazo",
            "user",
            "list",
        ])),
        0,
    );
    // A flag overrides the environment.
    assert_code(
        &run(base().env("PBX_AUTH_WAZO_URL", "http://127.0.0.1:9").args([
            "--profile",
            "lab",
            "wazo",
            "--url",
            server.url(),
            "user",
            "list",
        ])),
        0,
    );
    // Another profile, user from the environment.
    assert_code(
        &run(base().env("PBX_AUTH_WAZO_USERNAME", ADMIN).args([
            "--profile",
            "good",
            "wazo",
            "user",
            "list",
        ])),
        0,
    );
    // An unknown profile is a usage error.
    assert_code(
        &run(base().args(["--profile", "nope", "wazo", "status"])),
        2,
    );
    // A password file works too.
    let pw = home.join("pw");
    std::fs::write(&pw, format!("{CANARY_PASSWORD}\n")).unwrap();
    let out = run(cli(&home).args([
        "wazo",
        "--url",
        server.url(),
        "--username",
        ADMIN,
        "--password-file",
        pw.to_str().unwrap(),
        "user",
        "list",
    ]));
    assert_code(&out, 0);
    assert_no_secret(&out, &[CANARY_PASSWORD]);
}
