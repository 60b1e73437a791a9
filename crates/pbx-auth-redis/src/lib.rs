#![doc = include_str!("../README.md")]

mod error;
mod seal;
mod store;

pub use error::Error;
pub use seal::SealingKey;
pub use store::RedisStore;

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_example_is_the_quickstart_example() {
        let readme = include_str!("../README.md");
        let example = include_str!("../examples/quickstart.rs");
        let code = &example[example.find("use std::sync::Arc;").unwrap_or(0)..];
        assert!(
            readme.contains(code),
            "README.md and examples/quickstart.rs differ"
        );
    }
}
