//! `pbx-auth kalliope|authnz|sipgate`, completions and man pages, run as a process against
//! `pbx-mock`'s in-process servers. No canary secret may show in any output.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

mod common;

use std::io::{BufRead as _, BufReader};

use std::process::Stdio;

use common::*;
use pbx_mock::MockServer;
use pbx_mock::authnz::AuthnzMock;
use pbx_mock::kalliope::{DEFAULT_SALT, KalliopeMock};
use pbx_mock::sipgate::{CLIENT_ID, CLIENT_SECRET, SipgateMock};

fn kalliope(home: &std::path::Path, url: &str) -> std::process::Command {
    let mut cmd = cli(home);
    cmd.env("PBX_AUTH_KALLIOPE_PASSWORD", CANARY_PASSWORD)
        .args(["-v", "kalliope", "--url", url, "--username", "alice"]);
    cmd
}

#[test]
fn kalliope_sign_request_salt_verify() {
    let server = MockServer::start(KalliopeMock::new().with_user(
        "default",
        DEFAULT_SALT,
        "alice",
        CANARY_PASSWORD,
    ));
    let home = home();
    let out = run(kalliope(&home, server.url()).arg("salt"));
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim(), DEFAULT_SALT);

    let out = run(kalliope(&home, server.url()).arg("sign"));
    assert_code(&out, 0);
    let line = stdout(&out).trim().to_owned();
    assert!(
        line.starts_with("X-authenticate: RestApiUsernameToken Username=\"alice\""),
        "{line}"
    );
    assert_no_secret(&out, &[CANARY_PASSWORD]);

    // The header passes the server-side check, and a changed one does not.
    let out = run(kalliope(&home, server.url()).args(["verify", &line]));
    assert_code(&out, 0);
    assert!(
        stdout(&out).starts_with("valid: alice@default"),
        "{}",
        stdout(&out)
    );
    let tampered = line.replace("Username=\"alice\"", "Username=\"alicf\"");
    let out = run(kalliope(&home, server.url()).args(["--json", "verify", &tampered]));
    assert_code(&out, 1);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["valid"],
        false
    );

    let out =
        run(kalliope(&home, server.url()).args(["sign", "--curl", "--path", "/rest/account"]));
    assert_code(&out, 0);
    let curl = stdout(&out);
    assert!(
        curl.starts_with("curl -X 'GET' -H 'X-authenticate: RestApiUsernameToken"),
        "{curl}"
    );
    assert!(
        curl.trim_end()
            .ends_with(&format!("'{}/rest/account'", server.url())),
        "{curl}"
    );

    // A connection string with `user:password@` never shows in the printed command line.
    let with_credentials = server
        .url()
        .replace("http://", &format!("http://alice:{CANARY_PASSWORD}@"));
    let out = run(kalliope(&home, &with_credentials).args(["sign", "--curl"]));
    assert_code(&out, 0);
    assert_no_secret(&out, &[CANARY_PASSWORD]);

    let salts_before = server.count("/rest/salt/default");
    let out =
        run(kalliope(&home, server.url()).args(["--json", "request", "GET", "/rest/account"]));
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(
        server.count("/rest/salt/default"),
        salts_before + 1,
        "one salt per run"
    );
    assert_no_secret(&out, &[CANARY_PASSWORD]);

    let out = run(kalliope(&home, server.url()).args([
        "request",
        "POST",
        "/rest/echo",
        "-d",
        "{\"a\":1}",
        "-H",
        "X-Extra: yes",
    ]));
    assert_code(&out, 0);
    let sent = server.requests_to("/rest/echo");
    let post = sent.last().unwrap();
    assert_eq!(post.method, http::Method::POST);
    assert_eq!(post.header("x-extra"), Some("yes"));
    assert_eq!(&post.body[..], b"{\"a\":1}");
    assert!(post.header("x-authenticate").is_some());
}

#[test]
fn kalliope_errors_have_exit_codes_and_no_secret() {
    let server = MockServer::start(KalliopeMock::new());
    let home = home();
    // alice is unknown here: the server refuses (1).
    let out = run(kalliope(&home, server.url()).args(["request", "GET", "/rest/account"]));
    assert_code(&out, 1);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert_no_secret(&out, &[CANARY_PASSWORD]);
    let out = run(kalliope(&home, "http://127.0.0.1:9").args(["request", "GET", "/rest/account"]));
    assert_code(&out, 3);
    assert_no_secret(&out, &[CANARY_PASSWORD]);
    let out = run(cli(&home).args(["kalliope", "--url", server.url(), "sign"]));
    assert_code(&out, 2);
}

