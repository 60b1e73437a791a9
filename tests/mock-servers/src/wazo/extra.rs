//! The endpoints around the core resources: passwords, e-mails, external authentications,
//! identity providers, the configuration, the LDAP and SAML back ends, tenant domains and
//! parents. Facts (status codes, error ids, bodies) follow the server's own handlers.

use serde_json::{Map, Value, json};

use super::reply::{
    api, api_res, internal_error, invalid_data, legacy, no_content, ok, page, unknown,
};
use super::routes::{Caller, Refusal, body_object, with};
use super::state::{State, uuid4};
use crate::message::{MockRequest, MockResponse};

/// The external authentication types the server loads by default.
const EXTERNAL_TYPES: &[&str] = &["google", "microsoft", "mobile"];

/// The identity providers the server knows.
const IDP_TYPES: &[&str] = &["default", "native", "ldap", "saml"];

/// A `201` with flask-restful's empty JSON string.
fn created() -> MockResponse {
    MockResponse::json(201, &json!(""))
}

/// `GET /users/password/reset?username|email|login=`: always 204 so as not to reveal who
/// exists, except that sending the mail fails without a mail server.
pub(crate) fn reset_password(st: &State, req: &MockRequest) -> MockResponse {
    let q = req.query_map();
    let given: Vec<(&str, &String)> = ["username", "email", "login"]
        .into_iter()
        .filter_map(|k| q.get(k).map(|v| (k, v)))
        .collect();
    if given.len() != 1 {
        return api_res(
            400,
            "invalid-data",
            json!(["\"username\" or \"email\" or \"login\" should be used"]),
            json!({}),
            "reset",
        );
    }
    let (key, value) = given[0];
    let user = st.users.values().find(|u| {
        let by_name = u["username"] == value.as_str();
        let by_email = u["emails"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["address"] == value.as_str()));
        match key {
            "username" => by_name,
            "email" => by_email,
            _ => by_name || by_email,
        }
    });
    let Some(user) = user else {
        return no_content();
    };
    let has_address = key == "email"
        || user["emails"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["confirmed"] == true));
    if has_address && !st.mail {
        return internal_error();
    }
    no_content()
}

/// `POST /users/password/reset?user_uuid=` with `{"password"}` (null removes it).
pub(crate) fn set_password(st: &mut State, req: &MockRequest) -> MockResponse {
    let q = req.query_map();
    let user = q.get("user_uuid").cloned().unwrap_or_default();
    let token = req
        .header("x-auth-token")
        .map(str::to_owned)
        .or_else(|| q.get("token").cloned());
    let access = format!("auth.users.password.reset.{user}.create");
    let allowed = token
        .as_deref()
        .and_then(|t| st.live_token(t))
        .is_some_and(|t| super::acl::grants(&t.acl, &t.auth_id, &t.session_uuid, &access));
    if !allowed {
        return api(
            401,
            "unauthorized",
            "Unauthorized",
            json!({ "invalid_token": token.unwrap_or_default() }),
        );
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    match body.get("password") {
        None => invalid_data(
            "reset",
            "password",
            json!({ "constraint_id": "required", "constraint": true,
                "message": "Missing data for required field." }),
        ),
        Some(Value::Null) => {
            st.passwords.remove(&user);
            no_content()
        }
        Some(Value::String(p)) if !p.is_empty() => {
            if !st.users.contains_key(&user) {
                return unknown("unknown-user", "user", &user, "users");
            }
            st.passwords.insert(user, p.clone());
            no_content()
        }
        Some(_) => invalid_data(
            "reset",
            "password",
            json!({ "constraint_id": "type", "constraint": "string",
                "message": "Not a valid string." }),
        ),
    }
}

/// `PUT /users/{uuid}/password` with `{"old_password", "new_password"}`.
pub(crate) fn change_password(
    st: &mut State,
    req: &MockRequest,
    c: &Caller,
    user: &str,
) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    for key in ["old_password", "new_password"] {
        let info = match body.get(key) {
            None => json!({ "constraint_id": "required", "constraint": true,
                "message": "Missing data for required field." }),
            Some(Value::String(s)) if !s.is_empty() => continue,
            Some(Value::String(_)) => json!([{ "constraint_id": "length",
                "constraint": { "min": 1 }, "message": "Shorter than minimum length 1." }]),
            Some(_) => json!({ "constraint_id": "type", "constraint": "string",
                "message": "Not a valid string." }),
        };
        let info = info
            .as_array()
            .and_then(|a| a.first().cloned())
            .unwrap_or(info);
        return invalid_data("users", key, info);
    }
    if st.user_in(user, &c.tenant).is_none() {
        return unknown("unknown-user", "user", user, "users");
    }
    if st.passwords.get(user).map(String::as_str) != body["old_password"].as_str() {
        return legacy(401, "Authentication Failed");
    }
    let new = body["new_password"].as_str().unwrap_or_default().to_owned();
    st.passwords.insert(user.to_owned(), new);
    no_content()
}

