//! Connection strings: `scheme://user:password@host:port/tenants_domain`, as the seed
//! takes them, plus a bare `host[:port]` and IPv6 literals.
//!
//! Differences from the seed, each fixing one of its bugs: credentials are kept exactly
//! as percent-decoded (not trimmed), the domain is percent-decoded and loses trailing
//! slashes, an inner slash in the domain is an error, and the host goes through a real
//! URL type (IPv6 brackets and port 0 survive).

use std::fmt;

use pbx_auth_core::Password;
use percent_encoding::percent_decode_str;
use url::Url;

use crate::credentials::DEFAULT_DOMAIN;
use crate::error::Error;

/// A parsed connection string.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The server's base URL (`scheme://host[:port]/`).
    pub base: Url,
    /// Username and password, when the string carried both.
    pub credentials: Option<(String, Password)>,
    /// The tenant domain (`default` when the string has no path).
    pub domain: String,
}

impl fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("base", &self.base.as_str())
            .field("credentials", &self.credentials)
            .field("domain", &self.domain)
            .finish()
    }
}

fn decode(part: &str, what: &'static str) -> Result<String, Error> {
    percent_decode_str(part)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| Error::InvalidConnectionString(what))
}

/// Parses a connection string. Errors say which part is wrong and never echo the input
/// (it may hold a password).
///
/// # Errors
///
/// [`Error::InvalidConnectionString`] for an unsupported scheme, only one of username and
/// password, a missing or invalid host or port, or a domain with an inner `/` (also
/// percent-encoded), a backslash or a control character (such as `%00`).
pub fn parse_connection_string(input: &str) -> Result<ConnectionInfo, Error> {
    let text = input.trim();
    let (scheme, rest) = match text.find("://") {
        Some(at) => (text[..at].to_ascii_lowercase(), &text[at + 3..]),
        None => ("http".to_owned(), text.strip_prefix("//").unwrap_or(text)),
    };
    if scheme != "http" && scheme != "https" {
        return Err(Error::InvalidConnectionString(
            "unsupported scheme (use http or https)",
        ));
    }
    // Query and fragment are ignored, as in the seed.
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    // The last `@` ends the user info, so an unencoded `@` in a password still works.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let credentials = match userinfo {
        None => None,
        Some(info) => {
            // The first `:` ends the username, so an unencoded `:` in a password works.
            let (user, password) = info.split_once(':').unwrap_or((info, ""));
            let user = decode(user, "the username is not valid percent-encoded UTF-8")?;
            // The username goes into a header: no decoded NUL, CR, LF or other control.
            if user.contains(char::is_control) {
                return Err(Error::InvalidConnectionString(
                    "the username contains control characters",
                ));
            }
            let password = decode(password, "the password is not valid percent-encoded UTF-8")?;
            match (user.is_empty(), password.is_empty()) {
                (true, true) => None,
                (false, false) => Some((user, Password::new(password))),
                _ => {
                    return Err(Error::InvalidConnectionString(
                        "incomplete login credentials: give both username and password, or neither",
                    ));
                }
            }
        }
    };
    if hostport.is_empty() {
        return Err(Error::InvalidConnectionString("the host is missing"));
    }
    if hostport.contains(|c: char| c.is_whitespace() || c == '\\') {
        return Err(Error::InvalidConnectionString("the host is not valid"));
    }
    let base = Url::parse(&format!("{scheme}://{hostport}/"))
        .map_err(|_| Error::InvalidConnectionString("the host or port is not valid"))?;
    if base.host().is_none() {
        return Err(Error::InvalidConnectionString("the host is missing"));
    }
    let raw_domain = path.trim_start_matches('/').trim_end_matches('/');
    if raw_domain.contains('/') {
        return Err(Error::InvalidConnectionString(
            "the tenant domain must be a single path segment",
        ));
    }
    let domain = decode(raw_domain, "the domain is not valid percent-encoded UTF-8")?;
    // Checked after decoding: `%2F` or `%00` would otherwise smuggle a slash or a NUL into
    // a value that becomes a URL path segment and part of a signed header.
    if domain.contains(['/', '\\'])
        || domain.contains(char::is_control)
        || domain == "."
        || domain == ".."
    {
        return Err(Error::InvalidConnectionString(
            "the tenant domain must be a single path segment without control characters",
        ));
    }
    let domain = if domain.is_empty() {
        DEFAULT_DOMAIN.to_owned()
    } else {
        domain
    };
    Ok(ConnectionInfo {
        base,
        credentials,
        domain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> ConnectionInfo {
        parse_connection_string(s).unwrap()
    }

    fn creds(c: &ConnectionInfo) -> Option<(&str, &str)> {
        c.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.expose_secret()))
    }

    #[test]
    fn upstream_table() {
        let c = ok("http://example.com");
        assert_eq!(c.base.as_str(), "http://example.com/");
        assert_eq!(c.domain, "default");
        assert!(c.credentials.is_none());
        assert_eq!(ok("https://example.com").base.scheme(), "https");
        assert_eq!(ok("http://example.com/default").domain, "default");
        assert_eq!(
            ok("http://example.com:8080/default").base.port(),
            Some(8080)
        );
        let c = ok("http://user:pass@example.com/default");
        assert_eq!(creds(&c), Some(("user", "pass")));
        let c = ok("  http://user:pass@example.com/default  ");
        assert_eq!(creds(&c), Some(("user", "pass")));
        let c = ok("http://user%23:pass%2C@example.com/default-");
        assert_eq!(creds(&c), Some(("user#", "pass,")));
        assert_eq!(c.domain, "default-");
        for bad in [
            "htp://example.com",
            "http://user@example.com",
            "http://user:@example.com",
            "http://:pass@example.com",
        ] {
            assert!(parse_connection_string(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn improvements_over_the_seed() {
        // Credentials are not trimmed.
        assert_eq!(creds(&ok("http://user: %20 @h")), Some(("user", "   ")));
        // Bare hosts, ports and IPv6 literals.
        assert_eq!(ok("192.168.1.1").base.as_str(), "http://192.168.1.1/");
        assert_eq!(
            ok("example.com:8080").base.as_str(),
            "http://example.com:8080/"
        );
        assert_eq!(ok("//example.com").base.as_str(), "http://example.com/");
        assert_eq!(
            ok("http://[::1]:8080/t1").base.as_str(),
            "http://[::1]:8080/"
        );
        assert_eq!(ok("[::1]").base.as_str(), "http://[::1]/");
        assert_eq!(
            ok("HTTP://Example.COM").base.as_str(),
            "http://example.com/"
        );
        // Domain: trailing slash trimmed, percent-decoded, inner slash refused.
        assert_eq!(ok("http://h/default/").domain, "default");
        assert_eq!(ok("http://h/t%C3%A9nant").domain, "ténant");
        assert!(parse_connection_string("http://h/a/b").is_err());
        // Unencoded @ and : in the password.
        assert_eq!(creds(&ok("http://u:p@ss:w@h")), Some(("u", "p@ss:w")));
    }

    // Issue 13, item 10: `%2F` and `%00` decoded into a domain with `/` or NUL.
    #[test]
    fn encoded_slash_nul_and_controls_are_refused() {
        for bad in [
            "http://h/a%2Fb",
            "http://h/a%2fb",
            "http://h/%2F",
            "http://h/a%5Cb",
            "http://h/a%00b",
            "http://h/%0D%0Ax",
            "http://h/%7F",
            "http://h/%2E%2E",
            "http://h/.",
            "http://u%0A:p@h/t",
            "http://u%00:p@h/t",
        ] {
            assert!(
                matches!(
                    parse_connection_string(bad),
                    Err(Error::InvalidConnectionString(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(ok("http://h/a%2Eb").domain, "a.b");
    }

    #[test]
    fn errors_never_echo_the_password() {
        for bad in [
            "ftp://u:s3cr3t-pw@h",
            "http://u:s3cr3t-pw@",
            "http://u:s3cr3t-pw@h:notaport",
            "http://u:s3cr3t-pw@h/a/b",
        ] {
            let e = parse_connection_string(bad).unwrap_err();
            assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{bad}");
        }
    }
}
