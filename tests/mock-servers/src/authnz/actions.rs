//! In-memory sessions, users, logins and API keys, enough for the demo and tests.

use std::collections::{HashMap, HashSet, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::wire::Reply;

/// How many reqids the server remembers (0.1.3 trims its set at about 1000).
const REQID_MEMORY: usize = 1000;

/// A user.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct User {
    /// Id.
    pub user_id: i64,
    /// UUID-like id.
    pub system_id: String,
    /// Stored (case-folded) e-mail.
    pub email: String,
    /// Full name.
    pub full_name: String,
    password: String,
    /// Role.
    pub role: String,
    /// Active.
    pub is_active: bool,
    /// E-mail verified.
    pub email_verified: bool,
    /// Created.
    pub created_on: String,
}

#[derive(Debug, Clone)]
struct Session {
    user_id: i64,
    ip_address: String,
    user_agent: String,
    created: String,
    expires: PrimitiveDateTime,
    extra_info_json: Value,
}

#[derive(Debug, Clone)]
struct ApiKey {
    uid: i64,
    rol: String,
    session_token: String,
    expires: PrimitiveDateTime,
    not_before: PrimitiveDateTime,
}

/// The mock's whole state.
#[derive(Debug)]
pub struct State {
    users: HashMap<i64, User>,
    next_user_id: i64,
    sessions: HashMap<String, Session>,
    apikeys: HashMap<String, ApiKey>,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
}

fn now() -> PrimitiveDateTime {
    let t = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(t.date(), t.time())
}

/// Python's `isoformat()` of a naive datetime (the fraction omitted when zero).
fn iso(t: PrimitiveDateTime) -> String {
    let fmt = if t.microsecond() == 0 {
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]").to_vec()
    } else {
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]")
            .to_vec()
    };
    t.format(&fmt).unwrap_or_default()
}

/// The server's `expires` parser: the fraction is mandatory, a trailing `Z` optional.
fn parse_expires(text: &str) -> Option<PrimitiveDateTime> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    PrimitiveDateTime::parse(
        text,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
    )
    .ok()
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The mock's tokens need not be secure, but a failing OS generator means a broken
    // machine; an all-zero token still keeps the mock running.
    let _ = getrandom::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn str_arg<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn int_arg(body: &Map<String, Value>, key: &str) -> Option<i64> {
    body.get(key).and_then(Value::as_i64)
}

fn has_all(body: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|k| body.contains_key(*k))
}

