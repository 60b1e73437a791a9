//! `RequireAcl`: the tower layer that puts a [`TokenVerifier`] in front of a route.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::refusal::{self, Refusal};
use super::template::AccessTemplate;
use super::verifier::{TokenLocation, TokenVerifier};
use crate::Error;

/// The token header (`X-Auth-Token`).
pub const TOKEN_HEADER: &str = "x-auth-token";
/// The tenant header (`Wazo-Tenant`).
pub const TENANT_HEADER: &str = "wazo-tenant";

/// A layer that lets a request through only when its token holds the route's access.
/// Build it with [`TokenVerifier::require_acl`] or [`TokenVerifier::require_token`].
#[derive(Debug, Clone)]
pub struct RequireAcl {
    verifier: TokenVerifier,
    template: Option<Arc<AccessTemplate>>,
}

impl TokenVerifier {
    /// A layer for the route `route` (axum syntax: `/users/{user_uuid}`, `{*rest}`) that
    /// requires `template` (`confd.users.{user_uuid}.read`), filled from the request's
    /// path with every `.` in a value replaced by `_`, as `required_acl` does.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a malformed pattern or template, or a template naming a
    /// parameter the route does not have.
    pub fn require_acl(&self, route: &str, template: &str) -> Result<RequireAcl, Error> {
        Ok(RequireAcl {
            verifier: self.clone(),
            template: Some(Arc::new(AccessTemplate::parse(route, template)?)),
        })
    }

    /// A layer that only requires a valid token (no access), in the request's tenant.
    pub fn require_token(&self) -> RequireAcl {
        RequireAcl {
            verifier: self.clone(),
            template: None,
        }
    }
}

impl<S> Layer<S> for RequireAcl {
    type Service = RequireAclService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAclService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RequireAcl`] wraps around a route.
#[derive(Debug, Clone)]
pub struct RequireAclService<S> {
    inner: S,
    layer: RequireAcl,
}

/// The boxed future of [`RequireAclService`].
pub type ResponseFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

fn query_token(query: Option<&str>) -> Option<Cow<'_, str>> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The token as the Python extractors read it; `""` when there is none.
fn extract_token<B>(req: &Request<B>, location: TokenLocation) -> Cow<'_, str> {
    if location == TokenLocation::QueryOrHeader
        && let Some(token) = query_token(req.uri().query())
    {
        return token;
    }
    req.headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map_or(Cow::Borrowed(""), Cow::Borrowed)
}

/// The `Wazo-Tenant` value; an empty one means none, as in the Flask helpers.
fn extract_tenant<B>(req: &Request<B>) -> Option<Cow<'_, str>> {
    let value = req.headers().get(TENANT_HEADER)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    (!text.is_empty()).then_some(text)
}

/// What a refusal is, for the debug event. Only the kind: the ACL, the tenant and the auth
/// server's error text (which may quote the URL the token travels in) stay out of logs.
fn refusal_reason(refused: &Refusal) -> &'static str {
    match refused {
        Refusal::InvalidToken { .. } => "invalid token",
        Refusal::MissingPermission { .. } => "missing permission",
        Refusal::UnauthorizedTenant { .. } => "unauthorized tenant",
        Refusal::Unreachable { .. } => "auth server unreachable",
        Refusal::RouteMismatch => "route does not fill the ACL template",
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireAclService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone is the one that was not polled ready; take the ready one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let verifier = &layer.verifier;
            // Token and tenant are borrowed from the request until the decision is made.
            let decision = {
                let token = extract_token(&req, verifier.token_location());
                let tenant = extract_tenant(&req);
                let access = match &layer.template {
                    None => Ok(None),
                    Some(template) => template
                        .fill(req.uri().path())
                        .map(Some)
                        .ok_or(Refusal::RouteMismatch),
                };
                let outcome = match access {
                    Ok(access) => {
                        verifier
                            .verify(&token, access.as_deref(), tenant.as_deref())
                            .await
                    }
                    Err(refused) => Err(refused),
                };
                outcome.map_err(|refused| {
                    tracing::debug!(
                        reason = refusal_reason(&refused),
                        status = refused.status().as_u16(),
                        "wazo token refused"
                    );
                    refusal::response::<ResBody>(&refused, &token, verifier.auth_server())
                })
            };
            match decision {
                Ok(verified) => {
                    req.extensions_mut().insert(verified);
                    inner.call(req).await
                }
                Err(response) => Ok(response),
            }
        })
    }
}
