//! Opening the authorization URL: a replaceable hook, the system browser by default, and
//! the printed URL as the fallback.

use std::io::Write as _;

use url::Url;

/// Opens the authorization URL for the user. Tests and headless tools plug in their own.
pub trait BrowserOpener: Send + Sync {
    /// Opens `url`. An error is not fatal: the login prints the URL instead and keeps
    /// waiting for the redirect.
    ///
    /// # Errors
    ///
    /// A short reason why no browser could be opened.
    fn open(&self, url: &Url) -> Result<(), String>;
}

impl<F: Fn(&Url) -> Result<(), String> + Send + Sync> BrowserOpener for F {
    fn open(&self, url: &Url) -> Result<(), String> {
        self(url)
    }
}

/// The system's default browser (respects `$BROWSER`).
#[cfg(feature = "system-browser")]
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct SystemBrowser;

#[cfg(feature = "system-browser")]
impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        webbrowser::open(url.as_str()).map_err(|e| e.to_string())
    }
}

/// Opens nothing and only prints the URL to standard error, for machines without a
/// browser (paste the URL into a browser elsewhere).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct PrintUrl;

impl BrowserOpener for PrintUrl {
    fn open(&self, url: &Url) -> Result<(), String> {
        print_url(url);
        Ok(())
    }
}

/// Writes the authorization URL to standard error. The URL holds no secret (state and the
/// PKCE challenge are public by design), so printing it is safe.
pub(crate) fn print_url(url: &Url) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "Please open the following URL in your browser:\n{url}");
}

/// The default opener: the system browser when the `system-browser` feature is on,
/// otherwise [`PrintUrl`].
pub fn default_opener() -> Box<dyn BrowserOpener> {
    #[cfg(feature = "system-browser")]
    {
        Box::new(SystemBrowser)
    }
    #[cfg(not(feature = "system-browser"))]
    {
        Box::new(PrintUrl)
    }
}
