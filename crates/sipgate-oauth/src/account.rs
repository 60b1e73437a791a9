//! The typed `GET /v2/account` call, the examples' proof that a credential works.

use pbx_auth_core::Authenticator;
use pbx_auth_core::adapters::reqwest::execute;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;
use crate::http_client::read_capped;

/// The largest account reply read: the real one is well under 1 KiB.
pub const MAX_ACCOUNT_RESPONSE_BYTES: usize = 256 * 1024;

/// The account as `GET /v2/account` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Account {
    /// The company name.
    pub company: String,
    /// The main product, e.g. `TEAM`.
    pub main_product_type: String,
    /// The logo's URL, if any.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// Whether the account is verified.
    #[serde(default)]
    pub verified: bool,
}

/// Calls `GET <url>` (sipgate: `https://api.sipgate.com/v2/account`) with `auth`, which
/// may refresh and retry once after a 401.
///
/// # Errors
///
/// [`Error::Unauthorized`] for 401/403, [`Error::UnexpectedResponse`] for another status or
/// body, [`Error::ResponseTooLarge`] for a body over [`MAX_ACCOUNT_RESPONSE_BYTES`], [`Error::Transport`], or the authenticator's error.
pub async fn account<A: Authenticator + ?Sized>(
    http: &reqwest::Client,
    auth: &A,
    url: &Url,
) -> Result<Account, Error> {
    let request = http
        .get(url.clone())
        .header(http::header::ACCEPT, "application/json")
        .build()
        .map_err(Error::transport)?;
    let response = execute(http, auth, request).await?;
    let status = response.status();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        return Err(Error::Unauthorized {
            status: status.as_u16(),
        });
    }
    if !status.is_success() {
        return Err(Error::UnexpectedResponse(format!(
            "the account endpoint answered HTTP {}",
            status.as_u16()
        )));
    }
    let body = read_capped(response, MAX_ACCOUNT_RESPONSE_BYTES).await?;
    serde_json::from_slice(&body).map_err(|e| {
        Error::UnexpectedResponse(format!(
            "the account endpoint's answer is not an account (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}
