//! [`Config`]: what a sipgate OAuth client needs, from code, the environment or a `.env`
//! file with the keys of sipgate's own examples.

use std::fmt;
use std::path::Path;

use pbx_auth_core::Password;
use url::Url;

use crate::error::Error;

/// sipgate's login server; the realm and `/protocol/openid-connect/<endpoint>` follow.
pub const LOGIN_BASE: &str = "https://login.sipgate.com/auth/realms/";
/// The `OpenID` Connect path below a realm.
const PROTOCOL_PATH: &str = "/protocol/openid-connect";
/// The realm of sipgate's example configuration. Newer clients live in `sipgate-apps`;
/// the console shows which one a client belongs to.
pub const DEFAULT_REALM: &str = "third-party";
/// The account endpoint the examples call to prove the token works.
pub const DEFAULT_TEST_API_ENDPOINT: &str = "https://api.sipgate.com/v2/account";
/// The examples' redirect URI.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:8080/oauth";
/// Least privilege: enough to read the account, nothing more.
pub const DEFAULT_SCOPE: &str = "account:read";

/// How the client proves its identity at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body, as sipgate's examples do.
    #[default]
    RequestBody,
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    Basic,
}

/// The settings of one OAuth client.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The client id from the sipgate console.
    pub client_id: String,
    /// The client secret; `None` for a public client (then PKCE is the only protection).
    pub client_secret: Option<Password>,
    /// The redirect URI exactly as registered; its host must be a loopback address for the
    /// built-in listener. Port `0` asks for an ephemeral port.
    pub redirect_uri: Url,
    /// The scopes to ask for.
    pub scopes: Vec<String>,
    /// The authorization endpoint.
    pub auth_url: Url,
    /// The token endpoint.
    pub token_url: Url,
    /// The RFC 7009 revocation endpoint, if the server offers one.
    pub revocation_url: Option<Url>,
    /// The API endpoint `account()` calls.
    pub test_api_endpoint: Url,
    /// How to authenticate at the token endpoint.
    pub client_auth: ClientAuth,
    /// Send PKCE S256 (on by default; turn off only for a server that rejects it).
    pub pkce: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_uri", &shown(&self.redirect_uri))
            .field("scopes", &self.scopes)
            .field("auth_url", &shown(&self.auth_url))
            .field("token_url", &shown(&self.token_url))
            .field("revocation_url", &self.revocation_url.as_ref().map(shown))
            .field("test_api_endpoint", &shown(&self.test_api_endpoint))
            .field("client_auth", &self.client_auth)
            .field("pkce", &self.pkce)
            .finish()
    }
}

/// A URL for `Debug`: without the `user:password@` a URL may carry.
fn shown(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.as_str().to_owned();
    }
    let mut url = url.clone();
    // Both setters only fail for URLs that cannot have credentials at all.
    let _ = url.set_password(None);
    let _ = url.set_username("redacted");
    url.into()
}

fn realm_url(realm: &str, endpoint: &str, key: &'static str) -> Result<Url, Error> {
    if realm.is_empty() || realm.contains(['/', '?', '#']) {
        return Err(Error::config(key, "not a realm name"));
    }
    parse_url(
        key,
        &format!("{LOGIN_BASE}{realm}{PROTOCOL_PATH}/{endpoint}"),
    )
}

