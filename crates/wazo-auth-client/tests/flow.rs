//! End-to-end flows against the pbx-mock wazo-auth stand-in. Every request they send is
//! also checked against the Swagger description.

mod common;

use std::time::Duration;

use futures_util::TryStreamExt as _;
use http::Method;
use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use wazo_auth_client::api::groups::GroupRequest;
use wazo_auth_client::api::policies::PolicyRequest;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::api::users::UserRequest;
use wazo_auth_client::{
    AccessType, Client, ClientBuilder, Error, ListParams, NewToken, Password, TokenRenewer,
    WazoTokenSource, list,
};

const SECRET: &str = "s3cre7-never-printed";

fn start() -> (MockServer, WazoMock) {
    let auth = WazoMock::new();
    auth.add_user("alice", SECRET, &["auth.#"]);
    auth.add_user("bob", "bobpw", &["confd.users.me.read"]);
    (MockServer::start(auth.clone()), auth)
}

fn client(server: &MockServer) -> ClientBuilder {
    ClientBuilder::from_url(server.url())
        .expect("mock URL")
        .prefix("")
}

fn alice(server: &MockServer) -> Client {
    client(server)
        .credentials("alice", Password::new(SECRET))
        .build()
        .expect("client")
}

#[tokio::test]
async fn seed_walkthrough() {
    let (server, _) = start();
    let c = alice(&server);
    assert_eq!(
        c.backends().list().await.unwrap(),
        vec!["ldap_user", "wazo_user"]
    );
    let token = c
        .token()
        .create(
            &NewToken::new()
                .backend("wazo_user")
                .expiration(3600)
                .session_type("mobile"),
        )
        .await
        .unwrap();
    assert_eq!(token.lifetime(), Some(Duration::from_secs(3600)));
    let t = token.token.expose_secret().to_owned();
    assert!(c.token().is_valid(&t, None, None).await.unwrap());
    let got = c
        .token()
        .get(&t, Some("auth.users.read"), None)
        .await
        .unwrap();
    assert_eq!(got.auth_id, token.auth_id);
    let denied = c.token().get(&t, Some("foobar"), None).await.unwrap_err();
    assert_eq!(denied.status().map(|s| s.as_u16()), Some(403));
    assert!(!c.token().is_valid(&t, Some("foobar"), None).await.unwrap());
    let tenant = token.tenant_uuid().unwrap().to_owned();
    assert!(c.token().is_valid(&t, None, Some(&tenant)).await.unwrap());

    c.set_token(Some(token.token.clone()));
    let policy = c
        .policies()
        .create(
            &PolicyRequest::new()
                .name("user")
                .description("The default policy for users")
                .acl(["auth.users.me.read", "auth.users.me.password.update"]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(c.policies().get(&policy.uuid).await.unwrap().name, "user");
    let edited = c
        .policies()
        .edit(
            &policy.uuid,
            &PolicyRequest::new()
                .name("user")
                .description("A new description")
                .acl(["auth.users.me.read"]),
        )
        .await
        .unwrap();
    assert_eq!(edited.acl, vec!["auth.users.me.read"]);
    c.policies()
        .add_access(&policy.uuid, "auth.#")
        .await
        .unwrap();
    c.policies()
        .remove_access(&policy.uuid, "auth.#")
        .await
        .unwrap();
    let page = c
        .policies()
        .list(&ListParams::new().search("A new description"), None)
        .await
        .unwrap();
    // As on the real server: `total` ignores `search` (the top tenant's default policy
    // counts too) and there is no `filtered`.
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.total, 2);
    assert_eq!(page.filtered, None);

    let sub = c
        .tenants()
        .create(&TenantRequest::new().name("sales").slug("sales"), None)
        .await
        .unwrap();
    let user = c
        .users()
        .create(
            &UserRequest::new()
                .username("carol")
                .email_address("carol@example.com")
                .password("pw"),
            Some(&sub.uuid),
        )
        .await
        .unwrap();
    assert_eq!(user.tenant_uuid.as_deref(), Some(sub.uuid.as_str()));
    let group = c
        .groups()
        .create(&GroupRequest::new().name("support"), Some(&sub.uuid))
        .await
        .unwrap();
    c.groups().add_user(&group.uuid, &user.uuid).await.unwrap();
    c.groups()
        .add_policy(&group.uuid, &policy.uuid, None)
        .await
        .unwrap();
    let groups = c
        .users()
        .get_groups(&user.uuid, &ListParams::new(), None)
        .await
        .unwrap();
    assert_eq!(groups.items[0].name, "support");
    let members = c
        .groups()
        .get_users(&group.uuid, &ListParams::new())
        .await
        .unwrap();
    assert_eq!(members.items[0].username.as_deref(), Some("carol"));
    let listed = c
        .users()
        .list(&ListParams::new().recurse(true), None)
        .await
        .unwrap();
    assert_eq!(listed.total, 3);

    // carol's token carries the group's policy.
    let carol = client(&server).build().unwrap();
    let ct = carol
        .token()
        .create(&NewToken::new().username("carol").password("pw"))
        .await
        .unwrap();
    assert!(ct.acl.contains(&"auth.users.me.read".to_owned()));

    c.policies().delete(&policy.uuid).await.unwrap();
    c.token().revoke(&t).await.unwrap();
    assert!(!c.token().is_valid(&t, None, None).await.unwrap());
    let err = c.token().check(&t, None, None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidToken));
    common::validate_journal(&server);
}

