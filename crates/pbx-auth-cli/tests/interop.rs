//! `pbx-auth` against the real peers that `cargo xtask test` starts: authnzerver 0.1.3
//! (`AUTHNZERVER_URL`, `AUTHNZERVER_SECRET`, `AUTHNZERVER_ADMIN_EMAIL`,
//! `AUTHNZERVER_ADMIN_PASSWORD`) and the oidc-provider OAuth 2.0 server (`OAUTH_ISSUER`).
//! Ignored by plain `cargo test`; the interop stages run them with `--ignored`.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

mod common;

use common::*;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests need the real peer that `cargo xtask test` starts")
    })
}

const POST_CLIENT: (&str, &str) = ("sipgate-post", "post-secret-0123456789abcdef");

fn sipgate(home: &std::path::Path) -> std::process::Command {
    sipgate_cli(home, POST_CLIENT, &env("OAUTH_ISSUER"), "/token/revocation")
}

#[test]
#[ignore = "needs the real OAuth server (cargo xtask test)"]
fn sipgate_against_the_real_oauth_server() {
    let home = home();
    let (out, err) = sipgate_login(sipgate(&home));
    assert_eq!(out.status.code(), Some(0), "{err}");
    let store = home.join("tokens/sipgate-default.json");
    let read = || -> serde_json::Value { stored_tokens(&store) };
    let first = read();
    assert!(
        first["refresh_token"].is_string(),
        "a refresh token is stored"
    );
    assert!(!err.contains(first["access_token"].as_str().unwrap()) && !err.contains(POST_CLIENT.1));

    // Refresh with rotation: the new refresh token is stored before the token is printed.
    let out = run(sipgate(&home).args(["token", "--force-refresh"]));
    assert_code(&out, 0);
    let second = read();
    assert_ne!(first["refresh_token"], second["refresh_token"], "rotated");
    assert_eq!(
        stdout(&out).trim(),
        second["access_token"].as_str().unwrap()
    );
    assert_no_secret(
        &out,
        &[POST_CLIENT.1, first["refresh_token"].as_str().unwrap()],
    );

    let out = run(sipgate(&home).args(["--json", "request", "GET", "/account"]));
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 200);
    let out = run(sipgate(&home).args(["--json", "account"]));
    assert_code(&out, 0);

    let revoked = load_stored(&store).expect("a stored token set");
    let out = run(sipgate(&home).arg("logout"));
    assert_code(&out, 0);
    assert!(load_stored(&store).is_none(), "forgotten");
    // The revoked grant no longer refreshes: log in again (refused, exit 1) — checked with
    // the old refresh token written back.
    save_stored(&store, revoked);
    let out = run(sipgate(&home).args(["token", "--force-refresh"]));
    assert_code(&out, 1);
    assert!(stderr(&out).contains("log in again"), "{}", stderr(&out));
}

#[test]
#[ignore = "needs the real authnzerver (cargo xtask test)"]
fn authnz_against_the_real_authnzerver() {
    let home = home();
    let url = env("AUTHNZERVER_URL");
    let secret = env("AUTHNZERVER_SECRET");
    let admin_email = env("AUTHNZERVER_ADMIN_EMAIL");
    let admin_password = env("AUTHNZERVER_ADMIN_PASSWORD");
    let authnz = || {
        let mut cmd = cli(&home);
        // As the server: AUTHNZERVER_SECRET holds the key or names the key file.
        cmd.env("AUTHNZERVER_SECRET", &secret)
            .args(["-v", "--json", "authnz", "--url", &url]);
        cmd
    };
    let new_session = || {
        let out = run(authnz().args([
            "session",
            "new",
            "ip_address=127.0.0.1",
            "user_agent=pbx-auth-interop",
            "user_id:=null",
            "expires=2099-01-01T00:00:00.000000",
            "extra_info_json:=null",
        ]));
        assert_code(&out, 0);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["response"]
            ["session_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let session = new_session();
    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session)
        .args(["session", "exists", "--secret", "session_token"]));
    assert_code(&out, 0);

    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session)
        .env("PBX_AUTH_AUTHNZ_PASSWORD", &admin_password)
        .args(["user", "login", &format!("email={admin_email}")])
        .args(["--secret", "session_token", "--secret", "password"]));
    assert_code(&out, 0);
    assert_no_secret(&out, &[&admin_password, &secret]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["response"]["user_id"].is_number(), "{json}");

    // A wrong password is refused (exit 1), and neither password shows.
    let session = new_session();
    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session)
        .env("PBX_AUTH_AUTHNZ_PASSWORD", CANARY_PASSWORD)
        .args(["user", "login", &format!("email={admin_email}")])
        .args(["--secret", "session_token", "--secret", "password"]));
    assert_code(&out, 1);
    assert_no_secret(&out, &[CANARY_PASSWORD, &admin_password]);

    let session = new_session();
    let out = run(authnz()
        .env("PBX_AUTH_AUTHNZ_SESSION_TOKEN", &session)
        .args(["session", "delete", "--secret", "session_token"]));
    assert_code(&out, 0);
}
