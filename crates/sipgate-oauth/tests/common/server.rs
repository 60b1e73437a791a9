//! The server a shared scenario runs against: the in-process mock or the real OAuth server
//! that `cargo xtask test` started, with what a scenario needs to observe or provoke on it.

use std::time::Duration;

use pbx_mock::MockServer;
use pbx_mock::sipgate::{CLIENT_ID, CLIENT_SECRET, SipgateMock};
use sipgate_oauth::{ClientAuth, Config};

/// The mock's access-token lifetime (`SipgateMock::new`'s, sipgate's own).
const MOCK_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(300);
/// The real server's lifetimes as xtask starts it (`ACCESS_TOKEN_TTL`, `AUTH_CODE_TTL`).
const REAL_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(4);
const REAL_AUTH_CODE_TTL: Duration = Duration::from_secs(10);
/// The confidential clients registered on the real server
/// (`xtask/peers/oauth-server/clients.json`): one for `client_secret_post`, one for
/// `client_secret_basic` whose secret needs form-encoding before it goes into the header.
const REAL_POST_CLIENT: (&str, &str) = ("sipgate-post", "post-secret-0123456789abcdef");
const REAL_BASIC_CLIENT: (&str, &str) = ("sipgate-basic", "basic secret+/:%&=?#!");

pub(crate) enum Server {
    Mock {
        mock: MockServer,
        handle: SipgateMock,
    },
    Real {
        issuer: String,
    },
}

/// One request to the token endpoint as the server saw it: the grant and how the client
/// authenticated (`client_secret_post`, `client_secret_basic` or `none`, the real server's
/// log's words).
#[derive(Debug)]
pub(crate) struct TokenRequest {
    pub(crate) grant_type: String,
    pub(crate) client_auth: String,
    pub(crate) has_code_verifier: bool,
}

impl Server {
    /// A fresh in-process mock. Its one registered client authenticates the way `handle`
    /// says (`client_secret_post` unless `with_client_auth` changed it); a scenario that
    /// needs `client_secret_basic` is handed a mock built for it.
    #[allow(dead_code)] // interop.rs runs against the real server only
    pub(crate) fn mock(handle: SipgateMock) -> Self {
        let mock = MockServer::start(handle.clone());
        Self::Mock { mock, handle }
    }

    /// The real OAuth server, from `OAUTH_ISSUER`.
    #[allow(dead_code)] // flow.rs runs against the mock only
    pub(crate) fn real() -> Self {
        let issuer = std::env::var("OAUTH_ISSUER").unwrap_or_else(|_| {
            panic!(
                "OAUTH_ISSUER is not set: these tests need the real OAuth server that `cargo xtask test` starts"
            )
        });
        Self::Real { issuer }
    }

    pub(crate) fn is_mock(&self) -> bool {
        matches!(self, Self::Mock { .. })
    }

    /// The server's base URL.
    pub(crate) fn url(&self) -> &str {
        match self {
            Self::Mock { mock, .. } => mock.url(),
            Self::Real { issuer } => issuer,
        }
    }

    /// A client with only the server's endpoints set, redirecting to a free loopback port.
    pub(crate) fn public_config(&self, id: &str) -> Config {
        let base = self.url();
        Config::new(id)
            .unwrap()
            .with_redirect_uri("http://127.0.0.1:0/oauth")
            .unwrap()
            .with_endpoints(
                &format!("{base}/auth"),
                &format!("{base}/token"),
                &format!("{base}/v2/account"),
            )
            .unwrap()
    }

    fn confidential_config(&self, (id, secret): (&str, &str)) -> Config {
        let revoke = if self.is_mock() {
            "/revoke"
        } else {
            "/token/revocation"
        };
        self.public_config(id)
            .with_client_secret(secret)
            .with_revocation_url(&format!("{}{revoke}", self.url()))
            .unwrap()
    }

    /// The confidential client with `client_secret_post`.
    pub(crate) fn config(&self) -> Config {
        self.confidential_config(match self {
            Self::Mock { .. } => (CLIENT_ID, CLIENT_SECRET),
            Self::Real { .. } => REAL_POST_CLIENT,
        })
    }

    /// The confidential client registered for `client_secret_basic`, authenticating so
    /// (on the mock, only where the handle was built `with_client_auth(Basic)`).
    #[allow(dead_code)] // not every test file runs the Basic scenario
    pub(crate) fn basic_config(&self) -> Config {
        self.confidential_config(match self {
            Self::Mock { .. } => (CLIENT_ID, CLIENT_SECRET),
            Self::Real { .. } => REAL_BASIC_CLIENT,
        })
        .with_client_auth(ClientAuth::Basic)
    }

