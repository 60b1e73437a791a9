//! The kalliope protocol's interop suite, demo and side-by-side benchmark.

use crate::Result;
use crate::demo::Demo;

/// Interop against the real peer.
pub(crate) fn interop() -> Result {
    Err("the kalliope interop suite is not written yet".into())
}

/// The end-to-end demo against the mock.
pub(crate) fn demo(_demo: &Demo) -> Result {
    Err("the kalliope demo is not written yet".into())
}

/// The side-by-side comparison with the seed's Python implementation.
pub(crate) fn bench(_quick: bool) -> Result {
    Err("the kalliope comparison is not written yet".into())
}
