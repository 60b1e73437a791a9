//! Request shapes against the recordings of the Python client
//! (`tests/data/python-client-requests.jsonl`), and every request the tests emit against
//! the server's Swagger description (`tests/data/wazo-auth-api-merged.swagger2.yml`).

mod common;

use std::sync::{Arc, Mutex};

use pbx_mock::wazo::WazoMock;
use pbx_mock::{MockRequest, MockResponse, MockServer};
use serde_json::{Value, json};
use wazo_auth_client::api::config::ConfigPatch;
use wazo_auth_client::api::groups::GroupRequest;
use wazo_auth_client::api::ldap_config::LdapConfigRequest;
use wazo_auth_client::api::policies::PolicyRequest;
use wazo_auth_client::api::saml_config::SamlConfigRequest;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::api::users::{EmailUpdate, ResetBy, UserRequest};
use wazo_auth_client::{
    AccessToken, AccessType, Client, ClientBuilder, Direction, ListParams, NewToken, Password,
};

const U: &str = "11111111-1111-1111-1111-111111111111";
const P: &str = "22222222-2222-2222-2222-222222222222";
const G: &str = "33333333-3333-3333-3333-333333333333";
const T: &str = "44444444-4444-4444-4444-444444444444";
const S: &str = "55555555-5555-5555-5555-555555555555";
const E: &str = "66666666-6666-6666-6666-666666666666";
const K: &str = "77777777-7777-7777-7777-777777777777";

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn lp() -> ListParams {
    ListParams::new()
}

