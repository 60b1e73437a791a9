//! Interop with the real authnzerver 0.1.3 (the Python package), through the public API only:
//! the scenarios shared with the mock suite (`common`), then the known 0.1.3 bugs, which
//! the mock need not copy.
//!
//! `cargo xtask test` installs and starts the server, then runs
//! `cargo test -p authnz-proto --test interop -- --ignored` with `AUTHNZERVER_URL`,
//! `AUTHNZERVER_SECRET`, `AUTHNZERVER_ADMIN_EMAIL` and `AUTHNZERVER_ADMIN_PASSWORD` set.
//! Known 0.1.3 bugs are asserted as what they are.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Helpers shared by tests unwrap too.

use authnz_proto::*;
use serde_json::json;

mod common;
use common::{Peer, active_user, admin_session, new_session, random_password, unique_email};

#[tokio::test]
#[ignore = "needs the real authnzerver 0.1.3; run by cargo xtask test"]
async fn user_lifecycle() {
    common::user_lifecycle(&Peer::real()).await;
}

#[tokio::test]
#[ignore = "needs the real authnzerver 0.1.3; run by cargo xtask test"]
async fn admin_and_self_service() {
    common::admin_and_self_service(&Peer::real()).await;
}

#[tokio::test]
#[ignore = "needs the real authnzerver 0.1.3; run by cargo xtask test"]
async fn failure_paths_are_typed() {
    common::failure_paths_are_typed(&Peer::real()).await;
}

#[tokio::test]
#[ignore = "needs the real authnzerver 0.1.3; run by cargo xtask test"]
async fn known_0_1_3_bugs_are_what_they_are() {
    let peer = Peer::real();
    let client = peer.client();

    // user-verify-emailaddr for an unknown address: HTTP 400 instead of success false.
    let err = client
        .user_verify_emailaddr(&UserVerifyEmailaddr {
            email: unique_email("nobody"),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err:?}");

    // user-login without `email`: HTTP 400.
    let anon = new_session(&client, None).await;
    let err = client
        .send_raw(
            "user-login",
            &json!({"session_token": anon.expose_secret(), "password": "x"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err:?}");

    // apikey-verify with an incomplete dict: HTTP 400.
    let err = client
        .send_raw("apikey-verify", &json!({"apikey_dict": {"tkn": "x"}}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err:?}");

    // A successful user-resetpass changes the password but answers HTTP 400.
    let (email, _, user_id, session) = active_user(&client, "reset").await;
    let new_password = random_password();
    let err = client
        .user_resetpass(&UserResetpass {
            email_address: email.clone(),
            new_password: new_password.clone(),
            session_token: session.clone(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err:?}");
    let check = client
        .user_passcheck(&UserPasscheck {
            session_token: session.clone(),
            password: new_password,
        })
        .await
        .unwrap();
    assert_eq!(
        check.response.user_id,
        Some(user_id),
        "the password did change"
    );

    // The superuser path of user-edit always fails.
    let admin = admin_session(&client, &peer).await;
    let err = client
        .user_edit(&UserEdit {
            user_id: 1,
            user_role: "superuser".into(),
            session_token: admin,
            target_userid: user_id,
            update_dict: json!({"full_name": "Renamed Person"}),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                request: "user-edit",
                ..
            }
        ),
        "{err:?}"
    );

    // session-delete-userid ignores keep_current_session: the current session stays.
    let other = new_session(&client, Some(user_id)).await;
    client
        .session_delete_userid(&SessionDeleteUserid {
            user_id,
            session_token: session.clone(),
            keep_current_session: false,
        })
        .await
        .unwrap();
    client
        .session_exists(&SessionExists {
            session_token: session,
        })
        .await
        .expect("kept although keep_current_session was false");
    let gone = client
        .session_exists(&SessionExists {
            session_token: other,
        })
        .await;
    assert!(matches!(gone, Err(Error::Rejected { .. })), "{gone:?}");
}
