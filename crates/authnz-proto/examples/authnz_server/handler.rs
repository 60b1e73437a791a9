//! An in-memory authnzerver-compatible handler: users, sessions and API keys, enough for
//! a frontend's login, session and API-key flows. Shared by the example server and the
//! crate's tests.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use authnz_proto::server::Reply;
use authnz_proto::{
    ApiKeyDict, ApikeyNew, ApikeyNewResponse, AuthnzRequest, NoFields, SessionExistsResponse,
    SessionInfo, SessionNew, SessionNewResponse, Timestamp, UserIdResponse, UserLogin, UserNew,
    UserNewResponse,
};
use pbx_auth_core::AccessToken;
use sha2::{Digest as _, Sha256};

/// The anonymous user's id, as in authnzerver (1 is the superuser, 3 the locked user).
const ANONYMOUS: i64 = 2;

struct User {
    email: String,
    full_name: String,
    role: &'static str,
    salt: [u8; 16],
    password_hash: [u8; 32],
}

struct Session {
    user_id: i64,
    ip_address: String,
    user_agent: String,
    created: Timestamp,
    expires: Timestamp,
    extra_info_json: Option<serde_json::Value>,
}

struct ApiKey {
    session: String,
    user_id: i64,
    role: String,
    not_before: SystemTime,
    expires: SystemTime,
}

#[derive(Default)]
struct State {
    users: HashMap<i64, User>,
    next_user: i64,
    sessions: HashMap<String, Session>,
    apikeys: HashMap<String, ApiKey>,
}

/// The handler's state behind one lock (requests are short and never wait while holding
/// it).
pub(crate) struct Store {
    state: Mutex<State>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random generator");
    hex::encode(bytes)
}

