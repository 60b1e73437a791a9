//! A token source, the cache and the reqwest-middleware adapter against an in-process mock:
//! `cargo run -p pbx-auth-core --all-features --example middleware`.

#![allow(clippy::print_stdout)] // printing is what an example is for

use std::time::Duration;

use pbx_auth_core::adapters::middleware::AuthMiddleware;
use pbx_auth_core::{AccessToken, Cached, Error, HeaderToken, Issued, TokenCache, TokenSource};
use pbx_mock::{MockRequest, MockResponse, MockServer};

/// Pretends to log in; a real source would POST credentials to a token endpoint.
#[derive(Debug)]
struct DemoSource;

impl TokenSource for DemoSource {
    type Token = AccessToken;
    async fn fetch(&self, _: Option<&AccessToken>) -> Result<Issued<AccessToken>, Error> {
        Ok(Issued::new(
            AccessToken::new("demo-token"),
            Some(Duration::from_secs(300)),
        ))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start(|req: &MockRequest| match req.header("authorization") {
        Some("Bearer demo-token") => MockResponse::text(200, "text/plain", "welcome"),
        _ => MockResponse::status(401),
    });
    let auth = Cached::new(TokenCache::new(DemoSource), HeaderToken::bearer());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(auth))
        .build();
    for _ in 0..3 {
        let reply = client.get(format!("{}/hello", server.url())).send().await?;
        println!("{} {}", reply.status(), reply.text().await?);
    }
    println!("requests the server saw: {}", server.total());
    Ok(())
}
