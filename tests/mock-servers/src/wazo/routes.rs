//! Request routing and the endpoint logic.

use std::time::Duration;

use base64::Engine as _;
use http::Method;
use serde_json::{Map, Value, json};

use super::acl;
use super::reply::{
    api, bad_list_params, html_not_found, legacy, no_content, ok, page, unauthorized,
};
use super::state::{RefreshRec, State, TokenRec, is_uuid, iso, uuid4};
use crate::message::{MockRequest, MockResponse};

/// The caller of a protected endpoint.
struct Caller {
    token: TokenRec,
    /// The scoping tenant: `Wazo-Tenant`, else the caller's own.
    tenant: String,
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn route(st: &mut State, req: &MockRequest) -> MockResponse {
    let path = req.path.strip_prefix("/api/auth").unwrap_or(&req.path);
    let Some(rest) = path.strip_prefix("/0.1/") else {
        return html_not_found();
    };
    let segs: Vec<String> = rest.split('/').map(decode).collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = &req.method;
    let get = *m == Method::GET;
    let head = *m == Method::HEAD;
    let put = *m == Method::PUT;
    let post = *m == Method::POST;
    let del = *m == Method::DELETE;
    match s.as_slice() {
        ["token"] if post => token_create(st, req),
        ["token", t] if get || head => token_check(st, req, t, head),
        ["token", t] if del => token_revoke(st, t),
        ["token", t, "scopes", "check"] if post => scopes_check(st, req, t),
        ["tokens"] if get => with(st, req, "auth.tokens.read", |st, c| {
            refresh_list(st, req, &c, None)
        }),
        ["users", u, "tokens"] if get => {
            let acl = format!("auth.users.{}.tokens.read", dots(u));
            with(st, req, &acl, |st, c| {
                let user = if *u == "me" {
                    c.token.auth_id.clone()
                } else {
                    (*u).to_owned()
                };
                refresh_list(st, req, &c, Some(&user))
            })
        }
        ["users", u, "tokens", cid] if del => {
            let acl = format!("auth.users.{}.tokens.{}.delete", dots(u), dots(cid));
            with(st, req, &acl, |st, c| {
                let user = if *u == "me" {
                    c.token.auth_id
                } else {
                    (*u).to_owned()
                };
                let before = st.refresh.len();
                st.refresh
                    .retain(|r| !(r.user_uuid == user && r.client_id == *cid));
                if st.refresh.len() == before {
                    api(404, "not-found", "No such refresh token", json!({}))
                } else {
                    no_content()
                }
            })
        }
        ["backends"] if get => ok(&json!({ "data": ["wazo_user"] })),
        ["status"] if head || get => ok(&json!({ "rest_api": { "status": "ok" } })),
        ["users"] if post => with(st, req, "auth.users.create", |st, c| {
            user_create(st, req, &c)
        }),
        ["users"] if get => with(st, req, "auth.users.read", |st, c| {
            listing(st, req, &c, Kind::Users)
        }),
        ["users", u] if get => with(st, req, &format!("auth.users.{}.read", dots(u)), |st, _| {
            found(st.users.get(*u), "unknown-user", u)
        }),
        ["users", u] if put => with(
            st,
            req,
            &format!("auth.users.{}.update", dots(u)),
            |st, _| {
                edit(
                    &mut st.users,
                    u,
                    req,
                    &["username", "firstname", "lastname", "purpose", "enabled"],
                    "unknown-user",
                )
            },
        ),
        ["users", u] if del => with(
            st,
            req,
            &format!("auth.users.{}.delete", dots(u)),
            |st, _| {
                if st.users.remove(*u).is_none() {
                    return api(404, "unknown-user", "No such user", json!({ "uuid": u }));
                }
                st.tokens.retain(|_, t| t.auth_id != *u);
                no_content()
            },
        ),
        ["users", u, "policies"] if get => with(
            st,
            req,
            &format!("auth.users.{}.policies.read", dots(u)),
            |st, _| {
                let items = related(&st.policies, st.user_policies.get(*u));
                page(req, items, false)
            },
        ),
        ["users", u, "policies", p] if put || del => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.users.{}.policies.{}.{verb}", dots(u), dots(p));
            with(st, req, &acl, |st, c| {
                link(st, &c, LinkKind::UserPolicy, u, p, put)
            })
        }
        ["users", u, "groups"] if get => with(
            st,
            req,
            &format!("auth.users.{}.groups.read", dots(u)),
            |st, _| {
                let groups: Vec<Map<String, Value>> = st
                    .groups
                    .iter()
                    .filter(|(g, _)| {
                        st.group_users
                            .get(*g)
                            .is_some_and(|m| m.iter().any(|x| x == u))
                    })
                    .map(|(_, v)| v.clone())
                    .collect();
                page(req, groups, true)
            },
        ),
        ["users", u, "sessions"] if get => with(
            st,
            req,
            &format!("auth.users.{}.sessions.read", dots(u)),
            |st, _| {
                let items = st
                    .sessions
                    .values()
                    .filter(|s| s["user_uuid"] == *u)
                    .cloned()
                    .collect();
                page(req, items, true)
            },
        ),
        ["users", u, "sessions", sid] if del => {
            let acl = format!("auth.users.{}.sessions.{}.delete", dots(u), dots(sid));
            with(st, req, &acl, |st, _| delete_session(st, sid))
        }
        ["tenants"] if post => with(st, req, "auth.tenants.create", |st, c| {
            tenant_create(st, req, &c)
        }),
        ["tenants"] if get => with(st, req, "auth.tenants.read", |st, c| {
            listing(st, req, &c, Kind::Tenants)
        }),
        ["tenants", t] if get => with(
            st,
            req,
            &format!("auth.tenants.{}.read", dots(t)),
            |st, _| found(st.tenants.get(*t), "unknown-tenant", t),
        ),
        ["tenants", t] if put => with(
            st,
            req,
            &format!("auth.tenants.{}.update", dots(t)),
            |st, _| {
                edit(
                    &mut st.tenants,
                    t,
                    req,
                    &[
                        "name",
                        "slug",
                        "contact",
                        "phone",
                        "domain_names",
                        "address",
                    ],
                    "unknown-tenant",
                )
            },
        ),
        ["tenants", t] if del => with(
            st,
            req,
            &format!("auth.tenants.{}.delete", dots(t)),
            |st, c| {
                if c.token.tenant_uuid == *t {
                    return api(
                        403,
                        "deleting-own-tenant-forbidden",
                        "A user cannot delete its own tenant",
                        json!({}),
                    );
                }
                match st.tenants.remove(*t) {
                    Some(_) => no_content(),
                    None => api(
                        404,
                        "unknown-tenant",
                        "No such tenant",
                        json!({ "uuid": t }),
                    ),
                }
            },
        ),
        ["policies"] if post => with(st, req, "auth.policies.create", |st, c| {
            policy_create(st, req, &c)
        }),
        ["policies"] if get => with(st, req, "auth.policies.read", |st, c| {
            listing(st, req, &c, Kind::Policies)
        }),
        ["policies", p] if get => with(
            st,
            req,
            &format!("auth.policies.{}.read", dots(p)),
            |st, _| {
                let p = policy_key(st, p);
                found(st.policies.get(&p), "unknown-policy", &p)
            },
        ),
        ["policies", p] if put => with(
            st,
            req,
            &format!("auth.policies.{}.update", dots(p)),
            |st, c| {
                let p = policy_key(st, p);
                policy_edit(st, req, &c, &p)
            },
        ),
        ["policies", p] if del => with(
            st,
            req,
            &format!("auth.policies.{}.delete", dots(p)),
            |st, _| {
                let p = policy_key(st, p);
                if st.policies.get(&p).is_some_and(|x| x["read_only"] == true) {
                    return legacy(403, "Forbidden: read-only policy");
                }
                match st.policies.remove(&p) {
                    Some(_) => no_content(),
                    None => legacy(404, &format!("No such policy \"{p}\"")),
                }
            },
        ),
        ["policies", p, "acl", access] if put || del => with(
            st,
            req,
            &format!("auth.policies.{}.update", dots(p)),
            |st, c| {
                let p = policy_key(st, p);
                policy_access(st, &c, &p, access, put)
            },
        ),
        ["groups"] if post => with(st, req, "auth.groups.create", |st, c| {
            group_create(st, req, &c)
        }),
        ["groups"] if get => with(st, req, "auth.groups.read", |st, c| {
            listing(st, req, &c, Kind::Groups)
        }),
        ["groups", g] if get => with(
            st,
            req,
            &format!("auth.groups.{}.read", dots(g)),
            |st, _| found(st.groups.get(*g), "unknown-group", g),
        ),
        ["groups", g] if put => with(
            st,
            req,
            &format!("auth.groups.{}.update", dots(g)),
            |st, _| edit(&mut st.groups, g, req, &["name"], "unknown-group"),
        ),
        ["groups", g] if del => with(
            st,
            req,
            &format!("auth.groups.{}.delete", dots(g)),
            |st, _| match st.groups.remove(*g) {
                Some(_) => no_content(),
                None => api(404, "unknown-group", "No such group", json!({ "uuid": g })),
            },
        ),
        ["groups", g, "users"] if get => with(
            st,
            req,
            &format!("auth.groups.{}.users.read", dots(g)),
            |st, _| page(req, related(&st.users, st.group_users.get(*g)), true),
        ),
        ["groups", g, "users", u] if put || del => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.groups.{}.users.{}.{verb}", dots(g), dots(u));
            with(st, req, &acl, |st, c| {
                link(st, &c, LinkKind::GroupUser, g, u, put)
            })
        }
        ["groups", g, "policies"] if get => with(
            st,
            req,
            &format!("auth.groups.{}.policies.read", dots(g)),
            |st, _| page(req, related(&st.policies, st.group_policies.get(*g)), true),
        ),
        ["groups", g, "policies", p] if put || del => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.groups.{}.policies.{}.{verb}", dots(g), dots(p));
            with(st, req, &acl, |st, c| {
                link(st, &c, LinkKind::GroupPolicy, g, p, put)
            })
        }
        ["sessions"] if get => with(st, req, "auth.sessions.read", |st, c| {
            listing(st, req, &c, Kind::Sessions)
        }),
        ["sessions", sid] if del => with(
            st,
            req,
            &format!("auth.sessions.{}.delete", dots(sid)),
            |st, _| delete_session(st, sid),
        ),
        _ => html_not_found(),
    }
}

