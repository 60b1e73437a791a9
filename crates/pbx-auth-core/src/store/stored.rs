//! [`StoredToken`]: credentials that can be written to a shared store and read back.

use crate::error::{Error, ErrorKind};
use crate::secret::{AccessToken, KeyMaterial, RefreshToken};

/// A credential with a byte form, so a [`SharedStore`](super::SharedStore) can hold it.
///
/// The bytes are the secret itself: stores that leave the process seal them (the Redis
/// store encrypts them with an AEAD).
pub trait StoredToken: Sized {
    /// The credential as bytes.
    fn to_stored(&self) -> Vec<u8>;

    /// The credential read back from [`to_stored`](Self::to_stored)'s bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the bytes are not such a credential. The message must
    /// not quote them.
    fn from_stored(bytes: &[u8]) -> Result<Self, Error>;
}

fn utf8(bytes: &[u8]) -> Result<String, Error> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        Error::new(
            ErrorKind::Protocol,
            "the shared store holds a credential that is not UTF-8",
        )
    })
}

impl StoredToken for AccessToken {
    fn to_stored(&self) -> Vec<u8> {
        self.expose_secret().as_bytes().to_vec()
    }

    fn from_stored(bytes: &[u8]) -> Result<Self, Error> {
        utf8(bytes).map(Self::new)
    }
}

impl StoredToken for RefreshToken {
    fn to_stored(&self) -> Vec<u8> {
        self.expose_secret().as_bytes().to_vec()
    }

    fn from_stored(bytes: &[u8]) -> Result<Self, Error> {
        utf8(bytes).map(Self::new)
    }
}

impl StoredToken for KeyMaterial {
    fn to_stored(&self) -> Vec<u8> {
        self.expose_secret().to_vec()
    }

    fn from_stored(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Self::new(bytes.to_vec()))
    }
}
