//! Opening the authorization URL: a replaceable hook, the system browser by default. The
//! library never prints: when no browser opens, the login hands the URL to the caller's
//! `show_url` callback, and the caller tells the user.

use url::Url;

/// Opens the authorization URL for the user. Tests and headless tools plug in their own; a
/// closure `|url| { show(url); Ok(()) }` is the opener for machines without a browser.
pub trait BrowserOpener: Send + Sync {
    /// Opens `url`. An error is not fatal: the login hands the URL to its `show_url`
    /// callback instead and keeps waiting for the redirect.
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

/// Opens nothing and always fails, so the login falls back to its `show_url` callback: for
/// machines without a browser (the user pastes the URL into a browser elsewhere).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct NoBrowser;

impl BrowserOpener for NoBrowser {
    fn open(&self, _url: &Url) -> Result<(), String> {
        Err("no browser is opened on this machine".to_owned())
    }
}

/// The default opener: the system browser when the `system-browser` feature is on,
/// otherwise [`NoBrowser`].
pub fn default_opener() -> Box<dyn BrowserOpener> {
    #[cfg(feature = "system-browser")]
    {
        Box::new(SystemBrowser)
    }
    #[cfg(not(feature = "system-browser"))]
    {
        Box::new(NoBrowser)
    }
}
