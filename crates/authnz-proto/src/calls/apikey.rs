//! `apikey-new` and `apikey-verify`.

use pbx_auth_core::AccessToken;
use serde::{Deserialize, Serialize};

use super::{Call, NoFields};
use crate::{Error, RequestName, Timestamp};

/// `apikey-new`: the session must exist and match `user_id`, `user_role`, `ip_address`
/// and `user_agent`. Deleting the session deletes its keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)] // Frozen 0.1.3 body: built with a literal.
pub struct ApikeyNew {
    /// The key's audience.
    pub audience: String,
    /// The key's subject (a string or a list of strings).
    pub subject: serde_json::Value,
    /// The API version.
    pub apiversion: serde_json::Value,
    /// Days until the key expires.
    pub expires_days: serde_json::Number,
    /// Seconds from now before the key becomes valid.
    pub not_valid_before: serde_json::Number,
    /// The session's user.
    pub user_id: i64,
    /// The session's user's role.
    pub user_role: String,
    /// The session's IP address.
    pub ip_address: String,
    /// The session's user agent.
    pub user_agent: String,
    /// The session.
    #[serde(with = "crate::secret_serde::required")]
    pub session_token: AccessToken,
}

/// `apikey-new`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApikeyNewResponse {
    /// The key: a JSON string encoding [`ApiKeyDict`]. It holds the key's secret `tkn`.
    #[serde(with = "crate::secret_serde::optional", default)]
    pub apikey: Option<AccessToken>,
    /// When the key expires.
    pub expires: Option<Timestamp>,
}

impl ApikeyNewResponse {
    /// Parses the key's JSON string into the dict `apikey-verify` wants.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedRequest`] when no key was returned, [`Error::Json`] when it is not
    /// the expected JSON object.
    pub fn dict(&self) -> Result<ApiKeyDict, Error> {
        let text = self
            .apikey
            .as_ref()
            .ok_or_else(|| Error::MalformedRequest("the response holds no API key".to_owned()))?;
        serde_json::from_str(text.expose_secret()).map_err(|e| Error::json(&e))
    }
}

impl Call for ApikeyNew {
    const NAME: RequestName = RequestName::ApikeyNew;
    type Response = ApikeyNewResponse;
}

/// An API key as issued by `apikey-new`. Times are kept as the server wrote them so the
/// dict goes back unchanged; keys this crate does not know are kept too.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyDict {
    /// Key format version.
    pub ver: serde_json::Value,
    /// The user id.
    pub uid: i64,
    /// The user's role.
    pub rol: String,
    /// The client (user agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clt: Option<String>,
    /// The audience.
    pub aud: String,
    /// The subject (string or list).
    pub sub: serde_json::Value,
    /// The IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipa: Option<String>,
    /// The random token the server stores: the secret part.
    #[serde(with = "crate::secret_serde::required")]
    pub tkn: AccessToken,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<String>,
    /// Not valid before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<String>,
    /// Expires at.
    pub exp: String,
    /// Keys not listed above, sent back as received.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `apikey-verify`. Bug in 0.1.3: a dict missing any of `tkn, uid, rol, aud, sub, ver,
/// exp` gives HTTP 400 (this type always has them).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(clippy::exhaustive_structs)]
pub struct ApikeyVerify {
    /// The key to verify.
    pub apikey_dict: ApiKeyDict,
}

impl Call for ApikeyVerify {
    const NAME: RequestName = RequestName::ApikeyVerify;
    type Response = NoFields;
}
