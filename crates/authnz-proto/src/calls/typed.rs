//! [`AuthnzRequest`]: every request type as one enum, for code that receives requests.

use serde::Serialize;

use super::apikey::{ApikeyNew, ApikeyVerify};
use super::newer::*;
use super::policy::{UserCheckAccess, UserCheckLimit};
use super::session::{
    SessionDelete, SessionDeleteUserid, SessionExists, SessionNew, SessionSetinfo,
};
use super::user::*;
use crate::{Error, RequestName};

macro_rules! typed_requests {
    ( $( $name:ident ),* $(,)? ) => {
        /// A request of any type with its typed body.
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum AuthnzRequest {
            $(
                #[doc = concat!("See [`", stringify!($name), "`].")]
                $name($name),
            )*
        }

        impl AuthnzRequest {
            /// The request's name.
            pub fn name(&self) -> RequestName {
                match self {
                    $( Self::$name(_) => RequestName::$name, )*
                }
            }

            /// Builds the typed request from a name and a JSON body.
            ///
            /// # Errors
            ///
            /// [`Error::UnknownRequest`] for a name authnzerver does not know,
            /// [`Error::MalformedRequest`] with the reason when the body does not fit.
            pub fn from_parts(name: &str, body: serde_json::Value) -> Result<Self, Error> {
                let name: RequestName = name.parse()?;
                if !body.is_object() {
                    return Err(Error::MalformedRequest("`body` is not a JSON object".to_owned()));
                }
                match name {
                    $( RequestName::$name => serde_json::from_value(body)
                        .map(Self::$name)
                        .map_err(|e| body_error(name, &e)), )*
                }
            }

            /// The body as a JSON value.
            ///
            /// # Errors
            ///
            /// [`Error::Json`] if the body cannot be serialised (not expected).
            pub fn body_json(&self) -> Result<serde_json::Value, Error> {
                match self {
                    $( Self::$name(body) => to_value(body), )*
                }
            }
        }

        $(
            impl From<$name> for AuthnzRequest {
                fn from(body: $name) -> Self {
                    Self::$name(body)
                }
            }
        )*
    };
}

typed_requests! {
    SessionNew, SessionExists, SessionDelete, SessionDeleteUserid, SessionSetinfo,
    UserLogin, UserLogout, UserPasscheck, UserNew, UserChangepass, UserDelete, UserList,
    UserEdit, UserResetpass, UserLock, UserSignupSendemail, UserVerifyEmailaddr,
    UserForgotpassSendemail, ApikeyNew, ApikeyVerify, UserCheckAccess, UserCheckLimit,
    UserPasscheckNosession, UserChangepassNosession, UserResetpassNosession, UserLookupEmail,
    UserLookupMatch, UserValidatepass, UserSetEmailverified, UserSetEmailsent,
    UserSendemailSignup, UserSendemailForgotpass, ApikeyRevoke, ApikeyNewNosession,
    ApikeyVerifyNosession, ApikeyRevokeNosession, ApikeyRevokeallNosession,
    ApikeyRefreshNosession, InternalUserLock, InternalUserDelete, InternalUserEdit,
    InternalSessionEdit,
}

fn to_value(body: &impl Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(body).map_err(|e| Error::json(&e))
}

/// The reason a body does not fit, without quoting any value from it (bodies carry
/// passwords): serde's "missing field `x`" is kept, type errors are summarised.
fn body_error(name: RequestName, e: &serde_json::Error) -> Error {
    let text = e.to_string();
    let reason = match text.find("missing field `") {
        Some(at) => text[at..]
            .split(" at line")
            .next()
            .unwrap_or("missing field")
            .to_owned(),
        None => "a parameter has the wrong type".to_owned(),
    };
    Error::MalformedRequest(format!("{name}: {reason}"))
}
