#![doc = include_str!("../README.md")]

mod account;
mod bearer;
mod browser;
mod callback;
mod client;
mod config;
mod error;
mod file_store;
mod http_client;
mod listener;
mod login;
mod pat;
mod store;

pub use account::{Account, MAX_ACCOUNT_RESPONSE_BYTES, account};
pub use bearer::{
    BearerAuth, BearerAuthExt, BearerRefusals, RefreshingSource, bearer_auth,
    bearer_auth_from_login, bearer_auth_with_policy,
};
#[cfg(feature = "system-browser")]
pub use browser::SystemBrowser;
pub use browser::{BrowserOpener, NoBrowser, default_opener};
pub use callback::Callback;
pub use client::{AuthorizationRequest, OAuthClient, TokenSet};
pub use config::{
    ClientAuth, Config, DEFAULT_REALM, DEFAULT_REDIRECT_URI, DEFAULT_SCOPE,
    DEFAULT_TEST_API_ENDPOINT, LOGIN_BASE,
};
pub use error::Error;
pub use file_store::{FileStore, MAX_TOKEN_FILE_BYTES};
pub use http_client::{MAX_TOKEN_RESPONSE_BYTES, TokenHttpClient};
pub use listener::{DEFAULT_LOGIN_TIMEOUT, LoopbackListener};
pub use pat::PersonalAccessToken;
/// The reqwest this crate is built on: [`TokenHttpClient::from_reqwest`] takes its client
/// (an API boundary, see `ARCHITECTURE.md`).
pub use reqwest;
pub use store::{DEFAULT_KEY, TokenStore};

pub use pbx_auth_core::{AccessToken, RefreshToken};
