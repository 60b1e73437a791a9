//! Request routing and the endpoint logic.

use std::time::Duration;

use base64::Engine as _;
use http::Method;
use serde_json::{Map, Value, json};

use super::reply::{
    api, api_res, html_not_found, invalid_data, legacy, no_content, ok, page, plain, unauthorized,
    unknown,
};
use super::state::{self, RefreshRec, State, TokenRec, is_uuid, iso, uuid4};
use super::{acl, extra, reply, schema};
use crate::message::{MockRequest, MockResponse};

/// The caller of a protected endpoint.
pub(crate) struct Caller {
    pub(crate) token: TokenRec,
    /// The scoping tenant: `Wazo-Tenant`, else the caller's own.
    pub(crate) tenant: String,
}

/// Percent-decodes a path segment as the server's WSGI stack does: every escape except
/// `%2F`, which stays as sent (so `auth.a%2Fb` is stored as those ten characters).
fn decode(segment: &str) -> String {
    let mut out = String::new();
    let mut rest = segment;
    while let Some(i) = rest.to_ascii_lowercase().find("%2f") {
        out.push_str(&percent_encoding::percent_decode_str(&rest[..i]).decode_utf8_lossy());
        out.push_str(&rest[i..i + 3]);
        rest = &rest[i + 3..];
    }
    out.push_str(&percent_encoding::percent_decode_str(rest).decode_utf8_lossy());
    out
}

