//! Issue 13, item 8: a pre-forking server's parent and child must never send the same
//! nonce. A real `fork()` (not a simulation): the child draws nonces from the generator it
//! inherited, the parent draws its next ones, and no nonce may appear on both sides.
//! One test in its own binary, so no other test thread holds a lock across the fork.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::io::Read as _;

use kalliope_auth::ThreadNonce;
use pbx_auth_core::NonceSource as _;

const NONCES: usize = 256;

fn draw() -> Vec<[u8; 16]> {
    (0..NONCES)
        .map(|_| {
            let mut n = [0u8; 16];
            ThreadNonce::default().fill(&mut n);
            n
        })
        .collect()
}

#[test]
fn parent_and_child_of_a_fork_draw_different_nonces() {
    // Seed this thread's generator before the fork, so the child inherits its state.
    let _ = draw();
    let (mut reader, writer) = std::io::pipe().unwrap();
    match fork::fork().unwrap() {
        fork::Fork::Child => {
            let bytes: Vec<u8> = draw().concat();
            let mut writer = writer;
            let ok = std::io::Write::write_all(&mut writer, &bytes).is_ok();
            std::process::exit(if ok { 0 } else { 1 });
        }
        fork::Fork::Parent(child) => {
            drop(writer);
            let parent: HashSet<[u8; 16]> = draw().into_iter().collect();
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).unwrap();
            let status = fork::waitpid(child).unwrap();
            assert_eq!(status, 0, "the child failed to report its nonces");
            assert_eq!(bytes.len(), NONCES * 16, "the child's nonces");
            let repeated = bytes
                .chunks_exact(16)
                .filter(|n| parent.contains(*n))
                .count();
            assert_eq!(repeated, 0, "parent and child drew the same nonces");
        }
    }
}
