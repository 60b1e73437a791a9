#![doc = include_str!("../README.md")]

mod error;
mod seal;
mod store;

pub use error::Error;
pub use seal::SealingKey;
pub use store::RedisStore;
