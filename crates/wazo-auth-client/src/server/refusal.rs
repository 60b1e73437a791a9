//! Refusals, answered with the bodies wazo services send (`xivo-lib-python`'s
//! `http_exceptions` and `tenant_helpers`, in the `APIError` layout).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Map, Value, json};

/// Why a request was refused. Cloned to every request that waited for the same check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The token is unknown or expired (wazo-auth answered 404), or none was sent.
    InvalidToken {
        /// The required access, if the route has one.
        required_access: Option<Arc<str>>,
    },
    /// The token lacks the access, or may not act in the tenant (wazo-auth answered 403).
    MissingPermission {
        /// The required access, if the route has one.
        required_access: Option<Arc<str>>,
        /// The tenant asked for with `Wazo-Tenant`, if any.
        tenant_uuid: Option<Arc<str>>,
    },
    /// The token holds the access but the `Wazo-Tenant` tenant is neither its own nor one
    /// of its sub-tenants.
    UnauthorizedTenant {
        /// The tenant asked for.
        tenant_uuid: Arc<str>,
    },
    /// wazo-auth could not be asked, or gave an answer that is neither yes nor no. Never
    /// taken as "allowed".
    Unreachable {
        /// What went wrong (the client's error text, which holds no secret).
        error: Arc<str>,
    },
    /// The request path does not match the route pattern the layer was built with: a
    /// server misconfiguration, answered with 500.
    RouteMismatch,
}

impl Refusal {
    /// The status wazo services answer: 401, 503 for an unreachable wazo-auth, 500 for a
    /// layer on the wrong route.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidToken { .. }
            | Self::MissingPermission { .. }
            | Self::UnauthorizedTenant { .. } => StatusCode::UNAUTHORIZED,
            Self::Unreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::RouteMismatch => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Where wazo-auth is, for the body of a 503 (`auth_server_host`, `auth_server_port`).
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthServer {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
}

impl AuthServer {
    pub(crate) fn from_base_url(base: &str) -> Self {
        url::Url::parse(base).map_or_else(
            |_| Self::default(),
            |u| Self {
                host: u.host_str().map(str::to_owned),
                port: u.port_or_known_default(),
            },
        )
    }
}

fn timestamp() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn opt(value: Option<&Arc<str>>) -> Value {
    value.map_or(Value::Null, |v| Value::from(&**v))
}

/// The JSON body for `refusal`. `token` is the caller's own token: wazo services echo it
/// in `details.invalid_token`, so the body goes only to the one who sent it.
pub(crate) fn body(refusal: &Refusal, token: &str, server: &AuthServer) -> Value {
    let (message, error_id, details) = match refusal {
        Refusal::InvalidToken { required_access } => {
            let mut d = Map::new();
            d.insert("invalid_token".into(), token.into());
            d.insert("reason".into(), "not_found_or_expired".into());
            // Python adds it only when truthy.
            if let Some(access) = required_access.as_deref().filter(|a| !a.is_empty()) {
                d.insert("required_access".into(), access.into());
            }
            ("Unauthorized", "unauthorized", Value::Object(d))
        }
        Refusal::MissingPermission {
            required_access,
            tenant_uuid,
        } => (
            "Unauthorized",
            "unauthorized",
            json!({
                "invalid_token": token,
                "reason": "missing_permission_or_invalid_tenant",
                "required_access": opt(required_access.as_ref()),
                "tenant_uuid": opt(tenant_uuid.as_ref()),
            }),
        ),
        Refusal::UnauthorizedTenant { tenant_uuid } => (
            "Unauthorized tenant",
            "unauthorized-tenant",
            json!({ "tenant_uuid": &**tenant_uuid }),
        ),
        Refusal::Unreachable { error } => (
            "Authentication server unreachable",
            "authentication-server-unreachable",
            json!({
                "auth_server_host": server.host,
                "auth_server_port": server.port,
                "original_error": &**error,
            }),
        ),
        Refusal::RouteMismatch => (
            "Internal server error: the request path does not match the route pattern of its access check",
            "internal-server-error",
            json!({}),
        ),
    };
    json!({
        "message": message,
        "error_id": error_id,
        "details": details,
        "timestamp": timestamp(),
    })
}

/// The HTTP response for `refusal`.
pub(crate) fn response<B: From<Bytes>>(
    refusal: &Refusal,
    token: &str,
    server: &AuthServer,
) -> Response<B> {
    let bytes = serde_json::to_vec(&body(refusal, token, server)).unwrap_or_default();
    let mut res = Response::new(B::from(Bytes::from(bytes)));
    *res.status_mut() = refusal.status();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