/// URL values go into required accesses with `.` replaced by `_`.
fn dots(value: &str) -> String {
    value.replace('.', "_")
}

/// Runs `f` for an authenticated, authorized caller; else the 401 of protected endpoints.
fn with(
    st: &mut State,
    req: &MockRequest,
    required: &str,
    f: impl FnOnce(&mut State, Caller) -> MockResponse,
) -> MockResponse {
    let token = req.header("x-auth-token").map(str::to_owned);
    let Some(rec) = token.as_deref().and_then(|t| st.live_token(t)).cloned() else {
        return unauthorized(token.as_deref(), "not_found_or_expired", required);
    };
    if !acl::grants(&rec.acl, &rec.auth_id, &rec.session_uuid, required) {
        return unauthorized(
            token.as_deref(),
            "missing_permission_or_invalid_tenant",
            required,
        );
    }
    let tenant = match req.header("wazo-tenant") {
        Some(t) if st.in_subtree(&rec.tenant_uuid, t) => t.to_owned(),
        Some(t) => {
            return api(
                401,
                "unauthorized-tenant",
                &format!("Unauthorized tenant: {t}"),
                json!({ "tenant_uuid": t }),
            );
        }
        None => rec.tenant_uuid.clone(),
    };
    if let Some(bad) = bad_list_params(req) {
        return bad;
    }
    f(st, Caller { token: rec, tenant })
}

