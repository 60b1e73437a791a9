//! `RequireAcl`: the tower layer that puts a [`TokenVerifier`] in front of a route.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::refusal::{self, Refusal};
use super::template::AccessTemplate;
use super::verifier::{TokenLocation, TokenVerifier, VerifiedToken};
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

type Boxed<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

pin_project! {
    /// The future of [`RequireAclService`]: the inner service's own future when the
    /// decision was at hand (a cached decision, a refusal of a malformed request), a boxed
    /// one while wazo-auth is asked.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner {
            #[pin]
            future: F,
        },
        Refused {
            response: Option<Response<B>>,
        },
        Checking {
            future: Boxed<Response<B>, E>,
        },
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("the refusal future is polled after it completed"))),
            StateProj::Checking { future } => future.as_mut().poll(cx),
        }
    }
}

fn query_token(query: Option<&str>) -> Option<Cow<'_, str>> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// What a request presents: its token (the `token` query parameter when the verifier reads
/// it first, else the first `X-Auth-Token` value) and its first `Wazo-Tenant` value. The
/// headers are found in one pass: a request carries a handful (hyper refuses more than
/// 100), so comparing names costs less than two hashed look-ups, which hash each name byte
/// by byte.
struct Presented<'r> {
    query_token: Option<Cow<'r, str>>,
    header_token: Option<&'r HeaderValue>,
    tenant: Option<&'r HeaderValue>,
}

impl<'r> Presented<'r> {
    fn of<B>(req: &'r Request<B>, location: TokenLocation) -> Self {
        let mut found = Self {
            query_token: match location {
                TokenLocation::QueryOrHeader => query_token(req.uri().query()),
                TokenLocation::Header => None,
            },
            header_token: None,
            tenant: None,
        };
        // `iter` yields a name's first value before its others, as `get` would return it.
        for (name, value) in req.headers() {
            let name = name.as_str();
            if name == TOKEN_HEADER {
                found.header_token.get_or_insert(value);
            } else if name == TENANT_HEADER {
                found.tenant.get_or_insert(value);
            }
        }
        found
    }

    /// The token as bytes; empty when there is none. A cached decision needs no more.
    fn raw_token(&self) -> &[u8] {
        match &self.query_token {
            Some(token) => token.as_bytes(),
            None => self.header_token.map_or(&[], HeaderValue::as_bytes),
        }
    }

    /// The token as the Python extractors read it; `""` when there is none, or when the
    /// header's is not visible ASCII (as `HeaderValue::to_str` has it).
    fn token(&self) -> &str {
        match &self.query_token {
            Some(token) => token,
            None => self
                .header_token
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        }
    }

    /// The `Wazo-Tenant` value; an empty one means none, as in the Flask helpers.
    fn tenant(&self) -> Option<Cow<'r, str>> {
        let text = String::from_utf8_lossy(self.tenant?.as_bytes());
        (!text.is_empty()).then_some(text)
    }
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

/// The refusal's response, with its debug event.
fn refuse<B: From<Bytes>>(refused: &Refusal, token: &str, verifier: &TokenVerifier) -> Response<B> {
    tracing::debug!(
        reason = refusal_reason(refused),
        status = refused.status().as_u16(),
        "wazo token refused"
    );
    refusal::response::<B>(refused, token, verifier.auth_server())
}

/// Most bytes the per-thread access buffer keeps between requests.
const KEPT_ACCESS_BYTES: usize = 1024;

thread_local! {
    /// The filled access of the request being decided: one buffer per thread, taken and
    /// put back, so deciding from the cache allocates nothing.
    static ACCESS: Cell<String> = const { Cell::new(String::new()) };
}

/// Calls `decide` with the access `template` requires of `path` (`Err` when the path does
/// not fill it), in a buffer reused from request to request.
fn with_access<T>(
    template: &AccessTemplate,
    path: &str,
    decide: impl FnOnce(Result<&str, Refusal>) -> T,
) -> T {
    // Empty (a fresh buffer) when the thread is exiting or a decision is under way.
    let mut buffer = ACCESS.try_with(Cell::take).unwrap_or_default();
    let result = decide(if template.fill_into(path, &mut buffer) {
        Ok(buffer.as_str())
    } else {
        Err(Refusal::RouteMismatch)
    });
    if buffer.capacity() <= KEPT_ACCESS_BYTES {
        let _ = ACCESS.try_with(|cell| cell.set(buffer));
    }
    result
}