pub(crate) fn route(st: &mut State, req: &MockRequest) -> MockResponse {
    let Some(rest) = req.path.strip_prefix("/0.1/") else {
        return html_not_found();
    };
    let segs: Vec<String> = rest.split('/').map(decode).collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = &req.method;
    let get = *m == Method::GET || *m == Method::HEAD;
    let put = *m == Method::PUT;
    let post = *m == Method::POST;
    let del = *m == Method::DELETE;
    let patch = *m == Method::PATCH;
    // The server's `<uuid:...>` converters: anything else is not a route at all.
    let u = |x: &str| is_uuid(x);
    match s.as_slice() {
        ["token"] if post => token_create(st, req),
        ["token", t] if u(t) && get => token_check(st, req, t, *m == Method::HEAD),
        ["token", t] if u(t) && del => token_revoke(st, t),
        ["token", t, "scopes", "check"] if u(t) && post => scopes_check(st, req, t),
        ["tokens"] if get => with(st, req, "auth.tokens.read", |st, c| {
            refresh_list(st, req, &c, None)
        }),
        ["users", who, "tokens"] if (u(who) || *who == "me") && get => {
            let acl = format!("auth.users.{}.tokens.read", dots(who));
            with(st, req, &acl, |st, c| {
                let user = if *who == "me" {
                    c.token.auth_id.clone()
                } else {
                    (*who).to_owned()
                };
                refresh_list(st, req, &c, Some(&user))
            })
        }
        ["users", who, "tokens", cid] if (u(who) || *who == "me") && del => {
            let acl = format!("auth.users.{}.tokens.{}.delete", dots(who), dots(cid));
            with(st, req, &acl, |st, c| {
                let user = if *who == "me" {
                    c.token.auth_id
                } else {
                    (*who).to_owned()
                };
                let before = st.refresh.len();
                st.refresh
                    .retain(|r| !(r.user_uuid == user && r.client_id == *cid));
                if st.refresh.len() == before {
                    api_res(
                        404,
                        "cannot-find-refresh-token-matching-client-id",
                        format!("unknown refresh_token for client_id \"{cid}\""),
                        json!({ "client_id": cid }),
                        "tokens",
                    )
                } else {
                    no_content()
                }
            })
        }
        ["backends"] if get => ok(&json!({ "data": ["ldap_user", "wazo_user"] })),
        ["status"] if get => {
            ok(&json!({ "rest_api": { "status": "ok" }, "master_tenant": { "status": "ok" } }))
        }
        ["api", "api.yml"] if get => {
            MockResponse::text(200, "application/x-yaml", "swagger: '2.0'\n")
        }
        ["users"] if post => with(st, req, "auth.users.create", |st, c| {
            user_create(st, req, &c)
        }),
        ["users"] if get => with(st, req, "auth.users.read", |st, c| {
            listing(st, req, &c, Kind::Users)
        }),
        ["users", "password", "reset"] if get => extra::reset_password(st, req),
        ["users", "password", "reset"] if post => extra::set_password(st, req),
        ["users", x] if u(x) && get => with(st, req, &format!("auth.users.{x}.read"), |st, c| {
            match st.user_in(x, &c.tenant) {
                Some(user) => ok(&Value::Object(user.clone())),
                None => unknown("unknown-user", "user", x, "users"),
            }
        }),
        ["users", x] if u(x) && put => with(st, req, &format!("auth.users.{x}.update"), |st, c| {
            user_edit(st, req, &c, x)
        }),
        ["users", x] if u(x) && del => with(st, req, &format!("auth.users.{x}.delete"), |st, c| {
            if st.user_in(x, &c.tenant).is_none() {
                return unknown("unknown-user", "user", x, "users");
            }
            st.users.remove(*x);
            st.tokens.retain(|_, t| t.auth_id != *x);
            st.sessions.retain(|_, s| s["user_uuid"] != *x);
            st.refresh.retain(|r| r.user_uuid != *x);
            no_content()
        }),
        ["users", x, "password"] if u(x) && put => with(
            st,
            req,
            &format!("auth.users.{x}.password.update"),
            |st, c| extra::change_password(st, req, &c, x),
        ),
        ["users", x, "emails"] if u(x) && put => with(
            st,
            req,
            &format!("auth.users.{x}.emails.update"),
            |st, c| extra::update_emails(st, req, &c, x, false),
        ),
        ["admin", "users", x, "emails"] if u(x) && put => with(
            st,
            req,
            &format!("auth.admin.users.{x}.emails.update"),
            |st, c| extra::update_emails(st, req, &c, x, true),
        ),
        ["users", x, "emails", e, "confirm"] if u(x) && u(e) && get => with(
            st,
            req,
            &format!("auth.users.{x}.emails.{e}.confirm.read"),
            |st, c| extra::request_confirmation(st, &c, x, e),
        ),
        ["emails", e, "confirm"] if u(e) && (get || put) => extra::confirm_email(st, req, e),
        ["users", x, "policies"] if u(x) && get => with(
            st,
            req,
            &format!("auth.users.{x}.policies.read"),
            |st, _| {
                // The server lists the policies without checking the user.
                let items = related(&st.policies, st.user_policies.get(*x));
                page(req, items, &["name", "description", "uuid"], true)
            },
        ),
        ["users", x, "policies", p] if u(x) && (put || del) => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.users.{x}.policies.{}.{verb}", dots(p));
            with(st, req, &acl, |st, c| {
                link(st, &c, LinkKind::UserPolicy, x, p, put)
            })
        }
        ["users", x, "groups"] if u(x) && get => {
            with(st, req, &format!("auth.users.{x}.groups.read"), |st, c| {
                if st.user_in(x, &c.tenant).is_none() {
                    return unknown("unknown-user", "user", x, "users");
                }
                let groups: Vec<Map<String, Value>> = st
                    .groups
                    .iter()
                    .filter(|(g, _)| st.is_member(g, x))
                    .map(|(_, v)| v.clone())
                    .collect();
                page(req, groups, &["name", "uuid"], true)
            })
        }
        ["users", x, "sessions"] if u(x) && get => with(
            st,
            req,
            &format!("auth.users.{x}.sessions.read"),
            |st, c| {
                if st.user_in(x, &c.tenant).is_none() {
                    return unknown("unknown-user", "user", x, "users");
                }
                let items = st
                    .sessions
                    .values()
                    .filter(|s| s["user_uuid"] == *x)
                    .cloned()
                    .collect();
                page(req, items, &["mobile"], true)
            },
        ),
        ["users", x, "sessions", sid] if u(x) && u(sid) && del => {
            let acl = format!("auth.users.{x}.sessions.{sid}.delete");
            with(st, req, &acl, |st, c| {
                if st.user_in(x, &c.tenant).is_none() {
                    return unknown("unknown-user", "user", x, "users");
                }
                // The server deletes the session by its UUID within the scoping tenant,
                // whoever it belongs to; an unknown one is no error.
                let in_scope = st.sessions.get(*sid).is_some_and(|s| {
                    s["tenant_uuid"]
                        .as_str()
                        .is_some_and(|t| st.in_subtree(&c.tenant, t))
                });
                if in_scope {
                    delete_session(st, sid);
                }
                no_content()
            })
        }
        ["users", x, "external"] if u(x) && get => with(
            st,
            req,
            &format!("auth.users.{x}.external.read"),
            |st, c| extra::external_list(st, req, &c, x),
        ),
        ["users", x, "external", kind] if u(x) => {
            let verb = if get {
                "read"
            } else if post {
                "create"
            } else if put {
                "update"
            } else if del {
                "delete"
            } else {
                return html_not_found();
            };
            let acl = format!("auth.users.{x}.external.{}.{verb}", dots(kind));
            with(st, req, &acl, |st, c| {
                extra::external_user(st, req, &c, x, kind)
            })
        }
        ["users", x, "external", "mobile", "sender_id"] if u(x) && get => with(
            st,
            req,
            &format!("auth.users.{x}.external.mobile.sender_id.read"),
            |st, c| extra::mobile_sender_id(st, &c, x),
        ),
        ["external", kind, "config"] => {
            let verb = if get {
                "read"
            } else if post {
                "create"
            } else if put {
                "update"
            } else if del {
                "delete"
            } else {
                return html_not_found();
            };
            let acl = format!("auth.{}.external.config.{verb}", dots(kind));
            with(st, req, &acl, |st, c| {
                extra::external_config(st, req, &c, kind)
            })
        }
        ["external", kind, "users"] if get => with(
            st,
            req,
            &format!("auth.{}.external.users.read", dots(kind)),
            |st, c| extra::external_users(st, req, &c, kind),
        ),
        ["idp"] if get => with(st, req, "auth.idp.read", |_, _| extra::idp_list()),
        ["idp", kind, "users"] if put => with(
            st,
            req,
            &format!("auth.idp.{}.users.update", dots(kind)),
            |st, c| extra::idp_users(st, req, &c, kind),
        ),
        ["idp", kind, "users", x] if u(x) && (put || del) => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.idp.{}.users.{x}.{verb}", dots(kind));
            with(st, req, &acl, |st, c| extra::idp_user(st, &c, kind, x, put))
        }
        ["config"] if get => with(st, req, "auth.config.read", |st, _| extra::config(st)),
        ["config"] if patch => with(st, req, "auth.config.update", |st, _| {
            extra::config_patch(st, req)
        }),
        ["backends", "ldap"] if get || put || del => {
            let verb = if get {
                "read"
            } else if put {
                "update"
            } else {
                "delete"
            };
            with(st, req, &format!("auth.backends.ldap.{verb}"), |st, c| {
                extra::ldap(st, req, &c)
            })
        }
        ["backends", "saml"] if get || post || put || del => {
            let verb = if get {
                "read"
            } else if post {
                "create"
            } else if put {
                "update"
            } else {
                "delete"
            };
            with(st, req, &format!("auth.backends.saml.{verb}"), |st, c| {
                extra::saml_config(st, req, &c)
            })
        }
        ["backends", "saml", "metadata"] if get => {
            with(st, req, "auth.backends.saml.read", |st, c| {
                extra::saml_metadata(st, &c)
            })
        }
        ["backends", "saml", "acs_url_template"] if get => {
            with(st, req, "auth.backends.saml.read", |_, _| {
                ok(&json!({ "acs_url": "https://{{STACK_URL}}/api/auth/0.1/saml/acs" }))
            })
        }
        ["saml", "sso"] if post => extra::saml_sso(st, req),
        ["saml", "acs"] if post => extra::saml_acs(req),
        ["saml", "logout"] if get => extra::saml_logout(st, req),
        ["saml", "sls"] if get => extra::saml_sls(),
        ["tenants"] if post => with(st, req, "auth.tenants.create", |st, c| {
            tenant_create(st, req, &c)
        }),
        ["tenants"] if get => with(st, req, "auth.tenants.read", |st, c| {
            listing(st, req, &c, Kind::Tenants)
        }),
        ["tenants", t] if u(t) && get => {
            with(st, req, &format!("auth.tenants.{t}.read"), |st, c| match st
                .tenants
                .get(*t)
                .filter(|_| st.in_subtree(&c.tenant, t))
            {
                Some(x) => ok(&Value::Object(x.clone())),
                None => unknown("unknown-tenant", "tenant", t, "tenants"),
            })
        }
        ["tenants", t] if u(t) && put => {
            with(st, req, &format!("auth.tenants.{t}.update"), |st, c| {
                tenant_edit(st, req, &c, t)
            })
        }
        ["tenants", t] if u(t) && del => {
            with(st, req, &format!("auth.tenants.{t}.delete"), |st, c| {
                tenant_delete(st, &c, t)
            })
        }
        ["tenants", t, "domains"] if u(t) && get => with(
            st,
            req,
            &format!("auth.tenants.{t}.domains.read"),
            |st, c| extra::tenant_domains(st, &c, t),
        ),
        ["tenants", t, "parent", p] if u(t) && u(p) && put => with(
            st,
            req,
            &format!("auth.tenants.{t}.parent.{p}.update"),
            |st, c| extra::tenant_parent(st, &c, t, p),
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
            |st, c| match policy_in(st, &c, p) {
                Some(k) => ok(&Value::Object(st.policies[&k].clone())),
                None => no_such_policy(p),
            },
        ),
        ["policies", p] if put => with(
            st,
            req,
            &format!("auth.policies.{}.update", dots(p)),
            |st, c| match policy_in(st, &c, p) {
                Some(k) => policy_edit(st, req, &c, &k),
                None => no_such_policy(p),
            },
        ),
        ["policies", p] if del => with(
            st,
            req,
            &format!("auth.policies.{}.delete", dots(p)),
            |st, c| {
                let Some(k) = policy_in(st, &c, p) else {
                    return no_such_policy(p);
                };
                if st.policies[&k]["read_only"] == true {
                    return legacy(403, &format!("Forbidden policy deletion: \"{k}\""));
                }
                st.policies.remove(&k);
                for list in st
                    .user_policies
                    .values_mut()
                    .chain(st.group_policies.values_mut())
                {
                    list.retain(|x| *x != k);
                }
                no_content()
            },
        ),
        ["policies", p, "acl", access] if put || del => {
            let acl = format!("auth.policies.{}.update", dots(p));
            with(st, req, &acl, |st, c| match policy_in(st, &c, p) {
                Some(k) => policy_access(st, &c, &k, access, put),
                None => no_such_policy(p),
            })
        }
        ["groups"] if post => with(st, req, "auth.groups.create", |st, c| {
            group_create(st, req, &c)
        }),
        ["groups"] if get => with(st, req, "auth.groups.read", |st, c| {
            listing(st, req, &c, Kind::Groups)
        }),
        ["groups", g] if u(g) && get => {
            with(
                st,
                req,
                &format!("auth.groups.{g}.read"),
                |st, c| match st.group_in(g, &c.tenant) {
                    Some(x) => ok(&Value::Object(x.clone())),
                    None => unknown("unknown-group", "group", g, "groups"),
                },
            )
        }
        ["groups", g] if u(g) && put => {
            with(st, req, &format!("auth.groups.{g}.update"), |st, c| {
                group_edit(st, req, &c, g)
            })
        }
        ["groups", g] if u(g) && del => {
            with(st, req, &format!("auth.groups.{g}.delete"), |st, c| {
                let Some(group) = st.group_in(g, &c.tenant) else {
                    return unknown("unknown-group", "group", g, "groups");
                };
                if group["system_managed"] == true {
                    return forbidden_group(g);
                }
                st.groups.remove(*g);
                st.group_users.remove(*g);
                st.group_policies.remove(*g);
                no_content()
            })
        }
        ["groups", g, "users"] if u(g) && get => {
            with(st, req, &format!("auth.groups.{g}.users.read"), |st, c| {
                if st.group_in(g, &c.tenant).is_none() {
                    return unknown("unknown-group", "group", g, "groups");
                }
                let users = st
                    .users
                    .iter()
                    .filter(|(x, _)| st.is_member(g, x))
                    .map(|(_, v)| v.clone())
                    .collect();
                page(req, users, &["username"], true)
            })
        }
        ["groups", g, "users", x] if u(g) && u(x) && (put || del) => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.groups.{g}.users.{x}.{verb}");
            with(st, req, &acl, |st, c| {
                link(st, &c, LinkKind::GroupUser, g, x, put)
            })
        }
        ["groups", g, "policies"] if u(g) && get => with(
            st,
            req,
            &format!("auth.groups.{g}.policies.read"),
            |st, c| {
                if st.group_in(g, &c.tenant).is_none() {
                    return unknown("unknown-group", "group", g, "groups");
                }
                let items = related(&st.policies, st.group_policies.get(*g));
                page(req, items, &["name", "description", "uuid"], true)
            },
        ),
        ["groups", g, "policies", p] if u(g) && (put || del) => {
            let verb = if put { "create" } else { "delete" };
            let acl = format!("auth.groups.{g}.policies.{}.{verb}", dots(p));
            with(st, req, &acl, |st, c| {
                link(st, &c, LinkKind::GroupPolicy, g, p, put)
            })
        }
        ["sessions"] if get => with(st, req, "auth.sessions.read", |st, c| {
            listing(st, req, &c, Kind::Sessions)
        }),
        ["sessions", sid] if u(sid) && del => {
            with(st, req, &format!("auth.sessions.{sid}.delete"), |st, _| {
                delete_session(st, sid);
                no_content()
            })
        }
        _ if known_path(&s) => plain(405, "The method is not allowed for the requested URL."),
        _ => html_not_found(),
    }
}

