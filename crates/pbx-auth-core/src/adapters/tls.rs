//! [`TlsOptions`]: the trust settings every crate's reqwest client builder offers, written
//! once.

use std::fmt;

use crate::error::{Error, ErrorKind};

/// Which servers a reqwest client trusts: the system roots, any extra roots added here,
/// and (only when asked for by name) no verification at all.
///
/// Verification is on unless [`danger_accept_invalid_certs`](Self::danger_accept_invalid_certs)
/// is called. The protocol crates' builders keep one of these and [`apply`](Self::apply) it
/// to the `reqwest::ClientBuilder` they make.
#[derive(Clone, Default)]
pub struct TlsOptions {
    roots: Vec<reqwest::Certificate>,
    danger_accept_invalid_certs: bool,
}

impl TlsOptions {
    /// The system roots only, verification on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts every certificate of a PEM bundle, in addition to the system roots.
    ///
    /// # Errors
    ///
    /// A [`Config`](ErrorKind::Config) error, nothing added, when the bundle holds no valid
    /// PEM certificate.
    pub fn add_ca_bundle_pem(&mut self, pem: &[u8]) -> Result<(), Error> {
        match reqwest::Certificate::from_pem_bundle(pem) {
            Ok(certs) if !certs.is_empty() => {
                self.roots.extend(certs);
                Ok(())
            }
            _ => Err(Error::new(
                ErrorKind::Config,
                "the CA bundle holds no valid PEM certificate",
            )),
        }
    }

    /// Trusts one more root certificate, in addition to the system roots.
    pub fn add_root_certificate(&mut self, cert: reqwest::Certificate) {
        self.roots.push(cert);
    }

    /// Turns certificate verification off. Anyone on the path can then read and forge
    /// what the client sends; only for throwaway test servers.
    pub fn danger_accept_invalid_certs(&mut self) {
        self.danger_accept_invalid_certs = true;
    }

    /// Whether verification was turned off.
    pub fn accepts_invalid_certs(&self) -> bool {
        self.danger_accept_invalid_certs
    }

    /// How many roots were added to the system's.
    pub fn extra_roots(&self) -> usize {
        self.roots.len()
    }

    /// `builder` with these settings.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let mut builder = builder.danger_accept_invalid_certs(self.danger_accept_invalid_certs);
        for cert in &self.roots {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("extra_roots", &self.roots.len())
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::TlsOptions;
    use crate::ErrorKind;

    #[test]
    fn a_bundle_without_certificates_is_a_config_error() {
        let mut tls = TlsOptions::new();
        let error = tls.add_ca_bundle_pem(b"not a certificate").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        assert_eq!(tls.extra_roots(), 0);
        assert!(
            !tls.accepts_invalid_certs(),
            "verification is on by default"
        );
    }

    #[test]
    fn danger_is_only_on_when_asked_for() {
        let mut tls = TlsOptions::new();
        tls.apply(reqwest::Client::builder()).build().unwrap();
        tls.danger_accept_invalid_certs();
        assert!(tls.accepts_invalid_certs());
        assert!(format!("{tls:?}").contains("danger_accept_invalid_certs: true"));
    }
}
