//! The server half: an axum app behind `RequireAcl`, checking tokens that
//! `wazo-auth-client` got from `pbx-mock wazo-auth` against the same mock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use axum::{Extension, Json, Router};
use http::{Method, StatusCode};
use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use serde_json::{Value, json};
use tower::ServiceExt as _;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::server::{CheckMethod, TokenVerifier, VerifiedToken};
use wazo_auth_client::{Client, ClientBuilder, NewToken, Password};

const ANY_UUID: &str = "00000000-0000-4000-8000-000000000000";

struct World {
    mock: MockServer,
    app: String,
    verifier: TokenVerifier,
    router: Router,
}

fn auth_client(url: &str) -> Client {
    ClientBuilder::from_url(url)
        .expect("mock URL")
        .prefix("")
        .build()
        .expect("client")
}

async fn token_for(mock: &MockServer, user: &str) -> String {
    let client = ClientBuilder::from_url(mock.url())
        .expect("mock URL")
        .prefix("")
        .credentials(user, Password::new("pw"))
        .build()
        .expect("client");
    let token = client
        .token()
        .create(&NewToken::new())
        .await
        .expect("token");
    token.token.expose_secret().to_owned()
}

async fn user(
    Path(user_uuid): Path<String>,
    Extension(v): Extension<VerifiedToken>,
) -> Json<Value> {
    Json(json!({
        "user_uuid": user_uuid,
        "auth_id": v.auth_id(),
        "tenant_uuid": v.tenant_uuid(),
        "token_tenant_uuid": v.token_tenant_uuid(),
        "acl": v.acl(),
        "required_access": v.required_access(),
    }))
}

fn router(verifier: &TokenVerifier) -> Router {
    Router::new()
        .route(
            "/users/{user_uuid}",
            get(user).route_layer(
                verifier
                    .require_acl("/users/{user_uuid}", "confd.users.{user_uuid}.read")
                    .expect("template"),
            ),
        )
        .route(
            "/whoami",
            get(|Extension(v): Extension<VerifiedToken>| async move {
                Json(json!({ "auth_id": v.auth_id() }))
            })
            .route_layer(verifier.require_token()),
        )
        .route("/open", get(|| async { "open" }))
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    format!("http://{addr}")
}

async fn world_with(auth_url: Option<&str>, method: CheckMethod) -> World {
    let wazo = WazoMock::new();
    wazo.add_user("reader", "pw", &["confd.users.*.read"]);
    wazo.add_user("nobody", "pw", &["confd.lines.read"]);
    wazo.add_user("admin", "pw", &["auth.#"]);
    let mock = MockServer::start(wazo);
    let url = auth_url.unwrap_or(mock.url()).to_owned();
    let verifier = TokenVerifier::builder(auth_client(&url))
        .check_method(method)
        // Long enough that no entry expires during a test on a loaded machine.
        .cache_ttl(Duration::from_secs(3600))
        .build();
    let router = router(&verifier);
    let app = serve(router.clone()).await;
    World {
        mock,
        app,
        verifier,
        router,
    }
}

async fn world() -> World {
    world_with(None, CheckMethod::Details).await
}

async fn call(w: &World, path: &str, token: Option<&str>, tenant: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", w.app));
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    if let Some(t) = tenant {
        req = req.header("Wazo-Tenant", t);
    }
    let res = req.send().await.expect("app answers");
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

fn checks(w: &World) -> usize {
    w.mock.count_method(&Method::GET, "/0.1/token/*")
        + w.mock.count_method(&Method::HEAD, "/0.1/token/*")
}

#[tokio::test]
async fn valid_token_with_the_access_passes_and_the_handler_sees_it() {
    let w = world().await;
    let token = token_for(&w.mock, "reader").await;
    let (status, body) = call(&w, "/users/u-1", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_uuid"], "u-1");
    assert_eq!(body["required_access"], "confd.users.u-1.read");
    assert_eq!(body["acl"], json!(["confd.users.*.read"]));
    assert!(body["auth_id"].is_string());
    assert_eq!(body["tenant_uuid"], body["token_tenant_uuid"]);
    let asked = w.mock.requests_to("/0.1/token/*");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].query_map().get("scope").map(String::as_str),
        Some("confd.users.u-1.read")
    );
    // Cached: the same request does not ask again.
    assert_eq!(call(&w, "/users/u-1", Some(&token), None).await.0, 200);
    assert_eq!(checks(&w), 1);
    assert_eq!(call(&w, "/open", None, None).await.0, 200);
}

