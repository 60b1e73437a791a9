//! Prints the nanoseconds one `X-authenticate` header costs with a cached key (fresh nonce
//! from the default `ThreadNonce`, system clock): best of five rounds of `N` headers
//! (default 100000). `cargo xtask bench` runs it next to the Python seed's `Auth.xauth()`.

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Instant, SystemTime};

use kalliope_auth::{Credentials, Error, SigningKey, ThreadNonce, XAuthSigner};

fn main() -> Result<(), Error> {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
        .max(1);
    let credentials = Credentials::new("admin", "admin", "default")?;
    let key = SigningKey::derive(&credentials, "b5a8fdcf2f8d5acdad33c4a072a97d7a")?;
    let nonce = ThreadNonce::default();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(XAuthSigner::fresh_value(
                black_box(&key),
                &nonce,
                SystemTime::now(),
            )?);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / f64::from(iterations));
    }
    println!("{best:.1}");
    Ok(())
}
