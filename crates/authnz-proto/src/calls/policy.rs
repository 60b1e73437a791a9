//! The policy checks: `user-check-access` and `user-check-limit`. Their answer is the
//! `success` flag itself.

use serde::{Deserialize, Serialize};

use super::{Call, NoFields};
use crate::RequestName;

/// `user-check-access`: `success` = the policy allows it and every user involved exists
/// and is active.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)] // Frozen 0.1.3 body: built with a literal.
pub struct UserCheckAccess {
    /// The acting user.
    pub user_id: i64,
    /// The acting user's role.
    pub user_role: String,
    /// The action (`list`, `view`, `create`, `delete`, `edit`, ...).
    pub action: String,
    /// The item type (`object`, `dataset`, `collection`, ...).
    pub target_name: String,
    /// The item's owner.
    pub target_owner: i64,
    /// The item's visibility (`public`, `unlisted`, `private`, `shared`).
    pub target_visibility: String,
    /// Comma-separated user ids the item is shared with (`None` = nobody).
    pub target_sharedwith: Option<String>,
}

impl Call for UserCheckAccess {
    const NAME: RequestName = RequestName::UserCheckAccess;
    type Response = NoFields;
}

/// `user-check-limit`: `success` = the value is under the role's limit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct UserCheckLimit {
    /// The acting user.
    pub user_id: i64,
    /// The acting user's role.
    pub user_role: String,
    /// The limit (`max_requests`, `max_requests_per_minute`).
    pub limit_name: String,
    /// The value to check.
    pub value_to_check: serde_json::Number,
}

impl Call for UserCheckLimit {
    const NAME: RequestName = RequestName::UserCheckLimit;
    type Response = NoFields;
}
