//! The wazo-auth demo (there is no real wazo-auth to run here; the stand-in is `pbx-mock`).

use crate::Result;
use crate::demo::Demo;

/// The end-to-end demo against the stand-in.
pub(crate) fn demo(_demo: &Demo) -> Result {
    Err("the wazo demo is not written yet".into())
}
