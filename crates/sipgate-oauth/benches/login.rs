//! Criterion benches for the local work of a login: building an authorization request
//! (CSPRNG state, PKCE S256, URL), checking a callback, and authorizing a request with a
//! cached bearer token.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use pbx_auth_core::Authenticator;
use sipgate_oauth::{
    AccessToken, Config, OAuthClient, RefreshToken, TokenSet, TokenStore, bearer_auth_from_login,
};

fn client() -> OAuthClient {
    let config = Config::new("2556404-0-dc848ae6-085c-11e8-92a6-31b99c83912e")
        .expect("config")
        .with_client_secret("bench-secret")
        .with_redirect_uri("http://127.0.0.1:8080/oauth")
        .expect("redirect URI");
    OAuthClient::new(config).expect("client")
}

fn authorization(c: &mut Criterion) {
    let client = client();
    let mut group = c.benchmark_group("sipgate_oauth");
    group.bench_function("authorization_request", |b| {
        b.iter(|| black_box(client.authorization_request().expect("request")));
    });
    let request = client.authorization_request().expect("request");
    let state = request
        .url()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let redirect = format!(
        "http://127.0.0.1:8080/oauth?state={state}&session_state=x&code=0123456789abcdef&iss=https%3A%2F%2Flogin"
    );
    group.bench_function("verify_callback_url", |b| {
        b.iter(|| black_box(request.verify_pasted_url(&redirect).expect("callback")));
    });
    group.finish();
}

fn bearer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = TokenStore::in_memory();
    let tokens = TokenSet::new(
        AccessToken::new("0123456789abcdef0123456789abcdef"),
        Some(RefreshToken::new("refresh")),
        Some(SystemTime::now() + std::time::Duration::from_secs(3600)),
    );
    let auth = rt
        .block_on(bearer_auth_from_login(client(), store, &tokens))
        .expect("auth");
    c.bench_function("sipgate_oauth/bearer_authorize_cached", |b| {
        b.to_async(&rt).iter(|| async {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            auth.authorize(&mut parts, None).await.expect("authorize");
            black_box(parts)
        });
    });
}

criterion_group!(benches, authorization, bearer);
criterion_main!(benches);
