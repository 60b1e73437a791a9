//! Bodies of the request types added after 0.1.3 (unreleased `master`). A 0.1.3 server
//! answers them with HTTP 400. They carry a free-form JSON object because no released
//! server exists to pin their exact keys against; the expected keys are in each doc.

use serde::{Deserialize, Serialize};

use super::Call;
use crate::RequestName;

/// A free-form request body (a JSON object).
pub type NewerBody = serde_json::Map<String, serde_json::Value>;

macro_rules! newer_bodies {
    ( $( $(#[$m:meta])* $name:ident; )* ) => { $(
        $(#[$m])*
        ///
        /// Needs a server newer than 0.1.3.
        #[derive(Clone, Debug, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        #[allow(clippy::exhaustive_structs)] // A plain wrapper around the JSON object.
        pub struct $name(pub NewerBody);

        impl Call for $name {
            const NAME: RequestName = RequestName::$name;
            type Response = serde_json::Value;
        }
    )* };
}

newer_bodies! {
    /// `user-passcheck-nosession`: `{email, password}`.
    UserPasscheckNosession;
    /// `user-changepass-nosession`: `{user_id, full_name, email, current_password, new_password}`.
    UserChangepassNosession;
    /// `user-resetpass-nosession`: `{email_address, new_password, required_active}`.
    UserResetpassNosession;
    /// `user-lookup-email`: `{email}`.
    UserLookupEmail;
    /// `user-lookup-match`: `{by, match}`.
    UserLookupMatch;
    /// `user-validatepass`: `{password, email, full_name}`.
    UserValidatepass;
    /// `user-set-emailverified`: `{email}`.
    UserSetEmailverified;
    /// `user-set-emailsent`: `{email, email_type}`.
    UserSetEmailsent;
    /// `user-sendemail-signup`: like `user-signup-sendemail` with `server_verify_url`.
    UserSendemailSignup;
    /// `user-sendemail-forgotpass`: like `user-forgotpass-sendemail`.
    UserSendemailForgotpass;
    /// `apikey-revoke`: `{apikey_dict, user_id, user_role}`.
    ApikeyRevoke;
    /// `apikey-new-nosession`: `{issuer, audience, subject, apiversion, expires_seconds,
    /// not_valid_before, user_id, user_role, ip_address, refresh_expires, refresh_nbf}`.
    ApikeyNewNosession;
    /// `apikey-verify-nosession`: `{apikey_dict, user_id, user_role}`.
    ApikeyVerifyNosession;
    /// `apikey-revoke-nosession`: `{apikey_dict, user_id, user_role}`.
    ApikeyRevokeNosession;
    /// `apikey-revokeall-nosession`: `{apikey_dict, user_id, user_role}`.
    ApikeyRevokeallNosession;
    /// `apikey-refresh-nosession`: `{apikey_dict, user_id, user_role, refresh_token,
    /// ip_address, expires_seconds, not_valid_before, refresh_expires, refresh_nbf}`.
    ApikeyRefreshNosession;
    /// `internal-user-lock`: `{target_userid, action}`.
    InternalUserLock;
    /// `internal-user-delete`: `{target_userid}`.
    InternalUserDelete;
    /// `internal-user-edit`: `{target_userid, update_dict}`.
    InternalUserEdit;
    /// `internal-session-edit`: `{target_session_token, update_dict}`.
    InternalSessionEdit;
}