const AUTHNZ_KEY: &str = "HOOPb4ez5AiJQRyJBY2gX9exHTK6iATqapxgF92mt3o=";

#[test]
fn authnz_sessions_and_login_with_secrets_from_the_environment() {
    let server = MockServer::start(AuthnzMock::new(AUTHNZ_KEY, CANARY_PASSWORD).unwrap());
    let home = home();
    let key_file = home.join("key");
    std::fs::write(&key_file, AUTHNZ_KEY).unwrap();
    let authnz = || {
        let mut cmd = cli(&home);
        cmd.args([
            "-v",
            "--json",
            "authnz",
            "--url",
            server.url(),
            "--key-file",
        ])
        .arg(&key_file);
        cmd
    };
    let out = run(authnz().args([
        "session",
        "new",
        "ip_address=127.0.0.1",
        "user_agent=pbx-auth-test",
        "user_id:=null",
        "expires=2099-01-01T00:00:00.000000",
        "extra_info_json:=null",
    ]));
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["success"], true);
    let session = json["response"]["session_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session)
        .args(["session", "exists", "--secret", "session_token"]));
    assert_code(&out, 0);

    // The password and the session token come from the environment, never from arguments.
    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session)
        .env("PBX_AUTH_AUTHNZ_PASSWORD", CANARY_PASSWORD)
        .args([
            "user",
            "login",
            "email=admin@localhost",
            "--secret",
            "session_token",
            "--secret",
            "password",
        ]));
    assert_code(&out, 0);
    assert_no_secret(&out, &[CANARY_PASSWORD]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["response"]["user_id"].is_number(), "{json}");

    // A wrong password: the server refuses (1), and the canary is not echoed.
    let session2 = {
        let out = run(authnz().args([
            "session",
            "new",
            "ip_address=127.0.0.1",
            "user_agent=pbx-auth-test",
            "user_id:=null",
            "expires=2099-01-01T00:00:00.000000",
            "extra_info_json:=null",
        ]));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["response"]
            ["session_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let wrong = home.join("wrong");
    std::fs::write(&wrong, CANARY_USER_PASSWORD).unwrap();
    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session2)
        .args([
            "user",
            "login",
            "email=admin@localhost",
            "--secret",
            "session_token",
        ])
        .arg("--secret-file")
        .arg(format!("password={}", wrong.display())));
    assert_code(&out, 1);
    assert_no_secret(&out, &[CANARY_USER_PASSWORD, CANARY_PASSWORD]);

    // A secret on the command line is refused before anything is sent.
    let before = server.total();
    let out = run(authnz().args([
        "user",
        "login",
        "email=a@b.c",
        &format!("password={CANARY_PASSWORD}"),
    ]));
    assert_code(&out, 2);
    assert_eq!(server.total(), before);
    // A body the typed API refuses is a usage error too.
    assert_code(&run(authnz().args(["session", "exists", "nope=1"])), 2);
    // A wrong key: the server cannot open the request.
    let out = run(cli(&home)
        .env(
            "PBX_AUTH_AUTHNZ_KEY",
            "V2hhdGV2ZXIgeW91IGRvLCBkbyBpdCB3ZWxsLiAxMjM=",
        )
        .args([
            "authnz",
            "--url",
            server.url(),
            "session",
            "delete",
            "--secret",
            "session_token",
        ])
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session));
    assert_code(&out, 1);
    assert_no_secret(&out, &[AUTHNZ_KEY, &session]);
}

fn sipgate(home: &std::path::Path, url: &str) -> std::process::Command {
    sipgate_cli(home, (CLIENT_ID, CLIENT_SECRET), url, "/revoke")
}

