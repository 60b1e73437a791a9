//! `GET /rest/salt/<domain>`: fetching the tenant's salt anonymously, parsing the JSON or
//! XML reply, and deriving the [`SigningKey`] from it ([`SaltSource`], a core
//! [`TokenSource`]).

use std::fmt;

use pbx_auth_core::{Issued, TokenSource};
use quick_xml::Reader;
use quick_xml::events::Event;
use url::Url;

use crate::credentials::{Credentials, SigningKey, check_salt};
use crate::error::Error;

/// The salt scope of pbxadmin on a multi-tenant PBX (`/rest/salt/pbxAdmin`).
pub const PBX_ADMIN_SCOPE: &str = "pbxAdmin";

/// The salt URL for `scope` under `base`: the scope is percent-encoded as one path
/// segment, so a domain can never climb out of `/rest/salt/`.
pub(crate) fn salt_url(base: &Url, scope: &str) -> Result<Url, Error> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| Error::Config("the base URL cannot carry a path"))?
        .clear()
        .extend(["rest", "salt", scope]);
    Ok(url)
}

/// Fetches the salt and derives the signing key. The salt request carries no
/// authentication and asks for JSON with `Accept: application/json`.
pub struct SaltSource {
    client: reqwest::Client,
    url: Url,
    credentials: Credentials,
}

impl SaltSource {
    /// A source fetching the salt of `scope` (usually the credentials' domain, or
    /// [`PBX_ADMIN_SCOPE`]) from the PBX at `base`, with `client`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `base` cannot have a path (for example `mailto:`).
    pub fn new(
        client: reqwest::Client,
        base: &Url,
        scope: &str,
        credentials: Credentials,
    ) -> Result<Self, Error> {
        Ok(Self {
            client,
            url: salt_url(base, scope)?,
            credentials,
        })
    }

    /// The URL the salt is fetched from.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Fetches and parses the salt.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when no reply arrives, [`Error::SaltStatus`] for a non-2xx
    /// reply, [`Error::ResponseTooLarge`] for a body over [`MAX_SALT_REPLY_BYTES`],
    /// [`Error::SaltUnparseable`] when the body holds no salt, [`Error::InvalidCredentials`] for an empty salt or one with
    /// braces.
    pub async fn fetch_salt(&self) -> Result<String, Error> {
        let response = self
            .client
            .get(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(Error::from_reqwest)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::SaltStatus {
                status: status.as_u16(),
            });
        }
        let body = read_capped(response, MAX_SALT_REPLY_BYTES).await?;
        let salt = parse_salt(&body)?;
        check_salt(&salt)?;
        Ok(salt)
    }
}

/// The largest salt reply read. A real one is under 100 bytes (a 32-character salt in JSON
/// or a short XML document); a bigger body is not a salt and is not worth the memory.
pub const MAX_SALT_REPLY_BYTES: usize = 64 * 1024;

/// Reads a body of at most `limit` bytes, refusing a larger one as soon as its announced
/// length or the bytes received so far exceed the limit (so memory stays bounded).
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Error> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(Error::ResponseTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::ResponseTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl fmt::Debug for SaltSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaltSource")
            .field("url", &self.url.as_str())
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl TokenSource for SaltSource {
    type Token = SigningKey;

    async fn fetch(
        &self,
        _previous: Option<&SigningKey>,
    ) -> Result<Issued<SigningKey>, pbx_auth_core::Error> {
        // The path only: the salt and the key derived from it never reach a log.
        tracing::debug!(path = self.url.path(), "fetching the salt");
        let salt = self
            .fetch_salt()
            .await
            .inspect_err(|error| tracing::debug!(%error, "the salt fetch failed"))?;
        let key = SigningKey::derive(&self.credentials, &salt)?;
        // Salts do not expire on their own; a refused header invalidates the key instead.
        Ok(Issued::non_expiring(key))
    }
}

/// Reads the salt from a reply body: `{"salt": "…"}`, or XML whose root element has a
/// `<salt>` child (the PBX answers XML when the client does not ask for JSON).
///
/// # Errors
///
/// [`Error::SaltUnparseable`] when neither form yields a string salt.
pub fn parse_salt(body: &[u8]) -> Result<String, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::SaltUnparseable("the reply is not UTF-8"))?
        .trim_start_matches('\u{feff}')
        .trim();
    match text.as_bytes().first() {
        Some(b'{') => parse_json(text),
        Some(b'<') => parse_xml(text),
        _ => Err(Error::SaltUnparseable("the reply is neither JSON nor XML")),
    }
}

fn parse_json(text: &str) -> Result<String, Error> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| Error::SaltUnparseable("the JSON reply does not parse"))?;
    match value.get("salt") {
        Some(serde_json::Value::String(salt)) => Ok(salt.clone()),
        _ => Err(Error::SaltUnparseable(
            "the JSON reply has no string member `salt`",
        )),
    }
}

fn parse_xml(text: &str) -> Result<String, Error> {
    const BAD: Error = Error::SaltUnparseable("the XML reply does not parse");
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut in_salt = false;
    let mut salt = String::new();
    loop {
        match reader.read_event().map_err(|_| BAD)? {
            Event::Start(start) => {
                depth += 1;
                if depth == 2 && start.local_name().as_ref() == b"salt" {
                    in_salt = true;
                }
            }
            Event::Empty(start) if depth == 1 && start.local_name().as_ref() == b"salt" => {
                return Err(Error::SaltUnparseable("the XML salt element is empty"));
            }
            Event::Text(t) if in_salt => {
                salt.push_str(&t.decode().map_err(|_| BAD)?);
            }
            Event::CData(t) if in_salt => {
                salt.push_str(&t.decode().map_err(|_| BAD)?);
            }
            Event::GeneralRef(_) if in_salt => {
                return Err(Error::SaltUnparseable(
                    "the XML salt holds an entity reference",
                ));
            }
            Event::End(_) => {
                if in_salt {
                    return Ok(salt.trim().to_owned());
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => {
                return Err(Error::SaltUnparseable(
                    "the XML reply has no <salt> under its root element",
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml() {
        assert_eq!(parse_salt(br#"{"salt":"abc123"}"#).unwrap(), "abc123");
        assert_eq!(
            parse_salt(b"<?xml version=\"1.0\"?>\n<response><salt>abc123</salt></response>")
                .unwrap(),
            "abc123"
        );
        assert_eq!(
            parse_salt(b"<r><other><salt>no</salt></other><salt> s1 </salt></r>").unwrap(),
            "s1"
        );
    }

    #[test]
    fn unparseable_replies() {
        for body in [
            &b"<html><body>502 Bad Gateway</body></html>"[..],
            b"{\"salt\": 5}",
            b"{\"nosalt\": \"x\"}",
            b"plain text",
            b"",
            b"<r><salt>abc",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(parse_salt(body), Err(Error::SaltUnparseable(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn salt_url_encodes_one_segment() {
        let base = Url::parse("http://pbx.example:8080/ignored?q=1").unwrap();
        assert_eq!(
            salt_url(&base, "a/b c").unwrap().as_str(),
            "http://pbx.example:8080/rest/salt/a%2Fb%20c"
        );
    }
}
