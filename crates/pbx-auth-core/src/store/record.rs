//! The record [`SharedSource`](super::SharedSource) keeps in the store: when the credential
//! was issued and when it expires (wall clock, so every process reads the same instants),
//! then the credential's bytes.
//!
//! Layout: format byte `1`, issued-at and expires-at as big-endian milliseconds since the
//! Unix epoch (`u64::MAX`: does not expire), then the credential.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind};

const FORMAT: u8 = 1;
const HEADER: usize = 1 + 8 + 8;
const NEVER: u64 = u64::MAX;

/// A decoded record.
pub(super) struct Record {
    pub(super) issued_at: SystemTime,
    pub(super) expires_at: Option<SystemTime>,
    pub(super) credential: Vec<u8>,
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(NEVER - 1))
}

impl Record {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.credential.len());
        out.push(FORMAT);
        out.extend_from_slice(&millis(self.issued_at).to_be_bytes());
        out.extend_from_slice(&self.expires_at.map_or(NEVER, millis).to_be_bytes());
        out.extend_from_slice(&self.credential);
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let bad = || {
            Error::new(
                ErrorKind::Protocol,
                "the shared store holds a record in an unknown format",
            )
        };
        if bytes.len() < HEADER || bytes[0] != FORMAT {
            return Err(bad());
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(b)
        };
        let at = |ms: u64| {
            UNIX_EPOCH
                .checked_add(Duration::from_millis(ms))
                .ok_or_else(bad)
        };
        let issued_at = at(word(1))?;
        let expires = word(9);
        let expires_at = if expires == NEVER {
            None
        } else {
            Some(at(expires)?)
        };
        Ok(Self {
            issued_at,
            expires_at,
            credential: bytes[HEADER..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let r = Record {
            issued_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            expires_at: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_004_123)),
            credential: b"tok".to_vec(),
        };
        let back = Record::decode(&r.encode()).unwrap();
        assert_eq!(back.issued_at, r.issued_at);
        assert_eq!(back.expires_at, r.expires_at);
        assert_eq!(back.credential, b"tok");
        let eternal = Record {
            expires_at: None,
            ..r
        };
        assert_eq!(Record::decode(&eternal.encode()).unwrap().expires_at, None);
        assert!(Record::decode(b"").is_err());
        assert!(Record::decode(&[2; 20]).is_err());
    }
}