#[tokio::test]
async fn expiry_refresh_tokens_and_scopes() {
    let (server, auth) = start();
    let c = alice(&server);
    let token = c
        .token()
        .create(
            &NewToken::new()
                .expiration(60)
                .access_type(AccessType::Offline)
                .client_id("my-app"),
        )
        .await
        .unwrap();
    let refresh = token.refresh_token.clone().unwrap();
    let t = token.token.expose_secret().to_owned();
    let scopes = c
        .token()
        .check_scopes(&t, &["auth.users.read", "confd.x"], None)
        .await
        .unwrap();
    assert!(scopes.scopes["auth.users.read"]);
    assert!(!scopes.scopes["confd.x"]);

    auth.advance(Duration::from_secs(61));
    assert!(!c.token().is_valid(&t, None, None).await.unwrap());

    let anonymous = client(&server).build().unwrap();
    let again = anonymous
        .token()
        .create(&NewToken::new().refresh_token(refresh).client_id("my-app"))
        .await
        .unwrap();
    assert_eq!(again.auth_id, token.auth_id);
    anonymous.set_token(Some(again.token.clone()));
    let mine = anonymous
        .token()
        .list("me", &ListParams::new(), None)
        .await
        .unwrap();
    assert_eq!(mine.items[0].client_id, "my-app");
    let all = anonymous
        .refresh_tokens()
        .list(&ListParams::new(), None)
        .await
        .unwrap();
    assert_eq!(all.total, 1);
    anonymous
        .token()
        .delete("me", "my-app", None)
        .await
        .unwrap();
    assert_eq!(
        anonymous
            .refresh_tokens()
            .list(&ListParams::new(), None)
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    common::validate_journal(&server);
}

#[tokio::test]
async fn stream_walks_every_page() {
    let (server, _) = start();
    let c = client(&server)
        .credentials("alice", Password::new(SECRET))
        .auto_token(NewToken::new())
        .build()
        .unwrap();
    for i in 0..7 {
        c.users()
            .create(&UserRequest::new().username(format!("u{i}")), None)
            .await
            .unwrap();
    }
    let names: Vec<_> = list::all(ListParams::new().limit(3).order("username"), |p| {
        let c = c.clone();
        async move { c.users().list(&p, None).await }
    })
    .try_collect()
    .await
    .unwrap();
    assert_eq!(names.len(), 9);
    assert_eq!(server.count_method(&Method::GET, "/0.1/users"), 3);
    common::validate_journal(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_client_makes_one_token_request_for_500_calls() {
    let (server, auth) = start();
    let user = auth.add_user("dave", "pw", &[]);
    let c = client(&server)
        .credentials("alice", Password::new(SECRET))
        .auto_token(NewToken::new())
        // Generous: 500 calls on a loaded two-core machine must not time out.
        .timeout(Some(Duration::from_secs(120)))
        .build()
        .unwrap();
    let calls = (0..500).map(|_| {
        let c = c.clone();
        let user = user.clone();
        tokio::spawn(async move { c.users().get(&user, None).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.count_method(&Method::POST, "/0.1/token"), 1);
    assert_eq!(
        server.count_method(&Method::GET, &format!("/0.1/users/{user}")),
        500
    );
    common::validate_journal(&server);
}

#[tokio::test]
async fn a_revoked_automatic_token_is_replaced_once() {
    let (server, _) = start();
    let c = client(&server)
        .credentials("alice", Password::new(SECRET))
        .auto_token(NewToken::new())
        .build()
        .unwrap();
    let first = c.sessions().list(&ListParams::new(), None).await.unwrap();
    assert_eq!(first.total, 1);
    // Revoke the cached token behind the client's back: the next call gets a 401,
    // drops the token, fetches another and retries once.
    let plain = alice(&server);
    let token = server.requests_to("/0.1/sessions")[0]
        .header("x-auth-token")
        .unwrap()
        .to_owned();
    plain.token().revoke(&token).await.unwrap();
    c.sessions().list(&ListParams::new(), None).await.unwrap();
    assert_eq!(server.count_method(&Method::POST, "/0.1/token"), 2);
    common::validate_journal(&server);
}

#[tokio::test]
async fn errors_are_typed_and_never_show_secrets() {
    let (server, _) = start();
    let wrong = client(&server)
        .credentials("alice", Password::new("wrong"))
        .build()
        .unwrap();
    let err = wrong.token().create(&NewToken::new()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(
        match &err {
            Error::Http { body, .. } => body.message(),
            _ => None,
        },
        Some("Authentication Failed")
    );

    let c = alice(&server);
    let token = c.token().create(&NewToken::new()).await.unwrap();
    let t = token.token.expose_secret().to_owned();
    let bob = client(&server).token(token.token.clone()).build().unwrap();
    // Missing permission on a protected endpoint: 401 whose body echoes the token.
    let unauthorized = client(&server)
        .token(wazo_auth_client::AccessToken::new(uuid_like()))
        .build()
        .unwrap();
    let e401 = unauthorized
        .users()
        .list(&ListParams::new(), None)
        .await
        .unwrap_err();
    let no_creds = client(&server)
        .build()
        .unwrap()
        .token()
        .create(&NewToken::new())
        .await
        .unwrap_err();
    assert!(matches!(no_creds, Error::Config(_)));
    let refused = Client::builder("127.0.0.1")
        .port(1)
        .danger_plain_http()
        .build()
        .unwrap();
    let transport = refused.token().is_valid(&t, None, None).await.unwrap_err();
    assert!(matches!(transport, Error::Transport(_)));
    let core: pbx_auth_core::Error = err.into();

    let everything = format!(
        "{e401} {e401:?} {transport} {transport:?} {no_creds:?} {core} {core:?} {token:?} {bob:?} {c:?}"
    );
    assert!(!everything.contains(SECRET), "{everything}");
    assert!(!everything.contains(&t), "{everything}");
    assert!(!everything.contains(&uuid_like()), "{everything}");
    assert!(everything.contains("<redacted>"));
    common::validate_journal(&server);
}

fn uuid_like() -> String {
    "99999999-9999-4999-8999-999999999999".to_owned()
}

#[tokio::test]
async fn non_uuid_tokens_get_the_html_404() {
    let (server, _) = start();
    let c = alice(&server);
    let err = c.token().get("not-a-uuid", None, None).await.unwrap_err();
    match err {
        Error::Http { status, body } => {
            assert_eq!(status.as_u16(), 404);
            assert!(matches!(*body, wazo_auth_client::ErrorBody::Other { .. }));
        }
        other => panic!("{other:?}"),
    }
    common::validate_journal(&server);
}

#[tokio::test]
async fn renewer_on_the_real_source_revokes_on_stop() {
    let (server, auth) = start();
    let c = alice(&server);
    let source = WazoTokenSource::new(c.clone(), NewToken::new().expiration(3600));
    let handle = TokenRenewer::new(source).revoke_on_stop(true).start().await;
    let token = handle.token().unwrap();
    assert_eq!(token.lifetime(), Some(Duration::from_secs(3600)));
    let secret = token.token.expose_secret().to_owned();
    assert!(c.token().is_valid(&secret, None, None).await.unwrap());
    assert_eq!(auth.token_count(), 1);
    handle.stop().await.unwrap();
    assert!(!c.token().is_valid(&secret, None, None).await.unwrap());
    assert_eq!(auth.token_count(), 0);
    common::validate_journal(&server);
}

#[tokio::test]
async fn the_source_switches_to_its_refresh_token() {
    let (server, _) = start();
    let c = alice(&server);
    let request = NewToken::new()
        .access_type(AccessType::Offline)
        .client_id("daemon");
    let source = WazoTokenSource::new(c.clone(), request);
    let first = pbx_auth_core::TokenSource::fetch(&source, None)
        .await
        .unwrap();
    assert!(first.token.refresh_token.is_some());
    let second = pbx_auth_core::TokenSource::fetch(&source, None)
        .await
        .unwrap();
    assert_eq!(second.token.auth_id, first.token.auth_id);
    let logins = server.requests_to("/0.1/token");
    assert!(logins[0].header("authorization").is_some());
    assert!(logins[1].header("authorization").is_none());
    let body = logins[1].json().unwrap();
    assert_eq!(body["client_id"], "daemon");
    assert!(body["refresh_token"].is_string());
    assert!(body.get("access_type").is_none());
    common::validate_journal(&server);
}
