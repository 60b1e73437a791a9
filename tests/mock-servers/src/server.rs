//! The in-process HTTP server.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::fault::{Fault, FaultRule, route_matches};
use crate::journal::RecordedRequest;
use crate::message::{Handler, MockRequest, MockResponse};

struct Shared {
    handler: Arc<dyn Handler>,
    url: String,
    journal: Mutex<Vec<RecordedRequest>>,
    recording: AtomicBool,
    faults: Mutex<Vec<FaultRule>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler panic must not take the journal down with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Takes the first matching fault, using up one of its `times`.
    fn take_fault(&self, method: &http::Method, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|r| r.matches(method, path))?;
        let fault = faults[index].fault.clone();
        if let Some(times) = &mut faults[index].times {
            *times -= 1;
            if *times == 0 {
                faults.remove(index);
            }
        }
        Some(fault)
    }
}

/// A running mock server. Dropping it stops it.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.shared.url)
            .finish()
    }
}

impl MockServer {
    /// Starts `handler` on `127.0.0.1` on a free port.
    ///
    /// # Panics
    ///
    /// Panics when no loopback port can be bound: a test cannot go on without its server.
    pub fn start(handler: impl Handler) -> Self {
        #[allow(clippy::expect_used)]
        Self::start_on(Arc::new(handler), SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind a loopback port for the mock server")
    }

    /// Starts an already shared handler on `addr`.
    ///
    /// # Errors
    ///
    /// Returns the bind error, or the error starting the server's thread.
    pub fn start_on(handler: Arc<dyn Handler>, addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = match addr {
            SocketAddr::V4(a) => format!("http://{a}"),
            SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
        };
        let shared = Arc::new(Shared {
            handler,
            url,
            journal: Mutex::new(Vec::new()),
            recording: AtomicBool::new(true),
            faults: Mutex::new(Vec::new()),
        });
        let (shutdown, stopped) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pbx-mock")
            .enable_all()
            .build()?;
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pbx-mock-accept".to_owned())
            .spawn(move || {
                runtime.block_on(serve(listener, state, stopped));
                runtime.shutdown_background();
            })?;
        Ok(Self {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The base URL, `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn journal(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.journal).clone()
    }

    /// The requests whose path matches `route` (a path, or a prefix ending in `*`).
    pub fn requests_to(&self, route: &str) -> Vec<MockRequest> {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| route_matches(route, &r.request.path))
            .map(|r| r.request.clone())
            .collect()
    }

    /// How many requests matched `route`.
    pub fn count(&self, route: &str) -> usize {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| route_matches(route, &r.request.path))
            .count()
    }

    /// How many requests with `method` matched `route`.
    pub fn count_method(&self, method: &http::Method, route: &str) -> usize {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| r.request.method == method && route_matches(route, &r.request.path))
            .count()
    }

    /// How many requests arrived in all.
    pub fn total(&self) -> usize {
        lock(&self.shared.journal).len()
    }

    /// Forgets the journal (counters start again at zero).
    pub fn reset_journal(&self) {
        lock(&self.shared.journal).clear();
    }

    /// Turns the journal on or off (on by default). Benchmarks turn it off so a long run
    /// neither grows memory nor measures the journal's lock.
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    /// Adds a fault rule; rules are tried in the order added.
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(Arc::clone(&shared), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// An error whose only purpose is to make hyper close the connection unanswered.
#[derive(Debug)]
struct DroppedOnPurpose;

impl std::fmt::Display for DroppedOnPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DroppedOnPurpose {}

async fn answer(
    shared: Arc<Shared>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, DroppedOnPurpose> {
    let (parts, body) = req.into_parts();
    // Always read the whole request first: answering early makes clients see resets.
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(DroppedOnPurpose),
    };
    let request = MockRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        server_url: shared.url.clone(),
    };
    let fault = shared.take_fault(&request.method, &request.path);
    if shared.recording.load(Ordering::Relaxed) {
        lock(&shared.journal).push(RecordedRequest {
            request: request.clone(),
            received_at: Instant::now(),
            faulted: matches!(fault, Some(Fault::Status { .. } | Fault::Drop)),
        });
    }
    let response = match fault {
        Some(Fault::Drop) => return Err(DroppedOnPurpose),
        Some(Fault::Status {
            status,
            body,
            content_type,
        }) => MockResponse::text(status, &content_type, body),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            shared.handler.handle(&request)
        }
        None => shared.handler.handle(&request),
    };
    Ok(into_http(response))
}

fn into_http(response: MockResponse) -> http::Response<Full<Bytes>> {
    let mut out = http::Response::new(Full::new(response.body));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    out
}
