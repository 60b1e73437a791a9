//! The authnzerver mock answers envelope-level errors with the real server's statuses,
//! seen from a plain HTTP client (no Fernet on this side).

use pbx_mock::MockServer;
use pbx_mock::authnz::AuthnzMock;

const KEY: &str = "HOOPb4ez5AiJQRyJBY2gX9exHTK6iATqapxgF92mt3o=";

#[tokio::test]
async fn envelope_errors_have_the_real_servers_statuses() {
    let server = MockServer::start(AuthnzMock::new(KEY, "admin-Password-9x!").unwrap());
    let http = reqwest::Client::new();
    let root = server.url().trim_end_matches('/').to_owned();

    let get = http.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
    let wrong_path = http
        .post(format!("{root}/auth"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_path.status().as_u16(), 404);
    for body in ["", "not base64!", "Z0FBQUFB"] {
        let r = http
            .post(format!("{root}/"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{body:?}");
        let text = r.text().await.unwrap();
        assert!(text.contains("401: Unauthorized"), "{text}");
    }
    assert_eq!(server.count_method(&reqwest::Method::POST, "/"), 3);
}
