//! The authenticators measured by the overhead bench.

use std::time::Duration;

use pbx_auth_core::{
    AccessToken, Cached, Error, HeaderToken, Issued, SharedAuthenticator, TokenCache, TokenSource,
};

#[derive(Debug)]
struct Fixed;

impl TokenSource for Fixed {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        Ok(Issued::new(
            AccessToken::new("0123456789abcdef0123456789abcdef"),
            Some(Duration::from_secs(3600)),
        ))
    }
}

pub(crate) async fn all(_base_url: &str) -> Vec<(&'static str, SharedAuthenticator)> {
    vec![
        (
            "x_auth_token",
            SharedAuthenticator::new(Cached::new(
                TokenCache::new(Fixed),
                HeaderToken::x_auth_token(),
            )),
        ),
        (
            "bearer",
            SharedAuthenticator::new(Cached::new(TokenCache::new(Fixed), HeaderToken::bearer())),
        ),
    ]
}
