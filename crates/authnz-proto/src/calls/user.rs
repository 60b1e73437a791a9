//! `user-*` requests (except the policy checks).

use pbx_auth_core::{AccessToken, Password};
use serde::{Deserialize, Serialize};

use super::{Call, NoFields};
use crate::{RequestName, Timestamp};

/// `user-login`: needs an existing (anonymous) session, which the server deletes whatever
/// the outcome. On success, create a new session for the returned `user_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)] // Frozen 0.1.3 body: built with a literal.
pub struct UserLogin {
    /// The anonymous session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The e-mail address exactly as stored (use `user_email` from `user-new`).
    pub email: String,
    /// The password.
    #[serde(with = "crate::secret_serde::required")]
    pub password: Password,
}

/// The response of actions that return a user id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserIdResponse {
    /// The user's id (null on failure).
    pub user_id: Option<i64>,
}

impl Call for UserLogin {
    const NAME: RequestName = RequestName::UserLogin;
    type Response = UserIdResponse;
}

/// `user-logout`: the session must belong to `user_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserLogout {
    /// The user's session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The user.
    pub user_id: i64,
}

impl Call for UserLogout {
    const NAME: RequestName = RequestName::UserLogout;
    type Response = UserIdResponse;
}

/// `user-passcheck`: re-authenticates the session's user.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserPasscheck {
    /// The user's session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The password to check.
    #[serde(with = "crate::secret_serde::required")]
    pub password: Password,
}

impl Call for UserPasscheck {
    const NAME: RequestName = RequestName::UserPasscheck;
    type Response = UserIdResponse;
}

/// `user-new`: the new user is locked, inactive and unverified until
/// `user-verify-emailaddr`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserNew {
    /// Full name (the server case-folds it).
    pub full_name: String,
    /// E-mail address (the server normalises it; use the returned `user_email`).
    pub email: String,
    /// Password (at least 12 characters, not common, not like the name or e-mail).
    #[serde(with = "crate::secret_serde::required")]
    pub password: Password,
}

/// `user-new`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserNewResponse {
    /// The normalised e-mail address as stored.
    pub user_email: Option<String>,
    /// The new (or existing) user's id.
    pub user_id: Option<i64>,
    /// Whether a verification mail should be sent.
    pub send_verification: Option<bool>,
}

impl Call for UserNew {
    const NAME: RequestName = RequestName::UserNew;
    type Response = UserNewResponse;
}

/// `user-changepass`: on success the user's other sessions are deleted.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserChangepass {
    /// The user.
    pub user_id: i64,
    /// The user's session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The user's full name (for the similarity rule).
    pub full_name: String,
    /// The user's e-mail address.
    pub email: String,
    /// The current password.
    #[serde(with = "crate::secret_serde::required")]
    pub current_password: Password,
    /// The new password.
    #[serde(with = "crate::secret_serde::required")]
    pub new_password: Password,
}

/// The response of actions that return a user id and e-mail address.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserEmailResponse {
    /// The user's id.
    pub user_id: Option<i64>,
    /// The user's e-mail address.
    pub email: Option<String>,
}

impl Call for UserChangepass {
    const NAME: RequestName = RequestName::UserChangepass;
    type Response = UserEmailResponse;
}

/// `user-delete`: the password is always checked; superusers cannot be deleted.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserDelete {
    /// The user's e-mail address.
    pub email: String,
    /// The user.
    pub user_id: i64,
    /// The user's password.
    #[serde(with = "crate::secret_serde::required")]
    pub password: Password,
}

impl Call for UserDelete {
    const NAME: RequestName = RequestName::UserDelete;
    type Response = UserEmailResponse;
}

/// `user-list`: `None` lists everyone. 0.1.3 checks no authorisation at all.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserList {
    /// One user, or all (the key is sent as null).
    pub user_id: Option<i64>,
}

/// A user as listed by `user-list`, `user-edit` and `user-lock`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user's id.
    pub user_id: Option<i64>,
    /// The user's UUID.
    pub system_id: Option<String>,
    /// Full name.
    pub full_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Whether the user is active.
    pub is_active: Option<bool>,
    /// Last login attempt.
    pub last_login_try: Option<Timestamp>,
    /// Last successful login.
    pub last_login_success: Option<Timestamp>,
    /// When the user was created.
    pub created_on: Option<Timestamp>,
    /// The user's role.
    pub user_role: Option<String>,
}

/// `user-list`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserListResponse {
    /// The users.
    pub user_info: Option<Vec<UserInfo>>,
}

impl Call for UserList {
    const NAME: RequestName = RequestName::UserList;
    type Response = UserListResponse;
}