/// The Rust call equivalent to each recorded Python call. Results are ignored: only the
/// request matters here.
async fn replay(c: &Client, python_call: &str) -> bool {
    let t = c.token();
    let u = c.users();
    let _ = match python_call {
        "c.token.new()" => t.create(&NewToken::new()).await.map(drop),
        "c.token.new('wazo_user', expiration=3600, session_type='mobile', user_agent='my-ua', access_type='offline', client_id='cid', refresh_token=None, username='bob', password='pw', tenant_id='tid', domain_name=None)" =>
        {
            let r = NewToken::new()
                .backend("wazo_user")
                .expiration(3600)
                .session_type("mobile")
                .user_agent("my-ua")
                .access_type(AccessType::Offline)
                .client_id("cid")
                .username("bob")
                .password("pw")
                .tenant_id("tid");
            t.create(&r).await.map(drop)
        }
        "c.token.get(K, required_acl='confd.users.read', tenant=T)" => {
            t.get(K, Some("confd.users.read"), Some(T)).await.map(drop)
        }
        "c.token.is_valid(K, required_acl='a.b', tenant=T)" => {
            t.is_valid(K, Some("a.b"), Some(T)).await.map(drop)
        }
        "c.token.is_valid(K)" => t.is_valid(K, None, None).await.map(drop),
        "c.token.check(K, 'a.b', tenant=T)" => t.check(K, Some("a.b"), Some(T)).await.map(drop),
        "c.token.check(K)" => t.check(K, None, None).await.map(drop),
        "c.token.revoke(K)" => t.revoke(K).await,
        "c.token.delete(U, 'cid', tenant_uuid=T)" => t.delete(U, "cid", Some(T)).await,
        "c.refresh_tokens.list(limit=1, tenant_uuid=T, recurse=True)" => c
            .refresh_tokens()
            .list(&lp().limit(1).recurse(true), Some(T))
            .await
            .map(drop),
        "c.admin.update_user_emails(U, [{'address':'a@b.c','main':True,'confirmed':True}])" => {
            let emails = [EmailUpdate::new("a@b.c", true).confirmed(true)];
            c.admin().update_user_emails(U, &emails).await.map(drop)
        }
        "c.config.get()" => c.config().get().await.map(drop),
        "c.emails.confirm(E)" => c.emails().confirm(E).await,
        "c.external.create('mobile', U, {'token':'x'})" => c
            .external()
            .create("mobile", U, &json!({"token": "x"}))
            .await
            .map(drop),
        "c.external.delete('google', U)" => c.external().delete("google", U).await,
        "c.external.delete_config('google', tenant_uuid=T)" => {
            c.external().delete_config("google", Some(T)).await
        }
        "c.external.get_config('google')" => {
            c.external().get_config("google", None).await.map(drop)
        }
        "c.external.list_(U, search='g', limit=5, offset=1, order='type', direction='asc')" => {
            let p = lp()
                .search("g")
                .limit(5)
                .offset(1)
                .order("type")
                .direction(Direction::Asc);
            c.external().list(U, &p).await.map(drop)
        }
        "c.external.update('mobile', U, {'token':'y'})" => c
            .external()
            .update("mobile", U, &json!({"token": "y"}))
            .await
            .map(drop),
        "c.external.update_config('mobile', {'fcm_api_key':'k'}, tenant_uuid=T)" => {
            c.external()
                .update_config("mobile", &json!({"fcm_api_key": "k"}), Some(T))
                .await
        }
        "c.groups.add_user(G, U)" => c.groups().add_user(G, U).await,
        "c.groups.delete(G)" => c.groups().delete(G).await,
        "c.groups.get(G)" => c.groups().get(G).await.map(drop),
        "c.groups.get_policies(G, tenant_uuid=T, limit=2)" => c
            .groups()
            .get_policies(G, &lp().limit(2), Some(T))
            .await
            .map(drop),
        "c.groups.list(search='x', name='n', order='name', direction='desc', limit=10, offset=20, tenant_uuid=T, recurse=True)" =>
        {
            let p = lp()
                .search("x")
                .filter("name", "n")
                .order("name")
                .direction(Direction::Desc)
                .limit(10)
                .offset(20)
                .recurse(true);
            c.groups().list(&p, Some(T)).await.map(drop)
        }
        "c.groups.new(name='g', slug='g', tenant_uuid=T)" => c
            .groups()
            .create(&GroupRequest::new().name("g").slug("g"), Some(T))
            .await
            .map(drop),
        "c.groups.remove_user(G, U)" => c.groups().remove_user(G, U).await,
        "c.idp.list()" => c.idp().list().await.map(drop),
        "c.idp.add_users('saml', [{'uuid':U}])" => c.idp().add_users("saml", &[U]).await,
        "c.idp.remove_user('ldap', U)" => c.idp().remove_user("ldap", U).await,
        "c.ldap_config.update({'host':'h','port':389}, tenant_uuid=T)" => {
            let r = LdapConfigRequest::new().host("h").port(389);
            c.ldap_config().update(&r, Some(T)).await.map(drop)
        }
        "c.ldap_config.delete()" => c.ldap_config().delete(None).await,
        "c.policies.add_access(P, '!a.b/c d')" => c.policies().add_access(P, "!a.b/c d").await,
        "c.policies.delete(P)" => c.policies().delete(P).await,
        "c.policies.get(P)" => c.policies().get(P).await.map(drop),
        "c.policies.list(tenant_uuid=T, search='user', order='name', direction='asc', limit=10, offset=0, recurse=True)" =>
        {
            let p = lp()
                .search("user")
                .order("name")
                .direction(Direction::Asc)
                .limit(10)
                .offset(0)
                .recurse(true);
            c.policies().list(&p, Some(T)).await.map(drop)
        }
        "c.policies.remove_access(P, 'a.#')" => c.policies().remove_access(P, "a.#").await,
        "c.saml.sso('example.com', 'https://app/')" => {
            c.saml().sso("example.com", "https://app/").await.map(drop)
        }
        "c.saml.logout()" => c.saml().logout().await.map(drop),
        "c.saml_config.get(tenant_uuid=T)" => c.saml_config().get(Some(T)).await.map(drop),
        "c.saml_config.update(data={'entity_id':'e'})" => {
            c.saml_config()
                .update(&SamlConfigRequest::new().entity_id("e"), None, None)
                .await
        }
        "c.saml_config.delete()" => c.saml_config().delete(None).await,
        "c.saml_config.get_metadata(T)" => c.saml_config().get_metadata(Some(T)).await.map(drop),
        "c.sessions.list(limit=10, offset=20, tenant_uuid=T, recurse=True)" => c
            .sessions()
            .list(&lp().limit(10).offset(20).recurse(true), Some(T))
            .await
            .map(drop),
        "c.status.check()" => c.status().check().await,
        "c.tenants.delete(T, tenant_uuid='PARENT')" => c.tenants().delete(T, Some("PARENT")).await,
        "c.tenants.edit(T, name='n')" => c
            .tenants()
            .replace(T, &TenantRequest::new().name("n"))
            .await
            .map(drop),
        "c.tenants.list(tenant_uuid=T, limit=1, search='x')" => c
            .tenants()
            .list(&lp().limit(1).search("x"), Some(T))
            .await
            .map(drop),
        "c.tenants.new(name='t', parent_uuid='PARENT', slug='s')" => c
            .tenants()
            .create(&TenantRequest::new().name("t").slug("s"), Some("PARENT"))
            .await
            .map(drop),
        "c.tenants.get_domains(T)" => c.tenants().get_domains(T).await.map(drop),
        "c.users.add_policy(U, P, tenant_uuid=T)" => u.add_policy(U, P, Some(T)).await,
        "c.users.delete(U, tenant_uuid=T)" => u.delete(U, Some(T)).await,
        "c.users.edit(U, firstname='f', tenant_uuid=T)" => u
            .replace(U, &UserRequest::new().firstname("f"), Some(T))
            .await
            .map(drop),
        "c.users.get_groups(U, tenant_uuid=T, limit=1)" => {
            u.get_groups(U, &lp().limit(1), Some(T)).await.map(drop)
        }
        "c.users.get_policies(U, limit=1)" => {
            u.get_policies(U, &lp().limit(1), None).await.map(drop)
        }
        "c.users.list(search='foo', limit=5, offset=10, order='username', direction='asc', tenant_uuid=T, recurse=True)" =>
        {
            let p = lp()
                .search("foo")
                .limit(5)
                .offset(10)
                .order("username")
                .direction(Direction::Asc)
                .recurse(true);
            u.list(&p, Some(T)).await.map(drop)
        }
        "c.users.new(username='alice', email_address='a@b.c', password='p', tenant_uuid=T)" => {
            let r = UserRequest::new()
                .username("alice")
                .email_address("a@b.c")
                .password("p");
            u.create(&r, Some(T)).await.map(drop)
        }
        "c.users.remove_policy(U, P)" => u.remove_policy(U, P, None).await,
        "c.users.remove_session(U, S)" => u.remove_session(U, S).await,
        "c.users.reset_password(username='alice')" => {
            u.reset_password(ResetBy::Username("alice")).await
        }
        "c.users.set_password(U, 'newpw', token='MAILTOKEN')" => {
            u.set_password(
                U,
                Some(&Password::new("newpw")),
                Some(&AccessToken::new("MAILTOKEN")),
            )
            .await
        }
        "c.users.get(U)" => u.get(U, None).await.map(drop),
        _ => return false,
    };
    true
}

