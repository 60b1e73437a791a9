//! [`WazoRefusals`]: what a wazo-auth 401 says about the token that was sent.
//!
//! The real server answers 401 for three different things, told apart only by the body:
//!
//! | body | meaning | verdict |
//! | --- | --- | --- |
//! | `details.reason` = `not_found_or_expired` | the token is unknown or expired | stale: new token, one retry |
//! | `details.reason` = `missing_permission_or_invalid_tenant` | the token lacks the access, or the tenant is not its own | forbidden: returned as is |
//! | `error_id` = `unauthorized-tenant` | the `Wazo-Tenant` asked for is not visible to the token | forbidden: returned as is |
//!
//! A new token would be refused the same way in the last two cases, so none is created. A
//! 401 whose body says none of these (a proxy's page, an older server) is read as stale.

use http::{HeaderMap, StatusCode};
use pbx_auth_core::{RefusalPolicy, Verdict};
use serde::Deserialize;

/// The refusal policy of wazo-auth, from the body of its 401 answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WazoRefusals;

#[derive(Deserialize)]
struct Refusal<'a> {
    #[serde(default, borrow)]
    error_id: Option<&'a str>,
    #[serde(default, borrow)]
    details: Option<Details<'a>>,
}

#[derive(Deserialize)]
struct Details<'a> {
    #[serde(default, borrow)]
    reason: Option<&'a str>,
}

impl RefusalPolicy for WazoRefusals {
    fn wants_body(&self, status: StatusCode, _headers: &HeaderMap) -> bool {
        status == StatusCode::UNAUTHORIZED
    }

    fn classify(&self, status: StatusCode, _headers: &HeaderMap, body: Option<&[u8]>) -> Verdict {
        if status != StatusCode::UNAUTHORIZED {
            return Verdict::Accepted;
        }
        let Some(refusal) = body.and_then(|b| serde_json::from_slice::<Refusal<'_>>(b).ok()) else {
            return Verdict::Stale;
        };
        let reason = refusal.details.and_then(|d| d.reason);
        match (refusal.error_id, reason) {
            (Some("unauthorized-tenant"), _)
            | (_, Some("missing_permission_or_invalid_tenant")) => Verdict::Forbidden,
            _ => Verdict::Stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(body: &str) -> Verdict {
        WazoRefusals.classify(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            Some(body.as_bytes()),
        )
    }

    #[test]
    fn the_real_servers_answers_are_told_apart() {
        assert_eq!(
            verdict(
                r#"{"message":"Unauthorized","error_id":"unauthorized","details":{"invalid_token":"t","reason":"not_found_or_expired","required_access":"auth.users.read"}}"#
            ),
            Verdict::Stale
        );
        assert_eq!(
            verdict(
                r#"{"message":"Unauthorized","error_id":"unauthorized","details":{"invalid_token":"t","reason":"missing_permission_or_invalid_tenant","required_access":"auth.users.read","tenant_uuid":null}}"#
            ),
            Verdict::Forbidden
        );
        assert_eq!(
            verdict(
                r#"{"message":"Unauthorized tenant","error_id":"unauthorized-tenant","details":{"tenant_uuid":"x"}}"#
            ),
            Verdict::Forbidden
        );
        assert_eq!(verdict("<html>401</html>"), Verdict::Stale);
        assert_eq!(
            WazoRefusals.classify(StatusCode::UNAUTHORIZED, &HeaderMap::new(), None),
            Verdict::Stale
        );
        assert_eq!(
            WazoRefusals.classify(StatusCode::FORBIDDEN, &HeaderMap::new(), None),
            Verdict::Accepted
        );
    }
}