/// `PUT /users/{uuid}/emails` and `PUT /admin/users/{uuid}/emails`: the whole list is
/// replaced; the answer is the new list.
pub(crate) fn update_emails(
    st: &mut State,
    req: &MockRequest,
    c: &Caller,
    user: &str,
    admin: bool,
) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    // The server reports the schema's whole error tree as the message.
    let bad = |errors: Value| api_res(400, "invalid-data", errors, json!({}), "emails");
    let Some(given) = body.get("emails") else {
        return bad(
            json!({ "emails": { "constraint_id": "required", "constraint": true,
            "message": "Missing data for required field." } }),
        );
    };
    let Some(given) = given.as_array() else {
        return bad(
            json!({ "emails": { "constraint_id": "type", "constraint": "list",
            "message": "Invalid type." } }),
        );
    };
    let mut errors = Map::new();
    for (i, e) in given.iter().enumerate() {
        let address = e.get("address");
        let info = match address {
            None => Some(
                json!({ "address": { "constraint_id": "required", "constraint": true,
                "message": "Missing data for required field." } }),
            ),
            Some(Value::String(a))
                if a.contains('@') && !a.starts_with('@') && !a.ends_with('@') =>
            {
                None
            }
            Some(_) => Some(
                json!({ "address": { "message": "Not a valid email address.",
                "constraint_id": "type", "constraint": "email" } }),
            ),
        };
        let info = info.or_else(|| {
            let bool_ok = |k: &str| {
                e.get(k)
                    .is_none_or(|v| v.is_boolean() || (k == "confirmed" && v.is_null()))
            };
            let key = if !bool_ok("main") {
                Some("main")
            } else if admin && !bool_ok("confirmed") {
                Some("confirmed")
            } else {
                None
            };
            key.map(|k| {
                json!({ k: { "message": "Not a valid boolean.", "constraint_id": "type",
                "constraint": "boolean" } })
            })
        });
        if let Some(info) = info {
            errors.insert(i.to_string(), info);
        }
    }
    if !errors.is_empty() {
        return bad(json!({ "emails": errors }));
    }
    let mains = given.iter().filter(|e| e["main"] == true).count();
    if !given.is_empty() && mains != 1 {
        let text = if mains == 0 {
            "At least one address should be main"
        } else {
            "Only one address should be main"
        };
        return bad(json!({ "_schema": [text] }));
    }
    let mut addresses: Vec<&str> = given.iter().filter_map(|e| e["address"].as_str()).collect();
    addresses.sort_unstable();
    if addresses.windows(2).any(|w| w[0] == w[1]) {
        return bad(json!({ "_schema": ["The same address can only be used once"] }));
    }
    if st.user_in(user, &c.tenant).is_none() {
        return unknown("unknown-user", "user", user, "users");
    }
    if let Some(taken) = addresses.iter().find(|a| st.email_taken(a, Some(user))) {
        return api_res(
            409,
            "conflict",
            "Conflict detected",
            json!({ "email_address": { "constraint_id": "unique",
                "message": format!("The login \"{taken}\" is already used") } }),
            "users",
        );
    }
    let old: Vec<Value> = st.users[user]["emails"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let emails: Vec<Value> = given
        .iter()
        .map(|e| {
            let address = e["address"].as_str().unwrap_or_default();
            let previous = old.iter().find(|o| o["address"] == address);
            let confirmed = match (admin, e.get("confirmed")) {
                (true, Some(Value::Bool(b))) => *b,
                _ => previous.is_some_and(|p| p["confirmed"] == true),
            };
            let uuid = previous
                .and_then(|p| p["uuid"].as_str())
                .map_or_else(uuid4, str::to_owned);
            json!({ "uuid": uuid, "address": address, "main": e["main"] == true,
                "confirmed": confirmed })
        })
        .collect();
    if let Some(u) = st.users.get_mut(user) {
        u.insert("emails".to_owned(), json!(emails));
    }
    MockResponse::json(200, &json!(emails))
}

