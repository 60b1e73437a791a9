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
    /// The user's purpose: only `user` tokens name a PBX user.
    pub(crate) purpose: String,
}

impl TokenRec {
    pub(crate) fn to_json(&self, with_refresh: bool) -> Value {
        let pbx_user = (self.purpose == "user").then_some(self.auth_id.as_str());
        let mut v = json!({
            "token": self.token,
            "auth_id": self.auth_id,
            "session_uuid": self.session_uuid,
            "acl": self.acl,
            "xivo_user_uuid": pbx_user,
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
                "pbx_user_uuid": pbx_user,
                "xivo_uuid": "00000000-0000-4000-8000-00000000cafe",
                "purpose": self.purpose,
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
    /// External authentications: (user, type) to data, and type to tenant's config.
    pub(crate) external: BTreeMap<(String, String), Value>,
    pub(crate) external_config: BTreeMap<(String, String), Value>,
    pub(crate) ldap: HashMap<String, Value>,
    pub(crate) saml: HashMap<String, Value>,
    pub(crate) config: Value,
    /// Whether a mail server is reachable: without one (the default, as in the recorded
    /// server) the endpoints that send mail answer 500.
    pub(crate) mail: bool,
}

/// The slug the server derives from a name: allowed characters only, cut to `max`.
pub(crate) fn slug_from(name: &str, max: usize) -> String {
    let slug: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(max)
        .collect();
    if slug.is_empty() {
        uuid4().replace('-', "")[..10].to_owned()
    } else {
        slug
    }
}

impl State {
    pub(crate) fn new() -> Self {
        let top = uuid4();
        let mut state = Self {
            top_tenant: top.clone(),
            tenants: BTreeMap::new(),
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
            external: BTreeMap::new(),
            external_config: BTreeMap::new(),
            ldap: HashMap::new(),
            saml: HashMap::new(),
            config: super::extra::default_config(),
            mail: false,
        };
        let tenant = json!({ "uuid": top, "name": "master", "slug": "master", "parent_uuid": top,
            "domain_names": [], "contact": null, "phone": null,
            "address": { "line_1": null, "line_2": null, "city": null, "state": null,
                "country": null, "zip_code": null },
            "default_authentication_method": "native" });
        state.add_tenant(tenant.as_object().cloned().unwrap_or_default());
        let policy = uuid4();
        let p = json!({ "uuid": policy, "tenant_uuid": top,
            "name": "wazo_default_master_user_policy", "slug": "wazo_default_master_user_policy",
            "description": "Default Wazo policy for the \"master\" user\n\nDo not modify this policy, it can be modified in future Wazo upgrades\n",
            "acl": ["#"], "read_only": false, "shared": false });
        state
            .policies
            .insert(policy, p.as_object().cloned().unwrap_or_default());
        state
    }

    /// Adds a tenant with its system group `wazo-all-users-tenant-{uuid}`.
    pub(crate) fn add_tenant(&mut self, tenant: Map<String, Value>) {
        let uuid = tenant["uuid"].as_str().unwrap_or_default().to_owned();
        let group = uuid4();
        let name = format!("wazo-all-users-tenant-{uuid}");
        let g = json!({ "uuid": group, "name": name, "slug": name, "tenant_uuid": uuid,
            "system_managed": true, "read_only": true });
        self.groups
            .insert(group, g.as_object().cloned().unwrap_or_default());
        self.tenants.insert(uuid, tenant);
    }

    /// Removes a tenant with everything in it.
    pub(crate) fn remove_tenant(&mut self, uuid: &str) {
        self.tenants.remove(uuid);
        let users: Vec<String> = self
            .users
            .iter()
            .filter(|(_, u)| u["tenant_uuid"] == uuid)
            .map(|(k, _)| k.clone())
            .collect();
        for user in &users {
            self.users.remove(user);
        }
        self.tokens.retain(|_, t| t.tenant_uuid != uuid);
        self.sessions.retain(|_, s| s["tenant_uuid"] != uuid);
        self.refresh.retain(|r| r.tenant_uuid != uuid);
        self.groups.retain(|_, g| g["tenant_uuid"] != uuid);
        self.policies.retain(|_, p| p["tenant_uuid"] != uuid);
    }

    /// A user visible from the scoping tenant `tenant` (in it or below it).
    pub(crate) fn user_in(&self, uuid: &str, tenant: &str) -> Option<&Map<String, Value>> {
        self.users.get(uuid).filter(|u| {
            u["tenant_uuid"]
                .as_str()
                .is_some_and(|t| self.in_subtree(tenant, t))
        })
    }

    /// A group visible from the scoping tenant `tenant`.
    pub(crate) fn group_in(&self, uuid: &str, tenant: &str) -> Option<&Map<String, Value>> {
        self.groups.get(uuid).filter(|g| {
            g["tenant_uuid"]
                .as_str()
                .is_some_and(|t| self.in_subtree(tenant, t))
        })
    }

    /// Whether `user` is in `group` (every user is in its tenant's system group).
    pub(crate) fn is_member(&self, group: &str, user: &str) -> bool {
        let Some(g) = self.groups.get(group) else {
            return false;
        };
        if g["system_managed"] == true {
            return self
                .users
                .get(user)
                .is_some_and(|u| u["tenant_uuid"] == g["tenant_uuid"]);
        }
        self.group_users
            .get(group)
            .is_some_and(|m| m.iter().any(|x| x == user))
    }

    /// A domain's UUID: stable for a tenant and name.
    pub(crate) fn domain_uuid(&self, tenant: &str, name: &str) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{tenant}/{name}").as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
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

    /// Whether another user than `except` has this e-mail address.
    pub(crate) fn email_taken(&self, address: &str, except: Option<&str>) -> bool {
        self.users.iter().any(|(k, u)| {
            Some(k.as_str()) != except
                && u["emails"]
                    .as_array()
                    .is_some_and(|es| es.iter().any(|e| e["address"] == address))
        })
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
            .map(|a| json!({ "uuid": uuid4(), "address": a, "main": true, "confirmed": true }))
            .into_iter()
            .collect();
        let purpose = fields
            .get("purpose")
            .cloned()
            .unwrap_or_else(|| json!("user"));
        let user = json!({
            "uuid": uuid,
            "username": fields.get("username").cloned().unwrap_or(Value::Null),
            "firstname": fields.get("firstname").cloned().unwrap_or(Value::Null),
            "lastname": fields.get("lastname").cloned().unwrap_or(Value::Null),
            "purpose": purpose,
            "enabled": fields.get("enabled").cloned().unwrap_or(Value::Bool(true)),
            "authentication_method": fields.get("authentication_method").cloned().unwrap_or_else(|| {
                json!(if purpose == "user" { "default" } else { "native" })
            }),
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
