//! The wazo-auth demo (there is no real wazo-auth to run here; the stand-in is `pbx-mock`).

use crate::Result;
use crate::demo::Demo;

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