/// `GET /users/{uuid}/emails/{email}/confirm`: sends a new confirmation mail.
pub(crate) fn request_confirmation(
    st: &State,
    c: &Caller,
    user: &str,
    email: &str,
) -> MockResponse {
    let Some(u) = st.user_in(user, &c.tenant) else {
        return unknown("unknown-user", "user", user, "users");
    };
    let Some(e) = u["emails"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["uuid"] == email))
    else {
        return unknown("unknown-email", "email", email, "emails");
    };
    if e["confirmed"] == true {
        return api_res(
            409,
            "conflict",
            format!("This email already confirmed: \"{email}\""),
            json!({ "uuid": email }),
            "emails",
        );
    }
    if st.mail {
        no_content()
    } else {
        internal_error()
    }
}

/// `GET` (token in `?token=` or the header; an HTML page) or `PUT /emails/{uuid}/confirm`.
pub(crate) fn confirm_email(st: &mut State, req: &MockRequest, email: &str) -> MockResponse {
    let get = req.method == http::Method::GET || req.method == http::Method::HEAD;
    let mut req = req.clone();
    if get
        && req.header("x-auth-token").is_none()
        && let Some(t) = req.query_map().get("token")
        && let Ok(v) = http::HeaderValue::from_str(t)
    {
        req.headers.insert("x-auth-token", v);
    }
    let required = format!("auth.emails.{email}.confirm.update");
    with(st, &req, &required, |st, _| {
        let mut found = false;
        for user in st.users.values_mut() {
            if let Some(es) = user.get_mut("emails").and_then(Value::as_array_mut) {
                for e in es.iter_mut().filter(|e| e["uuid"] == email) {
                    e["confirmed"] = json!(true);
                    found = true;
                }
            }
        }
        if !found {
            return unknown("unknown-email", "email", email, "emails");
        }
        if get {
            MockResponse::text(
                200,
                "text/html; charset=utf-8",
                "<!DOCTYPE html>\n<html><body><p>Email address confirmed</p></body></html>\n",
            )
        } else {
            no_content()
        }
    })
}

fn unknown_external(kind: &str) -> MockResponse {
    api_res(
        404,
        "unknown-external-auth",
        format!("No such external auth: \"{kind}\""),
        json!({ "type": kind }),
        kind,
    )
}

/// `GET /users/{uuid}/external`: the user's external authentications.
pub(crate) fn external_list(st: &State, req: &MockRequest, c: &Caller, user: &str) -> MockResponse {
    if st.user_in(user, &c.tenant).is_none() {
        return unknown("unknown-user", "user", user, "users");
    }
    let items = EXTERNAL_TYPES
        .iter()
        .map(|kind| {
            let enabled = st
                .external
                .contains_key(&(user.to_owned(), (*kind).to_owned()));
            let v = json!({ "type": kind, "enabled": enabled, "data": {}, "plugin_info": {} });
            v.as_object().cloned().unwrap_or_default()
        })
        .collect();
    page(req, items, &["type"], true)
}

/// The members of a mobile registration, each a string up to 512 characters or null.
const MOBILE_FIELDS: &[&str] = &[
    "token",
    "apns_token",
    "apns_voip_token",
    "apns_notification_token",
    "apns_call_topic",
    "apns_default_topic",
];

/// A mobile registration as the server stores and shows it (every member present).
fn mobile_data(body: &Map<String, Value>) -> Result<Value, Refusal> {
    let mut data = Map::new();
    for field in MOBILE_FIELDS {
        let value = body.get(*field).cloned().unwrap_or(Value::Null);
        let bad = match &value {
            Value::Null => *field == "token" && body.contains_key("token"),
            Value::String(s) => s.chars().count() > 512 || (*field == "token" && s.is_empty()),
            _ => true,
        };
        if bad {
            let info = if value.is_string() {
                json!({ "constraint_id": "length", "constraint": { "min": 1, "max": 512 },
                    "message": "Length must be between 1 and 512." })
            } else {
                json!({ "message": "Not a valid string.", "constraint_id": "type",
                    "constraint": "string" })
            };
            return Err(invalid_data("users", field, info).into());
        }
        data.insert((*field).to_owned(), value);
    }
    Ok(Value::Object(data))
}