/// Whether a path is one of the server's routes (then a wrong method is a 405, not a 404).
/// `U` stands for a UUID segment, `*` for any segment.
fn known_path(s: &[&str]) -> bool {
    const ROUTES: &[&str] = &[
        "token",
        "token/U",
        "token/U/scopes/check",
        "tokens",
        "users/U/tokens",
        "users/me/tokens",
        "users/*/tokens/*",
        "backends",
        "status",
        "users",
        "users/password/reset",
        "users/U",
        "users/U/password",
        "users/U/emails",
        "admin/users/U/emails",
        "users/U/emails/U/confirm",
        "emails/U/confirm",
        "users/U/policies",
        "users/U/policies/*",
        "users/U/groups",
        "users/U/sessions",
        "users/U/sessions/U",
        "users/U/external",
        "users/U/external/*",
        "users/U/external/mobile/sender_id",
        "external/*/config",
        "external/*/users",
        "idp",
        "idp/*/users",
        "idp/*/users/U",
        "config",
        "backends/ldap",
        "backends/saml",
        "backends/saml/metadata",
        "backends/saml/acs_url_template",
        "saml/sso",
        "saml/acs",
        "saml/logout",
        "saml/sls",
        "tenants",
        "tenants/U",
        "tenants/U/domains",
        "tenants/U/parent/U",
        "policies",
        "policies/*",
        "policies/*/acl/*",
        "groups",
        "groups/U",
        "groups/U/users",
        "groups/U/users/U",
        "groups/U/policies",
        "groups/U/policies/*",
        "sessions",
        "sessions/U",
    ];
    ROUTES.iter().any(|r| {
        let parts: Vec<&str> = r.split('/').collect();
        parts.len() == s.len()
            && parts.iter().zip(s).all(|(p, x)| match *p {
                "U" => is_uuid(x),
                "*" => !x.is_empty(),
                lit => lit == *x,
            })
    })
}