impl State {
    /// The state after setup: superuser 1, anonymous 2, locked dummy 3.
    pub(super) fn new(admin_email: &str, admin_password: &str) -> Self {
        let mut state = Self {
            users: HashMap::new(),
            next_user_id: 1,
            sessions: HashMap::new(),
            apikeys: HashMap::new(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
        };
        state.add_user(
            admin_email,
            "The superuser",
            admin_password,
            "superuser",
            true,
        );
        state.add_user(
            "anonuser@localhost",
            "The systemwide anonymous user",
            "",
            "anonymous",
            true,
        );
        state.add_user(
            "dummyuser@localhost",
            "The systemwide locked user",
            "",
            "locked",
            false,
        );
        state
    }

    fn add_user(
        &mut self,
        email: &str,
        name: &str,
        password: &str,
        role: &str,
        active: bool,
    ) -> i64 {
        let user_id = self.next_user_id;
        self.next_user_id += 1;
        self.users.insert(
            user_id,
            User {
                user_id,
                system_id: format!("00000000-0000-4000-8000-{user_id:012}"),
                email: email.to_owned(),
                full_name: name.to_owned(),
                password: password.to_owned(),
                role: role.to_owned(),
                is_active: active,
                email_verified: active,
                created_on: iso(now()),
            },
        );
        user_id
    }

    /// Users by id (for assertions).
    pub fn user(&self, user_id: i64) -> Option<&User> {
        self.users.get(&user_id)
    }

    /// The number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Records a reqid; `false` when it was seen among the last 1000.
    pub(super) fn record_reqid(&mut self, reqid: &Value) -> bool {
        let key = reqid.to_string();
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.seen_order.push_back(key);
        if self.seen_order.len() > REQID_MEMORY
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }

    /// Runs one action. `Err(status)` is an HTTP error (unknown name, or a 0.1.3 bug the
    /// mock reproduces).
    pub(super) fn dispatch(
        &mut self,
        request: &str,
        body: &Map<String, Value>,
    ) -> Result<Reply, u16> {
        match request {
            "session-new" => Ok(self.session_new(body)),
            "session-exists" => Ok(self.session_exists(body)),
            "session-delete" => {
                if let Some(token) = str_arg(body, "session_token") {
                    self.delete_session(token);
                }
                Ok(Reply::ok("Session deleted successfully.", json!({})))
            }
            "session-setinfo" => Ok(self.session_setinfo(body)),
            "user-new" => Ok(self.user_new(body)),
            "user-verify-emailaddr" => self.user_verify(body),
            "user-login" => self.user_login(body),
            "user-logout" => Ok(self.user_logout(body)),
            "user-passcheck" => Ok(self.user_passcheck(body)),
            "user-list" => Ok(self.user_list(body)),
            "apikey-new" => Ok(self.apikey_new(body)),
            "apikey-verify" => self.apikey_verify(body),
            "session-delete-userid" => Ok(self.session_delete_userid(body)),
            "user-changepass" => Ok(self.user_changepass(body)),
            "user-delete" => Ok(self.user_delete(body)),
            "user-lock" => Ok(self.user_lock(body)),
            "user-check-access" => Ok(self.user_check_access(body)),
            "user-edit"
            | "user-resetpass"
            | "user-signup-sendemail"
            | "user-forgotpass-sendemail"
            | "user-check-limit" => Ok(Reply::fail(
                &format!("pbx-mock does not implement {request}."),
                json!({}),
            )),
            _ => Err(400),
        }
    }

    fn live_session(&self, token: &str) -> Option<&Session> {
        self.sessions.get(token).filter(|s| s.expires > now())
    }

    fn delete_session(&mut self, token: &str) {
        self.sessions.remove(token);
        self.apikeys.retain(|_, k| k.session_token != token);
    }

    fn session_new(&mut self, body: &Map<String, Value>) -> Reply {
        let fail = || {
            Reply::fail(
                "Could not create a new session.",
                json!({"session_token": null, "expires": null}),
            )
        };
        if !has_all(
            body,
            &[
                "ip_address",
                "user_agent",
                "user_id",
                "expires",
                "extra_info_json",
            ],
        ) {
            return Reply::fail(
                "Invalid session initiation request. Missing some parameters.",
                json!({"session_token": null, "expires": null}),
            );
        }
        let (Some(ip), Some(ua), Some(expires_text)) = (
            str_arg(body, "ip_address"),
            str_arg(body, "user_agent"),
            str_arg(body, "expires"),
        ) else {
            return fail();
        };
        let Some(expires) = parse_expires(expires_text) else {
            return fail();
        };
        if ip.parse::<std::net::IpAddr>().is_err() {
            return fail();
        }
        let user_id = match body.get("user_id") {
            Some(Value::Null) => 2,
            Some(v) => match v.as_i64() {
                Some(0) => 2,
                Some(id) => id,
                None => return fail(),
            },
            None => return fail(),
        };
        if !self.users.contains_key(&user_id) {
            return fail();
        }
        let token = random_token();
        self.sessions.insert(
            token.clone(),
            Session {
                user_id,
                ip_address: ip.to_owned(),
                user_agent: ua.to_owned(),
                created: iso(now()),
                expires,
                extra_info_json: body.get("extra_info_json").cloned().unwrap_or(Value::Null),
            },
        );
        Reply::ok(
            "Generated session_token successfully. Session initiated.",
            json!({"session_token": token, "expires": iso(expires)}),
        )
    }

    fn session_info(&self, token: &str, session: &Session) -> Value {
        let user = self.users.get(&session.user_id);
        json!({
            "user_id": session.user_id,
            "system_id": user.map(|u| u.system_id.clone()),
            "full_name": user.map(|u| u.full_name.clone()),
            "email": user.map(|u| u.email.clone()),
            "email_verified": user.map(|u| u.email_verified),
            "emailverify_sent_datetime": null,
            "is_active": user.map(|u| u.is_active),
            "last_login_try": null,
            "last_login_success": null,
            "created_on": user.map(|u| u.created_on.clone()),
            "user_role": user.map(|u| u.role.clone()),
            "session_token": token,
            "ip_address": session.ip_address,
            "user_agent": session.user_agent,
            "created": session.created,
            "expires": iso(session.expires),
            "extra_info_json": session.extra_info_json,
        })
    }

    fn session_exists(&self, body: &Map<String, Value>) -> Reply {
        let Some(token) = str_arg(body, "session_token") else {
            return Reply::fail("No session token provided.", json!({"session_info": null}));
        };
        match self.live_session(token) {
            Some(s) => Reply::ok(
                "Session look up successful.",
                json!({"session_info": self.session_info(token, s)}),
            ),
            None => Reply::fail("Session look up failed.", json!({"session_info": null})),
        }
    }

    fn session_setinfo(&mut self, body: &Map<String, Value>) -> Reply {
        let (Some(token), Some(extra)) = (str_arg(body, "session_token"), body.get("extra_info"))
        else {
            return Reply::fail(
                "Invalid session info update request: missing or invalid parameters.",
                json!({"session_info": null}),
            );
        };
        let alive = self.live_session(token).is_some();
        match self.sessions.get_mut(token).filter(|_| alive) {
            Some(s) => {
                s.extra_info_json = extra.clone();
                let s = s.clone();
                Reply::ok(
                    "Session extra_info updated successfully.",
                    json!({"session_info": {
                        "user_id": s.user_id, "session_token": token,
                        "ip_address": s.ip_address, "user_agent": s.user_agent,
                        "created": s.created, "expires": iso(s.expires),
                        "extra_info_json": s.extra_info_json,
                    }}),
                )
            }
            None => Reply::fail(
                "Session extra_info update failed.",
                json!({"session_info": null}),
            ),
        }
    }

    fn user_new(&mut self, body: &Map<String, Value>) -> Reply {
        let null = json!({"user_email": null, "user_id": null, "send_verification": false});
        let (Some(name), Some(email), Some(password)) = (
            str_arg(body, "full_name"),
            str_arg(body, "email"),
            str_arg(body, "password"),
        ) else {
            return Reply::fail("Invalid user creation request.", null);
        };
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            return Reply::fail("The email address provided doesn't seem to be valid.", null);
        }
        if password.chars().count() < 12 {
            return Reply::fail(
                "Your password is too short. It must have at least 12 characters.",
                null,
            );
        }
        if let Some(existing) = self.users.values().find(|u| u.email == email) {
            return Reply::fail(
                "User account created. Please verify your email address to log in.",
                json!({"user_email": email, "user_id": existing.user_id,
                       "send_verification": !existing.is_active}),
            );
        }
        let user_id = self.add_user(&email, &name.to_lowercase(), password, "locked", false);
        Reply::ok(
            "User account created. Please verify your email address to log in.",
            json!({"user_email": email, "user_id": user_id, "send_verification": true}),
        )
    }

