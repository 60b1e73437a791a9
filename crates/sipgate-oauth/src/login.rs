//! The whole login: listener, authorization URL, browser, callback, code exchange — or the
//! paste-the-redirect-URL variant for machines without a browser.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _};

use url::Url;

use crate::browser::BrowserOpener;
use crate::client::{OAuthClient, TokenSet};
use crate::error::Error;
use crate::listener::LoopbackListener;

impl OAuthClient {
    /// Logs in through the browser: binds the loopback listener for the configured redirect
    /// URI, opens the authorization URL with `opener` (handing it to `show_url` when that
    /// fails, so the caller can tell the user where to go), waits up to `timeout` for the
    /// redirect and exchanges the code. The URL holds no secret (state and the PKCE
    /// challenge are public by design), so showing it is safe.
    ///
    /// # Errors
    ///
    /// Any error of [`LoopbackListener::bind`], [`LoopbackListener::wait_for`] and
    /// [`OAuthClient::exchange_code`].
    pub async fn login(
        &self,
        opener: &dyn BrowserOpener,
        show_url: &(dyn Fn(&Url) + Sync),
        timeout: Duration,
    ) -> Result<TokenSet, Error> {
        let listener = LoopbackListener::bind(&self.config().redirect_uri)
            .await?
            .with_timeout(timeout);
        let request = self.authorization_request_for(listener.redirect_uri())?;
        if let Err(reason) = opener.open(request.url()) {
            tracing::debug!(%reason, "sipgate login: no browser opened, showing the URL");
            show_url(request.url());
        }
        let callback = listener.wait_for(&request).await?;
        self.exchange_code(request, callback).await
    }

    /// Logs in without a listener: hands the authorization URL to `show_url` (the caller
    /// shows it and asks for the URL the browser lands on), reads the URL the browser was
    /// redirected to (copied from its address bar) from `input`, checks it and exchanges
    /// the code. For machines where nothing can reach a loopback port.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] for unreadable input or another URL, else as
    /// [`AuthorizationRequest::verify_pasted_url`](crate::AuthorizationRequest::verify_pasted_url)
    /// and [`OAuthClient::exchange_code`].
    pub async fn login_with_pasted_url(
        &self,
        show_url: impl FnOnce(&Url),
        input: impl AsyncBufRead + Unpin,
    ) -> Result<TokenSet, Error> {
        let request = self.authorization_request()?;
        show_url(request.url());
        let mut line = String::new();
        input
            .take(16 * 1024)
            .read_line(&mut line)
            .await
            .map_err(|_| Error::InvalidCallback("the pasted URL could not be read"))?;
        let callback = request.verify_pasted_url(&line)?;
        self.exchange_code(request, callback).await
    }
}
