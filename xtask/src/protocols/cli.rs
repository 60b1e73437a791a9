//! The `pbx-auth` command line in `cargo xtask demo`: one command per protocol against the
//! mocks, started out of process.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::Result;
use crate::demo::Demo;
use crate::stage::{output, target_dir};

/// `pbx-auth` with its own data directory, so the demo never touches the user's tokens.
fn pbx_auth() -> Command {
    let mut cmd = Command::new(target_dir().join("debug").join("pbx-auth"));
    cmd.env(
        "PBX_AUTH_DATA_DIR",
        target_dir().join("tmp").join("cli-demo"),
    )
    .env(
        "PBX_AUTH_CONFIG",
        target_dir().join("tmp").join("cli-demo.toml"),
    );
    cmd
}

/// Runs a command, shows its output and hands it back.
fn show(cmd: &mut Command, stdin: Option<&str>) -> Result<String> {
    let text = match stdin {
        None => output(cmd)?,
        Some(input) => {
            let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
            child
                .stdin
                .take()
                .ok_or("no stdin")?
                .write_all(input.as_bytes())?;
            let out = child.wait_with_output()?;
            if !out.status.success() {
                return Err(format!("pbx-auth exited with {}", out.status).into());
            }
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    for line in text.lines() {
        println!("      {line}");
    }
    Ok(text)
}

/// A GET with std only (the mocks speak plain HTTP/1.1): the status line's code and the
/// `Location` and `Set-Cookie` headers.
fn get(url: &str, cookie: Option<&str>) -> Result<(u16, Option<String>, Option<String>)> {
    let rest = url.strip_prefix("http://").ok_or("not an http URL")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host)?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n",
        if path.is_empty() { "/" } else { path }
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let header = |name: &str| {
        reply.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let cookie = header("set-cookie").map(|c| c.split(';').next().unwrap_or("").to_owned());
    Ok((status, header("location"), cookie))
}

/// Plays the browser for the mock's login: follows redirects (keeping the cookie) until the
/// loopback listener has the code.
fn browse(start: &str) -> Result {
    let mut url = start.to_owned();
    let mut cookie: Option<String> = None;
    let origin = |u: &str| -> String {
        let rest = u.trim_start_matches("http://");
        format!("http://{}", &rest[..rest.find('/').unwrap_or(rest.len())])
    };
    for _ in 0..10 {
        let (status, location, set_cookie) = get(&url, cookie.as_deref())?;
        if set_cookie.is_some() {
            cookie = set_cookie;
        }
        match location {
            Some(next) if (300..400).contains(&status) => {
                url = if next.starts_with("http") {
                    next
                } else {
                    format!("{}{next}", origin(&url))
                };
            }
            _ => return Ok(()),
        }
    }
    Err("the login redirected too often".into())
}

pub(crate) fn demo(demo: &Demo) -> Result {
    let _ = std::fs::remove_dir_all(target_dir().join("tmp").join("cli-demo"));

    let (_kalliope, url) = demo.mock("kalliope", &[])?;
    demo.step("a profile with the PBX's URL and user; the password from the environment");
    let profile = format!("[profiles.default.kalliope]\nurl = \"{url}\"\nusername = \"admin\"\n");
    print!("{profile}");
    std::fs::create_dir_all(target_dir().join("tmp"))?;
    std::fs::write(target_dir().join("tmp").join("cli-demo.toml"), profile)?;
    demo.step("pbx-auth kalliope sign, then a signed request");
    let kalliope = || {
        let mut cmd = pbx_auth();
        cmd.env("PBX_AUTH_KALLIOPE_PASSWORD", "admin")
            .arg("kalliope");
        cmd
    };
    show(kalliope().arg("sign"), None)?;
    show(kalliope().args(["request", "GET", "/rest/whoami"]), None)?;

    let (_wazo, url) = demo.mock("wazo-auth", &["--user", "alice:s3cre7"])?;
    demo.step("pbx-auth wazo token create | token show | token revoke");
    let wazo = || {
        let mut cmd = pbx_auth();
        cmd.env("PBX_AUTH_WAZO_PASSWORD", "s3cre7").args([
            "wazo",
            "--url",
            &url,
            "--username",
            "alice",
        ]);
        cmd
    };
    let token = show(
        wazo().args(["token", "create", "--expiration", "600"]),
        None,
    )?;
    show(wazo().args(["token", "show"]), Some(&token))?;
    show(wazo().args(["token", "revoke"]), Some(&token))?;
    demo.step("pbx-auth wazo user list (a token for the run, revoked afterwards)");
    show(wazo().args(["user", "list"]), None)?;

    let (_sipgate, url) = demo.mock("sipgate", &[])?;
    demo.step("pbx-auth sipgate login (a scripted browser), token, account, logout");
    let sipgate = || {
        let mut cmd = pbx_auth();
        cmd.env(
            "PBX_AUTH_SIPGATE_CLIENT_SECRET",
            "mock-secret-0123456789abcdef",
        )
        .env("BROWSER", "true")
        .args([
            "sipgate",
            "--client-id",
            "2556404-0-dc848ae6-085c-11e8-92a6-31b99c83912e",
            "--redirect-uri",
            "http://127.0.0.1:0/oauth",
        ])
        .args(["--auth-url", &format!("{url}/auth")])
        .args(["--token-url", &format!("{url}/token")])
        .args(["--revocation-url", &format!("{url}/revoke")])
        .args(["--api-url", &format!("{url}/v2")]);
        cmd
    };
    let mut login = sipgate().arg("login").stderr(Stdio::piped()).spawn()?;
    let mut err = BufReader::new(login.stderr.take().ok_or("no stderr")?);
    let mut line = String::new();
    while err.read_line(&mut line)? > 0 {
        print!("      {line}");
        if line.starts_with("http") {
            browse(line.trim())?;
            break;
        }
        line.clear();
    }
    for line in err.lines() {
        println!("      {}", line?);
    }
    if !login.wait()?.success() {
        return Err("pbx-auth sipgate login failed".into());
    }
    show(sipgate().args(["--json", "account"]), None)?;
    show(sipgate().arg("logout"), None)?;

    let key = "HOOPb4ez5AiJQRyJBY2gX9exHTK6iATqapxgF92mt3o=";
    let dir = target_dir().join("tmp").join("cli-demo");
    std::fs::create_dir_all(&dir)?;
    let key_file = dir.join("authnz-key");
    std::fs::write(&key_file, key)?;
    let key_path = key_file.to_string_lossy().into_owned();
    let (_authnz, url) = demo.mock("authnz", &["--key-file", &key_path])?;
    demo.step("pbx-auth authnz session new");
    show(
        pbx_auth()
            .args(["authnz", "--url", &url, "--key-file", &key_path])
            .args([
                "session",
                "new",
                "ip_address=127.0.0.1",
                "user_agent=pbx-auth-demo",
                "user_id:=null",
                "expires=2099-01-01T00:00:00.000000",
                "extra_info_json:=null",
            ]),
        None,
    )?;
    Ok(())
}
