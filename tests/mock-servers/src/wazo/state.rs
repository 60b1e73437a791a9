//! The stand-in's in-memory data: tenants, users, policies, groups, tokens, sessions and
//! refresh tokens.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

/// A random version-4 UUID.
pub(crate) fn uuid4() -> String {
    let mut b = [0u8; 16];
    // A mock without randomness still works; tokens just become predictable.
    let _ = getrandom::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Whether `s` is a UUID in canonical text form (the server's `<uuid:...>` routes).
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff`, as wazo-auth writes its `utc_*` times.
pub(crate) fn iso(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRec {
    pub(crate) token: String,
    pub(crate) auth_id: String,
    pub(crate) session_uuid: String,
    pub(crate) acl: Vec<String>,
    pub(crate) issued: SystemTime,
    pub(crate) expires: SystemTime,
    pub(crate) user_agent: String,
    pub(crate) tenant_uuid: String,
    pub(crate) refresh_token: Option<String>,
}

impl TokenRec {
    pub(crate) fn to_json(&self, with_refresh: bool) -> Value {
        let mut v = json!({
            "token": self.token,
            "auth_id": self.auth_id,
            "session_uuid": self.session_uuid,
            "acl": self.acl,
            "xivo_user_uuid": self.auth_id,
            "xivo_uuid": "00000000-0000-4000-8000-00000000cafe",
            "issued_at": iso(self.issued),
            "expires_at": iso(self.expires),
            "utc_issued_at": iso(self.issued),
            "utc_expires_at": iso(self.expires),
            "user_agent": self.user_agent,
            "remote_addr": "127.0.0.1",
            "metadata": {
                "uuid": self.auth_id,
                "tenant_uuid": self.tenant_uuid,
                "auth_id": self.auth_id,
                "pbx_user_uuid": self.auth_id,
                "xivo_uuid": "00000000-0000-4000-8000-00000000cafe",
                "purpose": "user",
            },
        });
        if let (true, Some(r)) = (with_refresh, &self.refresh_token) {
            v["refresh_token"] = json!(r);
        }
        v
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshRec {
    pub(crate) token: String,
    pub(crate) client_id: String,
    pub(crate) user_uuid: String,
    pub(crate) tenant_uuid: String,
    pub(crate) created_at: String,
    pub(crate) mobile: bool,
}

impl RefreshRec {
    pub(crate) fn to_json(&self) -> Map<String, Value> {
        let v = json!({
            "client_id": self.client_id,
            "created_at": self.created_at,
            "mobile": self.mobile,
            "user_uuid": self.user_uuid,
            "tenant_uuid": self.tenant_uuid,
            "metadata": {},
        });
        v.as_object().cloned().unwrap_or_default()
    }
}

/// Everything the stand-in knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) top_tenant: String,
    pub(crate) tenants: BTreeMap<String, Map<String, Value>>,
    pub(crate) users: BTreeMap<String, Map<String, Value>>,
    pub(crate) passwords: HashMap<String, String>,
    pub(crate) user_acl: HashMap<String, Vec<String>>,
    pub(crate) policies: BTreeMap<String, Map<String, Value>>,
    pub(crate) groups: BTreeMap<String, Map<String, Value>>,
    pub(crate) user_policies: HashMap<String, Vec<String>>,
    pub(crate) group_users: HashMap<String, Vec<String>>,
    pub(crate) group_policies: HashMap<String, Vec<String>>,
    pub(crate) tokens: HashMap<String, TokenRec>,
    pub(crate) sessions: BTreeMap<String, Map<String, Value>>,
    pub(crate) refresh: Vec<RefreshRec>,
    pub(crate) clock_offset: Duration,
    pub(crate) default_expiration: u64,
}

impl State {
    pub(crate) fn new() -> Self {
        let top = uuid4();
        let mut tenants = BTreeMap::new();
        let tenant = json!({ "uuid": top, "name": "master", "slug": "master", "parent_uuid": top,
            "domain_names": [], "contact": null, "phone": null, "address": null,
            "default_authentication_method": "native" });
        tenants.insert(top.clone(), tenant.as_object().cloned().unwrap_or_default());
        Self {
            top_tenant: top,
            tenants,
            users: BTreeMap::new(),
            passwords: HashMap::new(),
            user_acl: HashMap::new(),
            policies: BTreeMap::new(),
            groups: BTreeMap::new(),
            user_policies: HashMap::new(),
            group_users: HashMap::new(),
            group_policies: HashMap::new(),
            tokens: HashMap::new(),
            sessions: BTreeMap::new(),
            refresh: Vec::new(),
            clock_offset: Duration::ZERO,
            default_expiration: 7200,
        }
    }

    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now() + self.clock_offset
    }

    /// Adds a user in `tenant` (the top tenant when `None`) and returns its UUID.
    pub(crate) fn add_user(&mut self, fields: &Map<String, Value>, tenant: Option<&str>) -> String {
        let uuid = fields
            .get("uuid")
            .and_then(Value::as_str)
            .map_or_else(uuid4, str::to_owned);
        let tenant = tenant.unwrap_or(&self.top_tenant).to_owned();
        let email = fields.get("email_address").and_then(Value::as_str);
        let emails: Vec<Value> = email
            .map(|a| json!({ "uuid": uuid4(), "address": a, "main": true, "confirmed": false }))
            .into_iter()
            .collect();
        let user = json!({
            "uuid": uuid,
            "username": fields.get("username").cloned().unwrap_or(Value::Null),
            "firstname": fields.get("firstname").cloned().unwrap_or(Value::Null),
            "lastname": fields.get("lastname").cloned().unwrap_or(Value::Null),
            "purpose": fields.get("purpose").cloned().unwrap_or_else(|| json!("user")),
            "enabled": fields.get("enabled").cloned().unwrap_or(Value::Bool(true)),
            "authentication_method": fields.get("authentication_method").cloned().unwrap_or_else(|| json!("default")),
            "emails": emails,
            "tenant_uuid": tenant,
        });
        if let Some(p) = fields.get("password").and_then(Value::as_str) {
            self.passwords.insert(uuid.clone(), p.to_owned());
        }
        self.users
            .insert(uuid.clone(), user.as_object().cloned().unwrap_or_default());
        uuid
    }

    /// Finds an enabled user by username or e-mail with this password.
    pub(crate) fn login(&self, login: &str, password: &str) -> Option<String> {
        if login.is_empty() || password.is_empty() {
            return None;
        }
        self.users
            .iter()
            .find(|(uuid, user)| {
                let by_name = user.get("username").and_then(Value::as_str) == Some(login);
                let by_email = user
                    .get("emails")
                    .and_then(Value::as_array)
                    .is_some_and(|es| es.iter().any(|e| e["address"] == login));
                let enabled = user.get("enabled") != Some(&Value::Bool(false));
                enabled
                    && (by_name || by_email)
                    && self.passwords.get(*uuid).is_some_and(|p| p == password)
            })
            .map(|(uuid, _)| uuid.clone())
    }

    /// The accesses a user's token gets: its own, its policies', its groups' policies'.
    pub(crate) fn acl_of(&self, user: &str) -> Vec<String> {
        let mut acl = self.user_acl.get(user).cloned().unwrap_or_default();
        let mut policies: Vec<&String> = self
            .user_policies
            .get(user)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        for (group, members) in &self.group_users {
            if members.iter().any(|m| m == user) {
                policies.extend(self.group_policies.get(group).into_iter().flatten());
            }
        }
        for p in policies {
            if let Some(entries) = self
                .policies
                .get(p)
                .and_then(|p| p.get("acl"))
                .and_then(Value::as_array)
            {
                acl.extend(entries.iter().filter_map(Value::as_str).map(str::to_owned));
            }
        }
        acl.dedup();
        acl
    }

    /// A live token (not expired).
    pub(crate) fn live_token(&self, token: &str) -> Option<&TokenRec> {
        let now = self.now();
        self.tokens.get(token).filter(|t| now <= t.expires)
    }

    /// Whether `tenant` is `root` or below it.
    pub(crate) fn in_subtree(&self, root: &str, tenant: &str) -> bool {
        let mut current = tenant.to_owned();
        for _ in 0..64 {
            if current == root {
                return true;
            }
            let parent = self
                .tenants
                .get(&current)
                .and_then(|t| t.get("parent_uuid"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match parent {
                Some(p) if p != current => current = p,
                _ => return false,
            }
        }
        false
    }

    /// Items of `map` visible from `tenant` (its own, or its subtree with `recurse`).
    pub(crate) fn visible(
        &self,
        map: &BTreeMap<String, Map<String, Value>>,
        tenant: &str,
        recurse: bool,
    ) -> Vec<Map<String, Value>> {
        map.values()
            .filter(|item| {
                let t = item
                    .get("tenant_uuid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                t == tenant || (recurse && self.in_subtree(tenant, t))
            })
            .cloned()
            .collect()
    }
}
