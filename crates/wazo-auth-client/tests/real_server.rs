//! The client against the stand-in where a real wazo-auth server showed defects: error
//! bodies whose `message` is an object or that have no `error_id`, 404s that are not
//! wazo-auth's, accesses with `/`, list walks, token requests naming another user, typed
//! e-mail updates, replacing `PUT`s, and server text echoed into errors.

use futures_util::TryStreamExt as _;
use pbx_mock::wazo::WazoMock;
use pbx_mock::{MockRequest, MockResponse, MockServer};
use wazo_auth_client::api::policies::PolicyRequest;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::api::users::{EmailUpdate, UserRequest};
use wazo_auth_client::{
    AccessToken, Client, ClientBuilder, Error, ErrorBody, ListParams, NewToken, Password, list,
};

const ADMIN_PW: &str = "admin-pw";

fn start() -> (MockServer, WazoMock) {
    let auth = WazoMock::new().with_admin("admin", ADMIN_PW);
    (MockServer::start(auth.clone()), auth)
}

fn admin(server: &MockServer) -> Client {
    ClientBuilder::from_url(server.url())
        .expect("mock URL")
        .prefix("")
        .credentials("admin", Password::new(ADMIN_PW))
        .build()
        .expect("client")
}

async fn logged_in(server: &MockServer) -> Client {
    let c = admin(server);
    let token = c
        .token()
        .create(&NewToken::new())
        .await
        .expect("admin token");
    c.set_token(Some(AccessToken::new(token.token.expose_secret())));
    c
}

fn api_body(err: &Error) -> &wazo_auth_client::ApiError {
    match err {
        Error::Http { body, .. } => match &**body {
            ErrorBody::Api(api) => api,
            other => panic!("expected the current format, got {other:?}"),
        },
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn object_messages_and_plain_messages_are_typed_errors() {
    let (server, _) = start();
    let c = logged_in(&server).await;
    let err = c
        .users()
        .list(&ListParams::new().order("nope"), None)
        .await
        .unwrap_err();
    let api = api_body(&err);
    assert_eq!(api.error_id.as_deref(), Some("invalid-list-param"));
    assert_eq!(api.resource.as_deref(), Some("users"));
    assert_eq!(
        api.message,
        "order: Must be one of: username, firstname, lastname."
    );
    assert!(
        api.message_fields
            .as_ref()
            .is_some_and(|m| m["order"].is_array())
    );
    assert!(err.to_string().contains("order: Must be one of"), "{err}");

    // The framework's plain `{"message"}` (here the 500 of a mail the server cannot send).
    let alice = c
        .users()
        .create(
            &UserRequest::new()
                .username("alice")
                .password("pw")
                .field("email_address", "alice@example.com"),
            None,
        )
        .await
        .unwrap();
    let emails = c
        .users()
        .update_emails(
            &alice.uuid,
            &[
                EmailUpdate::new("alice@example.com", true),
                EmailUpdate::new("alice2@example.com", false),
            ],
        )
        .await
        .unwrap();
    // Typed e-mails: the known address keeps its confirmation, the new one has none.
    assert_eq!(emails.len(), 2);
    assert!(emails[0].confirmed && emails[0].main);
    assert!(!emails[1].confirmed && !emails[1].uuid.is_empty());
    let err = c
        .users()
        .request_confirmation_email(&alice.uuid, &emails[1].uuid)
        .await
        .unwrap_err();
    let api = api_body(&err);
    assert_eq!(api.error_id, None);
    assert_eq!(api.message, "Internal Server Error");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));

    // An e-mail update error has its whole error tree as the message.
    let err = c
        .users()
        .update_emails(&alice.uuid, &[EmailUpdate::new("a@example.com", false)])
        .await
        .unwrap_err();
    let api = api_body(&err);
    assert_eq!(api.error_id.as_deref(), Some("invalid-data"));
    assert_eq!(api.resource.as_deref(), Some("emails"));
    assert_eq!(api.message, "At least one address should be main");
}