/// `/users/{uuid}/external/{type}`: GET, POST (create, 201), PUT (mobile only), DELETE.
pub(crate) fn external_user(
    st: &mut State,
    req: &MockRequest,
    c: &Caller,
    user: &str,
    kind: &str,
) -> MockResponse {
    if !EXTERNAL_TYPES.contains(&kind) {
        return super::reply::html_not_found();
    }
    let put = req.method == http::Method::PUT;
    if put && kind != "mobile" {
        return super::reply::plain(405, "The method is not allowed for the requested URL.");
    }
    if st.user_in(user, &c.tenant).is_none() {
        return unknown("unknown-user", "user", user, "users");
    }
    let key = (user.to_owned(), kind.to_owned());
    match req.method {
        http::Method::GET | http::Method::HEAD => match st.external.get(&key) {
            Some(data) => ok(data),
            None => unknown_external(kind),
        },
        http::Method::DELETE => {
            if st.external.remove(&key).is_none() {
                return unknown_external(kind);
            }
            no_content()
        }
        _ => {
            let body = match body_object(req) {
                Ok(b) => b,
                Err(e) => return *e,
            };
            if kind != "mobile" {
                // An OAuth type starts an authorization with the tenant's client config.
                let tenant = st.users[user]["tenant_uuid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if !st.external_config.contains_key(&(kind.to_owned(), tenant)) {
                    return api_res(
                        404,
                        "unknown-config",
                        format!(
                            "Configuration for this external auth type \"{kind}\" is not defined."
                        ),
                        json!({ "type": kind }),
                        kind,
                    );
                }
                let state = uuid4();
                st.external.insert(key, json!({ "scope": [] }));
                return MockResponse::json(
                    201,
                    &json!({ "authorization_url": format!(
                        "https://accounts.invalid/{kind}/authorize?state={state}"), "state": state }),
                );
            }
            let data = match mobile_data(&body) {
                Ok(d) => d,
                Err(e) => return *e,
            };
            if !put && st.external.contains_key(&key) {
                return api_res(
                    409,
                    "conflict",
                    format!("This external authentication method has already been set: \"{kind}\""),
                    json!({ "type": kind }),
                    kind,
                );
            }
            st.external.insert(key, data.clone());
            MockResponse::json(if put { 200 } else { 201 }, &data)
        }
    }
}

