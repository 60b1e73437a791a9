//! The authenticators measured by the overhead bench, each the one its crate hands users.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kalliope_auth::{Credentials, KalliopeAuthenticator};
use pbx_auth_core::{AccessToken, SharedAuthenticator};
use pbx_mock::MockServer;
use pbx_mock::kalliope::KalliopeMock;
use sipgate_oauth::{BearerAuth, Config, MemoryStore, OAuthClient, TokenSet, TokenStore};

/// Servers the schemes need to warm up (the Kalliope salt endpoint), kept alive by the
/// caller for the whole bench.
pub(crate) struct Peers {
    _kalliope: MockServer,
}

/// Every scheme with its name, as `overhead/<name>/...` in the bench ids.
pub(crate) fn all() -> (Peers, Vec<(&'static str, SharedAuthenticator)>) {
    let kalliope = MockServer::start(KalliopeMock::new().with_user("default", "s4lt", "admin", "admin"));
    let base = url::Url::parse(kalliope.url()).expect("mock url");
    let credentials = Credentials::new("admin", "admin", "default").expect("credentials");
    let kalliope_auth =
        KalliopeAuthenticator::new(reqwest::Client::new(), &base, credentials).expect("kalliope");

    // A stored, long-lived sipgate token: the cached path never reaches a token endpoint.
    let config = Config::new("bench-client").expect("config");
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let tokens = TokenSet::new(
        AccessToken::new("0123456789abcdef0123456789abcdef"),
        None,
        Some(SystemTime::now() + Duration::from_secs(3600)),
    );
    let client = OAuthClient::new(config).expect("oauth client");
    let sipgate_auth = BearerAuth::from_login(client, store, &tokens).expect("bearer");

    (
        Peers { _kalliope: kalliope },
        vec![
            ("kalliope", SharedAuthenticator::new(kalliope_auth)),
            ("sipgate", SharedAuthenticator::new(sipgate_auth)),
        ],
    )
}
