//! No secret-bearing type prints its secret through `Debug`.

use std::time::Duration;

use pbx_auth_core::{
    AccessToken, Cached, Error, HeaderToken, Issued, KeyMaterial, Password, RefreshToken,
    TokenCache, TokenSource,
};

const SECRET: &str = "s3cr3t-VALUE-do-not-print";

#[derive(Debug)]
struct Source;

impl TokenSource for Source {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        Ok(Issued::new(
            AccessToken::new(SECRET),
            Some(Duration::from_secs(60)),
        ))
    }
}

#[tokio::test]
async fn debug_never_shows_secrets() {
    let cache = TokenCache::new(Source);
    let token = cache.get().await.unwrap();
    let auth = Cached::new(cache.clone(), HeaderToken::bearer());
    let mut printed = vec![
        format!("{:?}", Password::new(SECRET)),
        format!("{:?}", AccessToken::new(SECRET)),
        format!("{:?}", RefreshToken::new(SECRET)),
        format!("{:?}", KeyMaterial::new(SECRET.as_bytes().to_vec())),
        format!("{:?}", Issued::new(AccessToken::new(SECRET), None)),
        format!("{token:?}"),
        format!("{cache:?}"),
        format!("{auth:?}"),
    ];
    let value = HeaderToken::bearer().value_for(SECRET).unwrap();
    printed.push(format!("{value:?}"));
    for text in printed {
        assert!(!text.contains(SECRET), "leaked: {text}");
    }
}