/// `GET /users/{uuid}/external/mobile/sender_id`.
pub(crate) fn mobile_sender_id(st: &State, c: &Caller, user: &str) -> MockResponse {
    if st.user_in(user, &c.tenant).is_none() {
        return unknown("unknown-user", "user", user, "users");
    }
    let tenant = st.users[user]["tenant_uuid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let config = st.external_config.get(&("mobile".to_owned(), tenant));
    match config {
        Some(config) => ok(&json!({ "sender_id": config.get("fcm_sender_id") })),
        None => api_res(
            404,
            "unknown-config",
            "Configuration for this external auth type \"mobile\" is not defined.",
            json!({ "type": "mobile" }),
            "mobile",
        ),
    }
}

/// `/external/{type}/config`: GET, POST (201), PUT (204), DELETE (204) for the scoping
/// tenant.
pub(crate) fn external_config(
    st: &mut State,
    req: &MockRequest,
    c: &Caller,
    kind: &str,
) -> MockResponse {
    if !EXTERNAL_TYPES.contains(&kind) {
        return api_res(
            404,
            "unknown-external-auth-type",
            format!("No such auth type: \"{kind}\""),
            json!({ "type": kind }),
            "external",
        );
    }
    let key = (kind.to_owned(), c.tenant.clone());
    let not_found = || {
        api_res(
            404,
            "unknown-config",
            format!("Configuration for this external auth type \"{kind}\" is not defined."),
            json!({ "type": kind }),
            kind,
        )
    };
    match req.method {
        http::Method::GET | http::Method::HEAD => match st.external_config.get(&key) {
            Some(v) => ok(v),
            None => not_found(),
        },
        http::Method::DELETE => match st.external_config.remove(&key) {
            Some(_) => no_content(),
            None => not_found(),
        },
        ref m => {
            let body = match body_object(req) {
                Ok(b) => b,
                Err(e) => return *e,
            };
            let exists = st.external_config.contains_key(&key);
            if *m == http::Method::POST {
                if exists {
                    return api_res(
                        409,
                        "conflict",
                        format!(
                            "This external authentication config has already been set: \"{kind}\""
                        ),
                        json!({ "type": kind }),
                        kind,
                    );
                }
                st.external_config.insert(key, Value::Object(body));
                return created();
            }
            if !exists {
                return not_found();
            }
            st.external_config.insert(key, Value::Object(body));
            no_content()
        }
    }
}

/// `GET /external/{type}/users`: the users of the scoping tenant connected with `type`.
pub(crate) fn external_users(
    st: &State,
    req: &MockRequest,
    c: &Caller,
    kind: &str,
) -> MockResponse {
    let items: Vec<Map<String, Value>> = st
        .external
        .keys()
        .filter(|(user, k)| {
            k == kind
                && st
                    .users
                    .get(user)
                    .is_some_and(|u| u["tenant_uuid"] == c.tenant.as_str())
        })
        .filter_map(|(user, _)| json!({ "uuid": user }).as_object().cloned())
        .collect();
    if let Some(bad) = super::reply::bad_list_params(req, &[]) {
        return bad;
    }
    let n = items.len();
    ok(&json!({ "filtered": n, "total": n, "items": items }))
}

/// `GET /idp`.
pub(crate) fn idp_list() -> MockResponse {
    let items = &IDP_TYPES[1..];
    ok(&json!({ "total": items.len(), "filtered": items.len(), "items": items }))
}

fn unknown_idp(kind: &str) -> MockResponse {
    api_res(
        404,
        "unknown-idp-type",
        format!("No such IDP type: \"{kind}\""),
        json!({ "idp_type": kind }),
        "idp",
    )
}

fn set_idp(st: &mut State, user: &str, kind: Option<&str>) {
    if let Some(u) = st.users.get_mut(user) {
        let method = kind.unwrap_or("default");
        u.insert("authentication_method".to_owned(), json!(method));
    }
}

/// `PUT|DELETE /idp/{type}/users/{uuid}`.
pub(crate) fn idp_user(
    st: &mut State,
    c: &Caller,
    kind: &str,
    user: &str,
    add: bool,
) -> MockResponse {
    if !IDP_TYPES.contains(&kind) {
        return unknown_idp(kind);
    }
    if st.user_in(user, &c.tenant).is_none() {
        return unknown("unknown-user", "user", user, "users");
    }
    let current = st.users[user]["authentication_method"].clone();
    if add {
        set_idp(st, user, Some(kind));
    } else if current == kind {
        set_idp(st, user, None);
    }
    no_content()
}

/// `PUT /idp/{type}/users` with `{"users": [{"uuid"}]}`.
pub(crate) fn idp_users(st: &mut State, req: &MockRequest, c: &Caller, kind: &str) -> MockResponse {
    if !IDP_TYPES.contains(&kind) {
        return unknown_idp(kind);
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let users: Option<Vec<String>> = body.get("users").and_then(Value::as_array).and_then(|a| {
        a.iter()
            .map(|u| u.get("uuid").and_then(Value::as_str).map(str::to_owned))
            .collect()
    });
    let Some(users) = users else {
        return api_res(
            400,
            "invalid-list-param",
            json!({ "users": { "constraint_id": "required", "constraint": true,
                "message": "Missing data for required field." } }),
            json!({}),
            "users",
        );
    };
    for user in &users {
        if st.user_in(user, &c.tenant).is_none() {
            return unknown("unknown-user", "user", user, "users");
        }
    }
    for user in &users {
        set_idp(st, user, Some(kind));
    }
    no_content()
}

/// The configuration `GET /config` shows: the recorded server's, keys and layout as it
/// answers them (secrets redacted by the server, duplicated CORS headers included).
pub(crate) fn default_config() -> Value {
    serde_json::from_str(include_str!("config.json")).unwrap_or_else(|_| json!({}))
}

/// `GET /config`.
pub(crate) fn config(st: &State) -> MockResponse {
    let mut config = st.config.clone();
    config["default_token_lifetime"] = json!(st.default_expiration);
    ok(&config)
}

/// `PATCH /config` with JSON-patch `replace` of `/debug` or `/profiling_enabled`. Anything
/// else fails the server's unguarded schema check, which answers 500 with the patch.
pub(crate) fn config_patch(st: &mut State, req: &MockRequest) -> MockResponse {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let ops = body.as_array().cloned().unwrap_or_default();
    let valid = body.is_array()
        && ops.iter().all(|op| {
            op.get("op").is_none_or(|o| o == "replace")
                && op
                    .get("path")
                    .is_none_or(|p| p == "/debug" || p == "/profiling_enabled")
                && op.get("value").is_none_or(Value::is_boolean)
        });
    if !valid {
        return MockResponse::json(500, &body);
    }
    for op in &ops {
        if let (Some(path), Some(value)) = (op["path"].as_str(), op.get("value")) {
            st.config[&path[1..]] = value.clone();
        }
    }
    config(st)
}

const LDAP_KEYS: &[&str] = &[
    "host",
    "port",
    "protocol_version",
    "protocol_security",
    "bind_dn",
    "user_base_dn",
    "user_login_attribute",
    "user_email_attribute",
    "search_filters",
];

/// `/backends/ldap`: GET, PUT (create or replace), DELETE for the scoping tenant.
pub(crate) fn ldap(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let not_found = || {
        api_res(
            404,
            "unknown-ldap-config",
            format!("No LDAP config found for this tenant: \"{}\"", c.tenant),
            json!({ "uuid": c.tenant }),
            "ldap_config",
        )
    };
    match req.method {
        http::Method::GET | http::Method::HEAD => match st.ldap.get(&c.tenant) {
            Some(v) => ok(v),
            None => not_found(),
        },
        http::Method::DELETE => {
            st.ldap.remove(&c.tenant);
            no_content()
        }
        _ => {
            let body = match body_object(req) {
                Ok(b) => b,
                Err(e) => return *e,
            };
            let bad =
                |field: &str| legacy(400, &format!("Invalid value supplied for field: {field}"));
            let text = |k: &str, max: usize, required: bool, nullable: bool| match body.get(k) {
                None => !required,
                Some(Value::Null) => nullable,
                Some(Value::String(s)) => s.chars().count() <= max,
                Some(_) => false,
            };
            let checks: [(&str, bool); 9] = [
                ("host", text("host", 512, true, false)),
                ("port", body.get("port").is_some_and(Value::is_i64)),
                (
                    "protocol_version",
                    body.get("protocol_version")
                        .is_none_or(|v| v.as_i64().is_some_and(|n| (2..=3).contains(&n))),
                ),
                (
                    "protocol_security",
                    body.get("protocol_security")
                        .is_none_or(|v| v.is_null() || v == "ldaps" || v == "tls"),
                ),
                ("bind_dn", text("bind_dn", 256, false, true)),
                ("user_base_dn", text("user_base_dn", 256, true, false)),
                (
                    "user_login_attribute",
                    text("user_login_attribute", 64, true, false),
                ),
                (
                    "user_email_attribute",
                    text("user_email_attribute", 64, true, false),
                ),
                (
                    "search_filters",
                    text("search_filters", usize::MAX, false, true),
                ),
            ];
            if let Some((field, _)) = checks.iter().find(|(_, fine)| !fine) {
                return bad(field);
            }
            let mut config = json!({ "tenant_uuid": c.tenant });
            for k in LDAP_KEYS {
                config[*k] = body.get(*k).cloned().unwrap_or(Value::Null);
            }
            if config["protocol_version"].is_null() {
                config["protocol_version"] = json!(3);
            }
            st.ldap.insert(c.tenant.clone(), config.clone());
            ok(&config)
        }
    }
}

/// The form fields of a `multipart/form-data` body (file parts give their content).
fn multipart(req: &MockRequest) -> Option<Map<String, Value>> {
    let ct = req.header("content-type")?;
    let boundary = ct.split("boundary=").nth(1)?.trim_matches('"');
    let text = String::from_utf8_lossy(&req.body);
    let mut out = Map::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        out.insert(name.to_owned(), json!(value));
    }
    Some(out)
}

fn saml_not_found(tenant: &str) -> MockResponse {
    api_res(
        404,
        "unknown-saml-config",
        format!("No SAML IDP config found for this tenant: \"{tenant}\""),
        json!({ "uuid": tenant }),
        "saml_config",
    )
}

fn saml_param(tenant: &str, message: &str, status: u16) -> MockResponse {
    api_res(
        status,
        "unknown-saml-config",
        message,
        json!({ "uuid": tenant }),
        "saml_config",
    )
}

/// `/backends/saml`: GET, POST (multipart with `metadata`), PUT (partial), DELETE.
pub(crate) fn saml_config(st: &mut State, req: &MockRequest, c: &Caller) -> MockResponse {
    let tenant = c.tenant.clone();
    let shown = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("idp_metadata");
        }
        v
    };
    match req.method {
        http::Method::GET | http::Method::HEAD => match st.saml.get(&tenant) {
            Some(v) => ok(&shown(v)),
            None => saml_not_found(&tenant),
        },
        http::Method::DELETE => match st.saml.remove(&tenant) {
            Some(_) => no_content(),
            None => saml_not_found(&tenant),
        },
        ref m => {
            let post = *m == http::Method::POST;
            let form = multipart(req).unwrap_or_default();
            let limits = [
                ("domain_uuid", 36, 38),
                ("entity_id", 1, 512),
                ("acs_url", 1, 512),
            ];
            for (field, min, max) in limits {
                let info = match form.get(field).and_then(Value::as_str) {
                    None if post => json!({ "constraint_id": "required", "constraint": true,
                        "message": "Missing data for required field." }),
                    None => continue,
                    Some(v) if (min..=max).contains(&v.chars().count()) => continue,
                    Some(_) => json!({ "constraint_id": "length",
                        "constraint": { "min": min, "max": max },
                        "message": format!("Length must be between {min} and {max}.") }),
                };
                let message = info["message"].clone();
                return api_res(
                    400,
                    "invalid-list-param",
                    message,
                    json!({ field: info }),
                    "users",
                );
            }
            let metadata = form.get("metadata").and_then(Value::as_str);
            if post && metadata.is_none() {
                return saml_param(&tenant, "No metadata file provided", 400);
            }
            if metadata.is_some_and(|m| !m.trim_start().starts_with('<')) {
                return saml_param(&tenant, "Invalid XML (syntax error: line 1, column 0)", 400);
            }
            if post && st.saml.contains_key(&tenant) {
                return api_res(
                    409,
                    "conflict",
                    "Conflict detected",
                    json!({ "tenant_uuid": { "constraint_id": "unique",
                        "message": "Duplicated SAML config exists" } }),
                    "saml_config",
                );
            }
            if !post && !st.saml.contains_key(&tenant) {
                return saml_not_found(&tenant);
            }
            let domains = extra_domains(st, &tenant);
            if let Some(d) = form.get("domain_uuid").and_then(Value::as_str)
                && !domains.iter().any(|(uuid, _)| uuid == d)
            {
                return saml_param(&tenant, "Domain not from tenant", 400);
            }
            let mut config = st
                .saml
                .get(&tenant)
                .cloned()
                .unwrap_or_else(|| json!({ "tenant_uuid": tenant }));
            for k in ["domain_uuid", "entity_id", "acs_url"] {
                if let Some(v) = form.get(k) {
                    config[k] = v.clone();
                }
            }
            if let Some(m) = metadata {
                config["idp_metadata"] = json!(m);
            }
            st.saml.insert(tenant, config.clone());
            ok(&shown(&config))
        }
    }
}

