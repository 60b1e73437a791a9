//! `KalliopeAuthenticator` through the core's reqwest-middleware and tower adapters,
//! against the in-process mock.

// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use kalliope_auth::{Credentials, KalliopeAuthenticator, authenticator as kalliope};
use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::adapters::tower::AuthLayer;
use pbx_mock::MockServer;
use pbx_mock::kalliope::KalliopeMock;
use tower::{Layer, Service, ServiceExt};
use url::Url;

fn authenticator(server: &MockServer, password: &str) -> KalliopeAuthenticator {
    let base = Url::parse(server.url()).unwrap();
    let credentials = Credentials::new("admin", password, "default").unwrap();
    kalliope(reqwest::Client::new(), &base, credentials).unwrap()
}

#[tokio::test]
async fn reqwest_middleware_signs_and_retries_after_salt_rotation() {
    let mock = KalliopeMock::new();
    let server = MockServer::start(mock.clone());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(authenticator(&server, "admin")))
        .build();
    let url = format!("{}/rest/account", server.url());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    mock.rotate_salt("default", "ffeeddccbbaa99887766554433221100");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(server.count("/rest/salt/default"), 2);
    let headers: HashSet<String> = server
        .requests_to("/rest/account")
        .iter()
        .map(|r| r.header("x-authenticate").unwrap().to_owned())
        .collect();
    assert_eq!(headers.len(), 4);
    assert_eq!(mock.rejections().len(), 1);
}

#[tokio::test]
async fn middleware_leaves_a_caller_header_alone() {
    let mock = KalliopeMock::new();
    let server = MockServer::start(mock.clone());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(authenticator(&server, "admin")))
        .build();
    let url = format!("{}/rest/account", server.url());
    let r = client
        .get(&url)
        .header("X-Authenticate", "mine")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(server.count("/rest/salt/*"), 0);
}

/// A tower service that sends `http::Request<String>` with reqwest.
fn reqwest_service(
    client: reqwest::Client,
) -> impl Service<
    http::Request<String>,
    Response = http::Response<bytes::Bytes>,
    Error = reqwest::Error,
    Future = impl Future<Output = Result<http::Response<bytes::Bytes>, reqwest::Error>> + Send,
> + Clone {
    tower::service_fn(move |req: http::Request<String>| {
        let client = client.clone();
        async move {
            let req = reqwest::Request::try_from(req)?;
            let resp = client.execute(req).await?;
            let mut out = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                out = out.header(k, v);
            }
            let body = resp.bytes().await?;
            Ok(out.body(body).expect("a valid response"))
        }
    })
}

#[tokio::test]
async fn tower_layer_signs_each_request_and_retries_a_refusal_once() {
    let mock = KalliopeMock::new();
    let server = MockServer::start(mock.clone());
    let mut svc = AuthLayer::new(authenticator(&server, "admin"))
        .layer(reqwest_service(reqwest::Client::new()));
    let uri = format!("{}/rest/dashboard", server.url());
    for _ in 0..2 {
        let req = http::Request::get(&uri).body(String::new()).unwrap();
        let resp = svc.ready().await.unwrap().call(req).await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    // A `String` body can be copied: the refused request is sent once more, signed with a
    // key from the new salt.
    mock.rotate_salt("default", "ffeeddccbbaa99887766554433221100");
    let req = http::Request::get(&uri).body(String::new()).unwrap();
    assert_eq!(
        svc.ready().await.unwrap().call(req).await.unwrap().status(),
        200
    );
    assert_eq!(server.count("/rest/salt/default"), 2);
}
