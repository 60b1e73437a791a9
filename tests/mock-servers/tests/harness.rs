//! The harness itself: journal, counters, fault injection and the out-of-process binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use pbx_mock::{Fault, FaultRule, MockRequest, MockResponse, MockServer};

fn hello() -> MockServer {
    MockServer::start(|req: &MockRequest| {
        MockResponse::text(200, "text/plain", format!("{} {}", req.method, req.path))
    })
}

#[tokio::test]
async fn journal_and_counters() {
    let server = hello();
    let client = reqwest::Client::new();
    for path in ["/a", "/a", "/b/c"] {
        let body = client
            .post(format!("{}{path}?x=1", server.url()))
            .body("payload")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, format!("POST {path}"));
    }
    assert_eq!(server.count("/a"), 2);
    assert_eq!(server.count("/b/*"), 1);
    assert_eq!(server.count_method(&http::Method::GET, "/a"), 0);
    assert_eq!(server.total(), 3);
    let first = &server.journal()[0].request;
    assert_eq!(first.body, "payload");
    assert_eq!(first.query_pairs(), vec![("x".to_owned(), "1".to_owned())]);
    server.reset_journal();
    assert_eq!(server.total(), 0);
}

#[tokio::test]
async fn faults_status_delay_and_drop() {
    let server = hello();
    server.inject(FaultRule::new("/s", Fault::html(502, "<html>bad gateway</html>")).times(1));
    server.inject(FaultRule::new(
        "/slow",
        Fault::Delay(Duration::from_secs(5)),
    ));
    server.inject(FaultRule::new("/gone", Fault::Drop));
    let client = reqwest::Client::new();

    let first = client
        .get(format!("{}/s", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 502);
    assert_eq!(first.text().await.unwrap(), "<html>bad gateway</html>");
    let second = client
        .get(format!("{}/s", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200, "the fault was used up");

    let timed_out = client
        .get(format!("{}/slow", server.url()))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(timed_out.is_timeout());

    let dropped = client
        .get(format!("{}/gone", server.url()))
        .send()
        .await
        .unwrap_err();
    assert!(!dropped.is_timeout());

    server.clear_faults();
    assert_eq!(
        client
            .get(format!("{}/gone", server.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(server.journal().iter().filter(|r| r.faulted).count() >= 2);
}

#[test]
fn binary_prints_its_url_and_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pbx-mock"))
        .arg("kalliope")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let stream = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    drop(stream);
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn binary_rejects_unknown_mocks() {
    let out = Command::new(env!("CARGO_BIN_EXE_pbx-mock"))
        .arg("nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown mock"));
}
