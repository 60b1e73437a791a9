//! The client against the in-process authnzerver mock: the whole flow, HTTP errors,
//! rejections, reqid checks and fault injection.

#![allow(clippy::unwrap_used)] // Helpers shared by tests unwrap like the tests do.

use std::time::Duration;

use authnz_proto::*;
use pbx_auth_core::{AccessToken, Password};
use pbx_mock::authnz::AuthnzMock;
use pbx_mock::{Fault, FaultRule, MockRequest, MockResponse, MockServer};

const ADMIN_PASSWORD: &str = "mock-admin-Zr8!qP2#wL5x";
const PASSWORD: &str = "Vq8#mZ2!rT6@kW1pLx";

fn key_text() -> String {
    FernetKey::generate().expose_secret().to_owned()
}

fn setup() -> (MockServer, Client, String) {
    let key = key_text();
    let server = MockServer::start(AuthnzMock::new(&key, ADMIN_PASSWORD).unwrap());
    let client = Client::new(server.url(), FernetKey::from_text(&key).unwrap()).unwrap();
    (server, client, key)
}

fn session_body(user_id: Option<i64>) -> SessionNew {
    SessionNew {
        ip_address: "127.0.0.1".into(),
        user_agent: "authnz-proto-test/0.1".into(),
        user_id,
        expires: Timestamp::in_future(Duration::from_secs(3600)),
        extra_info_json: None,
    }
}

async fn new_session(client: &Client, user_id: Option<i64>) -> AccessToken {
    let reply = client.session_new(&session_body(user_id)).await.unwrap();
    reply.response.session_token.unwrap()
}

#[tokio::test]
async fn sign_up_activate_login_and_api_key() {
    let (_server, client, _) = setup();
    let anon = new_session(&client, None).await;
    let created = client
        .user_new(&UserNew {
            full_name: "Test Person".into(),
            email: "Test@Example.org".into(),
            password: Password::new(PASSWORD),
        })
        .await
        .unwrap();
    let email = created.response.user_email.unwrap();
    assert_eq!(email, "test@example.org");
    let user_id = created.response.user_id.unwrap();

    // Not yet verified: the login is refused, and the anonymous session is gone.
    let login = UserLogin {
        session_token: anon.clone(),
        email: email.clone(),
        password: Password::new(PASSWORD),
    };
    let err = client.user_login(&login).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                request: "user-login",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.server_messages()[0].contains("didn't work"));

    let verified = client
        .user_verify_emailaddr(&UserVerifyEmailaddr {
            email: email.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        verified.response.user_role.as_deref(),
        Some("authenticated")
    );

    let anon = new_session(&client, None).await;
    let login = UserLogin {
        session_token: anon,
        ..login
    };
    assert_eq!(
        client.user_login(&login).await.unwrap().response.user_id,
        Some(user_id)
    );

    let session = new_session(&client, Some(user_id)).await;
    let info = client
        .session_exists(&SessionExists {
            session_token: session.clone(),
        })
        .await
        .unwrap()
        .response
        .session_info
        .unwrap();
    assert_eq!(info.email.as_deref(), Some("test@example.org"));

    let key = client
        .apikey_new(&ApikeyNew {
            audience: "test-service".into(),
            subject: "/api/test".into(),
            apiversion: 1.into(),
            expires_days: 30.into(),
            not_valid_before: 0.into(),
            user_id,
            user_role: "authenticated".into(),
            ip_address: "127.0.0.1".into(),
            user_agent: "authnz-proto-test/0.1".into(),
            session_token: session.clone(),
        })
        .await
        .unwrap();
    let dict = key.response.dict().unwrap();
    client
        .apikey_verify(&ApikeyVerify {
            apikey_dict: dict.clone(),
        })
        .await
        .unwrap();

    let mut forged = dict;
    forged.tkn = AccessToken::new("nope");
    let err = client
        .apikey_verify(&ApikeyVerify {
            apikey_dict: forged,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }));

    let out = client
        .user_logout(&UserLogout {
            session_token: session,
            user_id,
        })
        .await
        .unwrap();
    assert_eq!(out.response.user_id, Some(user_id));
}

#[tokio::test]
async fn http_errors_are_typed_and_never_decrypted() {
    let (server, _client, _) = setup();
    let wrong = Client::new(server.url(), FernetKey::from_text(&key_text()).unwrap()).unwrap();
    let err = wrong.session_new(&session_body(None)).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 401, .. }), "{err:?}");

    let (_server, client, _) = setup();
    let err = client
        .send_raw("no-such-request", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err:?}");
    let err = client
        .user_verify_emailaddr(&UserVerifyEmailaddr {
            email: "nobody@example.org".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Status { status: 400, .. }),
        "0.1.3 bug: {err:?}"
    );
}

#[tokio::test]
async fn faults_are_reported_and_not_retried() {
    let (server, client, _) = setup();
    server.inject(FaultRule::new("/", Fault::html(500, "<html>boom</html>")).times(1));
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 500, .. }), "{err:?}");
    assert_eq!(server.count("/"), 1, "no automatic retry");
    client.session_new(&session_body(None)).await.unwrap();

    server.inject(FaultRule::new("/", Fault::Drop).times(1));
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let key = key_text();
    let server = MockServer::start(AuthnzMock::new(&key, ADMIN_PASSWORD).unwrap());
    server.inject(FaultRule::new("/", Fault::Delay(Duration::from_secs(5))).times(1));
    let client = Client::builder(server.url(), FernetKey::from_text(&key).unwrap())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client.session_new(&session_body(None)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}

