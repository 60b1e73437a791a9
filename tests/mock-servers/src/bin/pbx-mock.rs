//! Serves one named mock out of process: `pbx-mock <name> [--port N] [options]`.
//!
//! The first line on stdout is `listening on <url>`; the server exits when stdin closes, so
//! a parent that dies cannot leave it running.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use pbx_mock::{MOCK_NAMES, MockServer, handler_by_name};

fn usage() -> String {
    format!(
        "usage: pbx-mock <{}> [--host ADDR] [--port N] [mock options]",
        MOCK_NAMES.join("|")
    )
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next().filter(|n| !n.starts_with('-')) else {
        eprintln!("{}", usage());
        return ExitCode::from(2);
    };
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port = 0u16;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("--port needs a number\n{}", usage());
                    return ExitCode::from(2);
                }
            },
            "--host" => match args.next().and_then(|h| h.parse().ok()) {
                Some(h) => host = h,
                None => {
                    eprintln!("--host needs an IP address\n{}", usage());
                    return ExitCode::from(2);
                }
            },
            "--help" | "-h" => {
                println!("{}", usage());
                return ExitCode::SUCCESS;
            }
            _ => rest.push(arg),
        }
    }
    let handler = match handler_by_name(&name, &rest) {
        Ok(h) => h,
        Err(message) => {
            eprintln!("{message}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let server = match MockServer::start_on(handler, SocketAddr::new(host, port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    let _ = std::io::stdout().flush();
    // Block until the parent closes our stdin (or it reaches EOF).
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    server.stop();
    ExitCode::SUCCESS
}
