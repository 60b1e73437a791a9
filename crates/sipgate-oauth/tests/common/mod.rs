//! What the flow tests (against the mock) and the interop tests (against the real OAuth
//! server) share: the scripted browser, the [`server::Server`] a scenario runs against, and
//! the scenarios written once ([`scenarios`]).

pub(crate) mod scenarios;
pub(crate) mod server;

use std::time::Duration;

use sipgate_oauth::{AuthorizationRequest, LoopbackListener, OAuthClient};
use url::Url;

/// A fresh cookie jar per browser: a shared one would give single sign-on.
pub(crate) fn agent() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a reqwest client")
}

/// The final pages the browser saw: status and body.
pub(crate) type Pages = tokio::sync::mpsc::UnboundedReceiver<(u16, String)>;

/// A scripted browser: follows the authorization URL (after `tweak`) through redirects,
/// cookies kept, into the loopback listener, and hands back the final page.
pub(crate) fn browser(
    tweak: impl Fn(&mut Url) + Send + Sync + 'static,
) -> (impl Fn(&Url) -> Result<(), String> + Send + Sync, Pages) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let open = move |url: &Url| {
        let mut url = url.clone();
        tweak(&mut url);
        let tx = tx.clone();
        tokio::spawn(async move {
            let response = agent().get(url).send().await.expect("the page loads");
            let status = response.status().as_u16();
            let _ = tx.send((status, response.text().await.expect("the page body")));
        });
        Ok(())
    };
    (open, rx)
}

/// A loopback listener on the client's redirect URI and an authorization request for it,
/// for the tests that drive the callback themselves.
pub(crate) async fn listen(client: &OAuthClient) -> (LoopbackListener, AuthorizationRequest) {
    let listener = LoopbackListener::bind(&client.config().redirect_uri)
        .await
        .unwrap()
        .with_timeout(Duration::from_secs(60));
    let request = client
        .authorization_request_for(listener.redirect_uri())
        .unwrap();
    (listener, request)
}