#[tokio::test]
async fn a_404_that_is_not_wazo_auth_s_is_a_wrong_base_url() {
    let (server, _) = start();
    let c = logged_in(&server).await;
    let token = c.token().create(&NewToken::new()).await.unwrap();
    let t = token.token.expose_secret().to_owned();
    // The stand-in, like the daemon, serves `/0.1` only: `/api/auth/0.1` is an HTML 404.
    let wrong = ClientBuilder::from_url(server.url())
        .expect("mock URL")
        .prefix("/api/auth")
        .build()
        .expect("client");
    for result in [
        wrong.token().check(&t, None, None).await.map(drop),
        wrong.token().is_valid(&t, None, None).await.map(drop),
        wrong.token().revoke(&t).await,
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::NotWazo { .. }), "{err:?}");
        assert!(
            err.to_string().contains("wrong base URL or prefix"),
            "{err}"
        );
    }
    // The token is still valid: nothing was revoked.
    assert!(c.token().check(&t, None, None).await.unwrap());
    // The real server's answers for an unknown token: a JSON 404 on checks, 200 on revoke.
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        c.token().check(unknown, None, None).await,
        Err(Error::InvalidToken)
    ));
    assert!(!c.token().is_valid(unknown, None, None).await.unwrap());
    c.token().revoke(unknown).await.unwrap();
}

#[tokio::test]
async fn an_access_with_a_slash_is_refused_before_sending() {
    let (server, _) = start();
    let c = logged_in(&server).await;
    let policy = c
        .policies()
        .create(
            &PolicyRequest::new().name("p").acl(["auth.users.read"]),
            None,
        )
        .await
        .unwrap();
    let before = server.count("/0.1/policies/");
    for result in [
        c.policies().add_access(&policy.uuid, "auth.a/b").await,
        c.policies().remove_access(&policy.uuid, "auth.a/b").await,
    ] {
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    }
    assert_eq!(server.count("/0.1/policies/"), before, "nothing was sent");
    let acl = c.policies().get(&policy.uuid).await.unwrap().acl;
    assert_eq!(acl, vec!["auth.users.read"]);
    // Other reserved characters travel encoded and are stored as given.
    for access in [
        "!auth.users.create",
        "auth.users.*.read",
        "confd.#",
        "a%2Fb",
    ] {
        c.policies().add_access(&policy.uuid, access).await.unwrap();
    }
    let acl = c.policies().get(&policy.uuid).await.unwrap().acl;
    assert_eq!(
        acl,
        vec![
            "auth.users.read",
            "!auth.users.create",
            "auth.users.*.read",
            "confd.#",
            "a%2Fb"
        ]
    );
}

#[tokio::test]
async fn list_walks_stop_without_an_extra_request() {
    let (server, _) = start();
    let c = logged_in(&server).await;
    for i in 0..3 {
        c.policies()
            .create(&PolicyRequest::new().name(format!("pager-{i}")), None)
            .await
            .unwrap();
    }
    server.reset_journal();
    // `/policies` has no `filtered` and its `total` counts every policy, not the matches.
    let found: Vec<_> = list::all(ListParams::new().search("pager").limit(2), |p| {
        let c = c.clone();
        async move { c.policies().list(&p, None).await }
    })
    .try_collect()
    .await
    .unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(
        server.count("/0.1/policies"),
        2,
        "two pages, no empty third"
    );
    // With `filtered`, a walk ends when it is reached.
    for i in 0..5 {
        c.users()
            .create(
                &UserRequest::new()
                    .username(format!("page-{i}"))
                    .password("p"),
                None,
            )
            .await
            .unwrap();
    }
    server.reset_journal();
    let users: Vec<_> = list::all(ListParams::new().search("page-").limit(2), |p| {
        let c = c.clone();
        async move { c.users().list(&p, None).await }
    })
    .try_collect()
    .await
    .unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(server.count("/0.1/users"), 3);
}

#[tokio::test]
async fn a_page_bound_ends_a_walk_that_never_ends() {
    use wazo_auth_client::Page;
    // A server that always answers a full page with no `filtered`.
    let pages = std::sync::atomic::AtomicU64::new(0);
    let pages = &pages;
    let result: Result<Vec<u32>, Error> = list::all(ListParams::new().limit(1), |_| async move {
        pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let page: Page<u32> =
            serde_json::from_value(serde_json::json!({"total": 1, "items": [1]})).unwrap();
        Ok(page)
    })
    .try_collect()
    .await;
    assert!(matches!(
        result,
        Err(Error::ListTooLong {
            pages: list::MAX_PAGES
        })
    ));
    assert_eq!(
        pages.load(std::sync::atomic::Ordering::Relaxed),
        list::MAX_PAGES
    );
}