#[tokio::test]
async fn missing_access_is_refused_with_the_wazo_body() {
    let w = world().await;
    let token = token_for(&w.mock, "nobody").await;
    let (status, body) = call(&w, "/users/u-1", Some(&token), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Unauthorized");
    assert_eq!(body["error_id"], "unauthorized");
    assert_eq!(
        body["details"],
        json!({
            "invalid_token": token,
            "reason": "missing_permission_or_invalid_tenant",
            "required_access": "confd.users.u-1.read",
            "tenant_uuid": null,
        })
    );
    assert!(body["timestamp"].is_f64());
    // Refusals are not cached.
    assert_eq!(call(&w, "/users/u-1", Some(&token), None).await.0, 401);
    assert_eq!(checks(&w), 2);
}

#[tokio::test]
async fn unknown_and_missing_tokens_are_refused() {
    let w = world().await;
    let (status, body) = call(&w, "/users/u-1", Some(ANY_UUID), None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["details"],
        json!({
            "invalid_token": ANY_UUID,
            "reason": "not_found_or_expired",
            "required_access": "confd.users.u-1.read",
        })
    );
    let (status, body) = call(&w, "/whoami", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["details"],
        json!({ "invalid_token": "", "reason": "not_found_or_expired" })
    );
    assert_eq!(checks(&w), 1, "no token: refused without asking");
}

#[tokio::test]
async fn tenants_follow_the_subtree_rule() {
    let w = world().await;
    let reader = token_for(&w.mock, "reader").await;
    let (_, body) = call(&w, "/users/u-1", Some(&reader), None).await;
    let own = body["token_tenant_uuid"]
        .as_str()
        .expect("tenant")
        .to_owned();

    // Own tenant and a sub-tenant are visible.
    let admin = auth_client(w.mock.url());
    admin.set_token(Some(wazo_auth_client::AccessToken::new(
        token_for(&w.mock, "admin").await,
    )));
    let sub = admin
        .tenants()
        .create(&TenantRequest::new().name("sub"), None)
        .await
        .expect("sub-tenant");
    let (status, body) = call(&w, "/users/u-1", Some(&reader), Some(&own)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&w, "/users/u-1", Some(&reader), Some(&sub.uuid)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenant_uuid"], sub.uuid.as_str());

    // Another tenant: the `tenant_helpers` answer.
    let (status, body) = call(&w, "/users/u-1", Some(&reader), Some(ANY_UUID)).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({
            "message": "Unauthorized tenant",
            "error_id": "unauthorized-tenant",
            "details": { "tenant_uuid": ANY_UUID },
            "timestamp": body["timestamp"],
        })
    );
    // Missing access and another tenant: the access is what is missing.
    let nobody = token_for(&w.mock, "nobody").await;
    let (status, body) = call(&w, "/users/u-1", Some(&nobody), Some(ANY_UUID)).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["details"]["reason"],
        "missing_permission_or_invalid_tenant"
    );
    assert_eq!(body["details"]["tenant_uuid"], ANY_UUID);
}

#[tokio::test]
async fn unreachable_wazo_auth_is_503_never_allowed() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let w = world_with(
        Some(&format!("http://127.0.0.1:{port}/0.1")),
        CheckMethod::Details,
    )
    .await;
    let (status, body) = call(&w, "/users/u-1", Some(ANY_UUID), None).await;
    assert_eq!(status, 503);
    assert_eq!(body["message"], "Authentication server unreachable");
    assert_eq!(body["error_id"], "authentication-server-unreachable");
    assert_eq!(body["details"]["auth_server_host"], "127.0.0.1");
    assert_eq!(body["details"]["auth_server_port"], port);
    assert!(body["details"]["original_error"].is_string());

    // A server error from a reachable wazo-auth is no "yes" either.
    let w = world().await;
    let token = token_for(&w.mock, "reader").await;
    w.mock
        .inject(pbx_mock::FaultRule::new("/0.1/token/*", pbx_mock::Fault::status(500)).times(1));
    assert_eq!(call(&w, "/users/u-1", Some(&token), None).await.0, 503);
    assert_eq!(call(&w, "/users/u-1", Some(&token), None).await.0, 200);
}