/// Headers whose values are compared (`User-Agent` separately).
const COMPARED: &[&str] = &[
    "x-auth-token",
    "wazo-tenant",
    "authorization",
    "wazo-session-type",
    "accept",
    "content-type",
];

fn recorded_header(record: &Value, name: &str) -> Option<String> {
    record["headers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
}

/// The documented divergences, applied to what Python sent.
fn expected_after_divergences(record: &Value) -> (String, Vec<(String, String)>, Option<Value>) {
    let call = record["python_call"].as_str().unwrap_or_default();
    let mut path = record["path"].as_str().unwrap_or_default().to_owned();
    if call.starts_with("c.policies.add_access") {
        // Every reserved character is escaped, `/` included.
        if let Some((head, access)) = path.split_once("/acl/") {
            path = format!("{head}/acl/{}", access.replace('/', "%2F"));
        }
    }
    // tenant_uuid is sent in the Wazo-Tenant header only.
    let query = record["query"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned())))
        .filter(|(k, _)| k != "tenant_uuid")
        .collect();
    let body =
        record["body"].as_str().filter(|b| !b.is_empty()).map(|b| {
            match serde_json::from_str::<Value>(b) {
                Ok(Value::Object(mut m)) => {
                    m.remove("tenant_uuid");
                    Value::Object(m)
                }
                Ok(other) => other,
                Err(_) => Value::String(b.to_owned()),
            }
        });
    (path, query, body)
}

fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

/// Recorded Python calls the Rust client refuses before sending, on purpose: an access
/// with `/` in `policies/{uuid}/acl/{access}` cannot reach the real server as given (it
/// does not decode `%2F` there, and a raw `/` is another route: an HTML 404).
const REFUSED: &[&str] = &["c.policies.add_access(P, '!a.b/c d')"];

fn client_like_python(url: &str) -> Client {
    ClientBuilder::from_url(url)
        .expect("mock URL")
        .prefix("")
        .credentials("alice", Password::new("s3cr37"))
        .token(AccessToken::new("TOKEN-1"))
        .tenant("TENANT-CLIENT")
        .user_agent("ua-test")
        .build()
        .expect("client")
}

#[tokio::test]
async fn every_recorded_python_request_is_reproduced() {
    let records: Vec<Value> = data("python-client-requests.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r.get("method").is_some())
        .collect();
    assert!(records.len() >= 60);
    let status = Arc::new(Mutex::new(200u16));
    let s = Arc::clone(&status);
    let server = MockServer::start(move |_: &MockRequest| {
        let code = *s.lock().expect("lock");
        if code == 204 {
            MockResponse::status(204)
        } else {
            MockResponse::json(code, &json!({}))
        }
    });
    let c = client_like_python(server.url());
    let mut checked = 0;
    for record in &records {
        let call = record["python_call"].as_str().unwrap();
        *status.lock().expect("lock") =
            u16::try_from(record["response_status"].as_u64().unwrap()).unwrap();
        let before = server.total();
        assert!(replay(&c, call).await, "no Rust equivalent for {call}");
        if REFUSED.contains(&call) {
            assert_eq!(
                server.total(),
                before,
                "{call} must be refused before sending"
            );
            continue;
        }
        assert_eq!(server.total(), before + 1, "{call} sent no request");
        let sent = server.journal().pop().unwrap().request;
        let (path, query, body) = expected_after_divergences(record);
        assert_eq!(
            sent.method.as_str(),
            record["method"].as_str().unwrap(),
            "{call}"
        );
        assert_eq!(sent.path, path, "{call}");
        assert_eq!(sorted(sent.query_pairs()), sorted(query), "{call}");
        for name in COMPARED {
            let mut got = sent.header(name).map(str::to_owned);
            // Where Python sends no Accept, reqwest sends its default `*/*`.
            if *name == "accept"
                && got.as_deref() == Some("*/*")
                && recorded_header(record, name).is_none()
            {
                got = None;
            }
            assert_eq!(got, recorded_header(record, name), "{call}: {name}");
        }
        let ua = recorded_header(record, "user-agent");
        if ua.as_deref() != Some("Wazo Python auth client") {
            assert_eq!(
                sent.header("user-agent").map(str::to_owned),
                ua,
                "{call}: user-agent"
            );
        }
        match (&body, sent.json()) {
            (None, _) => assert!(sent.body.is_empty(), "{call}: unexpected body"),
            (Some(Value::String(form)), _) => {
                let want: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
                    .into_owned()
                    .collect();
                assert_eq!(sent.form_pairs(), want, "{call}: form body");
            }
            (Some(want), Some(got)) => assert_eq!(&got, want, "{call}: JSON body"),
            (Some(_), None) => panic!("{call}: no JSON body"),
        }
        common::validate_against_swagger(&sent);
        checked += 1;
    }
    assert_eq!(checked + REFUSED.len(), records.len());
}

/// A walkthrough against the stand-in, to validate more requests against the Swagger.
#[tokio::test]
async fn walkthrough_requests_match_the_swagger() {
    let auth = WazoMock::new();
    auth.add_user("alice", "pw", &["auth.#"]);
    let server = MockServer::start(auth);
    let c = ClientBuilder::from_url(server.url())
        .unwrap()
        .prefix("")
        .credentials("alice", Password::new("pw"))
        .build()
        .unwrap();
    let token = c
        .token()
        .create(
            &NewToken::new()
                .expiration(60)
                .access_type(AccessType::Offline)
                .client_id("x"),
        )
        .await
        .unwrap();
    let k = token.token.expose_secret().to_owned();
    c.token().check_scopes(&k, &["a.b"], None).await.unwrap();
    c.set_token(Some(token.token.clone()));
    let p = c
        .policies()
        .create(
            &PolicyRequest::new().name("p").acl(["auth.users.read"]),
            None,
        )
        .await
        .unwrap();
    c.policies()
        .edit(&p.uuid, &PolicyRequest::new().name("p2"))
        .await
        .unwrap();
    let t = c
        .tenants()
        .create(&TenantRequest::new().name("t"), None)
        .await
        .unwrap();
    c.tenants().get(&t.uuid).await.unwrap();
    let user = c
        .users()
        .create(&UserRequest::new().username("bob").password("pw"), None)
        .await
        .unwrap();
    let g = c
        .groups()
        .create(&GroupRequest::new().name("g"), None)
        .await
        .unwrap();
    c.groups()
        .edit(&g.uuid, &GroupRequest::new().name("g2"))
        .await
        .unwrap();
    c.groups().add_policy(&g.uuid, &p.uuid, None).await.unwrap();
    c.groups().get_users(&g.uuid, &lp()).await.unwrap();
    c.users()
        .add_policy(&user.uuid, &p.uuid, None)
        .await
        .unwrap();
    c.users()
        .get_sessions(&user.uuid, &lp(), None)
        .await
        .unwrap();
    c.token().list("me", &lp(), None).await.unwrap();
    c.sessions().list(&lp(), None).await.unwrap();
    c.backends().list().await.unwrap();
    let _ = c
        .config()
        .patch(&[ConfigPatch::replace("/debug", true)])
        .await;
    let _ = c
        .users()
        .change_password(&user.uuid, &Password::new("pw"), &Password::new("new"))
        .await;
    let _ = c.users().request_confirmation_email(&user.uuid, E).await;
    let _ = c
        .users()
        .update_emails(&user.uuid, &[EmailUpdate::new("b@c.d", true)])
        .await;
    let _ = c
        .users()
        .register(
            &UserRequest::new()
                .username("z")
                .password("pw")
                .email_address("z@c.d"),
        )
        .await;
    let _ = c.idp().add_user("native", &user.uuid).await;
    let _ = c.external().list_connected_users("google", &lp()).await;
    let _ = c.external().get("google", &user.uuid, None).await;
    let _ = c.external().mobile_sender_id(&user.uuid).await;
    let _ = c
        .external()
        .create_config("google", &json!({"client_id": "a"}), None)
        .await;
    let _ = c.saml().acs("resp", "state").await;
    let _ = c
        .saml_config()
        .create(
            &SamlConfigRequest::new()
                .domain_uuid(U)
                .entity_id("e")
                .acs_url("https://x/"),
            b"<xml/>",
            None,
        )
        .await;
    let _ = c.saml_config().get_acs_template().await;
    let _ = c.ldap_config().get(None).await;
    let _ = c.tenants().set_parent(&t.uuid, &auth_top(&c).await).await;
    c.groups()
        .remove_policy(&g.uuid, &p.uuid, None)
        .await
        .unwrap();
    c.users()
        .remove_policy(&user.uuid, &p.uuid, None)
        .await
        .unwrap();
    c.policies().delete(&p.uuid).await.unwrap();
    c.token().delete("me", "x", None).await.unwrap();
    c.token().revoke(&k).await.unwrap();
    let journal = server.journal();
    assert!(journal.len() > 30);
    for recorded in journal {
        common::validate_against_swagger(&recorded.request);
    }
}

async fn auth_top(c: &Client) -> String {
    c.tenants()
        .list(&lp(), None)
        .await
        .map(|p| p.items[0].uuid.clone())
        .unwrap_or_default()
}

#[test]
fn the_swagger_knows_every_method_we_call() {
    // Spot checks that the matcher picks the most literal template.
    let sw = common::swagger();
    assert_eq!(
        sw.template("/users/password/reset").map(|t| t.0),
        Some("/users/password/reset")
    );
    assert_eq!(
        sw.template(&format!("/users/{U}")).map(|t| t.0),
        Some("/users/{user_uuid}")
    );
}
