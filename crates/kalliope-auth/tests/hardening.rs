//! Issue 13 regressions for this crate: bounded salt replies (item 5), and the canary sweep
//! over errors built from a server that echoes the request back.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] fns unwrap like the tests do.

use kalliope_auth::{Credentials, Error, MAX_SALT_REPLY_BYTES, SaltSource};
use pbx_mock::{MockRequest, MockResponse, MockServer};
use url::Url;

const CANARY: &str = "Canary-Pw-7f3a9e";

fn source(base: &str) -> SaltSource {
    let credentials = Credentials::new("admin", CANARY, "default").unwrap();
    SaltSource::new(
        reqwest::Client::new(),
        &Url::parse(base).unwrap(),
        "default",
        credentials,
    )
    .unwrap()
}

/// A server answering every connection with a chunked body of `total` bytes and no
/// length, 64 KiB at a time, stopping when the client hangs up.
fn chunked_server(total: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                use std::io::{Read as _, Write as _};
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
                for _ in 0..total / 0x10000 {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            });
        }
    });
    format!("http://{addr}/")
}

// Issue 13, item 5: the salt reply was read whole, whatever its size.
#[tokio::test]
async fn salt_reply_over_the_cap_is_refused() {
    let big = MockServer::start(|_: &MockRequest| {
        MockResponse::text(
            200,
            "application/json",
            vec![b' '; MAX_SALT_REPLY_BYTES + 1],
        )
    });
    let err = source(big.url()).fetch_salt().await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit } if limit == MAX_SALT_REPLY_BYTES),
        "{err:?}"
    );
    // Without a length: refused after the cap, not after the 64 MiB the server offers.
    let endless = chunked_server(64 * 1024 * 1024);
    let err = source(&endless).fetch_salt().await.unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}

/// Echoes the whole request (line, headers, body) back as the response body.
fn echo(status: u16) -> impl Fn(&MockRequest) -> MockResponse + Send + Sync + 'static {
    move |req: &MockRequest| {
        let mut text = format!(
            "{} {}?{}\n",
            req.method,
            req.path,
            req.query.clone().unwrap_or_default()
        );
        for (name, value) in &req.headers {
            text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        text.push_str(&String::from_utf8_lossy(&req.body));
        MockResponse::text(status, "application/json", text)
    }
}

fn assert_clean(label: &str, err: &Error) {
    for text in [format!("{err}"), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!text.contains(CANARY), "{label}: {text}");
    }
    let core: pbx_auth_core::Error = err.clone().into();
    for text in [format!("{core}"), format!("{core:?}"), format!("{core:#?}")] {
        assert!(!text.contains(CANARY), "{label}: {text}");
    }
}

// Canary sweep: whatever a server sends back, no error of this crate repeats a secret.
#[tokio::test]
async fn errors_from_an_echoing_server_carry_no_secret() {
    for status in [200, 400, 401, 500] {
        let server = MockServer::start(echo(status));
        let base = server
            .url()
            .replace("http://", &format!("http://admin:{CANARY}@"));
        let err = source(&base).fetch_salt().await.unwrap_err();
        assert_clean(&format!("salt, HTTP {status}"), &err);
        let err = source(server.url()).fetch_salt().await.unwrap_err();
        assert_clean(&format!("salt, HTTP {status}"), &err);
    }
    let gone = source("http://127.0.0.1:9/")
        .fetch_salt()
        .await
        .unwrap_err();
    assert_clean("unreachable", &gone);
}
