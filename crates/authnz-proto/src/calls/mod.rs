//! One body struct and one response struct per request type.
//!
//! Bodies mirror the frozen 0.1.3 wire format key for key, so they are plain structs
//! built with literals. Responses tolerate unknown keys and nulls: a failed action still
//! sends its whole key set, mostly `null`, so every response field is an `Option`.

mod apikey;
mod newer;
mod policy;
mod session;
mod typed;
mod user;

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use apikey::{ApiKeyDict, ApikeyNew, ApikeyNewResponse, ApikeyVerify};
pub use newer::*;
pub use policy::{UserCheckAccess, UserCheckLimit};
pub use session::{
    SessionDelete, SessionDeleteUserid, SessionExists, SessionExistsResponse, SessionInfo,
    SessionNew, SessionNewResponse, SessionSetinfo,
};
pub use typed::AuthnzRequest;
pub use user::{
    LockAction, SendEmailResponse, UserChangepass, UserDelete, UserEdit, UserEmailResponse,
    UserForgotpassSendemail, UserIdResponse, UserInfo, UserInfoResponse, UserList,
    UserListResponse, UserLock, UserLogin, UserLogout, UserNew, UserNewResponse, UserPasscheck,
    UserResetpass, UserSignupSendemail, UserVerifyEmailaddr, UserVerifyResponse,
};

use crate::RequestName;

/// A request body that knows its name and the shape of its response.
pub trait Call: Serialize + Debug + Send + Sync {
    /// The request name sent with this body.
    const NAME: RequestName;
    /// The action's `response` object.
    type Response: DeserializeOwned + Serialize + Debug + Send + 'static;
}

/// The response of actions that return nothing besides `success` and `messages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct NoFields {}
