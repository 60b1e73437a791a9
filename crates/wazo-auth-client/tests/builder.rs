//! URL and configuration rules of the builder (spec section 11 item 6).

use std::time::Duration;

use wazo_auth_client::{AccessToken, Client, ClientBuilder, Error, Password};

#[test]
fn current_defaults() {
    let c = Client::new("example.org").unwrap();
    assert_eq!(c.base_url(), "https://example.org:443/api/auth/0.1");
}

#[test]
fn legacy_direct_defaults_and_overrides() {
    let c = Client::builder("h").legacy_direct().build().unwrap();
    assert_eq!(c.base_url(), "https://h:9497/0.1");
    let c = Client::builder("h")
        .port(None)
        .prefix("custom/")
        .version("")
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "https://h/custom");
    let c = Client::builder("::1")
        .port(9497)
        .prefix("")
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "https://[::1]:9497/0.1");
    let c = Client::builder("pbx")
        .legacy_direct()
        .danger_plain_http()
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "http://pbx:9497/0.1");
}

#[test]
fn from_url_accepts_https_and_loopback_http_only() {
    let c = ClientBuilder::from_url("https://pbx.example.com/api/auth")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "https://pbx.example.com:443/api/auth/0.1");
    let c = ClientBuilder::from_url("http://127.0.0.1:9497")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:9497/0.1");
    assert!(matches!(
        ClientBuilder::from_url("http://pbx.example.com"),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        ClientBuilder::from_url("ftp://x"),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        ClientBuilder::from_url("not a url"),
        Err(Error::Config(_))
    ));
}

#[test]
fn bad_configuration_is_a_typed_error() {
    assert!(matches!(Client::new(""), Err(Error::Config(_))));
    assert!(matches!(
        Client::builder("a b").build(),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        Client::builder("h").user_agent("bad\nua").build(),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        Client::builder("h")
            .ca_bundle_pem(b"not a certificate")
            .build(),
        Err(Error::Config(_))
    ));
}

#[test]
fn tls_options_build() {
    if let Ok(pem) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
        Client::builder("h").ca_bundle_pem(&pem).build().unwrap();
    }
    Client::builder("h")
        .danger_accept_invalid_certs()
        .timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    Client::builder("h").timeout(None).build().unwrap();
}

#[test]
fn debug_output_hides_credentials_and_tokens() {
    let c = Client::builder("h")
        .credentials("alice", Password::new("hunter2-secret"))
        .token(AccessToken::new("token-secret-value"))
        .tenant("t1")
        .build()
        .unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains("hunter2-secret"), "{text}");
    assert!(!text.contains("token-secret-value"), "{text}");
    assert!(text.contains("alice"));
    c.set_tenant(None);
    assert_eq!(c.tenant(), None);
}