/// URL values go into required accesses with `.` replaced by `_`.
fn dots(value: &str) -> String {
    value.replace('.', "_")
}

/// Runs `f` for an authenticated, authorized caller; else the 401 of protected endpoints.
pub(crate) fn with(
    st: &mut State,
    req: &MockRequest,
    required: &str,
    f: impl FnOnce(&mut State, Caller) -> MockResponse,
) -> MockResponse {
    let token = req.header("x-auth-token").map(str::to_owned);
    let Some(rec) = token.as_deref().and_then(|t| st.live_token(t)).cloned() else {
        return unauthorized(token.as_deref(), "not_found_or_expired", required, None);
    };
    let tenant = match req.header("wazo-tenant") {
        Some(t) if st.tenants.contains_key(t) && st.in_subtree(&rec.tenant_uuid, t) => t.to_owned(),
        Some(t) => {
            return api(
                401,
                "unauthorized-tenant",
                "Unauthorized tenant",
                json!({ "tenant_uuid": t }),
            );
        }
        None => rec.tenant_uuid.clone(),
    };
    if !acl::grants(&rec.acl, &rec.auth_id, &rec.session_uuid, required) {
        return unauthorized(
            token.as_deref(),
            "missing_permission_or_invalid_tenant",
            required,
            Some(req.header("wazo-tenant")),
        );
    }
    f(st, Caller { token: rec, tenant })
}

/// The request body as a JSON object (`null` or empty reads as `{}`); else the server's
/// framework answer to a body it cannot decode.
/// A refusal: the answer to send instead (boxed: answers are large).
pub(crate) type Refusal = Box<MockResponse>;

pub(crate) fn body_object(req: &MockRequest) -> Result<Map<String, Value>, Refusal> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(Box::new(plain(
            400,
            "Invalid request body: expected an object",
        ))),
        Err(_) => Err(plain(
            400,
            "The browser (or proxy) sent a request that this server could not understand.",
        )
        .into()),
    }
}

fn no_such_policy(key: &str) -> MockResponse {
    legacy(404, &format!("No such policy {{'uuid': '{key}'}}"))
}

