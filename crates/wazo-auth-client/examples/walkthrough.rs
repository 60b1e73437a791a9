//! The seed's walkthrough against a wazo-auth: token, checks, policies, a user with a
//! group and a tenant, revocation.
//!
//! `WAZO_AUTH_URL` (default `http://127.0.0.1:9497`), `WAZO_USER` (default `alice`) and
//! `WAZO_PASSWORD` (default `s3cre7`). Start the stand-in with
//! `pbx-mock wazo-auth --port 9497 --user alice:s3cre7`.
#![allow(clippy::print_stdout)]

use wazo_auth_client::api::groups::GroupRequest;
use wazo_auth_client::api::policies::PolicyRequest;
use wazo_auth_client::api::tenants::TenantRequest;
use wazo_auth_client::api::users::UserRequest;
use wazo_auth_client::{ClientBuilder, Error, ListParams, NewToken, Password};

fn check(ok: bool, what: &'static str) -> Result<(), Box<dyn std::error::Error>> {
    if ok {
        println!("    ok: {what}");
        Ok(())
    } else {
        Err(format!("unexpected: {what}").into())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("WAZO_AUTH_URL").unwrap_or_else(|_| "http://127.0.0.1:9497".to_owned());
    let user = std::env::var("WAZO_USER").unwrap_or_else(|_| "alice".to_owned());
    let password = std::env::var("WAZO_PASSWORD").unwrap_or_else(|_| "s3cre7".to_owned());
    let client = ClientBuilder::from_url(&url)?
        .prefix("")
        .credentials(user, Password::new(password))
        .build()?;

    println!("token new (expiration 3600, mobile session)");
    let token = client
        .token()
        .create(&NewToken::new().expiration(3600).session_type("mobile"))
        .await?;
    let t = token.token.expose_secret().to_owned();
    println!(
        "    auth_id {}, acl {:?}, lifetime {:?}",
        token.auth_id,
        token.acl,
        token.lifetime()
    );

    println!("is_valid");
    check(
        client.token().is_valid(&t, None, None).await?,
        "the token is valid",
    )?;

    println!("get without and with a required ACL");
    let details = client.token().get(&t, None, None).await?;
    check(details.auth_id == token.auth_id, "same user")?;
    client
        .token()
        .get(&t, Some("auth.users.read"), None)
        .await?;
    println!("    ok: granted auth.users.read");
    match client.token().get(&t, Some("confd.users.read"), None).await {
        Err(Error::Http { status, .. }) if status.as_u16() == 403 => {
            println!("    ok: confd.users.read refused with 403");
        }
        other => return Err(format!("expected a 403, got {other:?}").into()),
    }

    client.set_token(Some(token.token.clone()));
    println!("policy create, edit, delete");
    let policy = client
        .policies()
        .create(
            &PolicyRequest::new()
                .name("user")
                .description("The default policy for users")
                .acl(["auth.users.me.read"]),
            None,
        )
        .await?;
    println!("    created {} with {:?}", policy.uuid, policy.acl);
    let policy = client
        .policies()
        .edit(
            &policy.uuid,
            &PolicyRequest::new()
                .name("user")
                .description("A new description")
                .acl(["auth.users.me.read", "auth.users.me.password.update"]),
        )
        .await?;
    check(policy.acl.len() == 2, "the policy now has two accesses")?;

    println!("tenant, user with a group");
    let tenant = client
        .tenants()
        .create(&TenantRequest::new().name("sales"), None)
        .await?;
    let carol = client
        .users()
        .create(
            &UserRequest::new()
                .username("carol")
                .email_address("carol@example.com")
                .password("c4rol"),
            Some(&tenant.uuid),
        )
        .await?;
    let group = client
        .groups()
        .create(&GroupRequest::new().name("support"), Some(&tenant.uuid))
        .await?;
    client.groups().add_user(&group.uuid, &carol.uuid).await?;
    client
        .groups()
        .add_policy(&group.uuid, &policy.uuid, None)
        .await?;
    let groups = client
        .users()
        .get_groups(&carol.uuid, &ListParams::new(), None)
        .await?;
    check(
        groups.items.iter().any(|g| g.name == "support"),
        "carol is in support",
    )?;
    client.policies().delete(&policy.uuid).await?;
    println!("    ok: policy deleted");

    println!("revoke");
    client.token().revoke(&t).await?;
    check(
        !client.token().is_valid(&t, None, None).await?,
        "the revoked token is not valid",
    )?;
    println!("walkthrough done");
    Ok(())
}
