//! `AuthnzService` with the example's in-memory handler, called by this crate's client
//! (the real authnzerver package's Python helpers call the example server in the xtask
//! interop stage).

#![allow(missing_docs)]

#[path = "../examples/authnz_server/handler.rs"]
mod handler;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authnz_proto::server::AuthnzService;
use authnz_proto::{
    ApiKeyDict, ApikeyNew, ApikeyVerify, Client, Error, FernetKey, SessionExists, SessionNew,
    Timestamp, UserLogin, UserNew,
};
use axum::Router;
use handler::Store;
use pbx_auth_core::{AccessToken, Password};

const KEY: &str = "dGhpcyBpcyBhIHRlc3Qga2V5IGZvciB0aGUgcmVwbyE=";

async fn start() -> String {
    let store = Arc::new(Store::new());
    let service = AuthnzService::new(FernetKey::from_text(KEY).expect("key"), move |request| {
        let store = Arc::clone(&store);
        async move { store.handle(request) }
    });
    let app = Router::new().route_service("/", service);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}/")
}

fn client(url: &str) -> Client {
    Client::new(url, FernetKey::from_text(KEY).expect("key")).expect("client")
}

fn session_new(user_id: Option<i64>) -> SessionNew {
    SessionNew {
        ip_address: "127.0.0.1".to_owned(),
        user_agent: "test".to_owned(),
        user_id,
        expires: Timestamp::in_future(Duration::from_secs(3600)),
        extra_info_json: None,
    }
}

#[tokio::test]
async fn login_session_and_api_key_flows() {
    let url = start().await;
    let c = client(&url);

    // An anonymous session, then a new user logs in with it.
    let anon = c
        .session_new(&session_new(None))
        .await
        .expect("session-new");
    let anon_token = anon.response.session_token.expect("token");
    let info = c
        .session_exists(&SessionExists {
            session_token: anon_token.clone(),
        })
        .await
        .expect("session-exists")
        .response
        .session_info
        .expect("info");
    assert_eq!(info.user_id, Some(2));
    assert_eq!(info.user_role.as_deref(), Some("anonymous"));

    let created = c
        .user_new(&UserNew {
            full_name: "Alice Example".to_owned(),
            email: "Alice@Example.org".to_owned(),
            password: Password::new("correct horse battery staple"),
        })
        .await
        .expect("user-new");
    let user_id = created.response.user_id.expect("user id");
    assert_eq!(
        created.response.user_email.as_deref(),
        Some("alice@example.org")
    );

    let bad = c
        .send(&UserLogin {
            session_token: anon_token.clone(),
            email: "alice@example.org".to_owned(),
            password: Password::new("wrong password, long enough"),
        })
        .await
        .expect("user-login answers");
    assert!(!bad.success);
    assert_eq!(bad.response.user_id, None);

    let anon = c
        .session_new(&session_new(None))
        .await
        .expect("session-new");
    let login = c
        .user_login(&UserLogin {
            session_token: anon.response.session_token.expect("token"),
            email: "alice@example.org".to_owned(),
            password: Password::new("correct horse battery staple"),
        })
        .await
        .expect("user-login");
    assert_eq!(login.response.user_id, Some(user_id));

    // The user's session, and an API key bound to it.
    let session = c
        .session_new(&session_new(Some(user_id)))
        .await
        .expect("session-new")
        .response
        .session_token
        .expect("token");
    let key = c
        .apikey_new(&ApikeyNew {
            audience: "service".to_owned(),
            subject: "/api/things".into(),
            apiversion: 1.into(),
            expires_days: 30.into(),
            not_valid_before: 0.into(),
            user_id,
            user_role: "authenticated".to_owned(),
            ip_address: "127.0.0.1".to_owned(),
            user_agent: "test".to_owned(),
            session_token: session.clone(),
        })
        .await
        .expect("apikey-new");
    let dict: ApiKeyDict =
        serde_json::from_str(key.response.apikey.expect("key").expose_secret()).expect("dict");
    assert_eq!(dict.uid, user_id);
    let verified = c
        .apikey_verify(&ApikeyVerify {
            apikey_dict: dict.clone(),
        })
        .await;
    assert!(verified.is_ok(), "{verified:?}");

    let mut forged = dict;
    forged.tkn = AccessToken::new("0".repeat(64));
    let refused = c
        .apikey_verify(&ApikeyVerify {
            apikey_dict: forged,
        })
        .await
        .expect_err("forged key");
    assert!(matches!(refused, Error::Rejected { .. }), "{refused:?}");
}

#[tokio::test]
async fn wire_refusals_are_the_servers() {
    let url = start().await;
    let wrong = Client::new(
        url.as_str(),
        FernetKey::from_text(FernetKey::generate().expose_secret()).expect("key"),
    )
    .expect("client");
    let err = wrong
        .session_new(&session_new(None))
        .await
        .expect_err("wrong key");
    assert!(matches!(err, Error::Status { status: 401, .. }), "{err:?}");

    let http = reqwest::Client::new();
    let res = http.get(&url).send().await.expect("GET");
    assert_eq!(res.status(), 405);
    assert_eq!(
        res.text().await.expect("body"),
        "<html><title>405: Method Not Allowed</title><body>405: Method Not Allowed</body></html>"
    );

    // A repeated reqid is refused with 400.
    let envelope = authnz_proto::FernetEnvelope::new(FernetKey::from_text(KEY).expect("key"));
    let sealed = envelope
        .seal(br#"{"request":"session-exists","body":{"session_token":"x"},"reqid":"once"}"#);
    let first = http
        .post(&url)
        .body(sealed.clone())
        .send()
        .await
        .expect("POST");
    assert_eq!(first.status(), 200);
    let again = http.post(&url).body(sealed).send().await.expect("POST");
    assert_eq!(again.status(), 400);
    let unknown = envelope.seal(br#"{"request":"echo","body":{},"reqid":"two"}"#);
    let res = http.post(&url).body(unknown).send().await.expect("POST");
    assert_eq!(res.status(), 400);
}