fn forbidden_group(g: &str) -> MockResponse {
    api_res(
        403,
        "forbidden-group",
        format!("Forbidden group modification: \"{g}\""),
        json!({ "uuid": g }),
        "groups",
    )
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

/// The policy named by a UUID or a slug, visible from the caller's tenant.
fn policy_in(st: &State, c: &Caller, key: &str) -> Option<String> {
    let visible = |p: &Map<String, Value>| {
        p["tenant_uuid"]
            .as_str()
            .is_some_and(|t| st.in_subtree(&c.tenant, t))
            || p["shared"] == true
    };
    if is_uuid(key) {
        return st
            .policies
            .get(key)
            .filter(|p| visible(p))
            .map(|_| key.to_owned());
    }
    st.policies
        .iter()
        .filter(|(_, p)| visible(p))
        .find(|(_, p)| p["slug"] == key && p["tenant_uuid"] == c.tenant.as_str())
        .or_else(|| {
            st.policies
                .iter()
                .filter(|(_, p)| visible(p))
                .find(|(_, p)| p["slug"] == key)
        })
        .map(|(k, _)| k.clone())
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
        .is_some_and(|r| r.eq_ignore_ascii_case("true") || r == "1");
    match kind {
        Kind::Users => page(
            req,
            st.visible(&st.users, &c.tenant, recurse),
            &["username", "firstname", "lastname"],
            true,
        ),
        Kind::Policies => {
            // The policy list has no `filtered`, and its `total` ignores `search`.
            let mut items = st.visible(&st.policies, &c.tenant, recurse);
            items.extend(
                st.policies
                    .values()
                    .filter(|p| p["shared"] == true && p["tenant_uuid"] != c.tenant.as_str())
                    .filter(|p| {
                        p["tenant_uuid"]
                            .as_str()
                            .is_some_and(|t| st.in_subtree(t, &c.tenant))
                    })
                    .cloned(),
            );
            page(
                req,
                items,
                &["name", "slug", "description", "uuid", "read_only"],
                false,
            )
        }
        Kind::Groups => page(
            req,
            st.visible(&st.groups, &c.tenant, recurse),
            &["name", "slug", "uuid", "read_only"],
            true,
        ),
        Kind::Sessions => page(
            req,
            st.visible(&st.sessions, &c.tenant, recurse),
            &["mobile"],
            true,
        ),
        Kind::Tenants => {
            let items = st.tenants.values().filter(|t| {
                t.get("uuid")
                    .and_then(Value::as_str)
                    .is_some_and(|u| st.in_subtree(&c.tenant, u))
            });
            page(req, items.cloned().collect(), &["name", "slug"], true)
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
        _ => {
            return plain(
                400,
                "The browser (or proxy) sent a request that this server could not understand.",
            );
        }
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    for key in ["client_id", "refresh_token", "access_type", "session_type"] {
        if body
            .get(key)
            .is_some_and(|v| !v.is_string() && !v.is_null())
        {
            return legacy(
                400,
                &format!(
                    "{{'{key}': [{{'constraint_id': 'type', 'constraint': 'string', 'message': 'Not a valid string.'}}]}}"
                ),
            );
        }
    }
    let client_id = text("client_id");
    let refresh = text("refresh_token");
    let access_type = text("access_type");
    if access_type
        .as_deref()
        .is_some_and(|a| a != "online" && a != "offline")
    {
        return legacy(
            400,
            "{'access_type': [{'constraint_id': 'enum', 'constraint': {'choices': ['online', 'offline']}, 'message': 'Must be one of: online, offline.'}]}",
        );
    }
    let offline = access_type.as_deref() == Some("offline");
    let expiration = match body.get("expiration") {
        None | Some(Value::Null) => st.default_expiration,
        Some(v) => match v.as_i64() {
            Some(e) if (1..=315_360_000).contains(&e) => e.unsigned_abs(),
            Some(_) => {
                return legacy(
                    400,
                    "{'expiration': [{'constraint_id': 'range', 'constraint': {'min': 1, 'max': 315360000}, 'message': 'Must be greater than or equal to 1 and less than or equal to 315360000.'}]}",
                );
            }
            None => {
                return legacy(
                    400,
                    "{'expiration': [{'constraint_id': 'type', 'constraint': 'integer', 'message': 'Not a valid integer.'}]}",
                );
            }
        },
    };
    if offline && client_id.is_none() {
        return legacy(
            400,
            "{'_schema': ['\"client_id\" must be specified when using \"access_type\" is \"offline\"']}",
        );
    }
    if offline && refresh.is_some() {
        return legacy(
            400,
            "{'_schema': ['cannot use the \"access_type\" \"offline\" when using a refresh token']}",
        );
    }
    if refresh.is_some() && client_id.is_none() {
        return legacy(
            400,
            "{'_schema': ['\"client_id\" must be specified when using a \"refresh_token\"']}",
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
        purpose: st
            .users
            .get(&user)
            .and_then(|u| u["purpose"].as_str())
            .unwrap_or("user")
            .to_owned(),
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
    // HEAD answers carry the status and `application/json`; the handler drops the body.
    let Some(rec) = st.live_token(token) else {
        return legacy(404, "No such token");
    };
    let q = req.query_map();
    if let Some(scope) = q.get("scope")
        && !acl::grants(&rec.acl, &rec.auth_id, &rec.session_uuid, scope)
    {
        return legacy(403, &format!("Unauthorized for {scope}"));
    }
    if let Some(tenant) = q.get("tenant")
        && !(st.tenants.contains_key(tenant) && st.in_subtree(&rec.tenant_uuid, tenant))
    {
        return legacy(403, &format!("Unauthorized for tenant {tenant}"));
    }
    if head {
        no_content()
    } else {
        ok(&json!({ "data": rec.to_json(false) }))
    }
}

fn token_revoke(st: &mut State, token: &str) -> MockResponse {
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
        && !(st.tenants.contains_key(&tenant) && st.in_subtree(&rec.tenant_uuid, &tenant))
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
    page(req, items, &["created_at", "client_id", "mobile"], true)
}

fn schema_error(
    resource: &str,
    fields: &[schema::Field],
    body: &Map<String, Value>,
) -> Option<MockResponse> {
    schema::first_error(fields, body).map(|(field, info)| invalid_data(resource, &field, info))
}

fn user_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    if let Some(bad) = schema_error("users", schema::USER_POST, &body) {
        return bad;
    }
    if let Some(name) = body.get("username").and_then(Value::as_str)
        && st.users.values().any(|u| u["username"] == name)
    {
        return conflict_login("username", name);
    }
    if let Some(address) = body.get("email_address").and_then(Value::as_str)
        && st.email_taken(address, None)
    {
        return conflict_login("email_address", address);
    }
    let uuid = st.add_user(&body, Some(&c.tenant));
    ok(&Value::Object(st.users[&uuid].clone()))
}

fn conflict_login(field: &str, value: &str) -> MockResponse {
    api_res(
        409,
        "conflict",
        "Conflict detected",
        json!({ field: { "constraint_id": "unique",
            "message": format!("The login \"{value}\" is already used") } }),
        "users",
    )
}

/// `PUT /users/{uuid}` replaces the user: left-out fields take their defaults.
fn user_edit(st: &mut State, req: &MockRequest, c: &Caller, key: &str) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    if let Some(bad) = schema_error("users", schema::USER_PUT, &body) {
        return bad;
    }
    if st.user_in(key, &c.tenant).is_none() {
        return unknown("unknown-user", "user", key, "users");
    }
    if let Some(name) = body.get("username").and_then(Value::as_str)
        && st
            .users
            .iter()
            .any(|(k, u)| k != key && u["username"] == name)
    {
        return conflict_login("username", name);
    }
    let purpose = body
        .get("purpose")
        .cloned()
        .unwrap_or_else(|| json!("user"));
    let method = body
        .get("authentication_method")
        .cloned()
        .unwrap_or_else(|| {
            if purpose == "user" {
                json!("default")
            } else {
                json!("native")
            }
        });
    let Some(user) = st.users.get_mut(key) else {
        return unknown("unknown-user", "user", key, "users");
    };
    for k in ["username", "firstname", "lastname"] {
        user.insert(k.to_owned(), body.get(k).cloned().unwrap_or(Value::Null));
    }
    user.insert("purpose".to_owned(), purpose);
    user.insert("authentication_method".to_owned(), method);
    user.insert(
        "enabled".to_owned(),
        body.get("enabled").cloned().unwrap_or(Value::Bool(true)),
    );
    ok(&Value::Object(user.clone()))
}

fn empty_address() -> Value {
    json!({ "line_1": null, "line_2": null, "city": null, "state": null, "country": null,
        "zip_code": null })
}

/// Checks a tenant body; returns the address (every member present) and sorted domains.
fn tenant_fields(
    body: &Map<String, Value>,
    st: &State,
    except: Option<&str>,
) -> Result<(Value, Vec<String>), Refusal> {
    if let Some(bad) = schema_error("tenants", schema::TENANT, body) {
        return Err(bad.into());
    }
    let mut address = empty_address();
    match body.get("address") {
        None => {}
        Some(Value::Object(given)) => {
            if let Some((field, info)) = schema::first_error(schema::ADDRESS, given) {
                return Err(invalid_data("tenants", "address", json!({ field: info })).into());
            }
            for k in ["line_1", "line_2", "city", "state", "country", "zip_code"] {
                if let Some(v) = given.get(k) {
                    address[k] = v.clone();
                }
            }
        }
        Some(_) => {
            return Err(invalid_data(
                "tenants",
                "address",
                json!({ "constraint_id": "type", "constraint": "dict",
                    "message": "Invalid input type." }),
            )
            .into());
        }
    }
    let mut domains: Vec<String> = body
        .get("domain_names")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    domains.sort();
    domains.dedup();
    for d in &domains {
        let taken = st.tenants.iter().any(|(k, t)| {
            Some(k.as_str()) != except
                && t["domain_names"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == d.as_str()))
        });
        if taken {
            return Err(api_res(
                409,
                "conflict",
                "Conflict detected",
                json!({ "domain_names": { "constraint-id": "unique", "message": format!(
                    "Domain name : \"{d}\" is already in use, no duplicates allowed") } }),
                "tenants",
            )
            .into());
        }
    }
    Ok((address, domains))
}

fn tenant_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let (address, domains) = match tenant_fields(&body, st, None) {
        Ok(x) => x,
        Err(e) => return *e,
    };
    let uuid = body
        .get("uuid")
        .and_then(Value::as_str)
        .map_or_else(uuid4, str::to_owned);
    let name = body.get("name").cloned().unwrap_or(Value::Null);
    let slug = match body.get("slug").and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None => {
            let from_name: String = name
                .as_str()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(10)
                .collect();
            if from_name.is_empty() {
                uuid4().replace('-', "")[..10].to_owned()
            } else {
                from_name
            }
        }
    };
    for (column, value) in [("uuid", json!(uuid)), ("slug", json!(slug))] {
        if st.tenants.values().any(|t| t[column] == value) {
            let shown = value.as_str().unwrap_or_default().to_owned();
            return api_res(
                409,
                "tenant-identity-conflict",
                "Tenant Conflict detected",
                json!({ column: { "constraint_id": "unique", "message": format!(
                    "A tenant with identity {column}=\"{shown}\" already exists") } }),
                "tenants",
            );
        }
    }
    let tenant = json!({ "uuid": uuid, "parent_uuid": c.tenant, "name": name, "slug": slug,
        "contact": body.get("contact").cloned().unwrap_or(Value::Null),
        "phone": body.get("phone").cloned().unwrap_or(Value::Null),
        "default_authentication_method": body.get("default_authentication_method")
            .cloned().unwrap_or_else(|| json!("native")),
        "domain_names": domains, "address": address });
    st.add_tenant(tenant.as_object().cloned().unwrap_or_default());
    ok(&tenant)
}