fn hash(salt: &[u8], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

impl Store {
    /// A store with the anonymous user only.
    pub(crate) fn new() -> Self {
        let mut state = State {
            next_user: 4,
            ..State::default()
        };
        state.users.insert(
            ANONYMOUS,
            User {
                email: "anonuser@localhost".to_owned(),
                full_name: "The systemwide anonymous user".to_owned(),
                role: "anonymous",
                salt: [0; 16],
                // No password hashes to this.
                password_hash: [0; 32],
            },
        );
        Self {
            state: Mutex::new(state),
        }
    }

    /// Answers one request.
    pub(crate) fn handle(&self, request: AuthnzRequest) -> Reply {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let result = match request {
            AuthnzRequest::SessionNew(body) => session_new(&mut state, body),
            AuthnzRequest::SessionExists(body) => {
                session_exists(&state, body.session_token.expose_secret())
            }
            AuthnzRequest::SessionDelete(body) => {
                let token = body.session_token.expose_secret();
                let found = state.sessions.remove(token).is_some();
                // A session's API keys go with it, as in authnzerver.
                state.apikeys.retain(|_, k| k.session != token);
                if found {
                    Reply::success(&NoFields::default())
                        .map(|r| r.message("Session deleted successfully."))
                } else {
                    Ok(Reply::failure("Session could not be deleted."))
                }
            }
            AuthnzRequest::UserNew(body) => user_new(&mut state, body),
            AuthnzRequest::UserLogin(body) => user_login(&mut state, &body),
            AuthnzRequest::ApikeyNew(body) => apikey_new(&mut state, body),
            AuthnzRequest::ApikeyVerify(body) => Ok(apikey_verify(&state, &body.apikey_dict)),
            other => Ok(Reply::failure(format!(
                "This service does not implement {}.",
                other.name()
            ))),
        };
        result.unwrap_or_else(|_| Reply::failure("The reply could not be written."))
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn session_new(state: &mut State, body: SessionNew) -> Result<Reply, authnz_proto::Error> {
    let user_id = body.user_id.filter(|id| *id != 0).unwrap_or(ANONYMOUS);
    if !state.users.contains_key(&user_id) {
        return Reply::new(false, &SessionNewResponse::default())
            .map(|r| r.message("Could not create a new session."));
    }
    let token = random_hex();
    state.sessions.insert(
        token.clone(),
        Session {
            user_id,
            ip_address: body.ip_address,
            user_agent: body.user_agent,
            created: Timestamp::now(),
            expires: body.expires,
            extra_info_json: body.extra_info_json,
        },
    );
    let mut response = SessionNewResponse::default();
    response.session_token = Some(AccessToken::new(token));
    response.expires = Some(body.expires);
    Reply::success(&response).map(|r| r.message("Generated session_token successfully."))
}

fn live_session<'s>(state: &'s State, token: &str) -> Option<&'s Session> {
    state
        .sessions
        .get(token)
        .filter(|s| s.expires.to_system_time() > SystemTime::now())
}

fn session_exists(state: &State, token: &str) -> Result<Reply, authnz_proto::Error> {
    let Some(session) = live_session(state, token) else {
        return Reply::new(false, &SessionExistsResponse::default())
            .map(|r| r.message("Session look up failed."));
    };
    let user = &state.users[&session.user_id];
    let mut info = SessionInfo::default();
    info.user_id = Some(session.user_id);
    info.full_name = Some(user.full_name.clone());
    info.email = Some(user.email.clone());
    info.email_verified = Some(true);
    info.is_active = Some(true);
    info.user_role = Some(user.role.to_owned());
    info.session_token = Some(AccessToken::new(token));
    info.ip_address = Some(session.ip_address.clone());
    info.user_agent = Some(session.user_agent.clone());
    info.created = Some(session.created);
    info.expires = Some(session.expires);
    info.extra_info_json = session.extra_info_json.clone();
    let mut response = SessionExistsResponse::default();
    response.session_info = Some(info);
    Reply::success(&response).map(|r| r.message("Session look up successful."))
}

fn user_new(state: &mut State, body: UserNew) -> Result<Reply, authnz_proto::Error> {
    let email = body.email.trim().to_lowercase();
    let password = body.password.expose_secret();
    let mut refused = Reply::new(false, &UserNewResponse::default())?;
    if !email.contains('@') {
        refused = refused.message("The email address provided doesn't seem to be valid.");
    }
    if password.chars().count() < 12 {
        refused =
            refused.message("Your password is too short. It must have at least 12 characters.");
    }
    if let Some((id, _)) = state.users.iter().find(|(_, u)| u.email == email) {
        let mut response = UserNewResponse::default();
        response.user_email = Some(email);
        response.user_id = Some(*id);
        response.send_verification = Some(false);
        return Reply::new(false, &response).map(|r| {
            r.message("User account created. Please verify your email address to log in.")
        });
    }
    if !refused.messages.is_empty() {
        return Ok(refused);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random generator");
    let id = state.next_user;
    state.next_user += 1;
    state.users.insert(
        id,
        User {
            email: email.clone(),
            full_name: body.full_name,
            role: "authenticated",
            salt,
            password_hash: hash(&salt, password),
        },
    );
    let mut response = UserNewResponse::default();
    response.user_email = Some(email);
    response.user_id = Some(id);
    // This service has no e-mail verification: accounts are usable at once.
    response.send_verification = Some(false);
    Reply::success(&response).map(|r| r.message("User account created."))
}

fn user_login(state: &mut State, body: &UserLogin) -> Result<Reply, authnz_proto::Error> {
    let token = body.session_token.expose_secret();
    if live_session(state, token).is_none() {
        return Reply::new(false, &UserIdResponse::default())
            .map(|r| r.message("No valid session token provided."));
    }
    state.sessions.remove(token);
    let found = state.users.iter().find(|(id, u)| {
        **id != ANONYMOUS
            && u.email == body.email
            && hash(&u.salt, body.password.expose_secret()) == u.password_hash
    });
    match found {
        Some((id, _)) => {
            let mut response = UserIdResponse::default();
            response.user_id = Some(*id);
            Reply::success(&response).map(|r| r.message("Login successful."))
        }
        None => Reply::new(false, &UserIdResponse::default())
            .map(|r| r.message("Sorry, that user ID and password combination didn't work.")),
    }
}

fn seconds(n: &serde_json::Number) -> Duration {
    Duration::from_secs_f64(n.as_f64().unwrap_or(0.0).clamp(0.0, 3.2e9))
}

fn apikey_new(state: &mut State, body: ApikeyNew) -> Result<Reply, authnz_proto::Error> {
    let matches = live_session(state, body.session_token.expose_secret()).is_some_and(|s| {
        s.user_id == body.user_id
            && s.ip_address == body.ip_address
            && s.user_agent == body.user_agent
    });
    if !matches {
        return Reply::new(false, &ApikeyNewResponse::default())
            .map(|r| r.message("Could not generate API key: the session does not match."));
    }
    let now = SystemTime::now();
    let expires = now + seconds(&body.expires_days) * 86_400;
    let not_before = now + seconds(&body.not_valid_before);
    let tkn = random_hex();
    let naive = |t: SystemTime| Timestamp::from_system_time(t).to_string();
    let dict = serde_json::json!({
        "ver": body.apiversion,
        "uid": body.user_id,
        "rol": body.user_role,
        "clt": body.user_agent,
        "aud": body.audience,
        "sub": body.subject,
        "ipa": body.ip_address,
        "tkn": tkn,
        "iat": naive(now),
        "nbf": naive(not_before),
        "exp": naive(expires),
    });
    state.apikeys.insert(
        tkn,
        ApiKey {
            session: body.session_token.expose_secret().to_owned(),
            user_id: body.user_id,
            role: body.user_role,
            not_before,
            expires,
        },
    );
    let mut response = ApikeyNewResponse::default();
    response.apikey = Some(AccessToken::new(dict.to_string()));
    response.expires = Some(Timestamp::from_system_time(expires));
    Reply::success(&response).map(|r| r.message("API key generated successfully."))
}

fn apikey_verify(state: &State, dict: &ApiKeyDict) -> Reply {
    let now = SystemTime::now();
    let ok = state
        .apikeys
        .get(dict.tkn.expose_secret())
        .is_some_and(|k| {
            k.user_id == dict.uid && k.role == dict.rol && k.not_before <= now && now < k.expires
        });
    if ok {
        Reply::success(&NoFields::default()).map_or_else(
            |_| Reply::failure("The reply could not be written."),
            |r| r.message("API key verified successfully."),
        )
    } else {
        Reply::failure("API key could not be verified or has expired.")
    }
}
