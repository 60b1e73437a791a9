//! The server half: a tower layer for services that receive wazo tokens from their users
//! and check them against wazo-auth, as `xivo-lib-python`'s `AuthVerifier` does for the
//! Python services.
//!
//! ```no_run
//! # fn main() -> Result<(), wazo_auth_client::Error> {
//! use wazo_auth_client::ClientBuilder;
//! use wazo_auth_client::server::TokenVerifier;
//!
//! let auth = ClientBuilder::from_url("http://127.0.0.1:9497/0.1")?.prefix("").build()?;
//! let verifier = TokenVerifier::new(auth);
//! // One layer per route, with the route's pattern and the access it requires:
//! let layer = verifier.require_acl("/users/{user_uuid}", "confd.users.{user_uuid}.read")?;
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

mod cache;
mod layer;
mod refusal;
mod template;
mod verifier;

pub use layer::{RequireAcl, RequireAclService, ResponseFuture, TENANT_HEADER, TOKEN_HEADER};
pub use refusal::Refusal;
pub use verifier::{
    CheckMethod, TokenLocation, TokenVerifier, TokenVerifierBuilder, VerifiedToken,
};