    fn user_verify(&mut self, body: &Map<String, Value>) -> Result<Reply, u16> {
        let Some(email) = str_arg(body, "email") else {
            return Ok(Reply::fail(
                "Invalid email verification toggle request.",
                json!({"user_id": null, "is_active": null, "user_role": null}),
            ));
        };
        // 0.1.3 raises on an unknown address, which the server turns into HTTP 400.
        let user = self
            .users
            .values_mut()
            .find(|u| u.email == email)
            .ok_or(400u16)?;
        if !user.is_active {
            user.is_active = true;
            user.email_verified = true;
            user.role = "authenticated".into();
        }
        Ok(Reply::ok(
            "Email verification toggle request succeeded.",
            json!({"user_id": user.user_id, "is_active": user.is_active, "user_role": user.role}),
        ))
    }

    fn user_login(&mut self, body: &Map<String, Value>) -> Result<Reply, u16> {
        let failed = || {
            Reply::fail(
                "Sorry, that user ID and password combination didn't work.",
                json!({"user_id": null}),
            )
        };
        // 0.1.3 reads `email` before checking anything else: without it, HTTP 400.
        let email = body.get("email").ok_or(400u16)?;
        let (Some(token), Some(password)) =
            (str_arg(body, "session_token"), str_arg(body, "password"))
        else {
            return Ok(Reply::fail(
                "No session token provided.",
                json!({"user_id": null}),
            ));
        };
        let had_session = self.live_session(token).is_some();
        // The server deletes the session whatever the outcome.
        self.delete_session(token);
        if !had_session {
            return Ok(failed());
        }
        let found = self.users.values().find(|u| {
            Some(u.email.as_str()) == email.as_str()
                && u.is_active
                && u.email_verified
                && u.role != "locked"
                && u.password == password
        });
        Ok(match found {
            Some(u) => Reply::ok("Login successful.", json!({"user_id": u.user_id})),
            None => failed(),
        })
    }

