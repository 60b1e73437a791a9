//! The whole authnzerver flow: anonymous session, sign-up, activation, login, a session
//! for the user, an API key issued and verified.
//!
//! Reads `AUTHNZERVER_URL` and `AUTHNZERVER_SECRET` (a key or a key file's path);
//! `cargo xtask demo authnz` runs it against `pbx-mock authnz`.

#![allow(clippy::print_stdout)] // A demo narrates.

use std::time::Duration;

use authnz_proto::*;
use pbx_auth_core::{AccessToken, Password};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("AUTHNZERVER_URL").map_err(|_| "set AUTHNZERVER_URL")?;
    let client = Client::new(url, FernetKey::from_default_env()?)?;
    let agent = "authnz-proto-demo/0.1";
    let session_for = |user_id: Option<i64>| SessionNew {
        ip_address: "127.0.0.1".into(),
        user_agent: agent.into(),
        user_id,
        expires: Timestamp::in_future(Duration::from_secs(3600)),
        extra_info_json: None,
    };
    let token = |r: Response<SessionNewResponse>| -> Result<AccessToken, &'static str> {
        r.response.session_token.ok_or("no session token")
    };

    let anon = token(client.session_new(&session_for(None)).await?)?;
    println!("session-new: anonymous session created");

    let password = Password::new(FernetKey::generate().expose_secret().to_owned());
    let created = client
        .user_new(&UserNew {
            full_name: "Demo Person".into(),
            email: "demo.person@example.org".into(),
            password: password.clone(),
        })
        .await?;
    let email = created.response.user_email.ok_or("no user_email")?;
    let user_id = created.response.user_id.ok_or("no user_id")?;
    println!("user-new: user {user_id} ({email}) created, locked until verified");

    let verified = client
        .user_verify_emailaddr(&UserVerifyEmailaddr {
            email: email.clone(),
        })
        .await?;
    println!(
        "user-verify-emailaddr: active={:?}, role={:?}",
        verified.response.is_active, verified.response.user_role
    );

    let login = client
        .user_login(&UserLogin {
            session_token: anon,
            email,
            password,
        })
        .await?;
    println!("user-login: {}", login.messages.join(" "));

    let session = token(client.session_new(&session_for(Some(user_id))).await?)?;
    let info = client
        .session_exists(&SessionExists {
            session_token: session.clone(),
        })
        .await?
        .response
        .session_info
        .ok_or("no session info")?;
    println!(
        "session-exists: user {:?}, role {:?}",
        info.user_id, info.user_role
    );

    let issued = client
        .apikey_new(&ApikeyNew {
            audience: "demo-service".into(),
            subject: "/api/demo".into(),
            apiversion: 1.into(),
            expires_days: 30.into(),
            not_valid_before: 0.into(),
            user_id,
            user_role: info.user_role.unwrap_or_default(),
            ip_address: "127.0.0.1".into(),
            user_agent: agent.into(),
            session_token: session,
        })
        .await?;
    println!(
        "apikey-new: key issued, expires {:?}",
        issued.response.expires
    );
    let verified = client
        .apikey_verify(&ApikeyVerify {
            apikey_dict: issued.response.dict()?,
        })
        .await?;
    println!("apikey-verify: {}", verified.messages.join(" "));
    println!("demo finished: every step succeeded");
    Ok(())
}
