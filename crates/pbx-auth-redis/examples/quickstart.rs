//! The README's example, run by `cargo xtask test` against its own Redis:
//! `PBX_REDIS_URL=redis://127.0.0.1:6379/ cargo run -p pbx-auth-redis --example quickstart`.
//! A unit test keeps it identical to the README's.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Duration;

use pbx_auth_core::store::{SharedOptions, SharedSource, SharedStore};
use pbx_auth_core::{AccessToken, Error, Issued, TokenCache, TokenSource};
use pbx_auth_redis::{RedisStore, SealingKey};

/// Stands in for a real login (a wazo token, a sipgate refresh, a Kalliope salt).
#[derive(Debug)]
struct Login;

impl TokenSource for Login {
    type Token = AccessToken;

    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        let token = AccessToken::new("token-from-the-server");
        Ok(Issued::new(token, Some(Duration::from_secs(300))))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // For example rediss://user:password@redis.internal:6380/0?prefix=billing
    let url = std::env::var("PBX_REDIS_URL")?;
    // The same key on every process, kept outside Redis: SealingKey::from_base64(..)?
    let key = SealingKey::from_bytes([7; 32]);
    let store: Arc<dyn SharedStore> = Arc::new(RedisStore::connect(&url, key).await?);

    // L1 (this process) in front of L2 (the fleet) in front of the server.
    let shared = SharedSource::new(Login, store, "example:login", SharedOptions::default());
    let cache = TokenCache::new(shared);
    let token = cache.get().await?;
    assert_eq!(token.expose_secret(), "token-from-the-server");
    println!("asked the server {} time(s)", cache.source().fetch_count());
    Ok(())
}
