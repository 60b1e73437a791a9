//! The global `--cacert`, `--danger-insecure` and `--timeout` reach every command group:
//! each protocol's mock behind HTTPS with a test CA's certificate, and a server that never
//! answers.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::*;
use pbx_mock::authnz::AuthnzMock;
use pbx_mock::kalliope::{DEFAULT_SALT, KalliopeMock};
use pbx_mock::sipgate::SipgateMock;
use pbx_mock::wazo::WazoMock;
use pbx_mock::{MockServer, TEST_CA_PEM, TlsFront};

const AUTHNZ_KEY: &str = "HOOPb4ez5AiJQRyJBY2gX9exHTK6iATqapxgF92mt3o=";

/// One command of each group against `url`, with the global options `globals` first, and
/// the exit code it has when it got through (the sipgate mock knows no personal access
/// token, so that one is refused).
fn commands(home: &Path, url: &str, globals: &[&OsStr]) -> Vec<(&'static str, Command, i32)> {
    let base = || {
        let mut cmd = cli(home);
        cmd.arg("-v").args(globals);
        cmd
    };
    let mut kalliope_salt = base();
    kalliope_salt.args(["kalliope", "--url", url, "salt"]);
    let mut kalliope_request = base();
    kalliope_request
        .env("PBX_AUTH_KALLIOPE_PASSWORD", CANARY_PASSWORD)
        .args(["kalliope", "--url", url, "--username", "alice"])
        .args(["request", "GET", "/rest/account"]);
    let mut wazo = base();
    wazo.env("PBX_AUTH_WAZO_PASSWORD", CANARY_PASSWORD)
        .args(["wazo", "--url", url, "--username", "admin"])
        .args(["token", "create"]);
    let mut sipgate = base();
    sipgate
        .env("PBX_AUTH_SIPGATE_TOKEN", CANARY_PASSWORD)
        .args(["sipgate", "--api-url", &format!("{url}/v2")])
        .args(["pat", "--token-id", "token-ABC123", "account"]);
    let mut authnz = base();
    authnz
        .env("PBX_AUTH_AUTHNZ_KEY", AUTHNZ_KEY)
        .args(["authnz", "--url", url, "session", "new"])
        .args(["ip_address=127.0.0.1", "user_agent=pbx-auth-test"])
        .args(["user_id:=null", "expires=2099-01-01T00:00:00.000000"])
        .arg("extra_info_json:=null");
    vec![
        ("kalliope", kalliope_salt, 0),
        ("kalliope", kalliope_request, 0),
        ("wazo", wazo, 0),
        ("sipgate", sipgate, 1),
        ("authnz", authnz, 0),
    ]
}

/// The group's mock, plain.
fn mock(group: &str) -> MockServer {
    match group {
        "kalliope" => MockServer::start(KalliopeMock::new().with_user(
            "default",
            DEFAULT_SALT,
            "alice",
            CANARY_PASSWORD,
        )),
        "wazo" => MockServer::start(WazoMock::new().with_user("admin", CANARY_PASSWORD)),
        "sipgate" => MockServer::start(SipgateMock::new()),
        _ => MockServer::start(AuthnzMock::new(AUTHNZ_KEY, CANARY_PASSWORD).unwrap()),
    }
}

#[test]
fn every_group_verifies_tls_and_honours_cacert_and_danger_insecure() {
    let home = home();
    let ca = home.join("ca.pem");
    std::fs::write(&ca, TEST_CA_PEM).unwrap();
    let with_ca: [&OsStr; 2] = ["--cacert".as_ref(), ca.as_ref()];
    let insecure: [&OsStr; 1] = ["--danger-insecure".as_ref()];
    for i in 0..commands(&home, "", &[]).len() {
        let group = commands(&home, "", &[])[i].0;
        let server = mock(group);
        let front = TlsFront::start(server.addr()).unwrap();
        let command = |globals: &[&OsStr]| commands(&home, front.url(), globals).swap_remove(i);

        // Verification is on by default: the test CA is no system root (3, transport).
        let (_, mut cmd, ok) = command(&[]);
        let out = run(&mut cmd);
        assert_code(&out, 3);
        assert_eq!(server.total(), 0, "{group}: nothing got through");
        assert_no_secret(&out, &[CANARY_PASSWORD, AUTHNZ_KEY]);

        let out = run(&mut command(&with_ca).1);
        assert_code(&out, ok);
        assert_no_secret(&out, &[CANARY_PASSWORD, AUTHNZ_KEY]);
        assert_code(&run(&mut command(&insecure).1), ok);
        assert_code(&run(command(&[]).1.env("PBX_AUTH_CACERT", &ca)), ok);
        assert!(server.total() >= 3, "{group}: requests got through");
    }
}

#[test]
fn every_group_honours_timeout() {
    // Accepts connections (the kernel does, into the backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let home = home();
    let timeout: [&OsStr; 2] = ["--timeout".as_ref(), "1".as_ref()];
    for (group, mut cmd, _) in commands(&home, &url, &timeout) {
        let out = run(&mut cmd);
        assert_code(&out, 3);
        assert!(
            stderr(&out).contains("timed out"),
            "{group}: {}",
            stderr(&out)
        );
    }
}