/// `GET /backends/saml/metadata`: the identity provider's XML.
pub(crate) fn saml_metadata(st: &State, c: &Caller) -> MockResponse {
    match st
        .saml
        .get(&c.tenant)
        .and_then(|v| v["idp_metadata"].as_str())
    {
        Some(xml) => MockResponse::text(200, "application/xml", xml.to_owned())
            .with_header("content-disposition", "attachment"),
        None => saml_not_found(&c.tenant),
    }
}

/// `POST /saml/sso` with `{"redirect_url", "domain"}`.
pub(crate) fn saml_sso(st: &State, req: &MockRequest) -> MockResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    for field in ["redirect_url", "domain"] {
        if !body.get(field).is_some_and(Value::is_string) {
            return api_res(400, "invalid-data", field, json!({}), "saml");
        }
    }
    let domain = body["domain"].as_str().unwrap_or_default();
    let configured = st.saml.iter().any(|(tenant, config)| {
        extra_domains(st, tenant)
            .iter()
            .any(|(uuid, name)| name == domain && config["domain_uuid"] == uuid.as_str())
    });
    if !configured {
        return api_res(
            500,
            "configuration-error",
            "SAML client for domain not found or failed",
            json!({ "domain": domain }),
            "saml",
        );
    }
    let session = uuid4();
    ok(
        &json!({ "location": format!("https://idp.invalid/sso?RelayState={session}"),
        "saml_session_id": session }),
    )
}