fn body_object(req: &MockRequest) -> Option<Map<String, Value>> {
    match req.json() {
        Some(Value::Object(m)) => Some(m),
        Some(Value::Null) => Some(Map::new()),
        _ => None,
    }
}

fn invalid_data() -> MockResponse {
    api(400, "invalid-data", "Sent data is invalid", json!({}))
}

fn found(item: Option<&Map<String, Value>>, error_id: &str, key: &str) -> MockResponse {
    match item {
        Some(v) => ok(&Value::Object(v.clone())),
        None => api(404, error_id, "Not found", json!({ "uuid": key })),
    }
}

fn edit(
    map: &mut std::collections::BTreeMap<String, Map<String, Value>>,
    key: &str,
    req: &MockRequest,
    fields: &[&str],
    error_id: &str,
) -> MockResponse {
    let Some(body) = body_object(req) else {
        return invalid_data();
    };
    let Some(item) = map.get_mut(key) else {
        return api(404, error_id, "Not found", json!({ "uuid": key }));
    };
    for f in fields {
        if let Some(v) = body.get(*f) {
            item.insert((*f).to_owned(), v.clone());
        }
    }
    ok(&Value::Object(item.clone()))
}

fn related(
    map: &std::collections::BTreeMap<String, Map<String, Value>>,
    keys: Option<&Vec<String>>,
) -> Vec<Map<String, Value>> {
    keys.into_iter()
        .flatten()
        .filter_map(|k| map.get(k).cloned())
        .collect()
}