impl<S> RequireAclService<S> {
    /// The decision when it needs no call to wazo-auth; `None`: ask.
    fn decide_now<B, ResBody: From<Bytes>>(
        &self,
        req: &Request<B>,
    ) -> Option<Result<VerifiedToken, Response<ResBody>>> {
        let verifier = &self.layer.verifier;
        let presented = Presented::of(req, verifier.token_location());
        let token = presented.raw_token();
        let tenant = presented.tenant();
        let outcome = match &self.layer.template {
            None => verifier.decide_now(token, None, tenant.as_deref()),
            Some(template) => with_access(template, req.uri().path(), |access| match access {
                Ok(access) => verifier.decide_now(token, Some(access), tenant.as_deref()),
                Err(refused) => Some(Err(refused)),
            }),
        }?;
        // The refusal echoes the token as text, read as the slow path reads it.
        Some(outcome.map_err(|refused| refuse(&refused, presented.token(), verifier)))
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
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Most requests are decided here, from the cache, and go to the inner service (the
        // one polled ready) without a clone or a box.
        match self.decide_now(&req) {
            Some(Ok(verified)) => {
                req.extensions_mut().insert(verified);
                return ResponseFuture {
                    state: State::Inner {
                        future: self.inner.call(req),
                    },
                };
            }
            Some(Err(response)) => {
                return ResponseFuture {
                    state: State::Refused {
                        response: Some(response),
                    },
                };
            }
            None => {}
        }
        // The clone is the one that was not polled ready; take the ready one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let future = Box::pin(async move {
            let verifier = &layer.verifier;
            // Token and tenant are borrowed from the request until the decision is made.
            let decision = {
                let presented = Presented::of(&req, verifier.token_location());
                let token = presented.token();
                let tenant = presented.tenant();
                let access = match &layer.template {
                    None => Ok(None),
                    Some(template) => {
                        let mut access = String::new();
                        if template.fill_into(req.uri().path(), &mut access) {
                            Ok(Some(access))
                        } else {
                            Err(Refusal::RouteMismatch)
                        }
                    }
                };
                let outcome = match access {
                    Ok(access) => {
                        verifier
                            .verify(token, access.as_deref(), tenant.as_deref())
                            .await
                    }
                    Err(refused) => Err(refused),
                };
                outcome.map_err(|refused| refuse::<ResBody>(&refused, token, verifier))
            };
            match decision {
                Ok(verified) => {
                    req.extensions_mut().insert(verified);
                    inner.call(req).await
                }
                Err(response) => Ok(response),
            }
        });
        ResponseFuture {
            state: State::Checking { future },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &[u8])], uri: &str) -> Request<()> {
        let mut builder = Request::get(uri);
        for (name, value) in headers {
            builder = builder.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn the_first_value_of_each_header_counts_as_get_would_return_it() {
        let req = request(
            &[
                ("wazo-tenant", b"t1"),
                ("x-auth-token", b"first"),
                ("accept", b"*/*"),
                ("x-auth-token", b"second"),
                ("wazo-tenant", b"t2"),
            ],
            "/users/u",
        );
        let presented = Presented::of(&req, TokenLocation::Header);
        assert_eq!(presented.token(), "first");
        assert_eq!(presented.tenant().as_deref(), Some("t1"));
    }

    #[test]
    fn a_token_that_is_not_visible_ascii_is_none_and_an_empty_tenant_is_none() {
        let req = request(
            &[("X-Auth-Token", "tök".as_bytes()), ("Wazo-Tenant", b"")],
            "/users/u",
        );
        let presented = Presented::of(&req, TokenLocation::Header);
        assert_eq!(presented.token(), "");
        assert_eq!(presented.raw_token(), "tök".as_bytes());
        assert_eq!(presented.tenant(), None);
    }

    #[test]
    fn the_query_parameter_comes_first_when_asked_for() {
        let req = request(&[("x-auth-token", b"header")], "/users/u?a=1&token=query");
        assert_eq!(
            Presented::of(&req, TokenLocation::QueryOrHeader).token(),
            "query"
        );
        assert_eq!(Presented::of(&req, TokenLocation::Header).token(), "header");
    }
}