#[tokio::test]
async fn a_reply_with_another_reqid_is_a_protocol_error() {
    let key = key_text();
    let env = FernetEnvelope::new(FernetKey::from_text(&key).unwrap());
    let server = MockServer::start(move |_: &MockRequest| {
        let text = r#"{"success": true, "reqid": 7, "response": {}, "message": []}"#;
        MockResponse::text(200, "text/plain", env.seal(text.as_bytes()))
    });
    let client = Client::new(server.url(), FernetKey::from_text(&key).unwrap()).unwrap();
    let err = client
        .session_delete(&SessionDelete {
            session_token: AccessToken::new("x"),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReqIdMismatch { .. }), "{err:?}");
}

#[tokio::test]
async fn the_mock_refuses_a_repeated_reqid() {
    let key = key_text();
    let server = MockServer::start(AuthnzMock::new(&key, ADMIN_PASSWORD).unwrap());
    let env = FernetEnvelope::new(FernetKey::from_text(&key).unwrap());
    let http = reqwest::Client::new();
    let body = br#"{"request": "session-delete", "body": {"session_token": "x"}, "reqid": 5}"#;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let r = http
            .post(server.url())
            .body(env.seal(body))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 400]);
}

async fn active_user(client: &Client, email: &str) -> (i64, AccessToken) {
    let created = client
        .user_new(&UserNew {
            full_name: "Second Person".into(),
            email: email.into(),
            password: Password::new(PASSWORD),
        })
        .await
        .unwrap();
    let user_id = created.response.user_id.unwrap();
    client
        .user_verify_emailaddr(&UserVerifyEmailaddr {
            email: email.into(),
        })
        .await
        .unwrap();
    let anon = new_session(client, None).await;
    client
        .user_login(&UserLogin {
            session_token: anon,
            email: email.into(),
            password: Password::new(PASSWORD),
        })
        .await
        .unwrap();
    (user_id, new_session(client, Some(user_id)).await)
}

#[tokio::test]
async fn admin_locks_users_and_users_change_and_delete_themselves() {
    let (_server, client, _) = setup();
    let (user_id, session) = active_user(&client, "second@example.org").await;

    let anon = new_session(&client, None).await;
    let admin_login = UserLogin {
        session_token: anon,
        email: "admin@localhost".into(),
        password: Password::new(ADMIN_PASSWORD),
    };
    assert_eq!(
        client
            .user_login(&admin_login)
            .await
            .unwrap()
            .response
            .user_id,
        Some(1)
    );
    let admin = new_session(&client, Some(1)).await;
    let users = client.user_list(&UserList { user_id: None }).await.unwrap();
    assert_eq!(users.response.user_info.unwrap().len(), 4);

    let lock = |action| UserLock {
        user_id: 1,
        user_role: "superuser".into(),
        session_token: admin.clone(),
        target_userid: user_id,
        action,
    };
    let locked = client.user_lock(&lock(LockAction::Lock)).await.unwrap();
    assert_eq!(
        locked.response.user_info.unwrap().user_role.as_deref(),
        Some("locked")
    );
    let gone = client
        .session_exists(&SessionExists {
            session_token: session,
        })
        .await;
    assert!(matches!(gone, Err(Error::Rejected { .. })), "{gone:?}");
    client.user_lock(&lock(LockAction::Unlock)).await.unwrap();

    let access = UserCheckAccess {
        user_id,
        user_role: "authenticated".into(),
        action: "edit".into(),
        target_name: "collection".into(),
        target_owner: 1,
        target_visibility: "private".into(),
        target_sharedwith: None,
    };
    assert!(!client.user_check_access(&access).await.unwrap());
    assert!(
        client
            .user_check_access(&UserCheckAccess {
                target_owner: user_id,
                ..access
            })
            .await
            .unwrap()
    );

    let anon = new_session(&client, None).await;
    client
        .user_login(&UserLogin {
            session_token: anon,
            email: "second@example.org".into(),
            password: Password::new(PASSWORD),
        })
        .await
        .unwrap();
    let current = new_session(&client, Some(user_id)).await;
    let other = new_session(&client, Some(user_id)).await;
    client
        .session_delete_userid(&SessionDeleteUserid {
            user_id,
            session_token: current.clone(),
            keep_current_session: false,
        })
        .await
        .unwrap();
    let kept = client
        .session_exists(&SessionExists {
            session_token: current.clone(),
        })
        .await;
    assert!(
        kept.is_ok(),
        "0.1.3 keeps the current session whatever the flag says"
    );
    let gone = client
        .session_exists(&SessionExists {
            session_token: other,
        })
        .await;
    assert!(matches!(gone, Err(Error::Rejected { .. })), "{gone:?}");

    let new_password = Password::new("Nw7#kQ2!pZ9@xL4m");
    client
        .user_changepass(&UserChangepass {
            user_id,
            session_token: current,
            full_name: "second person".into(),
            email: "second@example.org".into(),
            current_password: Password::new(PASSWORD),
            new_password: new_password.clone(),
        })
        .await
        .unwrap();
    let err = client
        .user_delete(&UserDelete {
            email: "second@example.org".into(),
            user_id,
            password: Password::new(PASSWORD),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                request: "user-delete",
                ..
            }
        ),
        "{err:?}"
    );
    let deleted = client
        .user_delete(&UserDelete {
            email: "second@example.org".into(),
            user_id,
            password: new_password,
        })
        .await
        .unwrap();
    assert_eq!(deleted.response.user_id, Some(user_id));
}