fn policy_key(st: &State, key: &str) -> String {
    if st.policies.contains_key(key) {
        return key.to_owned();
    }
    st.policies
        .iter()
        .find(|(_, p)| p["slug"] == key)
        .map_or_else(|| key.to_owned(), |(k, _)| k.clone())
}

#[derive(Clone, Copy)]
enum Kind {
    Users,
    Tenants,
    Policies,
    Groups,
    Sessions,
}

fn listing(st: &State, req: &MockRequest, c: &Caller, kind: Kind) -> MockResponse {
    let recurse = req
        .query_map()
        .get("recurse")
        .is_some_and(|r| r.eq_ignore_ascii_case("true"));
    match kind {
        Kind::Users => page(req, st.visible(&st.users, &c.tenant, recurse), true),
        Kind::Policies => page(req, st.visible(&st.policies, &c.tenant, recurse), false),
        Kind::Groups => page(req, st.visible(&st.groups, &c.tenant, recurse), true),
        Kind::Sessions => page(req, st.visible(&st.sessions, &c.tenant, recurse), true),
        Kind::Tenants => {
            let items = st.tenants.values().filter(|t| {
                t.get("uuid")
                    .and_then(Value::as_str)
                    .is_some_and(|u| st.in_subtree(&c.tenant, u))
            });
            page(req, items.cloned().collect(), true)
        }
    }
}

