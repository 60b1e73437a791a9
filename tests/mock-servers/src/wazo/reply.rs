//! wazo-auth's answers: its three error formats (legacy, current, and the framework's plain
//! `{"message"}`), Flask's HTML 404, and list pages.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::message::{MockRequest, MockResponse};

pub(crate) fn now_float() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The legacy body of the token endpoints: `{"reason": [...], "timestamp": [...],
/// "status_code": N}`.
pub(crate) fn legacy(status: u16, reason: &str) -> MockResponse {
    MockResponse::json(
        status,
        &json!({ "reason": [reason], "timestamp": [now_float()], "status_code": status }),
    )
}

/// The current body without a resource: `{"message", "error_id", "details", "timestamp"}`.
pub(crate) fn api(status: u16, error_id: &str, message: &str, details: Value) -> MockResponse {
    let mut body = json!({ "message": message, "error_id": error_id, "timestamp": now_float() });
    body["details"] = details;
    MockResponse::json(status, &body)
}

/// The current body of a resource's error:
/// `{"message", "error_id", "details", "timestamp", "resource"}`.
pub(crate) fn api_res(
    status: u16,
    error_id: &str,
    message: impl Into<Value>,
    details: Value,
    resource: &str,
) -> MockResponse {
    let mut body = Map::new();
    body.insert("message".to_owned(), message.into());
    body.insert("error_id".to_owned(), json!(error_id));
    body.insert("details".to_owned(), details);
    body.insert("timestamp".to_owned(), json!(now_float()));
    body.insert("resource".to_owned(), json!(resource));
    MockResponse::json(status, &Value::Object(body))
}

/// `No such X: "key"` with `details.uuid`, the server's not-found answer of most resources.
pub(crate) fn unknown(error_id: &str, what: &str, key: &str, resource: &str) -> MockResponse {
    api_res(
        404,
        error_id,
        format!("No such {what}: \"{key}\""),
        json!({ "uuid": key }),
        resource,
    )
}

/// The framework's plain answer, `{"message"}` (unhandled errors, 405, bad JSON).
pub(crate) fn plain(status: u16, message: &str) -> MockResponse {
    MockResponse::json(status, &json!({ "message": message }))
}

/// The 500 of an unhandled server error.
pub(crate) fn internal_error() -> MockResponse {
    plain(500, "Internal Server Error")
}

/// A schema error: the first failing field, as the server's `from_errors` reports it.
pub(crate) fn invalid_data(resource: &str, field: &str, info: Value) -> MockResponse {
    let message = info
        .get("message")
        .cloned()
        .unwrap_or_else(|| json!("Invalid value."));
    let mut details = Map::new();
    details.insert(field.to_owned(), info);
    api_res(
        400,
        "invalid-data",
        message,
        Value::Object(details),
        resource,
    )
}

/// The 401 of protected endpoints. A missing token is reported as `""`; a token lacking
/// the access also carries `tenant_uuid` (null unless `Wazo-Tenant` was sent).
pub(crate) fn unauthorized(
    token: Option<&str>,
    reason: &str,
    required: &str,
    tenant: Option<Option<&str>>,
) -> MockResponse {
    let mut details = json!({ "invalid_token": token.unwrap_or(""), "reason": reason,
        "required_access": required });
    if let Some(tenant) = tenant {
        details["tenant_uuid"] = json!(tenant);
    }
    api(401, "unauthorized", "Unauthorized", details)
}

/// Flask's routing 404 (HTML, not JSON).
pub(crate) fn html_not_found() -> MockResponse {
    MockResponse::text(
        404,
        "text/html; charset=utf-8",
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n",
    )
}

/// A JSON answer.
pub(crate) fn ok(value: &Value) -> MockResponse {
    MockResponse::json(200, value)
}

/// An empty 204, which the server labels `application/json` like all its answers.
pub(crate) fn no_content() -> MockResponse {
    MockResponse::status(204).with_header("content-type", "application/json")
}

