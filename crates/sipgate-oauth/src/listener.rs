//! [`LoopbackListener`]: the small HTTP server the browser is redirected to.
//!
//! Loopback only (RFC 8252 §7.3), the registered path only, one valid callback, a timeout,
//! and a graceful shutdown so the browser still gets its page.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::{Host, Url};

use crate::callback::{Callback, verify_callback};
use crate::client::AuthorizationRequest;
use crate::error::Error;

/// How long a login may take by default: enough to type a password and solve a 2FA prompt.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the browser gets to receive its page after the result is in.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

type Outcome = Result<Callback, Error>;

/// A bound loopback listener for one login.
#[derive(Debug)]
pub struct LoopbackListener {
    listeners: Vec<TcpListener>,
    redirect_uri: Url,
    timeout: Duration,
}

impl LoopbackListener {
    /// Binds the address the redirect URI names: `127.0.0.1`, `[::1]`, or for `localhost`
    /// both (the browser may resolve either). Port `0` binds an ephemeral port, and
    /// [`redirect_uri`](Self::redirect_uri) then carries the real one.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] (`REDIRECT_URI`) for a non-loopback or non-http URI, or when the
    /// port cannot be bound (in use, or privileged).
    pub async fn bind(redirect_uri: &Url) -> Result<Self, Error> {
        if redirect_uri.scheme() != "http" {
            return Err(Error::config(
                "REDIRECT_URI",
                "the built-in listener serves plain http on loopback; use an http:// URI",
            ));
        }
        let hosts: Vec<IpAddr> = match redirect_uri.host() {
            Some(Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
            Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            _ => {
                return Err(Error::config(
                    "REDIRECT_URI",
                    "the host must be 127.0.0.1, [::1] or localhost (the listener binds loopback only)",
                ));
            }
        };
        let wanted = redirect_uri.port_or_known_default().unwrap_or(80);
        // An ephemeral port free on 127.0.0.1 may be taken on ::1; then try another.
        let attempts = if wanted == 0 { 5 } else { 1 };
        let mut attempt = 0;
        let (listeners, port) = loop {
            attempt += 1;
            match bind_all(&hosts, wanted).await {
                Ok(bound) => break bound,
                Err((ip, port, e))
                    if attempt >= attempts || e.kind() != std::io::ErrorKind::AddrInUse =>
                {
                    return Err(Error::config(
                        "REDIRECT_URI",
                        format!(
                            "cannot listen on {ip} port {port} ({e}); is another instance running?"
                        ),
                    ));
                }
                Err(_) => {}
            }
        };
        let mut redirect_uri = redirect_uri.clone();
        redirect_uri
            .set_port(Some(port))
            .map_err(|()| Error::config("REDIRECT_URI", "cannot carry a port"))?;
        Ok(Self {
            listeners,
            redirect_uri,
            timeout: DEFAULT_LOGIN_TIMEOUT,
        })
    }

    /// Sets how long [`wait_for`](Self::wait_for) waits for the callback.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The redirect URI with the bound port; use it for the authorization request.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The addresses actually bound.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves until one callback on the registered path carrying `request`'s `state` has
    /// arrived, answers the browser with a success or failure page, and shuts down.
    /// Requests for other paths get a 404, requests with a missing, wrong or repeated
    /// `state` a 400; neither changes anything, the listener keeps waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when no callback with the right `state` arrives in time, or the
    /// callback's error ([`Error::AuthorizationDenied`], [`Error::InvalidCallback`]).
    pub async fn wait_for(self, request: &AuthorizationRequest) -> Result<Callback, Error> {
        let (tx, mut rx) = oneshot::channel::<Outcome>();
        let shared = Arc::new(Shared {
            path: self.redirect_uri.path().to_owned(),
            state: request.state_secret().to_owned(),
            sender: Mutex::new(Some(tx)),
        });
        let graceful = GracefulShutdown::new();
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        let outcome = loop {
            let accept = futures_util::future::select_all(
                self.listeners.iter().map(|l| Box::pin(l.accept())),
            );
            tokio::select! {
                outcome = &mut rx => break outcome.unwrap_or(Err(Error::InvalidCallback("the listener stopped"))),
                () = &mut deadline => break Err(Error::Timeout(format!(
                    "no redirect reached {} within {} s; if the browser shows `invalid parameter: redirect_uri`, this redirect URI is not registered for the client",
                    self.redirect_uri, self.timeout.as_secs()
                ))),
                (accepted, _, _) = accept => {
                    // A failed accept (say, too many open files) must not end the login.
                    let Ok((stream, _)) = accepted else { continue };
                    let shared = Arc::clone(&shared);
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(shared.handle(&req)) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(TokioIo::new(stream), service);
                    let watched = graceful.watch(connection);
                    tokio::spawn(async move {
                        let _ = watched.await;
                    });
                }
            }
        };
        drop(self.listeners);
        // Let the browser's connection finish its page in the background: the code is
        // short-lived, so the caller should exchange it now rather than wait for sockets.
        tokio::spawn(async move {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
        });
        outcome
    }
}

/// Binds `port` (or, for 0, one ephemeral port) on every host; the first must succeed,
/// later ones may be missing (no IPv6 loopback) but not taken by someone else.
async fn bind_all(
    hosts: &[IpAddr],
    wanted: u16,
) -> Result<(Vec<TcpListener>, u16), (IpAddr, u16, std::io::Error)> {
    let mut port = wanted;
    let mut listeners = Vec::new();
    for (i, ip) in hosts.iter().enumerate() {
        match TcpListener::bind(SocketAddr::new(*ip, port)).await {
            Ok(listener) => {
                if port == 0 {
                    port = listener.local_addr().map_err(|e| (*ip, port, e))?.port();
                }
                listeners.push(listener);
            }
            // `localhost`: a machine without IPv6 loopback still works over IPv4. A port
            // taken on ::1 is another matter: the browser might reach that program.
            Err(e) if i > 0 && e.kind() != std::io::ErrorKind::AddrInUse => {}
            Err(e) => return Err((*ip, port, e)),
        }
    }
    Ok((listeners, port))
}

struct Shared {
    path: String,
    state: String,
    sender: Mutex<Option<oneshot::Sender<Outcome>>>,
}

impl Shared {
    fn handle(&self, req: &Request<Incoming>) -> Response<Full<Bytes>> {
        if req.uri().path() != self.path {
            return page(
                StatusCode::NOT_FOUND,
                "Not found",
                "Nothing is served here.",
            );
        }
        if req.method() != Method::GET {
            return page(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "The login callback is a GET request.",
            );
        }
        let query = req.uri().query().unwrap_or_default();
        let outcome = verify_callback(&self.state, url::form_urlencoded::parse(query.as_bytes()));
        // Only a request carrying this login's `state` may end it. Anything else (a stale
        // tab, another local program, a web page aiming at the fixed port) is answered and
        // ignored; the listener keeps waiting for the real redirect until its timeout.
        if matches!(outcome, Err(Error::StateMismatch)) {
            return page(
                StatusCode::BAD_REQUEST,
                "Not this login",
                "This request does not belong to the login in progress and was ignored.",
            );
        }
        let mut sender = self
            .sender
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(tx) = sender.take() else {
            return page(
                StatusCode::GONE,
                "Login already finished",
                "This login has already been completed. You can close this window.",
            );
        };
        let response = match &outcome {
            Ok(_) => page(
                StatusCode::OK,
                "Login successful",
                "The application has received your authorization. You can close this window.",
            ),
            Err(e) => page(
                StatusCode::BAD_REQUEST,
                "Login failed",
                &format!("{e}. You can close this window and try again."),
            ),
        };
        let _ = tx.send(outcome);
        response
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained page: no scripts, no external resources (so no `Referer` can carry
/// the code anywhere), not cached.
fn page(status: StatusCode, title: &str, text: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><h1 id=\"result\">{title}</h1><p>{text}</p></body></html>\n",
        title = escape(title),
        text = escape(text),
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        http::HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static("default-src 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    response
}
