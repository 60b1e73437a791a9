//! Every protocol's authenticator behind the one core trait: the same transport code
//! (reqwest-middleware, and hyper with the tower layer) drives each against its mock, whose
//! wire format was written independently of the client. Without authentication the mocks
//! refuse the same requests.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use kalliope_auth::Credentials;
use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::adapters::tower::AuthLayer;
use pbx_auth_core::{Cached, HeaderToken, SharedAuthenticator, TokenCache};
use pbx_mock::MockServer;
use pbx_mock::kalliope::KalliopeMock;
use pbx_mock::wazo::WazoMock;
use tower::{ServiceBuilder, ServiceExt};
use wazo_auth_client::{ClientBuilder, NewToken, Password, WazoTokenSource};

/// A mock, an authenticator for it, and a path that needs authentication.
struct Case {
    name: &'static str,
    server: MockServer,
    auth: SharedAuthenticator,
    path: &'static str,
}

fn cases() -> Vec<Case> {
    let kalliope = MockServer::start(KalliopeMock::new().with_user(
        "default",
        "s4lt-of-the-day",
        "admin",
        "pa55word",
    ));
    let base = url::Url::parse(kalliope.url()).expect("test setup");
    let kalliope_auth = kalliope_auth::authenticator(
        reqwest::Client::new(),
        &base,
        Credentials::new("admin", "pa55word", "default").expect("test setup"),
    )
    .expect("test setup");

    let wazo = MockServer::start(WazoMock::new().with_user("alice", "s3cre7"));
    let client = ClientBuilder::from_url(wazo.url())
        .expect("test setup")
        .prefix("")
        .credentials("alice", Password::new("s3cre7"))
        .build()
        .expect("test setup");
    let wazo_auth = Cached::new(
        TokenCache::new(WazoTokenSource::new(client, NewToken::new())),
        HeaderToken::x_auth_token(),
    );

    vec![
        Case {
            name: "kalliope",
            server: kalliope,
            auth: SharedAuthenticator::new(kalliope_auth),
            path: "/rest/account",
        },
        Case {
            name: "wazo",
            server: wazo,
            auth: SharedAuthenticator::new(wazo_auth),
            path: "/0.1/users",
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_authenticator_works_through_reqwest_middleware() {
    for case in cases() {
        let url = format!("{}{}", case.server.url(), case.path);
        let anonymous = reqwest::get(&url).await.unwrap();
        assert_eq!(
            anonymous.status(),
            401,
            "{}: the mock must refuse",
            case.name
        );

        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(AuthMiddleware::new(case.auth.clone()))
            .build();
        for _ in 0..3 {
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{}", case.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_authenticator_works_through_the_tower_layer() {
    let hyper: HyperClient<_, Empty<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    for case in cases() {
        let service = ServiceBuilder::new()
            .layer(AuthLayer::new(case.auth.clone()))
            .service(hyper.clone());
        let uri: http::Uri = format!("{}{}", case.server.url(), case.path)
            .parse()
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let service = service.clone();
            let uri = uri.clone();
            tasks.spawn(async move {
                let request = http::Request::get(uri).body(Empty::new()).unwrap();
                let response = service.oneshot(request).await.unwrap();
                let status = response.status();
                response.into_body().collect().await.unwrap();
                status
            });
        }
        while let Some(status) = tasks.join_next().await {
            assert_eq!(status.unwrap(), 200, "{}", case.name);
        }
    }
}
