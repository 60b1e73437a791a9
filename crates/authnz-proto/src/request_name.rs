//! Every request name: the 22 that authnzerver 0.1.3 serves, and the ones added on the
//! unreleased `master` branch afterwards (which 0.1.3 answers with HTTP 400).

use std::fmt;
use std::str::FromStr;

use crate::Error;

macro_rules! request_names {
    (
        released { $( $(#[$rm:meta])* $rv:ident = $rs:literal, )* }
        newer { $( $(#[$nm:meta])* $nv:ident = $ns:literal, )* }
    ) => {
        /// A request name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum RequestName {
            $( $(#[$rm])* $rv, )*
            $( $(#[$nm])* #[doc = ""] #[doc = "Needs a server newer than 0.1.3."] $nv, )*
        }

        impl RequestName {
            /// Every name, released ones first.
            pub const ALL: &'static [Self] = &[ $( Self::$rv, )* $( Self::$nv, )* ];

            /// The name on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$rv => $rs, )*
                    $( Self::$nv => $ns, )*
                }
            }

            /// Whether only servers newer than 0.1.3 (unreleased `master`) know it.
            pub const fn needs_newer_server(self) -> bool {
                match self {
                    $( Self::$rv => false, )*
                    $( Self::$nv => true, )*
                }
            }
        }

        impl FromStr for RequestName {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $rs => Ok(Self::$rv), )*
                    $( $ns => Ok(Self::$nv), )*
                    _ => Err(Error::UnknownRequest(s.chars().take(64).collect())),
                }
            }
        }
    };
}

request_names! {
    released {
        /// `session-new`: create a session.
        SessionNew = "session-new",
        /// `session-exists`: look a session up.
        SessionExists = "session-exists",
        /// `session-delete`: delete a session.
        SessionDelete = "session-delete",
        /// `session-delete-userid`: delete a user's other sessions.
        SessionDeleteUserid = "session-delete-userid",
        /// `session-setinfo`: replace a session's extra info.
        SessionSetinfo = "session-setinfo",
        /// `user-login`: check credentials against an anonymous session.
        UserLogin = "user-login",
        /// `user-logout`: end a user's session.
        UserLogout = "user-logout",
        /// `user-passcheck`: re-check the password of a session's user.
        UserPasscheck = "user-passcheck",
        /// `user-new`: create a (locked, unverified) user.
        UserNew = "user-new",
        /// `user-changepass`: change a password.
        UserChangepass = "user-changepass",
        /// `user-delete`: delete a user.
        UserDelete = "user-delete",
        /// `user-list`: list one or all users.
        UserList = "user-list",
        /// `user-edit`: edit a user.
        UserEdit = "user-edit",
        /// `user-resetpass`: set a new password after a forgotten one.
        UserResetpass = "user-resetpass",
        /// `user-lock`: lock or unlock a user (superuser only).
        UserLock = "user-lock",
        /// `user-signup-sendemail`: mail a sign-up verification.
        UserSignupSendemail = "user-signup-sendemail",
        /// `user-verify-emailaddr`: mark an e-mail address verified and activate the user.
        UserVerifyEmailaddr = "user-verify-emailaddr",
        /// `user-forgotpass-sendemail`: mail a password-reset verification.
        UserForgotpassSendemail = "user-forgotpass-sendemail",
        /// `apikey-new`: issue an API key bound to a session.
        ApikeyNew = "apikey-new",
        /// `apikey-verify`: verify an API key.
        ApikeyVerify = "apikey-verify",
        /// `user-check-access`: ask the policy whether an action is allowed.
        UserCheckAccess = "user-check-access",
        /// `user-check-limit`: ask the policy whether a value is under a limit.
        UserCheckLimit = "user-check-limit",
    }
    newer {
        /// `user-passcheck-nosession`.
        UserPasscheckNosession = "user-passcheck-nosession",
        /// `user-changepass-nosession`.
        UserChangepassNosession = "user-changepass-nosession",
        /// `user-resetpass-nosession`.
        UserResetpassNosession = "user-resetpass-nosession",
        /// `user-lookup-email`.
        UserLookupEmail = "user-lookup-email",
        /// `user-lookup-match`.
        UserLookupMatch = "user-lookup-match",
        /// `user-validatepass`.
        UserValidatepass = "user-validatepass",
        /// `user-set-emailverified` (replaces `user-verify-emailaddr`).
        UserSetEmailverified = "user-set-emailverified",
        /// `user-set-emailsent`.
        UserSetEmailsent = "user-set-emailsent",
        /// `user-sendemail-signup` (renamed `user-signup-sendemail`).
        UserSendemailSignup = "user-sendemail-signup",
        /// `user-sendemail-forgotpass` (renamed `user-forgotpass-sendemail`).
        UserSendemailForgotpass = "user-sendemail-forgotpass",
        /// `apikey-revoke`.
        ApikeyRevoke = "apikey-revoke",
        /// `apikey-new-nosession`.
        ApikeyNewNosession = "apikey-new-nosession",
        /// `apikey-verify-nosession`.
        ApikeyVerifyNosession = "apikey-verify-nosession",
        /// `apikey-revoke-nosession`.
        ApikeyRevokeNosession = "apikey-revoke-nosession",
        /// `apikey-revokeall-nosession`.
        ApikeyRevokeallNosession = "apikey-revokeall-nosession",
        /// `apikey-refresh-nosession`.
        ApikeyRefreshNosession = "apikey-refresh-nosession",
        /// `internal-user-lock`.
        InternalUserLock = "internal-user-lock",
        /// `internal-user-delete`.
        InternalUserDelete = "internal-user-delete",
        /// `internal-user-edit`.
        InternalUserEdit = "internal-user-edit",
        /// `internal-session-edit`.
        InternalSessionEdit = "internal-session-edit",
    }
}

impl fmt::Display for RequestName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_count() {
        let released = RequestName::ALL
            .iter()
            .filter(|n| !n.needs_newer_server())
            .count();
        assert_eq!(released, 22);
        assert_eq!(RequestName::ALL.len(), 42);
        for name in RequestName::ALL {
            assert_eq!(name.as_str().parse::<RequestName>().unwrap(), *name);
        }
        assert!(matches!(
            "echo".parse::<RequestName>(),
            Err(Error::UnknownRequest(_))
        ));
    }
}