/// Applies the list parameters (`search`, exact filters, `order`, `direction`, `offset`,
/// `limit`) to `items` and builds `{total, filtered, items}`: `total` counts everything in
/// scope, before `search` and filters. `sort` is the resource's sortable columns (the first
/// is the default order); bad parameters give the server's `invalid-list-param` 400.
pub(crate) fn page(
    req: &MockRequest,
    items: Vec<Map<String, Value>>,
    sort: &[&str],
    with_filtered: bool,
) -> MockResponse {
    if let Some(bad) = bad_list_params(req, sort) {
        return bad;
    }
    let q = req.query_map();
    let total = items.len();
    let mut rows: Vec<Map<String, Value>> = items
        .into_iter()
        .filter(|item| {
            let search_ok = q.get("search").is_none_or(|s| {
                let hit = |v: &Value| {
                    v.as_str()
                        .is_some_and(|text| text.to_lowercase().contains(&s.to_lowercase()))
                };
                // Users are found by their e-mail addresses too, tenants by their domains.
                item.values().any(hit)
                    || item
                        .get("emails")
                        .and_then(Value::as_array)
                        .is_some_and(|es| es.iter().any(|e| hit(&e["address"])))
                    || item
                        .get("domain_names")
                        .and_then(Value::as_array)
                        .is_some_and(|ds| ds.iter().any(hit))
            });
            let exact_ok = q.iter().all(|(k, v)| {
                matches!(
                    k.as_str(),
                    "search"
                        | "order"
                        | "direction"
                        | "limit"
                        | "offset"
                        | "recurse"
                        | "tenant_uuid"
                ) || item.get(k).is_none_or(|field| match field {
                    Value::String(s) => s == v,
                    Value::Bool(b) => v.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                    _ => true,
                })
            });
            search_ok && exact_ok
        })
        .collect();
    let filtered = rows.len();
    let order = q
        .get("order")
        .map(String::as_str)
        .or_else(|| sort.first().copied());
    if let Some(order) = order {
        rows.sort_by(|a, b| {
            let key = |m: &Map<String, Value>| match m.get(order) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            key(a).cmp(&key(b))
        });
    }
    if q.get("direction").is_some_and(|d| d == "desc") {
        rows.reverse();
    }
    let offset = q
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0usize);
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let items: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(Value::Object)
        .collect();
    let mut body = json!({ "total": total, "items": items });
    if with_filtered {
        body["filtered"] = json!(filtered);
    }
    ok(&body)
}

/// The server's list-parameter check: every bad field in `message` (an object, not text),
/// `details` empty, and the resource `users` whatever the endpoint (as the server has it).
pub(crate) fn bad_list_params(req: &MockRequest, sort: &[&str]) -> Option<MockResponse> {
    let q = req.query_map();
    let mut errors = Map::new();
    for key in ["limit", "offset"] {
        if let Some(v) = q.get(key) {
            let info = match v.trim().parse::<i64>() {
                Err(_) => json!({ "constraint_id": "type", "constraint": "integer",
                    "message": "Not a valid integer." }),
                Ok(n) if n < 0 => json!({ "constraint_id": "range", "constraint": { "min": 0 },
                    "message": "Must be greater than or equal to 0." }),
                Ok(_) => continue,
            };
            errors.insert(key.to_owned(), json!([info]));
        }
    }
    let one_of = |choices: &[&str]| {
        json!([{ "constraint_id": "enum", "constraint": { "choices": choices },
            "message": format!("Must be one of: {}.", choices.join(", ")) }])
    };
    if q.get("direction")
        .is_some_and(|d| d != "asc" && d != "desc")
    {
        errors.insert("direction".to_owned(), one_of(&["asc", "desc"]));
    }
    if !sort.is_empty() && q.get("order").is_some_and(|o| !sort.contains(&o.as_str())) {
        errors.insert("order".to_owned(), one_of(sort));
    }
    if q.get("recurse")
        .is_some_and(|r| !matches!(r.to_lowercase().as_str(), "true" | "false" | "1" | "0"))
    {
        errors.insert(
            "recurse".to_owned(),
            json!([{ "constraint_id": "type", "constraint": "boolean",
                "message": "Not a valid boolean." }]),
        );
    }
    if errors.is_empty() {
        return None;
    }
    Some(api_res(
        400,
        "invalid-list-param",
        Value::Object(errors),
        json!({}),
        "users",
    ))
}
