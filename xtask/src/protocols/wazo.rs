//! The wazo-auth demo (there is no real wazo-auth to run here; the stand-in is `pbx-mock`):
//! the client walkthrough, then a service behind the `RequireAcl` layer.

use crate::Result;
use crate::demo::Demo;
use crate::report::{Goal, Row, Src};
use crate::stage::target_dir;

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
    )?;

    // The server half: a service behind `RequireAcl`, with a user who may read users.
    let config = target_dir().join("demo-wazo-service.json");
    std::fs::write(
        &config,
        r#"{"users": [{"username": "reader", "password": "r3ader", "acl": ["confd.users.*.read"]}]}"#,
    )?;
    let config = config.to_string_lossy().into_owned();
    demo.step("start pbx-mock wazo-auth with `reader` (acl confd.users.*.read)");
    let (_guard, url) = demo.mock("wazo-auth", &["-c", &config])?;
    demo.step("wazo_service: routes behind RequireAcl, called with reader's token, an unknown token and none");
    demo.run_example(
        "wazo_service",
        &["demo"],
        &[
            ("WAZO_AUTH_URL", url.as_str()),
            ("WAZO_USER", "reader"),
            ("WAZO_PASSWORD", "r3ader"),
        ],
    )
}

/// This protocol's rows in `docs/performance.md`.
pub(crate) fn report_rows() -> Vec<Row> {
    vec![
        Row::new(
            "wazo-auth",
            "a cached authenticated `users().get` against the in-process stand-in",
            Src::bench("wazo_request/cached_authenticated"),
            Some((
                "unauthenticated",
                Src::bench("wazo_request/unauthenticated"),
            )),
            Goal::Report,
        ),
        Row::new(
            "wazo-auth",
            // In process, without HTTP: the layer against the routing alone. The goal is
            // judged on a real server's instructions (the server layers' table).
            "64 requests in flight through `RequireAcl` with a warm cache, against the same axum app without the layer, in process (no HTTP)",
            Src::bench("wazo_server/require_acl_warm_c64"),
            Some(("without the layer", Src::bench("wazo_server/bare_app_c64"))),
            Goal::Report,
        ),
    ]
}
