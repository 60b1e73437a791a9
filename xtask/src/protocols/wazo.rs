//! The wazo-auth demo (there is no real wazo-auth to run here; the stand-in is `pbx-mock`).

use crate::Result;
use crate::demo::Demo;
use crate::report::{Goal, Row, Src};

/// The end-to-end demo: the seed's walkthrough (example `walkthrough`) against
/// `pbx-mock wazo-auth`, started out of process on a free port.
pub(crate) fn demo(demo: &Demo) -> Result {
    demo.step("start pbx-mock wazo-auth --user alice:s3cre7");
    let (_guard, url) = demo.mock("wazo-auth", &["--user", "alice:s3cre7"])?;
    demo.step(&format!("replay the walkthrough against {url}"));
    demo.run_example(
        "walkthrough",
        &[],
        &[
            ("WAZO_AUTH_URL", url.as_str()),
            ("WAZO_USER", "alice"),
            ("WAZO_PASSWORD", "s3cre7"),
        ],
    )
}

/// This protocol's rows in `docs/performance.md`.
pub(crate) fn report_rows() -> Vec<Row> {
    vec![Row::new(
        "wazo-auth",
        "a cached authenticated `users().get` against the in-process stand-in",
        Src::bench("wazo_request/cached_authenticated"),
        Some((
            "unauthenticated",
            Src::bench("wazo_request/unauthenticated"),
        )),
        Goal::Report,
    )]
}
