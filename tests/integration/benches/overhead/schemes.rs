//! The authenticators measured by the overhead bench, each the one its crate hands users.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::request::Parts;
use kalliope_auth::Credentials;
use pbx_auth_core::store::{InMemoryStore, SharedOptions, SharedSource};
use pbx_auth_core::{
    AccessToken, Authenticator, BoxFuture, Cached, Error, HeaderToken, Receipt,
    SharedAuthenticator, TokenCache,
};
use pbx_mock::MockServer;
use pbx_mock::kalliope::KalliopeMock;
use pbx_mock::wazo::WazoMock;
use sipgate_oauth::{Config, OAuthClient, TokenSet, TokenStore, bearer_auth_from_login};
use wazo_auth_client::{ClientBuilder, NewToken, Password, WazoRefusals, WazoTokenSource};

/// Servers the schemes need to warm up (the Kalliope salt endpoint), kept alive by the
/// caller for the whole bench.
pub(crate) struct Peers {
    _kalliope: MockServer,
    wazo: MockServer,
}

/// The wazo composition twice, for the L2 figure: over the bare token source (the L1
/// alone) and over [`SharedSource`] with the in-memory store (L1 in front of an L2). With a
/// warm L1 the L2 is never reached, so the two should cost the same per request.
pub(crate) fn fleet_pair(peers: &Peers) -> (SharedAuthenticator, SharedAuthenticator) {
    let client = || {
        ClientBuilder::from_url(peers.wazo.url())
            .expect("mock url")
            .prefix("")
            .credentials("alice", Password::new("s3cre7"))
            .build()
            .expect("wazo client")
    };
    let alone = Cached::new(
        TokenCache::new(WazoTokenSource::new(client(), NewToken::new())),
        HeaderToken::x_auth_token(),
    )
    .with_refusal_policy(WazoRefusals::default());
    let shared = SharedSource::new(
        WazoTokenSource::new(client(), NewToken::new()),
        Arc::new(InMemoryStore::new()),
        "bench:wazo:alice",
        SharedOptions::default(),
    );
    let fleet = Cached::new(TokenCache::new(shared), HeaderToken::x_auth_token())
        .with_refusal_policy(WazoRefusals::default());
    (
        SharedAuthenticator::new(alone),
        SharedAuthenticator::new(fleet),
    )
}

/// Authorizes by doing nothing: through an adapter it measures the adapter alone.
#[derive(Debug)]
struct PassThrough;

impl Authenticator for PassThrough {
    fn authorize<'a>(
        &'a self,
        _: &'a mut Parts,
        _: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Receipt, Error>> {
        Box::pin(std::future::ready(Ok(Receipt::none())))
    }

    fn authorize_now(&self, _: &mut Parts, _: Option<&[u8]>) -> Option<Result<Receipt, Error>> {
        Some(Ok(Receipt::none()))
    }

    fn reads_uri(&self) -> bool {
        false
    }
}

/// Every scheme with its name, as `overhead/<name>/...` in the bench ids; `passthrough`
/// last, the adapters' own share of the overhead.
pub(crate) async fn all() -> (Peers, Vec<(&'static str, SharedAuthenticator)>) {
    let kalliope =
        MockServer::start(KalliopeMock::new().with_user("default", "s4lt", "admin", "admin"));
    let base = url::Url::parse(kalliope.url()).expect("mock url");
    let credentials = Credentials::new("admin", "admin", "default").expect("credentials");
    let kalliope_auth =
        kalliope_auth::authenticator(reqwest::Client::new(), &base, credentials).expect("kalliope");

    let wazo = MockServer::start(WazoMock::new().with_user("alice", "s3cre7"));
    let wazo_client = ClientBuilder::from_url(wazo.url())
        .expect("mock url")
        .prefix("")
        .credentials("alice", Password::new("s3cre7"))
        .build()
        .expect("wazo client");
    // The composition the wazo client's auto-token mode builds, refusal policy included.
    let wazo_auth = Cached::new(
        TokenCache::new(WazoTokenSource::new(wazo_client, NewToken::new())),
        HeaderToken::x_auth_token(),
    )
    .with_refusal_policy(WazoRefusals::default());

    // A stored, long-lived sipgate token: the cached path never reaches a token endpoint.
    let config = Config::new("bench-client").expect("config");
    let store = TokenStore::in_memory();
    let tokens = TokenSet::new(
        AccessToken::new("0123456789abcdef0123456789abcdef"),
        None,
        Some(SystemTime::now() + Duration::from_secs(3600)),
    );
    let client = OAuthClient::new(config).expect("oauth client");
    let sipgate_auth = bearer_auth_from_login(client, store, &tokens)
        .await
        .expect("bearer");

    (
        Peers {
            _kalliope: kalliope,
            wazo,
        },
        vec![
            ("kalliope", SharedAuthenticator::new(kalliope_auth)),
            ("wazo", SharedAuthenticator::new(wazo_auth)),
            ("sipgate", SharedAuthenticator::new(sipgate_auth)),
            ("passthrough", SharedAuthenticator::new(PassThrough)),
        ],
    )
}
