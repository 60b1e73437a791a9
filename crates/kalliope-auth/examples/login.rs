//! The seed's usage end to end: a session from a connection string, two requests with
//! different fresh headers, and a replayed header refused.
//!
//! `KALLIOPE_URL` is the connection string (default: an in-process mock is started).
//! `cargo xtask demo kalliope` runs it against `pbx-mock kalliope` out of process.

#![allow(clippy::print_stdout)]

use std::error::Error;

use kalliope_auth::{Auth, Session};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    // Without a URL, serve the mock in this process so the example always runs.
    let local = std::env::var("KALLIOPE_URL")
        .is_err()
        .then(|| pbx_mock::MockServer::start(pbx_mock::kalliope::KalliopeMock::new()));
    let conn = match &local {
        Some(server) => format!(
            "http://admin:admin@{}/default",
            server.url().trim_start_matches("http://")
        ),
        None => std::env::var("KALLIOPE_URL")?,
    };
    let session = Session::new(&conn)?;
    println!(
        "session for {} (domain {})",
        session.base_url(),
        session.domain()
    );

    for path in ["/rest/whoami", "/rest/whoami"] {
        let response = session.get(path).await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        println!("GET {path} -> {status}, sent with nonce {}", body["nonce"]);
    }
    let accounts: serde_json::Value = session.get("/rest/account").await?.json().await?;
    println!("GET /rest/account -> {accounts}");

    // Replay: one header sent twice. The server accepts it once only.
    let auth = session
        .authenticator()
        .ok_or("the session has no credentials")?;
    let salt = auth.cache().source().fetch_salt().await?;
    let standalone = Auth::new("admin", "admin", session.domain(), Some(&salt))?;
    let header = standalone.xauth()?;
    let url = session.url("/rest/dashboard")?;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for attempt in ["first use", "replay"] {
        let status = client
            .get(url.clone())
            .header("X-authenticate", header.clone())
            .send()
            .await?
            .status();
        println!("same header, {attempt} -> {status}");
        statuses.push(status.as_u16());
    }
    if statuses[0] != 200 || statuses[1] == 200 {
        return Err(format!("expected the replay to be refused, got {statuses:?}").into());
    }
    println!("replayed header refused: ok");
    Ok(())
}
