//! The envelope: JSON → Fernet token → standard base64 with padding, and back.
//!
//! Yes, the token is base64 twice: a Fernet token is already URL-safe base64, and the
//! server base64-encodes it once more for the HTTP body. Both directions use the same
//! layers, so one type serves a client (seal request, open response) and a server (open
//! request, seal response).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::{Error, FernetKey};

/// Fernet's fixed parts: version (1) + timestamp (8) + IV (16) + HMAC (32).
const FIXED_LEN: usize = 57;
/// AES block size; the ciphertext is PKCS#7 padded, so at least one block.
const BLOCK: usize = 16;
/// How far in the future a stamp may be when the caller asks for a TTL check (the value
/// the Fernet specification uses).
const MAX_CLOCK_SKEW_SECS: u64 = 60;

/// Seals and opens authnzerver bodies with one Fernet key.
#[derive(Clone, Debug)]
pub struct FernetEnvelope {
    key: FernetKey,
}

impl FernetEnvelope {
    /// An envelope using `key`.
    pub fn new(key: FernetKey) -> Self {
        Self { key }
    }

    /// Seals `plaintext` into an HTTP body stamped with `now`.
    pub fn seal_at(&self, plaintext: &[u8], now: SystemTime) -> Vec<u8> {
        let token = self.key.fernet.encrypt_at_time(plaintext, unix_secs(now));
        STANDARD.encode(token.as_bytes()).into_bytes()
    }

    /// Seals `plaintext` stamped with the current time.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        self.seal_at(plaintext, SystemTime::now())
    }

    /// Opens an HTTP body. With `ttl`, tokens older than `ttl` (or stamped more than a
    /// minute ahead of `now`) are refused; without it any stamp is accepted, exactly like
    /// the 0.1.3 server does.
    ///
    /// # Errors
    ///
    /// A distinct [`Error`] for an empty body, non-base64 text, missing padding, a token
    /// that is not URL-safe base64, a truncated token, a wrong version byte, an expired
    /// or future token, and a token that does not verify (wrong key or tampered).
    pub fn open_at(
        &self,
        sealed: &[u8],
        now: SystemTime,
        ttl: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        let outer = sealed.trim_ascii();
        let token_bytes = match STANDARD.decode(outer) {
            Ok(bytes) if !bytes.is_empty() => bytes,
            _ => return Err(outer_error(outer)),
        };
        let token = std::str::from_utf8(&token_bytes).map_err(|_| Error::MalformedToken)?;
        let now_secs = unix_secs(now);
        let ttl_secs = ttl.map(|t| t.as_secs());
        // The stamp is read here, before the fernet crate sees the token: fernet 0.2.2
        // (`_decrypt_parse`) computes `timestamp + ttl` and `current_time + 60` unchecked,
        // before the HMAC is verified, so an unauthenticated token stamped near `u64::MAX`
        // (or a huge TTL) panics in builds with overflow checks and wraps in others. To be
        // reported upstream against fernet 0.2.2; until then we only hand it values whose
        // sums fit in a u64 and mean the same.
        let Some(stamp) = stamp_of(token) else {
            return Err(diagnose(token, now_secs, ttl_secs));
        };
        // `stamp + ttl` saturating at `u64::MAX` is "not expired" either way.
        let fernet_ttl = ttl_secs.map(|t| t.min(u64::MAX - stamp));
        // The fernet crate always refuses stamps more than 60 s ahead of the time it is
        // given. Without a TTL we accept any stamp, as the server does, so we hand it the
        // latest time that cannot overflow its check.
        let check_time = if ttl.is_some() {
            now_secs.min(u64::MAX - MAX_CLOCK_SKEW_SECS)
        } else {
            u64::MAX - MAX_CLOCK_SKEW_SECS
        };
        match self
            .key
            .fernet
            .decrypt_at_time(token, fernet_ttl, check_time)
        {
            Ok(plaintext) => Ok(plaintext),
            // Fernet reports one error for everything; only now, on the slow path, is the
            // token taken apart to say what exactly is wrong with it.
            Err(_) => Err(diagnose(token, now_secs, ttl_secs)),
        }
    }

    /// Opens an HTTP body without a TTL, at the current time.
    ///
    /// # Errors
    ///
    /// As [`FernetEnvelope::open_at`].
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, Error> {
        self.open_at(sealed, SystemTime::now(), None)
    }
}

impl pbx_auth_core::Envelope for FernetEnvelope {
    fn seal(&self, plaintext: &[u8], now: SystemTime) -> Result<Vec<u8>, pbx_auth_core::Error> {
        Ok(self.seal_at(plaintext, now))
    }