    fn user_logout(&mut self, body: &Map<String, Value>) -> Reply {
        let (Some(token), Some(user_id)) =
            (str_arg(body, "session_token"), int_arg(body, "user_id"))
        else {
            return Reply::fail("Invalid user logout request.", json!({"user_id": null}));
        };
        match self.live_session(token) {
            Some(s) if s.user_id == user_id => {
                self.delete_session(token);
                Reply::ok("Logout successful.", json!({"user_id": user_id}))
            }
            _ => Reply::fail(
                "Logout failed. Invalid session_token for user_id.",
                json!({"user_id": null}),
            ),
        }
    }

    fn user_passcheck(&self, body: &Map<String, Value>) -> Reply {
        let failed = || {
            Reply::fail(
                "Sorry, that user ID and password combination didn't work.",
                json!({"user_id": null}),
            )
        };
        let (Some(token), Some(password)) =
            (str_arg(body, "session_token"), str_arg(body, "password"))
        else {
            return Reply::fail("No session token provided.", json!({"user_id": null}));
        };
        let Some(session) = self.live_session(token) else {
            return failed();
        };
        match self.users.get(&session.user_id) {
            Some(u) if u.password == password && u.is_active => {
                Reply::ok("Verification successful.", json!({"user_id": u.user_id}))
            }
            _ => failed(),
        }
    }

    fn user_list(&self, body: &Map<String, Value>) -> Reply {
        if !body.contains_key("user_id") {
            return Reply::fail("No user_id provided.", json!({"user_info": null}));
        }
        let wanted = int_arg(body, "user_id");
        let mut users: Vec<&User> = self
            .users
            .values()
            .filter(|u| wanted.is_none_or(|id| id == u.user_id))
            .collect();
        users.sort_by_key(|u| u.user_id);
        let info: Vec<Value> = users
            .iter()
            .map(|u| {
                json!({"user_id": u.user_id, "system_id": u.system_id, "full_name": u.full_name,
                       "email": u.email, "is_active": u.is_active, "last_login_try": null,
                       "last_login_success": null, "created_on": u.created_on,
                       "user_role": u.role})
            })
            .collect();
        Reply::ok("User look up successful.", json!({"user_info": info}))
    }

