//! wazo-auth's answers: its two error formats, Flask's HTML 404, and list pages.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::message::{MockRequest, MockResponse};

fn now_float() -> f64 {
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

/// The current body: `{"message", "error_id", "details", "timestamp", "resource"?}`.
pub(crate) fn api(status: u16, error_id: &str, message: &str, details: Value) -> MockResponse {
    let mut body = json!({ "message": message, "error_id": error_id, "timestamp": now_float() });
    body["details"] = details;
    MockResponse::json(status, &body)
}

/// The 401 of protected endpoints.
pub(crate) fn unauthorized(token: Option<&str>, reason: &str, required: &str) -> MockResponse {
    api(
        401,
        "unauthorized",
        "Unauthorized",
        json!({ "invalid_token": token, "reason": reason, "required_access": required }),
    )
}

/// Flask's routing 404 (HTML, not JSON).
pub(crate) fn html_not_found() -> MockResponse {
    MockResponse::text(
        404,
        "text/html; charset=utf-8",
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n",
    )
}

/// A JSON answer.
pub(crate) fn ok(value: &Value) -> MockResponse {
    MockResponse::json(200, value)
}

/// An empty 204.
pub(crate) fn no_content() -> MockResponse {
    MockResponse::status(204)
}

/// Applies the list parameters (`search`, exact filters, `order`, `direction`, `offset`,
/// `limit`) to `items` and builds `{total, filtered, items}`.
pub(crate) fn page(
    req: &MockRequest,
    items: Vec<Map<String, Value>>,
    with_filtered: bool,
) -> MockResponse {
    let q = req.query_map();
    let total = items.len();
    let mut rows: Vec<Map<String, Value>> = items
        .into_iter()
        .filter(|item| {
            let search_ok = q.get("search").is_none_or(|s| {
                item.values().any(|v| {
                    v.as_str()
                        .is_some_and(|text| text.to_lowercase().contains(&s.to_lowercase()))
                })
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
                ) || item
                    .get(k)
                    .is_none_or(|field| field.as_str().is_none_or(|s| s == v))
            });
            search_ok && exact_ok
        })
        .collect();
    let filtered = rows.len();
    if let Some(order) = q.get("order") {
        rows.sort_by(|a, b| {
            let key =
                |m: &Map<String, Value>| m.get(order).map(Value::to_string).unwrap_or_default();
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

/// Whether list parameters are well-formed (else the server's 400).
pub(crate) fn bad_list_params(req: &MockRequest) -> Option<MockResponse> {
    let q = req.query_map();
    let bad_number = ["limit", "offset"]
        .into_iter()
        .find(|k| q.get(*k).is_some_and(|v| v.parse::<u64>().is_err()));
    let bad_direction = q
        .get("direction")
        .is_some_and(|d| d != "asc" && d != "desc");
    let field = match (bad_number, bad_direction) {
        (Some(k), _) => k,
        (None, true) => "direction",
        (None, false) => return None,
    };
    Some(api(
        400,
        "invalid-list-param",
        "Invalid list parameter",
        json!({ field: { "message": "Invalid value." } }),
    ))
}
