//! The server a shared scenario runs against: the in-process mock or the real OAuth server
//! that `cargo xtask test` started, with what a scenario needs to observe or provoke on it.

use std::time::Duration;

use pbx_mock::MockServer;
use pbx_mock::sipgate::{CLIENT_ID, CLIENT_SECRET, SipgateMock};
use sipgate_oauth::Config;

/// The real server's lifetimes as xtask starts it (`ACCESS_TOKEN_TTL`, `AUTH_CODE_TTL`).
#[allow(dead_code)] // only interop.rs waits for an access token to expire
pub(crate) const REAL_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(4);
const REAL_AUTH_CODE_TTL: Duration = Duration::from_secs(10);
/// The confidential client registered on the real server for `client_secret_post`.
const REAL_POST_CLIENT: (&str, &str) = ("sipgate-post", "post-secret-0123456789abcdef");

pub(crate) enum Server {
    Mock {
        mock: MockServer,
        handle: SipgateMock,
    },
    Real {
        issuer: String,
    },
}

impl Server {
    /// A fresh in-process mock.
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

    /// The confidential client with `client_secret_post`, redirecting to a free loopback port.
    pub(crate) fn config(&self) -> Config {
        let (base, id, secret, revoke) = match self {
            Self::Mock { mock, .. } => (mock.url(), CLIENT_ID, CLIENT_SECRET, "/revoke"),
            Self::Real { issuer } => (
                issuer.as_str(),
                REAL_POST_CLIENT.0,
                REAL_POST_CLIENT.1,
                "/token/revocation",
            ),
        };
        Config::new(id)
            .unwrap()
            .with_client_secret(secret)
            .with_redirect_uri("http://127.0.0.1:0/oauth")
            .unwrap()
            .with_endpoints(
                &format!("{base}/auth"),
                &format!("{base}/token"),
                &format!("{base}/v2/account"),
            )
            .unwrap()
            .with_revocation_url(&format!("{base}{revoke}"))
            .unwrap()
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

    /// Forgets the token requests seen so far (a fresh mock has seen none).
    pub(crate) async fn clear_token_log(&self) {
        if let Self::Real { issuer } = self {
            let url = format!("{issuer}/__test/token-requests");
            reqwest::Client::new().delete(url).send().await.unwrap();
        }
    }

    /// How many token-endpoint requests the server saw since the last
    /// [`Self::clear_token_log`].
    pub(crate) async fn token_request_count(&self) -> usize {
        match self {
            Self::Mock { mock, .. } => mock.count("/token"),
            Self::Real { issuer } => {
                let url = format!("{issuer}/__test/token-requests");
                let log: Vec<serde_json::Value> =
                    reqwest::get(url).await.unwrap().json().await.unwrap();
                log.len()
            }
        }
    }
}