fn parse_url(key: &'static str, value: &str) -> Result<Url, Error> {
    let url =
        Url::parse(value.trim()).map_err(|e| Error::config(key, format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::config(key, "must be an http or https URL"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(Error::config(key, "must be an absolute URL with a host"));
    }
    Ok(url)
}

fn parse_scopes(value: &str) -> Result<Vec<String>, Error> {
    let scopes: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
    if scopes.is_empty() {
        return Err(Error::config("OAUTH_SCOPE", "no scope given"));
    }
    Ok(scopes)
}

impl Config {
    /// A configuration for `client_id` with sipgate's defaults: realm `third-party`,
    /// redirect URI `http://localhost:8080/oauth`, scope `account:read`, secret in the
    /// body, PKCE on.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for an empty client id.
    pub fn new(client_id: impl Into<String>) -> Result<Self, Error> {
        let client_id = client_id.into();
        if client_id.trim().is_empty() {
            return Err(Error::config("CLIENT_ID", "is empty"));
        }
        Ok(Self {
            client_id,
            client_secret: None,
            redirect_uri: parse_url("REDIRECT_URI", DEFAULT_REDIRECT_URI)?,
            scopes: vec![DEFAULT_SCOPE.to_owned()],
            auth_url: realm_url(DEFAULT_REALM, "auth", "AUTH_URL")?,
            token_url: realm_url(DEFAULT_REALM, "token", "TOKEN_URL")?,
            revocation_url: None,
            test_api_endpoint: parse_url("TEST_API_ENDPOINT", DEFAULT_TEST_API_ENDPOINT)?,
            client_auth: ClientAuth::default(),
            pkce: true,
        })
    }

    /// Sets the client secret.
    #[must_use]
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(Password::new(secret.into()));
        self
    }

    /// Points the authorization and token URLs at another sipgate realm (`sipgate-apps`
    /// for clients created since 2021).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for a malformed realm name.
    pub fn with_realm(mut self, realm: &str) -> Result<Self, Error> {
        self.auth_url = realm_url(realm, "auth", "REALM")?;
        self.token_url = realm_url(realm, "token", "REALM")?;
        Ok(self)
    }

    /// Sets the redirect URI (exactly as registered).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for a malformed URL.
    pub fn with_redirect_uri(mut self, uri: &str) -> Result<Self, Error> {
        self.redirect_uri = parse_url("REDIRECT_URI", uri)?;
        Ok(self)
    }

    /// Sets the scopes from a space-separated list.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for an empty list.
    pub fn with_scopes(mut self, scopes: &str) -> Result<Self, Error> {
        self.scopes = parse_scopes(scopes)?;
        Ok(self)
    }

    /// Sets the authorization, token and account URLs (a local test server, say).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] naming the malformed URL.
    pub fn with_endpoints(mut self, auth: &str, token: &str, account: &str) -> Result<Self, Error> {
        self.auth_url = parse_url("AUTH_URL", auth)?;
        self.token_url = parse_url("TOKEN_URL", token)?;
        self.test_api_endpoint = parse_url("TEST_API_ENDPOINT", account)?;
        Ok(self)
    }

    /// Sets the RFC 7009 revocation endpoint.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for a malformed URL.
    pub fn with_revocation_url(mut self, url: &str) -> Result<Self, Error> {
        self.revocation_url = Some(parse_url("REVOCATION_URL", url)?);
        Ok(self)
    }

    /// Sets how the client authenticates at the token endpoint.
    #[must_use]
    pub fn with_client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Turns PKCE on or off (on by default).
    #[must_use]
    pub fn with_pkce(mut self, pkce: bool) -> Self {
        self.pkce = pkce;
        self
    }

    /// Reads the configuration from the process environment: `CLIENT_ID` (required),
    /// `CLIENT_SECRET`, `REDIRECT_URI`, `OAUTH_SCOPE`, `PORT`, `AUTH_URL`, `TOKEN_URL`,
    /// `TEST_API_ENDPOINT`, and the additions `REALM`, `REVOCATION_URL`, `CLIENT_AUTH`
    /// (`post` or `basic`) and `PKCE` (`true`/`false`).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] naming the missing or malformed key.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads a `.env` file, with variables already set in the environment taking precedence
    /// (as `python-dotenv` does in the original example).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] for an unreadable file or a missing or malformed key.
    pub fn from_env_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let mut file = std::collections::HashMap::new();
        let entries = dotenvy::from_path_iter(path.as_ref())
            .map_err(|e| Error::config("ENV_FILE", format!("cannot read the .env file ({e})")))?;
        for entry in entries {
            // dotenvy's message quotes the offending line, which may hold the secret.
            let (key, value) = entry.map_err(|e| {
                Error::config(
                    "ENV_FILE",
                    match e {
                        dotenvy::Error::LineParse(_, at) => {
                            format!("malformed line in the .env file (at character {at})")
                        }
                        _ => "malformed .env file".to_owned(),
                    },
                )
            })?;
            file.insert(key, value);
        }
        Self::from_lookup(|key| std::env::var(key).ok().or_else(|| file.get(key).cloned()))
    }

    /// Builds the configuration from any key lookup (the environment, a map, ...).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Config`] naming the missing or malformed key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let client_id = get("CLIENT_ID").ok_or_else(|| Error::config("CLIENT_ID", "is not set"))?;
        let mut config = Self::new(client_id.trim())?;
        if let Some(secret) = lookup("CLIENT_SECRET").filter(|v| !v.is_empty()) {
            config = config.with_client_secret(secret);
        }
        if let Some(realm) = get("REALM") {
            config = config.with_realm(realm.trim())?;
        }
        if let Some(url) = get("AUTH_URL") {
            config.auth_url = parse_url("AUTH_URL", &url)?;
        }
        if let Some(url) = get("TOKEN_URL") {
            config.token_url = parse_url("TOKEN_URL", &url)?;
        }
        if let Some(url) = get("REVOCATION_URL") {
            config = config.with_revocation_url(&url)?;
        }
        if let Some(url) = get("TEST_API_ENDPOINT") {
            config.test_api_endpoint = parse_url("TEST_API_ENDPOINT", &url)?;
        }
        if let Some(scopes) = lookup("OAUTH_SCOPE") {
            config = config.with_scopes(&scopes)?;
        }
        if let Some(uri) = get("REDIRECT_URI") {
            config = config.with_redirect_uri(&uri)?;
        }
        if let Some(port) = get("PORT") {
            let port: u16 = port
                .trim()
                .parse()
                .map_err(|_| Error::config("PORT", "not a port number"))?;
            // The example kept both; a mismatch means the browser is sent where nobody
            // listens, so say so now instead of timing out later.
            if config.redirect_uri.port_or_known_default() != Some(port) {
                return Err(Error::config(
                    "PORT",
                    format!("{port} differs from the port in REDIRECT_URI"),
                ));
            }
        }
        if let Some(auth) = get("CLIENT_AUTH") {
            config.client_auth = match auth.trim().to_ascii_lowercase().as_str() {
                "post" | "client_secret_post" | "body" => ClientAuth::RequestBody,
                "basic" | "client_secret_basic" => ClientAuth::Basic,
                _ => return Err(Error::config("CLIENT_AUTH", "must be `post` or `basic`")),
            };
        }
        if let Some(pkce) = get("PKCE") {
            config.pkce = match pkce.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(Error::config("PKCE", "must be true or false")),
            };
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_follow_the_example() {
        let c = Config::from_lookup(lookup(&[("CLIENT_ID", "id")])).unwrap();
        assert_eq!(
            c.auth_url.as_str(),
            "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth"
        );
        assert_eq!(
            c.token_url.as_str(),
            "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/token"
        );
        assert_eq!(c.redirect_uri.as_str(), "http://localhost:8080/oauth");
        assert_eq!(c.scopes, ["account:read"]);
        assert!(c.pkce);
        assert_eq!(c.client_auth, ClientAuth::RequestBody);
    }

    #[test]
    fn realm_is_overridable() {
        let c =
            Config::from_lookup(lookup(&[("CLIENT_ID", "id"), ("REALM", "sipgate-apps")])).unwrap();
        assert!(c.token_url.as_str().contains("/realms/sipgate-apps/"));
    }

    #[test]
    fn errors_name_the_key() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "CLIENT_ID"),
            (&[("CLIENT_ID", "i"), ("TOKEN_URL", "nope")], "TOKEN_URL"),
            (&[("CLIENT_ID", "i"), ("AUTH_URL", "ftp://x/")], "AUTH_URL"),
            (&[("CLIENT_ID", "i"), ("PORT", "80a")], "PORT"),
            (&[("CLIENT_ID", "i"), ("PORT", "9090")], "PORT"),
            (&[("CLIENT_ID", "i"), ("OAUTH_SCOPE", " ")], "OAUTH_SCOPE"),
            (&[("CLIENT_ID", "i"), ("REDIRECT_URI", "x")], "REDIRECT_URI"),
            (&[("CLIENT_ID", "i"), ("CLIENT_AUTH", "jwt")], "CLIENT_AUTH"),
            (&[("CLIENT_ID", "i"), ("REALM", "a/b")], "REALM"),
        ];
        for (pairs, key) in cases {
            let err = Config::from_lookup(lookup(pairs)).unwrap_err();
            assert!(
                matches!(&err, Error::Config { key: k, .. } if k == key),
                "{pairs:?}: {err}"
            );
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = Config::new("id")
            .unwrap()
            .with_client_secret("s3cr3t-value");
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn env_file_is_read_and_environment_wins() {
        let dir = std::env::temp_dir().join(format!("sipgate-oauth-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(
            &path,
            "CLIENT_ID=\"from-file\"\nCLIENT_SECRET=\"sec\"\nREDIRECT_URI=\"http://127.0.0.1:9999/oauth\"\nPORT=9999\nOAUTH_SCOPE=\"account:read balance:read\"\n",
        )
        .unwrap();
        let c = Config::from_env_file(&path).unwrap();
        assert_eq!(c.client_id, "from-file");
        assert_eq!(c.scopes, ["account:read", "balance:read"]);
        assert_eq!(c.redirect_uri.port(), Some(9999));
        std::fs::write(&path, "CLIENT_SECRET=leaky secret value\n").unwrap();
        let err = Config::from_env_file(&path).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("leaky"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
