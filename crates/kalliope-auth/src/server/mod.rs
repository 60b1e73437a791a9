//! The server half: [`VerifyXAuth`], a tower layer that checks each request's
//! `X-authenticate` header with a [`Verifier`](crate::verifier::Verifier) before the route
//! runs, for Kalliope-compatible services.
//!
//! The layer is generic over [`HeaderVerifier`], so the nonce store behind it can change
//! without touching the layer: the in-process [`Verifier`](crate::verifier::Verifier)
//! implements it today, and a verifier backed by a store shared by a fleet (where the
//! replay check is an async round trip) implements the same trait.

mod layer;

pub use layer::{HeaderVerifier, Refusal, ResponseFuture, VerifyXAuth, VerifyXAuthService};