/// `PUT /tenants/{uuid}` replaces the tenant (its slug excepted).
fn tenant_edit(st: &mut State, req: &MockRequest, c: &Caller, key: &str) -> MockResponse {
    let mut body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    body.remove("slug");
    body.remove("uuid");
    let (address, domains) = match tenant_fields(&body, st, Some(key)) {
        Ok(x) => x,
        Err(e) => return *e,
    };
    if !st.in_subtree(&c.tenant, key) {
        return unknown("unknown-tenant", "tenant", key, "tenants");
    }
    let Some(tenant) = st.tenants.get_mut(key) else {
        return unknown("unknown-tenant", "tenant", key, "tenants");
    };
    for k in ["name", "contact", "phone"] {
        tenant.insert(k.to_owned(), body.get(k).cloned().unwrap_or(Value::Null));
    }
    tenant.insert(
        "default_authentication_method".to_owned(),
        body.get("default_authentication_method")
            .cloned()
            .unwrap_or_else(|| json!("native")),
    );
    tenant.insert("domain_names".to_owned(), json!(domains));
    tenant.insert("address".to_owned(), address);
    ok(&Value::Object(tenant.clone()))
}

fn tenant_delete(st: &mut State, c: &Caller, key: &str) -> MockResponse {
    if c.token.tenant_uuid == key {
        return api_res(
            403,
            "deleting-own-tenant-forbidden",
            format!("Deleting its own tenant is forbidden: \"{key}\""),
            json!({ "tenant_uuid": key }),
            "tenants",
        );
    }
    if !st.tenants.contains_key(key) || !st.in_subtree(&c.tenant, key) {
        return unknown("unknown-tenant", "tenant", key, "tenants");
    }
    if st
        .tenants
        .iter()
        .any(|(k, t)| k != key && t["parent_uuid"] == key)
    {
        // The server builds this error with its arguments shifted: the details land in
        // `error_id` and the resource name in `details`.
        return MockResponse::json(
            400,
            &json!({ "message": format!(
                "Unauthorized delete of tenant : \"{key}\" ; since it has at least one child"),
                "error_id": { "uuid": key }, "details": "tenants",
                "timestamp": reply::now_float() }),
        );
    }
    st.remove_tenant(key);
    no_content()
}