#[tokio::test]
async fn a_username_in_the_request_never_gets_the_stored_password() {
    let (server, auth) = start();
    auth.add_user("bob", ADMIN_PW, &["auth.#"]);
    let c = admin(&server);
    server.reset_journal();
    let err = c
        .token()
        .create(&NewToken::new().username("bob"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(server.count("/0.1/token"), 0, "nothing was sent");
    // With its own password it works.
    let token = c
        .token()
        .create(&NewToken::new().username("bob").password(ADMIN_PW))
        .await
        .unwrap();
    assert!(!token.token.expose_secret().is_empty());
}

#[tokio::test]
async fn edits_change_what_they_set_and_keep_the_rest() {
    let (server, _) = start();
    let c = logged_in(&server).await;
    let user = c
        .users()
        .create(
            &UserRequest::new()
                .username("carol")
                .firstname("Carol")
                .lastname("Lewis")
                .password("pw"),
            None,
        )
        .await
        .unwrap();
    let edited = c
        .users()
        .edit(&user.uuid, &UserRequest::new().firstname("Caroline"), None)
        .await
        .unwrap();
    assert_eq!(edited.firstname.as_deref(), Some("Caroline"));
    assert_eq!(edited.lastname.as_deref(), Some("Lewis"));
    assert_eq!(edited.username.as_deref(), Some("carol"));
    // `replace` is the server's PUT as it is: what it leaves out is reset.
    let replaced = c
        .users()
        .replace(&user.uuid, &UserRequest::new().username("carol"), None)
        .await
        .unwrap();
    assert_eq!(replaced.lastname, None);

    let tenant = c
        .tenants()
        .create(
            &TenantRequest::new()
                .name("acme")
                .field("domain_names", serde_json::json!(["acme.example.com"]))
                .field("address", serde_json::json!({"city": "Quebec"})),
            None,
        )
        .await
        .unwrap();
    let edited = c
        .tenants()
        .edit(&tenant.uuid, &TenantRequest::new().name("acme2"))
        .await
        .unwrap();
    assert_eq!(edited.name.as_deref(), Some("acme2"));
    assert_eq!(edited.domain_names, vec!["acme.example.com"]);
    let city = edited.address.and_then(|a| a.city);
    assert_eq!(city.as_deref(), Some("Quebec"));

    let policy = c
        .policies()
        .create(
            &PolicyRequest::new()
                .name("readers")
                .description("read users")
                .acl(["auth.users.read"]),
            None,
        )
        .await
        .unwrap();
    let edited = c
        .policies()
        .edit(&policy.uuid, &PolicyRequest::new().name("readers2"))
        .await
        .unwrap();
    assert_eq!(edited.description.as_deref(), Some("read users"));
    assert_eq!(edited.acl, vec!["auth.users.read"]);
}

/// A server page that echoes the whole request back, as some proxies' error pages do.
fn echo(req: &MockRequest) -> MockResponse {
    let mut text = format!("<html><pre>{} {}\n", req.method, req.path);
    for (name, value) in &req.headers {
        text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    text.push_str(&String::from_utf8_lossy(&req.body));
    text.push_str("</pre></html>");
    if req
        .path
        .ends_with("/users/11111111-1111-4111-8111-111111111111")
    {
        // A success body of the wrong shape, quoting a secret-looking value.
        return MockResponse::json(
            200,
            &serde_json::json!({"uuid": "u", "enabled": "canary-77f0e6c1d2"}),
        );
    }
    MockResponse::text(400, "text/html", text)
}

#[tokio::test]
async fn server_text_echoed_into_errors_is_redacted() {
    const CANARY: &str = "canary-pw-9f2c41";
    let server = MockServer::start(echo);
    let c = ClientBuilder::from_url(server.url())
        .expect("mock URL")
        .prefix("")
        .credentials("alice", Password::new(CANARY))
        .token(AccessToken::new("4b7e2c0a-5d1f-4c3e-9a8b-7f6e5d4c3b2a"))
        .build()
        .expect("client");
    let err = c.token().create(&NewToken::new()).await.unwrap_err();
    let basic = base64_of(&format!("alice:{CANARY}"));
    let err2 = c
        .users()
        .create(&UserRequest::new().username("x").password(CANARY), None)
        .await
        .unwrap_err();
    for err in [&err, &err2] {
        let shown = format!("{err:?} {err}");
        assert!(matches!(err, Error::Http { .. }), "{shown}");
        for secret in [
            CANARY,
            basic.as_str(),
            "4b7e2c0a-5d1f-4c3e-9a8b-7f6e5d4c3b2a",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("<redacted>"), "{shown}");
    }
    let err = c
        .users()
        .get("11111111-1111-4111-8111-111111111111", None)
        .await
        .unwrap_err();
    let mut shown = format!("{err:?} {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(matches!(err, Error::Decode { .. }), "{shown}");
    assert!(!shown.contains("canary"), "{shown}");
}

fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