    fn apikey_new(&mut self, body: &Map<String, Value>) -> Reply {
        let null = json!({"apikey": null, "expires": null});
        let keys = [
            "audience",
            "subject",
            "apiversion",
            "expires_days",
            "not_valid_before",
            "user_id",
            "user_role",
            "ip_address",
            "user_agent",
            "session_token",
        ];
        if !has_all(body, &keys) {
            return Reply::fail("Invalid API key request. Missing some parameters.", null);
        }
        let token = str_arg(body, "session_token").unwrap_or_default();
        let user_id = int_arg(body, "user_id");
        let role = str_arg(body, "user_role");
        let matches = self.live_session(token).is_some_and(|s| {
            Some(s.user_id) == user_id
                && Some(s.ip_address.as_str()) == str_arg(body, "ip_address")
                && Some(s.user_agent.as_str()) == str_arg(body, "user_agent")
                && self.users.get(&s.user_id).map(|u| u.role.as_str()) == role
        });
        let (Some(uid), Some(rol), true) = (user_id, role, matches) else {
            return Reply::fail("Invalid API key request.", null);
        };
        let days = body
            .get("expires_days")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let nbf_secs = body
            .get("not_valid_before")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let issued = now();
        let expires = issued + Duration::seconds_f64(days * 86_400.0);
        let not_before = issued + Duration::seconds_f64(nbf_secs);
        let tkn = random_token();
        self.apikeys.insert(
            tkn.clone(),
            ApiKey {
                uid,
                rol: rol.to_owned(),
                session_token: token.to_owned(),
                expires,
                not_before,
            },
        );
        let dict = json!({
            "ver": body["apiversion"], "uid": uid, "rol": rol, "clt": body["user_agent"],
            "aud": body["audience"], "sub": body["subject"], "ipa": body["ip_address"],
            "tkn": tkn, "iat": iso(issued), "nbf": iso(not_before), "exp": iso(expires),
        });
        Reply::ok(
            &format!(
                "API key generated successfully for user_id = {uid}, expires: {}.",
                iso(expires)
            ),
            json!({"apikey": dict.to_string(), "expires": iso(expires)}),
        )
    }

    fn apikey_verify(&self, body: &Map<String, Value>) -> Result<Reply, u16> {
        let Some(dict) = body.get("apikey_dict").and_then(Value::as_object) else {
            return Ok(Reply::fail(
                "Some required keys are missing from payload.",
                json!({}),
            ));
        };
        // 0.1.3 indexes these keys directly: a missing one raises, answered with HTTP 400.
        for key in ["tkn", "uid", "rol", "aud", "sub", "ver", "exp"] {
            if !dict.contains_key(key) {
                return Err(400);
            }
        }
        let tkn = dict["tkn"].as_str().unwrap_or_default();
        let valid = self.apikeys.get(tkn).is_some_and(|k| {
            Some(k.uid) == dict["uid"].as_i64()
                && Some(k.rol.as_str()) == dict["rol"].as_str()
                && k.expires > now()
                && k.not_before <= now()
                && self.live_session(&k.session_token).is_some()
        });
        Ok(if valid {
            Reply::ok("API key verified successfully.", json!({}))
        } else {
            Reply::fail("API key could not be verified.", json!({}))
        })
    }

    fn session_user(&self, body: &Map<String, Value>) -> Option<(String, i64)> {
        let token = str_arg(body, "session_token")?;
        let session = self.live_session(token)?;
        Some((token.to_owned(), session.user_id))
    }

    fn delete_sessions_of(&mut self, user_id: i64, keep: Option<&str>) {
        let doomed: Vec<String> = self
            .sessions
            .iter()
            .filter(|(t, s)| s.user_id == user_id && Some(t.as_str()) != keep)
            .map(|(t, _)| t.clone())
            .collect();
        for token in doomed {
            self.delete_session(&token);
        }
    }

    fn session_delete_userid(&mut self, body: &Map<String, Value>) -> Reply {
        let (Some(user_id), Some(keep), true) = (
            int_arg(body, "user_id"),
            str_arg(body, "session_token"),
            body.contains_key("keep_current_session"),
        ) else {
            return Reply::fail("Invalid session delete request.", json!({}));
        };
        // Like 0.1.3: `keep_current_session` is ignored and the given session is kept.
        let keep = keep.to_owned();
        self.delete_sessions_of(user_id, Some(&keep));
        Reply::ok("Sessions deleted successfully.", json!({}))
    }