fn refuse_access(c: &Caller, access: &str) -> MockResponse {
    unauthorized(
        Some(&c.token.token),
        "missing_permission_or_invalid_tenant",
        access,
        Some(None),
    )
}

/// The policy body as the server checks it: a schema error is the legacy
/// `Invalid value supplied for field: X`.
fn policy_body(req: &MockRequest, put: bool) -> Result<Map<String, Value>, Refusal> {
    let body = body_object(req)?;
    let bad = |field: &str| legacy(400, &format!("Invalid value supplied for field: {field}"));
    match body.get("name") {
        Some(Value::String(n)) if (1..=80).contains(&n.chars().count()) => {}
        _ => return Err(bad("name").into()),
    }
    if !put {
        match body.get("slug") {
            None | Some(Value::Null) => {}
            Some(Value::String(s))
                if (1..=80).contains(&s.len())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {}
            Some(_) => return Err(bad("slug").into()),
        }
        if body.get("shared").is_some_and(|v| !v.is_boolean()) {
            return Err(bad("shared").into());
        }
    }
    if body
        .get("description")
        .is_some_and(|v| !v.is_string() && !v.is_null())
    {
        return Err(bad("description").into());
    }
    match body.get("acl") {
        None => {}
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
        Some(_) => return Err(bad("acl").into()),
    }
    Ok(body)
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

fn policy_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let body = match policy_body(req, false) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let acl = acl_list(&body);
    let t = &c.token;
    if let Some(bad) = acl
        .iter()
        .find(|a| !acl::may_add(&t.acl, &t.auth_id, &t.session_uuid, a))
    {
        return refuse_access(c, bad);
    }
    let slug = body
        .get("slug")
        .and_then(Value::as_str)
        .map_or_else(|| state::slug_from(&name, 80), str::to_owned);
    if st.policies.values().any(|p| {
        (p["name"] == name.as_str() || p["slug"] == slug.as_str())
            && p["tenant_uuid"] == c.tenant.as_str()
    }) {
        return legacy(409, &format!("Policy \"{name}\" already exists"));
    }
    let uuid = uuid4();
    let policy = json!({ "uuid": uuid, "tenant_uuid": c.tenant, "name": name, "slug": slug,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "acl": acl, "read_only": false,
        "shared": body.get("shared").cloned().unwrap_or(json!(false)) });
    st.policies
        .insert(uuid, policy.as_object().cloned().unwrap_or_default());
    ok(&policy)
}

