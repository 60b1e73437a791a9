//! Issue 13 regressions for this crate: bounded reply bodies (item 5), and the canary sweep
//! over errors built from a server that echoes the request back. (The Fernet stamp
//! overflow of item 6 is tested next to the envelope.)

#![allow(clippy::unwrap_used)] // Helpers outside #[test] fns unwrap like the tests do.

use authnz_proto::*;
use pbx_auth_core::Password;
use pbx_mock::{MockRequest, MockResponse, MockServer};

const CANARY: &str = "Canary-Pw-7f3a9e";

fn key_text() -> String {
    FernetKey::generate().expose_secret().to_owned()
}

fn client(url: &str, key: &str, limit: Option<usize>) -> Client {
    let mut builder = Client::builder(url, FernetKey::from_text(key).unwrap());
    if let Some(limit) = limit {
        builder = builder.max_response_bytes(limit);
    }
    builder.build().unwrap()
}

fn login() -> UserLogin {
    UserLogin {
        session_token: pbx_auth_core::AccessToken::new(CANARY),
        email: "a@example.com".into(),
        password: Password::new(CANARY),
    }
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
                let mut request = [0u8; 16384];
                let _ = stream.read(&mut request);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("10000\r\n{}\r\n", "A".repeat(0x10000));
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

// Issue 13, item 5: the reply was read whole, whatever its size.
#[tokio::test]
async fn replies_over_the_cap_are_refused() {
    assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 16 * 1024 * 1024);
    let key = key_text();
    let big = MockServer::start(|_: &MockRequest| {
        MockResponse::text(200, "text/plain", vec![b'A'; 1024 * 1024 + 4])
    });
    let err = client(big.url(), &key, Some(1024 * 1024))
        .user_login(&login())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1_048_576 }),
        "{err:?}"
    );
    let endless = chunked_server(64 * 1024 * 1024);
    let err = client(&endless, &key, Some(1024 * 1024))
        .user_login(&login())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}

/// Echoes the whole request (line, headers, body) back as the response body.
fn echo(status: u16) -> impl Fn(&MockRequest) -> MockResponse + Send + Sync + 'static {
    move |req: &MockRequest| {
        let mut text = format!("{} {}\n", req.method, req.path);
        for (name, value) in &req.headers {
            text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        text.push_str(&String::from_utf8_lossy(&req.body));
        MockResponse::text(status, "text/plain", text)
    }
}

fn assert_clean(label: &str, err: &Error, key: &str) {
    for text in [format!("{err}"), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!text.contains(CANARY), "{label}: {text}");
        assert!(!text.contains(key), "{label}: {text}");
    }
}

// Canary sweep: whatever a server sends back, no error of this crate repeats a secret.
#[tokio::test]
async fn errors_from_an_echoing_server_carry_no_secret() {
    let key = key_text();
    for status in [200, 400, 401, 500] {
        let server = MockServer::start(echo(status));
        for url in [
            server.url().to_owned(),
            server
                .url()
                .replace("http://", &format!("http://u:{CANARY}@")),
        ] {
            let c = client(&url, &key, None);
            let err = c.user_login(&login()).await.unwrap_err();
            assert_clean(&format!("user-login, HTTP {status}"), &err, &key);
            let raw = c
                .send_raw("user-login", &serde_json::json!({ "password": CANARY }))
                .await
                .unwrap_err();
            assert_clean(&format!("raw, HTTP {status}"), &raw, &key);
        }
    }
    let err = client("http://127.0.0.1:9/", &key, None)
        .user_login(&login())
        .await
        .unwrap_err();
    assert_clean("unreachable", &err, &key);
}