    fn user_changepass(&mut self, body: &Map<String, Value>) -> Reply {
        let keys = [
            "user_id",
            "session_token",
            "full_name",
            "email",
            "current_password",
            "new_password",
        ];
        let user_id = int_arg(body, "user_id");
        let email = body.get("email").cloned().unwrap_or(Value::Null);
        let fail = |m: &str| Reply::fail(m, json!({"user_id": user_id, "email": email}));
        if !has_all(body, &keys) {
            return fail("Invalid password change request.");
        }
        let Some((token, owner)) = self.session_user(body) else {
            return fail("Password change request failed.");
        };
        let current = str_arg(body, "current_password").unwrap_or_default();
        let new = str_arg(body, "new_password").unwrap_or_default();
        if Some(owner) != user_id {
            return fail("Password change request failed.");
        }
        if new == current {
            return fail("Your new password cannot be the same as your old password.");
        }
        if new.chars().count() < 12 {
            return fail("Your password is too short. It must have at least 12 characters.");
        }
        match self.users.get_mut(&owner) {
            Some(u) if u.password == current => new.clone_into(&mut u.password),
            _ => return fail("Your current password did not match the stored password."),
        }
        self.delete_sessions_of(owner, Some(&token));
        let stored = self.users.get(&owner).map(|u| u.email.clone());
        Reply::ok(
            "Password changed successfully.",
            json!({"user_id": owner, "email": stored}),
        )
    }

    fn user_delete(&mut self, body: &Map<String, Value>) -> Reply {
        let null = json!({"user_id": null, "email": null});
        let (Some(email), Some(user_id), Some(password)) = (
            str_arg(body, "email"),
            int_arg(body, "user_id"),
            str_arg(body, "password"),
        ) else {
            return Reply::fail("Invalid user deletion request.", null);
        };
        let ok = self
            .users
            .get(&user_id)
            .is_some_and(|u| u.email == email && u.password == password && u.role != "superuser");
        if !ok {
            return Reply::fail("User deletion request failed.", null);
        }
        self.users.remove(&user_id);
        self.delete_sessions_of(user_id, None);
        Reply::ok(
            "User successfully deleted from DB.",
            json!({"user_id": user_id, "email": email}),
        )
    }

    fn user_lock(&mut self, body: &Map<String, Value>) -> Reply {
        let null = json!({"user_info": null});
        let keys = [
            "user_id",
            "user_role",
            "session_token",
            "target_userid",
            "action",
        ];
        if !has_all(body, &keys) {
            return Reply::fail("Invalid user lock toggle request.", null);
        }
        let actor = int_arg(body, "user_id");
        let target = int_arg(body, "target_userid").unwrap_or_default();
        let is_superuser = self.session_user(body).is_some_and(|(_, owner)| {
            Some(owner) == actor
                && str_arg(body, "user_role") == Some("superuser")
                && self
                    .users
                    .get(&owner)
                    .is_some_and(|u| u.role == "superuser")
        });
        let lock = match str_arg(body, "action") {
            Some("lock") => true,
            Some("unlock") => false,
            _ => return Reply::fail("Unknown action requested for user lock toggle.", null),
        };
        if !is_superuser || Some(target) == actor || matches!(target, 2 | 3) {
            return Reply::fail("User lock toggle request failed.", null);
        }
        let Some(user) = self.users.get_mut(&target) else {
            return Reply::fail("User lock toggle request failed.", null);
        };
        user.role = if lock { "locked" } else { "authenticated" }.into();
        user.is_active = !lock;
        let info = json!({"user_id": user.user_id, "system_id": user.system_id,
                          "user_role": user.role, "full_name": user.full_name,
                          "email": user.email, "is_active": user.is_active});
        if lock {
            self.delete_sessions_of(target, None);
        }
        Reply::ok(
            "User lock toggle request succeeded.",
            json!({"user_info": info}),
        )
    }

    /// A simplified policy: superusers may do anything; others may act on their own items
    /// and view public ones.
    fn user_check_access(&self, body: &Map<String, Value>) -> Reply {
        let user = int_arg(body, "user_id").and_then(|id| self.users.get(&id));
        let allowed = user.is_some_and(|u| {
            u.is_active
                && Some(u.role.as_str()) == str_arg(body, "user_role")
                && (u.role == "superuser"
                    || int_arg(body, "target_owner") == Some(u.user_id)
                    || (str_arg(body, "target_visibility") == Some("public")
                        && str_arg(body, "action") == Some("view")))
        });
        let message = format!(
            "Access request check successful. Access granted: {}.",
            if allowed { "True" } else { "False" }
        );
        if allowed {
            Reply::ok(&message, json!({}))
        } else {
            Reply::fail(&message, json!({}))
        }
    }
}
