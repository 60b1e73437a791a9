//! The `keyring` feature for real: `pbx-auth` built with it keeps the sipgate grant in the
//! OS keyring (on Linux the kernel's keyutils keyrings, which every process of this test
//! shares through its session keyring) across separate runs, and writes no token file.

#![cfg(all(feature = "keyring", target_os = "linux"))]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

mod common;

use common::*;
use pbx_mock::MockServer;
use pbx_mock::sipgate::{CLIENT_ID, CLIENT_SECRET, SipgateMock};

#[test]
fn sipgate_tokens_live_in_the_os_keyring_across_runs() {
    // keyutils files keys in the caller's session keyring. A login session has one (made
    // by pam_keyinit); a CI job or container may not, and the user-session keyring that
    // stands in for it there can refuse writes. This thread joins a new session keyring,
    // which the processes it starts inherit, as they would a login's.
    linux_keyutils::KeyRing::from_special_id(linux_keyutils::KeyRingIdentifier::Session, true)
        .unwrap();
    let server = MockServer::start(SipgateMock::new());
    let url = server.url();
    let home = home();
    // A profile of its own per run, so the keyring entry (`sipgate-PROFILE`) is this
    // test's alone; the profile chooses the keyring.
    let profile = format!("keyring-test-{}", std::process::id());
    let config = home.join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.{profile}]\nstore = \"keyring\"\n"),
    )
    .unwrap();
    let sipgate = || {
        let mut cmd = sipgate_cli(&home, (CLIENT_ID, CLIENT_SECRET), url, "/revoke");
        cmd.env("PBX_AUTH_CONFIG", &config)
            .args(["--profile", &profile]);
        cmd
    };
    let (out, err) = sipgate_login(sipgate());
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("OS keyring"), "{err}");
    assert!(
        !home
            .join("tokens")
            .join(format!("sipgate-{profile}.json"))
            .exists(),
        "no token file"
    );

    // Another process reads the grant back and refreshes it; the rotated tokens go back.
    let out = run(sipgate().arg("token"));
    assert_code(&out, 0);
    let first = stdout(&out).trim().to_owned();
    assert!(!first.is_empty());
    let out = run(sipgate().args(["token", "--force-refresh"]));
    assert_code(&out, 0);
    let second = stdout(&out).trim().to_owned();
    assert_ne!(first, second, "refreshed");
    let out = run(sipgate().arg("token"));
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out).trim(),
        second,
        "the rotated tokens were stored"
    );
    assert_no_secret(&out, &[CLIENT_SECRET]);

    let out = run(sipgate().arg("logout"));
    assert_code(&out, 0);
    let out = run(sipgate().arg("token"));
    assert_code(&out, 2);
    assert!(stderr(&out).contains("not logged in"), "{}", stderr(&out));
}