fn basic_credentials(req: &MockRequest) -> Option<(String, String)> {
    let value = req.header("authorization")?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    // UTF-8 first, then Latin-1, as the server does.
    let text = String::from_utf8(raw.clone())
        .unwrap_or_else(|_| raw.iter().map(|b| char::from(*b)).collect());
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

fn token_create(st: &mut State, req: &MockRequest) -> MockResponse {
    // Flask's get_json(force=True): an empty body is a decode error.
    let body = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => m,
        Ok(Value::Null) => Map::new(),
        _ => return legacy(400, "Invalid JSON body"),
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let client_id = text("client_id");
    let refresh = text("refresh_token");
    let offline = text("access_type").as_deref() == Some("offline");
    let expiration = match body.get("expiration") {
        None | Some(Value::Null) => st.default_expiration,
        Some(v) => match v.as_u64() {
            Some(e) if (1..=315_360_000).contains(&e) => e,
            _ => return legacy(400, "Invalid value for expiration"),
        },
    };
    if (offline && (client_id.is_none() || refresh.is_some()))
        || (refresh.is_some() && client_id.is_none())
    {
        return legacy(
            400,
            "Invalid combination of access_type, client_id and refresh_token",
        );
    }
    let mobile = req
        .header("wazo-session-type")
        .is_some_and(|s| s.eq_ignore_ascii_case("mobile"));
    let user = match (&refresh, &client_id) {
        (Some(r), Some(cid)) => st
            .refresh
            .iter()
            .find(|x| x.token == *r && x.client_id == *cid)
            .map(|x| x.user_uuid.clone()),
        _ => basic_credentials(req).and_then(|(u, p)| st.login(&u, &p)),
    };
    let Some(user) = user else {
        return legacy(401, "Authentication Failed");
    };
    let tenant = st
        .users
        .get(&user)
        .and_then(|u| u.get("tenant_uuid"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let refresh_token = match (offline, &client_id) {
        (true, Some(cid)) => {
            let existing = st
                .refresh
                .iter()
                .find(|x| x.user_uuid == user && x.client_id == *cid);
            Some(match existing {
                Some(x) => x.token.clone(),
                None => {
                    let rec = RefreshRec {
                        token: uuid4(),
                        client_id: cid.clone(),
                        user_uuid: user.clone(),
                        tenant_uuid: tenant.clone(),
                        created_at: iso(st.now()),
                        mobile,
                    };
                    let t = rec.token.clone();
                    st.refresh.push(rec);
                    t
                }
            })
        }
        _ => None,
    };
    let session = uuid4();
    let s = json!({ "uuid": session, "mobile": mobile, "tenant_uuid": tenant, "user_uuid": user });
    st.sessions
        .insert(session.clone(), s.as_object().cloned().unwrap_or_default());
    let issued = st.now();
    let rec = TokenRec {
        token: uuid4(),
        auth_id: user.clone(),
        session_uuid: session,
        acl: st.acl_of(&user),
        issued,
        expires: issued + Duration::from_secs(expiration),
        user_agent: req.header("user-agent").unwrap_or_default().to_owned(),
        tenant_uuid: tenant,
        refresh_token,
    };
    let json = rec.to_json(true);
    st.tokens.insert(rec.token.clone(), rec);
    ok(&json!({ "data": json })).with_header("Wazo-Sessions-Revoked", "0")
}

fn token_check(st: &State, req: &MockRequest, token: &str, head: bool) -> MockResponse {
    if !is_uuid(token) {
        return html_not_found();
    }
    let fail = |status: u16, reason: &str| {
        if head {
            MockResponse::status(status)
        } else {
            legacy(status, reason)
        }
    };
    let Some(rec) = st.live_token(token) else {
        return fail(404, "No such token");
    };
    let q = req.query_map();
    if let Some(scope) = q.get("scope")
        && !acl::grants(&rec.acl, &rec.auth_id, &rec.session_uuid, scope)
    {
        return fail(403, &format!("Unauthorized for {scope}"));
    }
    if let Some(tenant) = q.get("tenant")
        && rec.auth_id != "wazo-auth"
        && !st.in_subtree(&rec.tenant_uuid, tenant)
    {
        return fail(403, &format!("Unauthorized for tenant {tenant}"));
    }
    if head {
        no_content()
    } else {
        ok(&json!({ "data": rec.to_json(false) }))
    }
}

fn token_revoke(st: &mut State, token: &str) -> MockResponse {
    if !is_uuid(token) {
        return html_not_found();
    }
    if let Some(rec) = st.tokens.remove(token)
        && !st
            .tokens
            .values()
            .any(|t| t.session_uuid == rec.session_uuid)
    {
        st.sessions.remove(&rec.session_uuid);
    }
    ok(&json!({ "data": { "message": "success" } }))
}

fn scopes_check(st: &State, req: &MockRequest, token: &str) -> MockResponse {
    if !is_uuid(token) {
        return html_not_found();
    }
    let Some(rec) = st.live_token(token) else {
        return legacy(404, "No such token");
    };
    let Some(scopes) = req
        .json()
        .and_then(|b| b.get("scopes").and_then(Value::as_array).cloned())
    else {
        return legacy(400, "Invalid body: scopes is required");
    };
    let tenant = req.json().and_then(|b| {
        b.get("tenant_uuid")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    if let Some(tenant) = tenant
        && !st.in_subtree(&rec.tenant_uuid, &tenant)
    {
        return legacy(403, &format!("Unauthorized for tenant {tenant}"));
    }
    let mut out = Map::new();
    for scope in scopes.iter().filter_map(Value::as_str) {
        out.insert(
            scope.to_owned(),
            json!(acl::grants(
                &rec.acl,
                &rec.auth_id,
                &rec.session_uuid,
                scope
            )),
        );
    }
    ok(&json!({ "scopes": out }))
}

fn refresh_list(st: &State, req: &MockRequest, c: &Caller, user: Option<&str>) -> MockResponse {
    let items = st
        .refresh
        .iter()
        .filter(|r| {
            user.map_or_else(
                || st.in_subtree(&c.tenant, &r.tenant_uuid),
                |u| r.user_uuid == u,
            )
        })
        .map(RefreshRec::to_json)
        .collect();
    page(req, items, true)
}

fn user_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let Some(body) = body_object(req) else {
        return invalid_data();
    };
    if let Some(name) = body.get("username").and_then(Value::as_str)
        && st.users.values().any(|u| u["username"] == name)
    {
        return api(
            409,
            "conflict",
            "The login is already used",
            json!({ "username": { "constraint_id": "unique" } }),
        );
    }
    let uuid = st.add_user(&body, Some(&c.tenant));
    found(st.users.get(&uuid), "unknown-user", &uuid)
}

fn tenant_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let Some(body) = body_object(req) else {
        return invalid_data();
    };
    let uuid = body
        .get("uuid")
        .and_then(Value::as_str)
        .map_or_else(uuid4, str::to_owned);
    let mut tenant = json!({ "uuid": uuid, "parent_uuid": c.tenant, "name": null, "slug": null,
        "contact": null, "phone": null, "domain_names": [], "address": null,
        "default_authentication_method": "native" });
    for k in [
        "name",
        "slug",
        "contact",
        "phone",
        "domain_names",
        "address",
        "default_authentication_method",
    ] {
        if let Some(v) = body.get(k) {
            tenant[k] = v.clone();
        }
    }
    st.tenants
        .insert(uuid, tenant.as_object().cloned().unwrap_or_default());
    ok(&tenant)
}

fn acl_list(body: &Map<String, Value>) -> Vec<String> {
    body.get("acl")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn refuse_access(c: &Caller, access: &str) -> MockResponse {
    let _ = c;
    unauthorized(
        Some(&c.token.token),
        "missing_permission_or_invalid_tenant",
        access,
    )
}

fn policy_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let Some(body) = body_object(req) else {
        return invalid_data();
    };
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return api(
            400,
            "invalid-data",
            "Sent data is invalid",
            json!({ "name": { "message": "Missing data for required field." } }),
        );
    };
    let acl = acl_list(&body);
    let t = &c.token;
    if let Some(bad) = acl
        .iter()
        .find(|a| !acl::may_add(&t.acl, &t.auth_id, &t.session_uuid, a))
    {
        return refuse_access(c, bad);
    }
    if st
        .policies
        .values()
        .any(|p| p["name"] == name && p["tenant_uuid"] == c.tenant.as_str())
    {
        return legacy(409, &format!("Policy \"{name}\" already exists"));
    }
    let uuid = uuid4();
    let policy = json!({ "uuid": uuid, "tenant_uuid": c.tenant, "name": name,
        "slug": body.get("slug").cloned().unwrap_or_else(|| json!(name.to_lowercase().replace(' ', "_"))),
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "acl": acl, "read_only": false, "shared": body.get("shared").cloned().unwrap_or(json!(false)) });
    st.policies
        .insert(uuid, policy.as_object().cloned().unwrap_or_default());
    ok(&policy)
}

fn policy_edit(st: &mut State, req: &MockRequest, c: &Caller, key: &str) -> MockResponse {
    let Some(body) = body_object(req) else {
        return invalid_data();
    };
    let Some(policy) = st.policies.get_mut(key) else {
        return legacy(404, &format!("No such policy \"{key}\""));
    };
    if policy["read_only"] == true {
        return legacy(403, "Forbidden: read-only policy");
    }
    let old: Vec<String> = policy["acl"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let new = if body.contains_key("acl") {
        acl_list(&body)
    } else {
        old.clone()
    };
    let t = &c.token;
    if let Some(bad) = new
        .iter()
        .filter(|a| !old.contains(a))
        .find(|a| !acl::may_add(&t.acl, &t.auth_id, &t.session_uuid, a))
    {
        return refuse_access(c, bad);
    }
    if let Some(bad) = old
        .iter()
        .filter(|a| !new.contains(a))
        .find(|a| !acl::may_remove(&t.acl, &t.auth_id, &t.session_uuid, a))
    {
        return refuse_access(c, bad);
    }
    for k in ["name", "description"] {
        if let Some(v) = body.get(k) {
            policy.insert(k.to_owned(), v.clone());
        }
    }
    policy.insert("acl".to_owned(), json!(new));
    ok(&Value::Object(policy.clone()))
}

fn policy_access(st: &mut State, c: &Caller, key: &str, access: &str, add: bool) -> MockResponse {
    let t = &c.token;
    let allowed = if add {
        acl::may_add(&t.acl, &t.auth_id, &t.session_uuid, access)
    } else {
        acl::may_remove(&t.acl, &t.auth_id, &t.session_uuid, access)
    };
    if !allowed {
        return refuse_access(c, access);
    }
    let Some(policy) = st.policies.get_mut(key) else {
        return legacy(404, &format!("No such policy \"{key}\""));
    };
    let mut acl: Vec<Value> = policy["acl"].as_array().cloned().unwrap_or_default();
    if add {
        if acl.iter().any(|a| a == access) {
            return legacy(409, &format!("Access \"{access}\" already exists"));
        }
        acl.push(json!(access));
    } else {
        acl.retain(|a| a != access);
    }
    policy.insert("acl".to_owned(), Value::Array(acl));
    no_content()
}

fn group_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let Some(body) = body_object(req) else {
        return invalid_data();
    };
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return api(
            400,
            "invalid-data",
            "Sent data is invalid",
            json!({ "name": { "message": "Missing data for required field." } }),
        );
    };
    if st
        .groups
        .values()
        .any(|g| g["name"] == name && g["tenant_uuid"] == c.tenant.as_str())
    {
        return api(
            409,
            "conflict",
            "Group already exists",
            json!({ "name": { "constraint_id": "unique" } }),
        );
    }
    let uuid = uuid4();
    let group = json!({ "uuid": uuid, "name": name,
        "slug": body.get("slug").cloned().unwrap_or_else(|| json!(name)),
        "tenant_uuid": c.tenant, "read_only": false, "system_managed": false });
    st.groups
        .insert(uuid, group.as_object().cloned().unwrap_or_default());
    ok(&group)
}

#[derive(Clone, Copy)]
enum LinkKind {
    UserPolicy,
    GroupUser,
    GroupPolicy,
}

fn link(
    st: &mut State,
    c: &Caller,
    kind: LinkKind,
    owner: &str,
    item: &str,
    add: bool,
) -> MockResponse {
    let (owner_ok, item_key) = match kind {
        LinkKind::UserPolicy => (st.users.contains_key(owner), policy_key(st, item)),
        LinkKind::GroupUser => (st.groups.contains_key(owner), item.to_owned()),
        LinkKind::GroupPolicy => (st.groups.contains_key(owner), policy_key(st, item)),
    };
    let item_ok = match kind {
        LinkKind::GroupUser => st.users.contains_key(&item_key),
        _ => st.policies.contains_key(&item_key),
    };
    if !owner_ok || !item_ok {
        return api(
            404,
            "not-found",
            "No such resource",
            json!({ "owner": owner, "item": item }),
        );
    }
    if let LinkKind::GroupUser = kind {
        if st.users[&item_key]["tenant_uuid"] != st.groups[owner]["tenant_uuid"] {
            return api(
                400,
                "missmatching-tenant",
                "The user and the group are not in the same tenant",
                json!({}),
            );
        }
    } else {
        // Attaching or detaching a policy needs the caller to hold each of its accesses.
        let t = &c.token;
        let entries: Vec<String> = st.policies[&item_key]["acl"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let check = |a: &String| {
            if add {
                acl::may_add(&t.acl, &t.auth_id, &t.session_uuid, a)
            } else {
                acl::may_remove(&t.acl, &t.auth_id, &t.session_uuid, a)
            }
        };
        if let Some(bad) = entries.iter().find(|a| !check(a)) {
            return refuse_access(c, bad);
        }
    }
    let table = match kind {
        LinkKind::UserPolicy => &mut st.user_policies,
        LinkKind::GroupUser => &mut st.group_users,
        LinkKind::GroupPolicy => &mut st.group_policies,
    };
    let list = table.entry(owner.to_owned()).or_default();
    list.retain(|x| *x != item_key);
    if add {
        list.push(item_key);
    }
    no_content()
}

fn delete_session(st: &mut State, sid: &str) -> MockResponse {
    if st.sessions.remove(sid).is_none() {
        return api(
            404,
            "unknown-session",
            "No such session",
            json!({ "uuid": sid }),
        );
    }
    st.tokens.retain(|_, t| t.session_uuid != sid);
    no_content()
}
