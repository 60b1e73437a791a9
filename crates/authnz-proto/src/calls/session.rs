//! `session-*` requests.

use pbx_auth_core::AccessToken;
use serde::{Deserialize, Serialize};

use super::{Call, NoFields};
use crate::{RequestName, Timestamp};

/// `session-new`: all five keys must be present (`user_id` and `extra_info_json` may be
/// null; a null `user_id` makes an anonymous session).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)] // Frozen 0.1.3 body: built with a literal.
pub struct SessionNew {
    /// The end user's IP address (IPv4 or IPv6).
    pub ip_address: String,
    /// The end user's user agent.
    pub user_agent: String,
    /// The session's user, or `None` for the anonymous user.
    pub user_id: Option<i64>,
    /// When the session expires (always sent with six fractional digits).
    pub expires: Timestamp,
    /// Free-form data stored with the session.
    pub extra_info_json: Option<serde_json::Value>,
}

/// `session-new`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionNewResponse {
    /// The new session's token.
    #[serde(with = "crate::secret_serde::optional", default)]
    pub session_token: Option<AccessToken>,
    /// When it expires.
    pub expires: Option<Timestamp>,
}

impl Call for SessionNew {
    const NAME: RequestName = RequestName::SessionNew;
    type Response = SessionNewResponse;
}

/// `session-exists`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct SessionExists {
    /// The session to look up.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
}

/// A session joined with its user (`session-exists`), or the session alone
/// (`session-setinfo`, where the user keys are absent).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The user's id.
    pub user_id: Option<i64>,
    /// The user's UUID.
    pub system_id: Option<String>,
    /// The user's full name.
    pub full_name: Option<String>,
    /// The user's e-mail address.
    pub email: Option<String>,
    /// Whether the e-mail address is verified.
    pub email_verified: Option<bool>,
    /// When the verification mail was sent.
    pub emailverify_sent_datetime: Option<Timestamp>,
    /// Whether the user is active.
    pub is_active: Option<bool>,
    /// Last login attempt (never set by 0.1.3).
    pub last_login_try: Option<Timestamp>,
    /// Last successful login (never set by 0.1.3).
    pub last_login_success: Option<Timestamp>,
    /// When the user was created.
    pub created_on: Option<Timestamp>,
    /// The user's role.
    pub user_role: Option<String>,
    /// The session token.
    #[serde(with = "crate::secret_serde::optional", default)]
    pub session_token: Option<AccessToken>,
    /// The session's IP address.
    pub ip_address: Option<String>,
    /// The session's user agent.
    pub user_agent: Option<String>,
    /// When the session was created.
    pub created: Option<Timestamp>,
    /// When the session expires.
    pub expires: Option<Timestamp>,
    /// The session's extra info.
    pub extra_info_json: Option<serde_json::Value>,
}

/// `session-exists`' and `session-setinfo`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionExistsResponse {
    /// The session, when found.
    pub session_info: Option<SessionInfo>,
}

impl Call for SessionExists {
    const NAME: RequestName = RequestName::SessionExists;
    type Response = SessionExistsResponse;
}

/// `session-delete` (succeeds even for unknown tokens).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct SessionDelete {
    /// The session to delete.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
}

impl Call for SessionDelete {
    const NAME: RequestName = RequestName::SessionDelete;
    type Response = NoFields;
}

/// `session-delete-userid`. On 0.1.3 `keep_current_session` is ignored: the session
/// equal to `session_token` is always kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct SessionDeleteUserid {
    /// The user whose sessions go.
    pub user_id: i64,
    /// The current session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// Whether to keep the current session.
    pub keep_current_session: bool,
}

impl Call for SessionDeleteUserid {
    const NAME: RequestName = RequestName::SessionDeleteUserid;
    type Response = NoFields;
}

/// `session-setinfo`: replaces (does not merge) the session's extra info.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct SessionSetinfo {
    /// The session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The new extra info (a JSON object).
    pub extra_info: serde_json::Value,
}

impl Call for SessionSetinfo {
    const NAME: RequestName = RequestName::SessionSetinfo;
    type Response = SessionExistsResponse;
}