    /// The lifetime the server gives access tokens.
    pub(crate) fn access_ttl(&self) -> Duration {
        if self.is_mock() {
            MOCK_ACCESS_TOKEN_TTL
        } else {
            REAL_ACCESS_TOKEN_TTL
        }
    }

    /// Makes every access token issued so far expire. The mock expires them at once on its
    /// side only, so the client still holds them for fresh and learns otherwise from the
    /// 401 (the refusal path); the real server cannot be told, so this waits out their
    /// lifetime, after which the client's cache knows too (the refresh-ahead path). Either
    /// way every request that follows needs a refreshed token.
    pub(crate) async fn expire_access_tokens(&self) {
        match self {
            Self::Mock { handle, .. } => handle.expire_access_tokens(),
            Self::Real { .. } => {
                tokio::time::sleep(REAL_ACCESS_TOKEN_TTL + Duration::from_secs(1)).await;
            }
        }
    }

    /// Makes every authorization code issued so far expire.
    pub(crate) async fn expire_codes(&self) {
        match self {
            Self::Mock { handle, .. } => handle.expire_codes(),
            Self::Real { .. } => {
                tokio::time::sleep(REAL_AUTH_CODE_TTL + Duration::from_secs(2)).await;
            }
        }
    }

    /// Forgets the token requests seen so far.
    pub(crate) async fn clear_token_log(&self) {
        match self {
            Self::Mock { mock, .. } => mock.reset_journal(),
            Self::Real { issuer } => {
                let url = format!("{issuer}/__test/token-requests");
                reqwest::Client::new().delete(url).send().await.unwrap();
            }
        }
    }

    /// The token-endpoint requests the server saw since the last [`Self::clear_token_log`]
    /// (revocations not included), oldest first.
    pub(crate) async fn token_requests(&self) -> Vec<TokenRequest> {
        match self {
            Self::Mock { mock, .. } => mock
                .requests_to("/token")
                .iter()
                .map(|request| {
                    let form = request.form_pairs();
                    let field =
                        |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                    let basic = request
                        .header("authorization")
                        .is_some_and(|h| h.starts_with("Basic "));
                    let post = field("client_secret").is_some();
                    // Both at once is named as such, so a scenario expecting one fails.
                    let client_auth = match (basic, post) {
                        (true, true) => "client_secret_basic+client_secret_post",
                        (true, false) => "client_secret_basic",
                        (false, true) => "client_secret_post",
                        (false, false) => "none",
                    };
                    TokenRequest {
                        grant_type: field("grant_type").unwrap_or_default(),
                        client_auth: client_auth.to_owned(),
                        has_code_verifier: field("code_verifier").is_some(),
                    }
                })
                .collect(),
            Self::Real { issuer } => {
                let url = format!("{issuer}/__test/token-requests");
                let log: Vec<serde_json::Value> =
                    reqwest::get(url).await.unwrap().json().await.unwrap();
                log.iter()
                    .filter(|entry| entry["endpoint"] == "/token")
                    .map(|entry| TokenRequest {
                        grant_type: entry["grant_type"].as_str().unwrap_or_default().to_owned(),
                        client_auth: entry["client_auth"].as_str().unwrap_or_default().to_owned(),
                        has_code_verifier: entry["has_code_verifier"] == true,
                    })
                    .collect()
            }
        }
    }

    /// How many of [`Self::token_requests`] had this grant.
    pub(crate) async fn token_grants(&self, grant_type: &str) -> usize {
        self.token_requests()
            .await
            .iter()
            .filter(|r| r.grant_type == grant_type)
            .count()
    }

    /// Asserts that the token endpoint saw exactly a code exchange (with a PKCE verifier)
    /// and then a refresh, both authenticated by `client_auth`.
    pub(crate) async fn assert_code_then_refresh_by(&self, client_auth: &str) {
        let log = self.token_requests().await;
        let grants: Vec<&str> = log.iter().map(|r| r.grant_type.as_str()).collect();
        assert_eq!(grants, ["authorization_code", "refresh_token"], "{log:?}");
        assert!(log.iter().all(|r| r.client_auth == client_auth), "{log:?}");
        assert!(log[0].has_code_verifier, "{log:?}");
    }
}
