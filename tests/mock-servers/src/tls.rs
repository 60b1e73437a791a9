//! [`TlsFront`]: HTTPS in front of any mock, so clients' TLS options (extra CA roots, the
//! `danger` switch that turns verification off) can be tested against a real handshake.
//!
//! The certificate is issued for `127.0.0.1` and `localhost` by a test CA; both live in
//! `tls/` beside this crate (P-256, valid for a hundred years) and are for tests only.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ServerConfig, crypto};

/// The test CA's certificate (PEM): trust it to reach a [`TlsFront`].
pub const TEST_CA_PEM: &[u8] = include_bytes!("../tls/ca.pem");
const SERVER_CERT_PEM: &[u8] = include_bytes!("../tls/server.pem");
const SERVER_KEY_PEM: &[u8] = include_bytes!("../tls/server.key");

/// Terminates TLS on `127.0.0.1` and passes the bytes on to a plain mock. Dropping it stops
/// it.
pub struct TlsFront {
    addr: SocketAddr,
    url: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TlsFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFront").field("url", &self.url).finish()
    }
}

impl TlsFront {
    /// Starts the front for the plain HTTP server at `backend`.
    ///
    /// # Errors
    ///
    /// The bind error, or the error starting the front's thread.
    pub fn start(backend: SocketAddr) -> io::Result<Self> {
        let acceptor = TlsAcceptor::from(Arc::new(server_config()?));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pbx-mock-tls")
            .enable_all()
            .build()?;
        let (shutdown, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("pbx-mock-tls".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    tokio::select! {
                        () = accept_loop(listener, acceptor, backend) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_background();
            })?;
        Ok(Self {
            addr,
            url: format!("https://127.0.0.1:{}", addr.port()),
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn server_config() -> io::Result<ServerConfig> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let certs = CertificateDer::pem_slice_iter(SERVER_CERT_PEM)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid("the test certificate is not PEM"))?;
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM)
        .map_err(|_| invalid("the test key is not PEM"))?;
    // The provider is named: the process-wide default is unset when several are built in.
    ServerConfig::builder_with_provider(Arc::new(crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|_| invalid("no TLS version"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|_| invalid("the test certificate and key do not match"))
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, backend: SocketAddr) {
    while let Ok((tcp, _)) = listener.accept().await {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A client that refuses the certificate ends its handshake here; that is the
            // outcome such a test wants, not an error of the front.
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Ok(mut plain) = TcpStream::connect(backend).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        });
    }
}
