//! The two hashes of the scheme, as pure functions over exact UTF-8 bytes.
//!
//! `digestPassword = hex(sha256(password "{" salt "}"))` and
//! `Digest = base64(sha256(Nonce + digestPassword + Username + Domain + Created))`.
//! No Unicode normalisation anywhere: NFC and NFD spellings give different digests, as
//! the PBX's own PHP and Python clients do.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

/// Length of a `Digest` field: 32 bytes in padded standard base64.
pub const DIGEST_LEN: usize = 44;

/// `hex(sha256(password "{" salt "}"))`, lowercase, as 64 ASCII bytes.
///
/// This is the stored credential on the PBX. It is a secret: whoever holds it can sign.
pub fn digest_password(password: &str, salt: &str) -> [u8; 64] {
    let mut hasher = Sha256::new();
    hasher.update(password.as_bytes());
    hasher.update(b"{");
    hasher.update(salt.as_bytes());
    hasher.update(b"}");
    let mut out = [0u8; 64];
    // A 32-byte input always fits 64 output bytes.
    let _ = hex::encode_to_slice(hasher.finalize(), &mut out);
    out
}

/// The raw 32-byte SHA-256 behind the `Digest` field.
pub fn digest_raw(
    nonce: &str,
    digest_password: &[u8],
    username: &str,
    domain: &str,
    created: &str,
) -> [u8; 32] {
    let parts = [
        nonce.as_bytes(),
        digest_password,
        username.as_bytes(),
        domain.as_bytes(),
        created.as_bytes(),
    ];
    // Usual headers fit a small stack buffer; one contiguous hash is cheaper than five
    // incremental updates (this is most of the cost of a header).
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total <= PREIMAGE_STACK {
        let mut buf = [0u8; PREIMAGE_STACK];
        let mut at = 0;
        for part in parts {
            buf[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        return Sha256::digest(&buf[..at]).into();
    }
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Preimages up to this size are hashed from one stack buffer.
const PREIMAGE_STACK: usize = 256;

/// The `Digest` field: padded standard base64 of [`digest_raw`], 44 ASCII bytes.
pub fn digest_b64(
    nonce: &str,
    digest_password: &[u8],
    username: &str,
    domain: &str,
    created: &str,
) -> [u8; DIGEST_LEN] {
    encode_digest(&digest_raw(
        nonce,
        digest_password,
        username,
        domain,
        created,
    ))
}

/// Encodes 32 digest bytes as the 44-byte `Digest` field.
pub(crate) fn encode_digest(raw: &[u8; 32]) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    // 32 bytes always encode to exactly 44 padded characters.
    let _ = STANDARD.encode_slice(raw, &mut out);
    out
}

/// The `Digest` field as a `String` (convenience over [`digest_b64`]).
pub fn digest(
    nonce: &str,
    digest_password: &[u8],
    username: &str,
    domain: &str,
    created: &str,
) -> String {
    let bytes = digest_b64(nonce, digest_password, username, domain, created);
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_example() {
        let dp = digest_password("admin", "b5a8fdcf2f8d5acdad33c4a072a97d7a");
        assert_eq!(
            &dp,
            b"dd7b0be7fa37d6cbaf0b842bf7532f229cb79ab8d54d509c2aa7eea27a53cd5e"
        );
        assert_eq!(
            digest(
                "bfb79078ff44c35714af28b7412a702b",
                &dp,
                "admin",
                "default",
                "2016-04-29T15:48:26Z"
            ),
            "+PJg7Tb3v98XnL6iJVv+v5hwhYjdzQ2tIWxvJB2cE40="
        );
    }
}