/// `user-edit`. Bug in 0.1.3: the superuser path always fails ("User update failed.").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserEdit {
    /// The acting user.
    pub user_id: i64,
    /// The acting user's role.
    pub user_role: String,
    /// The acting user's session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The user to edit.
    pub target_userid: i64,
    /// The changes (self-edit: only `full_name`, `email`).
    pub update_dict: serde_json::Value,
}

/// The response of `user-edit` and `user-lock`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserInfoResponse {
    /// The user after the change.
    pub user_info: Option<UserInfo>,
}

impl Call for UserEdit {
    const NAME: RequestName = RequestName::UserEdit;
    type Response = UserInfoResponse;
}

/// `user-resetpass`. Bug in 0.1.3: on success the password is changed but the reply is
/// HTTP 400.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserResetpass {
    /// The user's e-mail address.
    pub email_address: String,
    /// The new password.
    #[serde(with = "crate::secret_serde::required")]
    pub new_password: Password,
    /// Any valid session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
}

impl Call for UserResetpass {
    const NAME: RequestName = RequestName::UserResetpass;
    type Response = NoFields;
}

/// What `user-lock` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LockAction {
    /// Lock: role `locked`, inactive, all sessions deleted.
    Lock,
    /// Unlock: role `authenticated`, active.
    Unlock,
}

/// `user-lock` (superuser only; not self, 2 or 3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserLock {
    /// The acting superuser.
    pub user_id: i64,
    /// Must be `superuser`.
    pub user_role: String,
    /// The superuser's session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The user to lock or unlock.
    pub target_userid: i64,
    /// Lock or unlock.
    pub action: LockAction,
}

impl Call for UserLock {
    const NAME: RequestName = RequestName::UserLock;
    type Response = UserInfoResponse;
}

/// `user-signup-sendemail`. 0.1.3 fails to inject `smtp_port`, so send it; with SMTP
/// unreachable the server answers HTTP 400.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserSignupSendemail {
    /// The recipient.
    pub email_address: String,
    /// A session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The `user-new` response object (`user_id`, `user_email`, `send_verification`).
    pub created_info: serde_json::Value,
    /// The service's name for the mail.
    pub server_name: String,
    /// The service's base URL.
    pub server_baseurl: String,
    /// The verification page's path.
    pub account_verify_url: String,
    /// The token to mail.
    #[serde(with = "crate::secret_serde::required")]
    pub verification_token: AccessToken,
    /// The token's lifetime in seconds.
    pub verification_expiry: u64,
    /// The SMTP port (0.1.3 needs it in the body).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub smtp_port: Option<u16>,
}

/// The response of the e-mail actions.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendEmailResponse {
    /// The user.
    pub user_id: Option<i64>,
    /// The recipient.
    pub email_address: Option<String>,
    /// When the sign-up mail was sent.
    pub verifyemail_sent_datetime: Option<Timestamp>,
    /// When the forgot-password mail was sent.
    pub forgotemail_sent_datetime: Option<Timestamp>,
}

impl Call for UserSignupSendemail {
    const NAME: RequestName = RequestName::UserSignupSendemail;
    type Response = SendEmailResponse;
}

/// `user-verify-emailaddr`: activates the user. Bug in 0.1.3: an unknown address gives
/// HTTP 400.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserVerifyEmailaddr {
    /// The address exactly as stored.
    pub email: String,
}

/// `user-verify-emailaddr`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserVerifyResponse {
    /// The user.
    pub user_id: Option<i64>,
    /// Whether the user is now active.
    pub is_active: Option<bool>,
    /// The user's role now.
    pub user_role: Option<String>,
}

impl Call for UserVerifyEmailaddr {
    const NAME: RequestName = RequestName::UserVerifyEmailaddr;
    type Response = UserVerifyResponse;
}

/// `user-forgotpass-sendemail` (at most one mail per user per day).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserForgotpassSendemail {
    /// The recipient.
    pub email_address: String,
    /// A session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
    /// The service's name for the mail.
    pub server_name: String,
    /// The service's base URL.
    pub server_baseurl: String,
    /// The reset page's path.
    pub password_forgot_url: String,
    /// The token to mail.
    #[serde(with = "crate::secret_serde::required")]
    pub verification_token: AccessToken,
    /// The token's lifetime in seconds.
    pub verification_expiry: u64,
    /// The SMTP port (0.1.3 needs it in the body).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub smtp_port: Option<u16>,
}

impl Call for UserForgotpassSendemail {
    const NAME: RequestName = RequestName::UserForgotpassSendemail;
    type Response = SendEmailResponse;
}
