//! The one grammar of the `X-authenticate` values, shared by the signer,
//! [`Credentials::new`](crate::Credentials::new) and the verifier, so the signer never builds
//! a header that the verifier (or the vendor's validation regex) refuses.
//!
//! - `Username`, `Domain`: not empty; no `"` (the value sits between double quotes,
//!   unescaped), no `@` (the vendor's regex excludes it), no control character.
//! - `Nonce`: 8 to 128 hexadecimal characters, either case.
//! - `Created`: `YYYY-MM-DDThh:mm:ssZ`, a real time (see [`created`](crate::created)).

/// Shortest and longest nonce this crate signs or accepts (hex characters). The
/// documentation asks for at least 8; the upper cap bounds a verifier's memory.
pub const NONCE_MIN: usize = 8;
/// See [`NONCE_MIN`].
pub const NONCE_MAX: usize = 128;

/// Whether `nonce` is 8 to 128 hexadecimal characters (either case).
pub fn is_valid_nonce(nonce: &str) -> bool {
    (NONCE_MIN..=NONCE_MAX).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `value` may be a `Username` or a `Domain`.
pub fn is_valid_field(value: &str) -> bool {
    !value.is_empty()
        && !value
            .bytes()
            .any(|b| b == b'"' || b == b'@' || b < 0x20 || b == 0x7f)
}