/// `PUT /policies/{key}` replaces name, description and acl (left out: null and `[]`).
fn policy_edit(st: &mut State, req: &MockRequest, c: &Caller, key: &str) -> MockResponse {
    let body = match policy_body(req, true) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let Some(policy) = st.policies.get_mut(key) else {
        return legacy(404, &format!("No such policy {{'uuid': '{key}'}}"));
    };
    if policy["read_only"] == true {
        return legacy(403, &format!("Forbidden policy deletion: \"{key}\""));
    }
    let old: Vec<String> = acl_list(policy);
    let new = acl_list(&body);
    let t = &c.token;
    if let Some(bad) = new
        .iter()
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
    policy.insert("name".to_owned(), body["name"].clone());
    policy.insert(
        "description".to_owned(),
        body.get("description").cloned().unwrap_or(Value::Null),
    );
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
        return legacy(404, &format!("No such policy {{'uuid': '{key}'}}"));
    };
    if policy["read_only"] == true {
        return legacy(403, &format!("Forbidden policy deletion: \"{key}\""));
    }
    let mut acl: Vec<Value> = policy["acl"].as_array().cloned().unwrap_or_default();
    // Adding an access twice and removing an absent one both succeed.
    acl.retain(|a| a != access);
    if add {
        acl.push(json!(access));
    }
    policy.insert("acl".to_owned(), Value::Array(acl));
    no_content()
}

fn group_create(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    if let Some(bad) = schema_error("groups", schema::GROUP, &body) {
        return bad;
    }
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let slug = body
        .get("slug")
        .and_then(Value::as_str)
        .map_or_else(|| state::slug_from(&name, 80), str::to_owned);
    if st.groups.values().any(|g| {
        (g["name"] == name.as_str() || g["slug"] == slug.as_str())
            && g["tenant_uuid"] == c.tenant.as_str()
    }) {
        return legacy(409, &format!("Group \"{name}\" already exists"));
    }
    let uuid = uuid4();
    let group = json!({ "uuid": uuid, "name": name, "slug": slug, "tenant_uuid": c.tenant,
        "read_only": false, "system_managed": false });
    st.groups
        .insert(uuid, group.as_object().cloned().unwrap_or_default());
    ok(&group)
}

/// `PUT /groups/{uuid}` replaces the name (the slug stays).
fn group_edit(st: &mut State, req: &MockRequest, c: &Caller, key: &str) -> MockResponse {
    let mut body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    body.remove("slug");
    if let Some(bad) = schema_error("groups", schema::GROUP, &body) {
        return bad;
    }
    let Some(group) = st.group_in(key, &c.tenant) else {
        return unknown("unknown-group", "group", key, "groups");
    };
    if group["system_managed"] == true {
        return forbidden_group(key);
    }
    let name = body["name"].clone();
    if st
        .groups
        .iter()
        .any(|(k, g)| k != key && g["name"] == name && g["tenant_uuid"] == c.tenant.as_str())
    {
        return legacy(
            409,
            &format!(
                "Group \"{}\" already exists",
                name.as_str().unwrap_or_default()
            ),
        );
    }
    let Some(group) = st.groups.get_mut(key) else {
        return unknown("unknown-group", "group", key, "groups");
    };
    group.insert("name".to_owned(), name);
    ok(&Value::Object(group.clone()))
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
    // The server looks the policy up before the user.
    if let LinkKind::UserPolicy = kind
        && policy_in(st, c, item).is_none()
    {
        return no_such_policy(item);
    }
    match kind {
        LinkKind::UserPolicy if st.user_in(owner, &c.tenant).is_none() => {
            return unknown("unknown-user", "user", owner, "users");
        }
        LinkKind::GroupUser | LinkKind::GroupPolicy if st.group_in(owner, &c.tenant).is_none() => {
            return unknown("unknown-group", "group", owner, "groups");
        }
        _ => {}
    }
    // Removing a user from a group is not checked against the users: absent is fine.
    if let (LinkKind::GroupUser, false) = (kind, add) {
        if let Some(members) = st.group_users.get_mut(owner) {
            members.retain(|x| x != item);
        }
        return no_content();
    }
    let item_key = match kind {
        LinkKind::GroupUser => match st.user_in(item, &c.tenant) {
            Some(_) => item.to_owned(),
            None => return unknown("unknown-user", "user", item, "users"),
        },
        _ => match policy_in(st, c, item) {
            Some(k) => k,
            None => return no_such_policy(item),
        },
    };
    if let LinkKind::GroupUser = kind {
        if st.groups[owner]["system_managed"] == true {
            return forbidden_group(owner);
        }
        let user_tenant = st.users[&item_key]["tenant_uuid"].clone();
        let group_tenant = st.groups[owner]["tenant_uuid"].clone();
        if user_tenant != group_tenant {
            return api_res(
                400,
                "missmatching-tenant",
                "Ressources are not in the same tenant",
                json!({ "user_tenant_uuid": user_tenant, "group_tenant_uuid": group_tenant }),
                "groups",
            );
        }
    } else {
        // Attaching or detaching a policy needs the caller to hold each of its accesses.
        let t = &c.token;
        let entries = acl_list(&st.policies[&item_key]);
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

/// Deletes a session and its tokens; an unknown session is not an error.
pub(crate) fn delete_session(st: &mut State, sid: &str) {
    st.sessions.remove(sid);
    st.tokens.retain(|_, t| t.session_uuid != sid);
}