#[tokio::test]
async fn a_dotted_path_value_cannot_add_segments() {
    let wazo = WazoMock::new();
    wazo.add_user("ab", "pw", &["confd.users.a.b.read"]);
    let mock = MockServer::start(wazo);
    let verifier = TokenVerifier::new(auth_client(mock.url()));
    let w = World {
        app: serve(router(&verifier)).await,
        router: router(&verifier),
        verifier,
        mock,
    };
    let token = token_for(&w.mock, "ab").await;
    let (status, body) = call(&w, "/users/a.b", Some(&token), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["details"]["required_access"], "confd.users.a_b.read");
    let (status, _) = call(&w, "/users/a%2Eb", Some(&token), None).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_requests_cost_one_check() {
    for method in [CheckMethod::Details, CheckMethod::Head] {
        let w = world_with(None, method).await;
        let token = Arc::new(token_for(&w.mock, "reader").await);
        let calls = (0..1000).map(|_| {
            let router = w.router.clone();
            let token = Arc::clone(&token);
            tokio::spawn(async move {
                let req = http::Request::get("/users/u-1")
                    .header("X-Auth-Token", token.as_str())
                    .body(axum::body::Body::empty())
                    .expect("request");
                router.oneshot(req).await.expect("infallible").status()
            })
        });
        for status in futures_util::future::join_all(calls).await {
            assert_eq!(status.expect("task"), StatusCode::OK);
        }
        assert_eq!(checks(&w), 1, "{method:?}");
        assert_eq!(w.verifier.remote_checks(), 1);
    }
}

#[tokio::test]
async fn local_decisions_use_the_cached_acl() {
    let wazo = WazoMock::new();
    wazo.add_user("reader", "pw", &["confd.users.*.read"]);
    let mock = MockServer::start(wazo);
    let verifier = TokenVerifier::builder(auth_client(mock.url()))
        .local_decisions(true)
        .cache_ttl(Duration::from_secs(3600))
        .build();
    let w = World {
        app: serve(router(&verifier)).await,
        router: router(&verifier),
        verifier,
        mock,
    };
    let token = token_for(&w.mock, "reader").await;
    assert_eq!(call(&w, "/users/u-1", Some(&token), None).await.0, 200);
    assert_eq!(call(&w, "/users/u-2", Some(&token), None).await.0, 200);
    assert_eq!(call(&w, "/whoami", Some(&token), None).await.0, 200);
    assert_eq!(checks(&w), 1, "later accesses decided from the cached ACL");
    // A tenant other than the token's own still goes to wazo-auth.
    assert_eq!(
        call(&w, "/users/u-3", Some(&token), Some(ANY_UUID)).await.0,
        401
    );
    assert!(checks(&w) > 1);
}

#[test]
fn bad_templates_are_config_errors() {
    let verifier = TokenVerifier::new(auth_client("http://127.0.0.1:9/0.1"));
    assert!(
        verifier
            .require_acl("/users/{id}", "confd.users.{user_uuid}.read")
            .is_err()
    );
}

#[tokio::test]
async fn oversized_inputs_are_refused_without_asking() {
    let w = world().await;
    let long_token = "a".repeat(2000);
    let (status, body) = call(&w, "/users/u-1", Some(&long_token), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["details"]["reason"], "not_found_or_expired");
    let token = token_for(&w.mock, "reader").await;
    // Multi-byte characters across the cut: no panic, a plain refusal.
    let verified = w
        .verifier
        .verify(&token, Some("confd.users.u-1.read"), Some(&"é".repeat(300)))
        .await;
    assert!(matches!(
        verified,
        Err(wazo_auth_client::server::Refusal::UnauthorizedTenant { .. })
    ));
    assert_eq!(checks(&w), 0);
}

#[tokio::test]
async fn a_token_header_that_is_not_ascii_is_no_token() {
    let w = world().await;
    let value = reqwest::header::HeaderValue::from_bytes("tök-\u{e9}".as_bytes()).unwrap();
    let res = reqwest::Client::new()
        .get(format!("{}/users/u-1", w.app))
        .header("X-Auth-Token", value)
        .send()
        .await
        .expect("app answers");
    assert_eq!(res.status().as_u16(), 401);
    let body = res.json::<Value>().await.expect("wazo body");
    assert_eq!(body["details"]["reason"], "not_found_or_expired");
    assert_eq!(body["details"]["invalid_token"], "");
    assert_eq!(
        checks(&w),
        0,
        "wazo-auth was asked about a token that is not text"
    );
}
