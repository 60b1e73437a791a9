//! What signing needs: validated [`Credentials`] and the [`SigningKey`] derived from them
//! and a salt.

use std::fmt;

use pbx_auth_core::{KeyMaterial, Password};

use crate::digest::digest_password;
use crate::error::Error;
use crate::grammar::is_valid_field;

/// The domain used when none is given, as on a single-tenant PBX.
pub const DEFAULT_DOMAIN: &str = "default";

/// Checks a `Username` or `Domain` value against the header's grammar (see
/// [`is_valid_field`]): a `"` or a control character would break the header (the seed's
/// bug 9), and the vendor's validation refuses `@`.
pub(crate) fn check_field(value: &str, what: &'static str) -> Result<(), Error> {
    if is_valid_field(value) {
        return Ok(());
    }
    Err(Error::InvalidCredentials(match (what, value.is_empty()) {
        ("username", true) => "the username is empty",
        (_, true) => "the domain is empty",
        ("username", false) => "the username contains a double quote, an @ or a control character",
        (_, false) => "the domain contains a double quote, an @ or a control character",
    }))
}

/// Checks a salt: the PHP helper refuses an empty one, and braces would make
/// `password{salt}` ambiguous (Symfony-style mergers refuse them too).
pub(crate) fn check_salt(salt: &str) -> Result<(), Error> {
    if salt.is_empty() {
        return Err(Error::InvalidCredentials("the salt is empty"));
    }
    if salt.contains(['{', '}']) {
        return Err(Error::InvalidCredentials("the salt contains a brace"));
    }
    Ok(())
}

/// A username, password and tenant domain, checked once at construction.
///
/// Values are used exactly as given: no trimming and no Unicode normalisation.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: Password,
    domain: String,
}

impl Credentials {
    /// Checks and wraps the three values.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] when the username or domain is empty or contains `"`,
    /// `@` or a control character, or the password is empty (the vendor's helper refuses
    /// one).
    pub fn new(
        username: impl Into<String>,
        password: impl Into<Password>,
        domain: impl Into<String>,
    ) -> Result<Self, Error> {
        let username = username.into();
        let password = password.into();
        let domain = domain.into();
        check_field(&username, "username")?;
        check_field(&domain, "domain")?;
        if password.expose_secret().is_empty() {
            return Err(Error::InvalidCredentials("the password is empty"));
        }
        Ok(Self {
            username,
            password,
            domain,
        })
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The tenant domain that goes into the header.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The password.
    pub fn password(&self) -> &Password {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("domain", &self.domain)
            .finish()
    }
}

/// The key a header is signed with: username, domain and `digestPassword`
/// (`hex(sha256(password{salt}))`), derived once per (password, salt).
///
/// This is what the salt-fetching [`SaltSource`](crate::SaltSource) produces and the
/// [`XAuthSigner`](crate::XAuthSigner) consumes. `Debug` hides the key.
#[derive(Clone)]
pub struct SigningKey {
    username: String,
    domain: String,
    digest_password: KeyMaterial,
}

impl SigningKey {
    /// Derives the key from credentials and the tenant's salt.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] when the salt is empty or contains a brace.
    pub fn derive(credentials: &Credentials, salt: &str) -> Result<Self, Error> {
        check_salt(salt)?;
        Ok(Self {
            username: credentials.username.clone(),
            domain: credentials.domain.clone(),
            digest_password: KeyMaterial::new(
                digest_password(credentials.password.expose_secret(), salt).to_vec(),
            ),
        })
    }

    /// Builds a key from an already computed `digestPassword` (64 hex characters), as a
    /// server stores it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] for a bad username or domain, or a `digest_password`
    /// that is not 64 lowercase hex characters.
    pub fn from_digest_password(
        username: impl Into<String>,
        domain: impl Into<String>,
        digest_password: &str,
    ) -> Result<Self, Error> {
        let username = username.into();
        let domain = domain.into();
        check_field(&username, "username")?;
        check_field(&domain, "domain")?;
        let ok = digest_password.len() == 64
            && digest_password
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(Error::InvalidCredentials(
                "the digest password is not 64 lowercase hex characters",
            ));
        }
        Ok(Self {
            username,
            domain,
            digest_password: KeyMaterial::new(digest_password.as_bytes().to_vec()),
        })
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The `digestPassword` as its 64 hex ASCII bytes.
    ///
    /// # Security
    ///
    /// This is the credential itself: anyone holding it can sign as this user.
    pub fn expose_digest_password(&self) -> &[u8] {
        self.digest_password.expose_secret()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("username", &self.username)
            .field("domain", &self.domain)
            .field("digest_password", &self.digest_password)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unusable_values() {
        assert!(Credentials::new("a\"b", "p", "default").is_err());
        assert!(Credentials::new("a", "p", "def\nault").is_err());
        assert!(Credentials::new("", "p", "default").is_err());
        assert!(Credentials::new("a", "", "default").is_err());
        assert!(Credentials::new("a", "p", "").is_err());
        // The vendor's validation refuses `@`, so the signer does too.
        assert!(Credentials::new("a@b", "p", "default").is_err());
        let c = Credentials::new("a b", " spaced ", "default").unwrap();
        assert_eq!(c.password().expose_secret(), " spaced ");
        assert!(SigningKey::derive(&c, "").is_err());
        assert!(SigningKey::derive(&c, "a{b").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::new("admin", "hunter2-pw", "default").unwrap();
        let k = SigningKey::derive(&c, "b5a8fdcf2f8d5acdad33c4a072a97d7a").unwrap();
        let text = format!("{c:?} {k:?}");
        assert!(!text.contains("hunter2"));
        let hex = String::from_utf8(k.expose_digest_password().to_vec()).unwrap();
        assert!(!text.contains(&hex));
    }
}
