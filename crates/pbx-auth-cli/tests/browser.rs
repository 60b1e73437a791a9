//! `pbx-auth sipgate login` with a real browser: the binary runs against the real OAuth
//! server (`OAUTH_ISSUER`), opens the authorization URL the way it opens any browser
//! (`BROWSER`, here a script that runs headless Chromium from `CHROMIUM`), Chromium logs in
//! and consents and lands on the loopback listener, and the token is stored 0600. Then
//! `token`, `request` and `logout` run on what the login stored. Ignored by plain
//! `cargo test`; `cargo xtask e2e` (a stage of `cargo xtask test`) runs it.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on setup failure too

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const POST_CLIENT: (&str, &str) = ("sipgate-post", "post-secret-0123456789abcdef");

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: this test needs the real OAuth server and Chromium that \
             `cargo xtask e2e` provides"
        )
    })
}

/// `pbx-auth -v sipgate` against the real server, opening `browser`.
fn sipgate(home: &Path, browser: &Path) -> Command {
    let mut cmd = sipgate_cli(home, POST_CLIENT, &env("OAUTH_ISSUER"), "/token/revocation");
    cmd.env("BROWSER", browser);
    cmd
}

/// A browser for `BROWSER`: a script that runs headless Chromium on the URL it is given,
/// with a fresh profile, and writes the DOM of the page Chromium ends on to `dom.html`
/// (through a temporary name, so the file appears whole once Chromium has finished).
fn chromium_script(home: &Path) -> (PathBuf, PathBuf) {
    let script = home.join("chromium-browser");
    let dom = home.join("dom.html");
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let text = format!(
        "#!/bin/sh\n\
         {chromium} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
         --disable-background-networking --disable-component-update --disable-sync \
         --disable-dev-shm-usage --user-data-dir={profile} --dump-dom \"$1\" \
         >{partial} 2>{log}\n\
         mv {partial} {dom}\n",
        chromium = quote(Path::new(&env("CHROMIUM"))),
        profile = quote(&home.join("chromium-profile")),
        partial = quote(&home.join("dom.partial")),
        log = quote(&home.join("chromium.log")),
        dom = quote(&dom),
    );
    std::fs::write(&script, text).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (script, dom)
}

/// The page Chromium ended on, once it has written it.
fn wait_for_dom(dom: &Path, home: &Path) -> String {
    // Chromium writes the page right after the listener answered; the bound only stops a
    // broken run from hanging.
    for _ in 0..1200 {
        if let Ok(text) = std::fs::read_to_string(dom) {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(home.join("chromium.log")).unwrap_or_default();
    panic!("Chromium wrote no page within two minutes; its log:\n{log}");
}

#[test]
#[ignore = "needs the real OAuth server and Chromium; run by cargo xtask e2e"]
fn chromium_logs_the_cli_in_through_the_loopback_listener() {
    let home = home();
    let (browser, dom) = chromium_script(&home);
    let out = run(sipgate(&home, &browser).args(["login", "--login-timeout", "120"]));
    let page = wait_for_dom(&dom, &home);
    assert_code(&out, 0);
    assert!(page.contains("Login successful"), "Chromium showed: {page}");
    let err = stderr(&out);
    assert!(err.contains("Opening the browser"), "{err}");
    assert!(err.contains("logged in"), "{err}");

    // The grant is stored in a file only its owner can read.
    let store = home.join("tokens/sipgate-default.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&store).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the token file is private");
    let stored = stored_tokens(&store);
    let access = stored["access_token"].as_str().unwrap().to_owned();
    let refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    assert_no_secret(&out, &[&access, &refresh, POST_CLIENT.1]);

    let out = run(sipgate(&home, &browser).arg("token"));
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim(), access);

    let out = run(sipgate(&home, &browser).args(["--json", "request", "GET", "/account"]));
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(json["body"]["mainProductType"], "TEAM");

    let out = run(sipgate(&home, &browser).arg("logout"));
    assert_code(&out, 0);
    assert!(load_stored(&store).is_none(), "forgotten");
    let out = run(sipgate(&home, &browser).arg("token"));
    assert_code(&out, 2);
}