/// `POST /saml/acs`: the identity provider's form post.
pub(crate) fn saml_acs(req: &MockRequest) -> MockResponse {
    let form: Map<String, Value> = req
        .form_pairs()
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    if !form.contains_key("RelayState") || !form.contains_key("SAMLResponse") {
        return api_res(
            400,
            "invalid-data",
            "RelayState and/or SAMLResponse",
            json!({}),
            "saml",
        );
    }
    saml_failed("Unexpected error")
}

fn saml_failed(error: &str) -> MockResponse {
    api_res(
        500,
        "processing-error",
        "SAML processing failed",
        json!({ "error": error }),
        "saml",
    )
}

/// `GET /saml/logout`: the token must exist; the mock has no SAML sessions to end.
pub(crate) fn saml_logout(st: &State, req: &MockRequest) -> MockResponse {
    let token = req
        .header("x-auth-token")
        .map(str::to_owned)
        .or_else(|| req.query_map().get("token").cloned());
    if token.as_deref().and_then(|t| st.live_token(t)).is_none() {
        return legacy(404, "No such token");
    }
    saml_failed("no SAML session for this token")
}

/// `GET /saml/sls`: the identity provider's logout answer.
pub(crate) fn saml_sls() -> MockResponse {
    saml_failed("Unable to process logout request response (no SAML response)")
}