    fn open(
        &self,
        sealed: &[u8],
        now: SystemTime,
        ttl: Option<Duration>,
    ) -> Result<Vec<u8>, pbx_auth_core::Error> {
        self.open_at(sealed, now, ttl).map_err(Into::into)
    }
}

/// Why the outer layer does not decode.
fn outer_error(outer: &[u8]) -> Error {
    if outer.is_empty() {
        Error::Empty
    } else if !outer
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        Error::NotBase64
    } else if !outer.len().is_multiple_of(4) {
        Error::MissingPadding
    } else {
        Error::NotBase64
    }
}

/// The token's timestamp (bytes 1..9 of the decoded token), from its first 12 characters
/// only; `None` when they are not URL-safe base64 (then the whole token is not either).
fn stamp_of(token: &str) -> Option<u64> {
    let head = token.as_bytes().get(..12)?;
    let mut raw = [0u8; 9];
    URL_SAFE_NO_PAD.decode_slice(head, &mut raw).ok()?;
    let mut stamp = [0u8; 8];
    stamp.copy_from_slice(&raw[1..9]);
    Some(u64::from_be_bytes(stamp))
}

/// Why a token that the fernet crate refused is bad.
fn diagnose(token: &str, now_secs: u64, ttl_secs: Option<u64>) -> Error {
    let Ok(raw) = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')) else {
        return Error::MalformedToken;
    };
    if raw.len() < FIXED_LEN + BLOCK || !(raw.len() - FIXED_LEN).is_multiple_of(BLOCK) {
        return Error::Truncated;
    }
    if raw[0] != 0x80 {
        return Error::UnsupportedVersion(raw[0]);
    }
    let mut stamp_bytes = [0u8; 8];
    stamp_bytes.copy_from_slice(&raw[1..9]);
    let stamp = u64::from_be_bytes(stamp_bytes);
    if let Some(ttl_secs) = ttl_secs {
        if stamp > now_secs.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return Error::FromTheFuture {
                ahead_secs: stamp.saturating_sub(now_secs),
            };
        }
        if stamp.saturating_add(ttl_secs) < now_secs {
            return Error::Expired {
                age_secs: now_secs.saturating_sub(stamp),
                ttl_secs,
            };
        }
    }
    Error::BadSignature
}

/// Seconds since the Unix epoch; times before it count as 0 (Fernet stamps are unsigned).
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> FernetEnvelope {
        let key = FernetKey::generate();
        FernetEnvelope::new(FernetKey::from_text(key.expose_secret()).unwrap())
    }

    /// A token stamped `stamp`, sealed like a body, with a valid HMAC.
    fn stamped(env: &FernetEnvelope, stamp: u64) -> Vec<u8> {
        let token = env.key.fernet.encrypt_at_time(b"{}", stamp);
        STANDARD.encode(token.as_bytes()).into_bytes()
    }

    // Issue 13, item 6: fernet 0.2.2 computes `timestamp + ttl` unchecked, so a token
    // stamped `u64::MAX` panicked (overflow checks) before its HMAC was looked at.
    #[test]
    fn extreme_stamps_and_ttls_do_not_overflow() {
        let env = envelope();
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for stamp in [u64::MAX, u64::MAX - 1, u64::MAX - 60, 1 << 63] {
            let sealed = stamped(&env, stamp);
            assert!(
                matches!(
                    env.open_at(&sealed, now, Some(Duration::from_secs(60))),
                    Err(Error::FromTheFuture { .. })
                ),
                "{stamp}"
            );
            assert!(
                matches!(
                    env.open_at(&sealed, now, Some(Duration::MAX)),
                    Err(Error::FromTheFuture { .. })
                ),
                "{stamp}"
            );
            // Without a TTL any stamp is accepted, as the server does.
            assert_eq!(env.open_at(&sealed, now, None).unwrap(), b"{}");
        }
        // A huge TTL on an ordinary token means "never expires".
        let sealed = stamped(&env, 1_700_000_000);
        assert_eq!(
            env.open_at(&sealed, now, Some(Duration::MAX)).unwrap(),
            b"{}"
        );
        // And a wall clock at the end of time does not overflow either.
        let late = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64);
        assert!(
            env.open_at(&sealed, late, Some(Duration::from_secs(60)))
                .is_err()
        );
        // Unauthenticated tokens with those stamps: the HMAC still refuses them.
        let other = envelope();
        let forged = stamped(&other, u64::MAX);
        assert!(matches!(
            env.open_at(&forged, now, Some(Duration::MAX)),
            Err(Error::FromTheFuture { .. } | Error::BadSignature)
        ));
    }
}