#[test]
fn sipgate_login_token_account_request_logout() {
    let mock = SipgateMock::new();
    let server = MockServer::start(mock.clone());
    let home = home();
    let (out, err) = sipgate_login(sipgate(&home, server.url()));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("logged in"), "{err}");
    let store = home.join("tokens/sipgate-default.json");
    let stored: serde_json::Value = stored_tokens(&store);
    let access = stored["access_token"].as_str().unwrap().to_owned();
    let refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    assert!(!err.contains(&access) && !err.contains(&refresh) && !err.contains(CLIENT_SECRET));

    let out = run(sipgate(&home, server.url()).arg("token"));
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim(), access);

    // A forced refresh rotates the refresh token and stores the new one first.
    let out = run(sipgate(&home, server.url()).args(["token", "--force-refresh"]));
    assert_code(&out, 0);
    let stored: serde_json::Value = stored_tokens(&store);
    assert_eq!(
        stdout(&out).trim(),
        stored["access_token"].as_str().unwrap()
    );
    assert_ne!(
        stored["refresh_token"].as_str().unwrap(),
        refresh,
        "rotated"
    );
    assert_eq!(mock.refresh_count(), 1);

    let out = run(sipgate(&home, server.url()).args(["--json", "account"]));
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["mainProductType"], "TEAM");

    let out = run(sipgate(&home, server.url()).args(["--json", "request", "GET", "/account"]));
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 200);
    let last = server.requests_to("/v2/account").pop().unwrap();
    assert!(last.header("authorization").unwrap().starts_with("Bearer "));
    assert_no_secret(&out, &[CLIENT_SECRET]);

    // An expired access token is refreshed before the request.
    mock.expire_access_tokens();
    let out = run(sipgate(&home, server.url()).args(["request", "GET", "/account"]));
    assert_code(&out, 0);

    let out = run(sipgate(&home, server.url()).arg("logout"));
    assert_code(&out, 0);
    assert!(load_stored(&store).is_none(), "forgotten");
    assert_eq!(server.count("/revoke"), 1);
    let out = run(sipgate(&home, server.url()).arg("token"));
    assert_code(&out, 2);
    assert!(stderr(&out).contains("sipgate login"), "{}", stderr(&out));
}

#[test]
fn sipgate_login_without_browser_reads_the_pasted_url() {
    let server = MockServer::start(SipgateMock::new());
    let home = home();
    let mut child = sipgate(&home, server.url())
        .args(["login", "--no-browser"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "no URL printed");
        if line.starts_with("http") {
            break line.trim().to_owned();
        }
    };
    // The browser stops at the redirect to the (unreachable) redirect URI; its address is
    // what a user pastes.
    let pasted = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let agent = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::custom(|a| {
                if a.url().path() == "/oauth" {
                    a.stop()
                } else {
                    a.follow()
                }
            }))
            .build()
            .unwrap();
        let response = agent.get(url).send().await.unwrap();
        response.headers()["location"].to_str().unwrap().to_owned()
    });
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{pasted}").unwrap();
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{rest}");
    assert!(home.join("tokens/sipgate-default.json").exists());
}

#[test]
fn sipgate_personal_access_token() {
    let server = MockServer::start(SipgateMock::new());
    let home = home();
    let out = run(cli(&home)
        .env("PBX_AUTH_SIPGATE_TOKEN", CANARY_PASSWORD)
        .args([
            "-v",
            "sipgate",
            "--api-url",
            &format!("{}/v2", server.url()),
        ])
        .args(["pat", "--token-id", "token-ABC123", "account"]));
    // The mock knows no personal access tokens: refused, and the token is not echoed.
    assert_code(&out, 1);
    assert_no_secret(&out, &[CANARY_PASSWORD]);
    let sent = server.requests_to("/v2/account").pop().unwrap();
    assert!(sent.header("authorization").unwrap().starts_with("Basic "));
}

#[test]
fn completions_for_bash_zsh_fish_and_man_pages() {
    let home = home();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(cli(&home).args(["completions", shell]));
        assert_code(&out, 0);
        let script = stdout(&out);
        assert!(script.contains("pbx-auth"), "{shell}");
        for word in [
            "wazo",
            "kalliope",
            "sipgate",
            "authnz",
            "ldap-config",
            "refresh",
        ] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    assert_code(&run(cli(&home).args(["completions", "tcsh"])), 2);
    let dir = home.join("man");
    let out = run(cli(&home).arg("man").arg(&dir));
    assert_code(&out, 0);
    for page in [
        "pbx-auth.1",
        "pbx-auth-wazo.1",
        "pbx-auth-wazo-token-create.1",
        "pbx-auth-sipgate-login.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn help_and_version_exit_zero() {
    let home = home();
    let out = run(cli(&home).arg("--help"));
    assert_code(&out, 0);
    assert!(stdout(&out).contains("Exit codes"));
    assert_code(&run(cli(&home).arg("--version")), 0);
    assert_code(&run(&mut cli(&home)), 2);
}
