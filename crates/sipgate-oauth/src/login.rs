//! The whole login: listener, authorization URL, browser, callback, code exchange — or the
//! paste-the-redirect-URL variant for machines without a browser.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _};

use crate::browser::{BrowserOpener, print_url};
use crate::client::{OAuthClient, TokenSet};
use crate::error::Error;
use crate::listener::LoopbackListener;

impl OAuthClient {
    /// Logs in through the browser: binds the loopback listener for the configured redirect
    /// URI, opens the authorization URL with `opener` (printing it when that fails), waits
    /// up to `timeout` for the redirect and exchanges the code.
    ///
    /// # Errors
    ///
    /// Any error of [`LoopbackListener::bind`], [`LoopbackListener::wait_for`] and
    /// [`OAuthClient::exchange_code`].
    pub async fn login(
        &self,
        opener: &dyn BrowserOpener,
        timeout: Duration,
    ) -> Result<TokenSet, Error> {
        let listener = LoopbackListener::bind(&self.config().redirect_uri)
            .await?
            .with_timeout(timeout);
        let request = self.authorization_request_for(listener.redirect_uri())?;
        if opener.open(request.url()).is_err() {
            print_url(request.url());
        }
        let callback = listener.wait_for(&request).await?;
        self.exchange_code(request, callback).await
    }

    /// Logs in without a listener: prints the authorization URL, reads the URL the browser
    /// was redirected to (copied from its address bar) from `input`, checks it and exchanges
    /// the code. For machines where nothing can reach a loopback port.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] for unreadable input or another URL, else as
    /// [`AuthorizationRequest::verify_pasted_url`](crate::AuthorizationRequest::verify_pasted_url)
    /// and [`OAuthClient::exchange_code`].
    pub async fn login_with_pasted_url(
        &self,
        input: impl AsyncBufRead + Unpin,
    ) -> Result<TokenSet, Error> {
        let request = self.authorization_request()?;
        print_url(request.url());
        {
            use std::io::Write as _;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "After logging in, paste the full URL from the browser's address bar here:"
            );
        }
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