/// A tenant's domains as (uuid, name), with UUIDs stable per name.
fn extra_domains(st: &State, tenant: &str) -> Vec<(String, String)> {
    st.tenants
        .get(tenant)
        .and_then(|t| t["domain_names"].as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| (st.domain_uuid(tenant, name), name.to_owned()))
        .collect()
}

/// `GET /tenants/{uuid}/domains`: `{"total", "items": [{"name", "uuid"}]}`.
pub(crate) fn tenant_domains(st: &mut State, c: &Caller, tenant: &str) -> MockResponse {
    if !st.tenants.contains_key(tenant) || !st.in_subtree(&c.tenant, tenant) {
        return unknown("unknown-tenant", "tenant", tenant, "tenants");
    }
    let items: Vec<Value> = extra_domains(st, tenant)
        .into_iter()
        .map(|(uuid, name)| json!({ "name": name, "uuid": uuid }))
        .collect();
    ok(&json!({ "total": items.len(), "items": items }))
}

/// `PUT /tenants/{uuid}/parent/{parent}`.
pub(crate) fn tenant_parent(
    st: &mut State,
    c: &Caller,
    tenant: &str,
    parent: &str,
) -> MockResponse {
    for t in [tenant, parent] {
        if !st.tenants.contains_key(t) || !st.in_subtree(&c.tenant, t) {
            return unknown("unknown-tenant", "tenant", t, "tenants");
        }
    }
    if st.in_subtree(tenant, parent) {
        return api_res(
            409,
            "conflict",
            format!("Parent ({parent}) is a descendent of tenant: \"{tenant}\""),
            json!({ "uuid": tenant, "parent_uuid": parent }),
            "tenants",
        );
    }
    if let Some(t) = st.tenants.get_mut(tenant) {
        t.insert("parent_uuid".to_owned(), json!(parent));
    }
    no_content()
}
