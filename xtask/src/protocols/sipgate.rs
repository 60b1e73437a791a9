//! The sipgate OAuth interop suite (real OAuth server), demo and real-browser run.

use crate::Result;
use crate::demo::Demo;

/// Interop against the real OAuth 2.0 server.
pub(crate) fn interop() -> Result {
    Err("the sipgate interop suite is not written yet".into())
}

/// The end-to-end demo against the mock: the `oauth` example logs in with a scripted
/// browser (a cookie-keeping HTTP client), calls `/v2/account`, refreshes, calls it again.
pub(crate) fn demo(demo: &Demo) -> Result {
    demo.step("start the sipgate mock (login server, token endpoint, /v2/account)");
    let (_mock, url) = demo.mock("sipgate", &[])?;
    demo.step("run the `oauth` example with a scripted browser through the loopback listener");
    let auth = format!("{url}/auth");
    let token = format!("{url}/token");
    let account = format!("{url}/v2/account");
    demo.run_example(
        "oauth",
        &[],
        &[
            (
                "CLIENT_ID",
                "2556404-0-dc848ae6-085c-11e8-92a6-31b99c83912e",
            ),
            ("CLIENT_SECRET", "mock-secret-0123456789abcdef"),
            ("REDIRECT_URI", "http://127.0.0.1:0/oauth"),
            ("OAUTH_SCOPE", "account:read"),
            ("AUTH_URL", &auth),
            ("TOKEN_URL", &token),
            ("TEST_API_ENDPOINT", &account),
            ("BROWSER_MODE", "scripted"),
        ],
    )
}

/// `cargo xtask e2e`: headless Chromium through the authorization URL.
pub(crate) fn e2e() -> Result {
    Err("the sipgate browser run is not written yet".into())
}
