//! Sealing credentials at rest: XChaCha20-Poly1305 with a random 24-byte nonce per write,
//! the Redis key as associated data (a sealed value moved to another key does not open).

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use pbx_auth_core::ErrorKind;

use crate::error::Error;

const NONCE: usize = 24;

/// The 32-byte key that seals credentials in Redis. Every process of a fleet needs the
/// same one; keep it out of Redis (a secret store, an environment variable).
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

impl SealingKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from standard or URL-safe base64 of 32 bytes (padding optional).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] for anything else.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let text = text.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| Error::InvalidKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidKey)?;
        Ok(Self(bytes))
    }

    /// A new random key, base64-encoded (to generate one for a fleet's configuration).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] when the operating system's generator fails.
    pub fn generate_base64() -> Result<String, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| Error::InvalidKey)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    pub(crate) fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, pbx_auth_core::Error> {
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).map_err(|_| {
            pbx_auth_core::Error::new(
                ErrorKind::Config,
                "the operating system's random generator failed",
            )
        })?;
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| pbx_auth_core::Error::new(ErrorKind::Signing, "sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, pbx_auth_core::Error> {
        let refused = || {
            pbx_auth_core::Error::new(
                ErrorKind::Protocol,
                "a credential in Redis does not open with this sealing key",
            )
        };
        if sealed.len() < NONCE {
            return Err(refused());
        }
        let (nonce, body) = sealed.split_at(NONCE);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let key = SealingKey::from_bytes([7; 32]);
        let sealed = key.seal(b"k1", b"secret-token").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"secret-token"));
        assert_eq!(key.open(b"k1", &sealed).unwrap(), b"secret-token");
        // Another key name, another key, a flipped bit: all refused.
        assert!(key.open(b"k2", &sealed).is_err());
        assert!(
            SealingKey::from_bytes([8; 32])
                .open(b"k1", &sealed)
                .is_err()
        );
        let mut bad = sealed;
        bad[30] ^= 1;
        assert!(key.open(b"k1", &bad).is_err());
        assert!(key.open(b"k1", b"short").is_err());
    }

    #[test]
    fn base64_keys() {
        let text = SealingKey::generate_base64().unwrap();
        assert!(SealingKey::from_base64(&text).is_ok());
        assert!(matches!(
            SealingKey::from_base64("c2hvcnQ="),
            Err(Error::InvalidKey)
        ));
        assert_eq!(
            format!("{:?}", SealingKey::from_bytes([1; 32])),
            "SealingKey([redacted])"
        );
    }
}
