//! [`RedisStore`]: the core's [`SharedStore`] and [`ReplayStore`] on Redis.
//!
//! Keys for credential `K` under prefix `P` (the braces keep them in one cluster slot):
//! - `P:cred:{K}`: a hash with `ver` (the version) and `data` (the sealed record);
//! - `P:fence:{K}`: the newest fencing number granted, never expires;
//! - `P:lease:{K}`: `<holder>:<fence>` while a refresh lease is live (`PX` = its TTL).
//!
//! Spent nonces are `P:nonce:<sha256 of the caller's key>` with `NX EX`.

use std::fmt;
use std::time::Duration;

use pbx_auth_core::ErrorKind;
use pbx_auth_core::store::{Lease, ReplayStore, SharedStore, StoreFuture, Versioned, WriteOutcome};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use sha2::{Digest as _, Sha256};

use crate::error::Error;
use crate::seal::SealingKey;

/// Takes the lease if none is live; returns the new fencing number, or 0.
const ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local f = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. f, 'PX', ARGV[2])
return f
";

/// Fenced compare-and-set: -2 when a newer lease was granted, -1 when the version moved,
/// else the new version.
const WRITE: &str = r"
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < newest then return -2 end
local v = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
if v ~= tonumber(ARGV[2]) then return -1 end
redis.call('HSET', KEYS[1], 'ver', v + 1, 'data', ARGV[3])
return v + 1
";

/// Compare-and-delete: only the holder's own lease is released.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// How long one Redis command may take before it counts as a failure; the store must fail
/// fast so a request falls back to its L1 credential or a clear transient error.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A connection to Redis that stores sealed credentials and spent nonces for a fleet.
///
/// Cloning gives another handle on the same multiplexed connection, which reconnects by
/// itself after Redis restarts.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    key: SealingKey,
    acquire: Script,
    write: Script,
    release: Script,
}

impl fmt::Debug for RedisStore {
    // No URL: it may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Splits our `prefix` query parameter off the URL; Redis gets the rest.
fn split_url(url: &str) -> Result<(String, Option<String>), Error> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| Error::InvalidUrl(format!("does not parse ({e})")))?;
    match parsed.scheme() {
        "redis" | "rediss" | "redis+unix" | "unix" => {}
        other => return Err(Error::InvalidUrl(format!("unsupported scheme `{other}`"))),
    }
    let mut prefix = None;
    let rest: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(k, v)| {
            if k == "prefix" {
                prefix = Some(v.into_owned());
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    if rest.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(rest);
    }
    Ok((parsed.into(), prefix))
}

fn check_prefix(prefix: &str) -> Result<(), Error> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidPrefix)
    }
}

/// Runs a command, and once more if the connection was lost: the connection manager only
/// starts reconnecting when a command finds the connection broken, so without the second
/// try the first request after a Redis restart would always fail.
macro_rules! with_reconnect {
    ($store:ident, |$conn:ident| $command:expr) => {{
        let mut $conn = $store.conn.clone();
        match $command.await {
            Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                let mut $conn = $store.conn.clone();
                $command.await
            }
            other => other,
        }
    }};
}

fn transport(e: &redis::RedisError) -> pbx_auth_core::Error {
    // The Redis error's text can name the server; the kind is enough to act on.
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    pbx_auth_core::Error::new(
        kind,
        format!("the Redis store did not answer ({:?})", e.kind()),
    )
}

fn unexpected() -> pbx_auth_core::Error {
    pbx_auth_core::Error::new(ErrorKind::Protocol, "Redis answered something unexpected")
}

impl RedisStore {
    /// Connects to the Redis at `url` and seals credentials with `key`.
    ///
    /// The URL gives the server, TLS (`rediss://`), authentication
    /// (`redis://user:password@host/`), the database (`/2`) and the key prefix
    /// (`?prefix=billing`, default `pbx-auth`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`], [`Error::InvalidPrefix`], or [`Error::Connect`] when the
    /// first connection fails (later failures are retried by the connection itself).
    pub async fn connect(url: &str, key: SealingKey) -> Result<Self, Error> {
        let (redis_url, prefix) = split_url(url)?;
        let prefix = prefix.unwrap_or_else(|| "pbx-auth".to_owned());
        check_prefix(&prefix)?;
        let client = redis::Client::open(redis_url.as_str())
            .map_err(|e| Error::InvalidUrl(format!("{:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| Error::Connect(format!("{:?}", e.kind())))?;
        Ok(Self {
            conn,
            prefix,
            key,
            acquire: Script::new(ACQUIRE),
            write: Script::new(WRITE),
            release: Script::new(RELEASE),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn keys(&self, key: &str) -> (String, String, String) {
        (
            format!("{}:cred:{{{key}}}", self.prefix),
            format!("{}:fence:{{{key}}}", self.prefix),
            format!("{}:lease:{{{key}}}", self.prefix),
        )
    }

    fn lease_value(lease: &Lease) -> String {
        format!("{}:{}", hex::encode(lease.holder()), lease.fence())
    }

    async fn load_inner(&self, key: &str) -> Result<Option<Versioned>, pbx_auth_core::Error> {
        let (cred, _, _) = self.keys(key);
        let (version, data): (Option<u64>, Option<Vec<u8>>) =
            with_reconnect!(self, |conn| redis::cmd("HMGET")
                .arg(&cred)
                .arg("ver")
                .arg("data")
                .query_async(&mut conn))
            .map_err(|e| transport(&e))?;
        match (version, data) {
            (Some(version), Some(data)) => {
                let value = self.key.open(cred.as_bytes(), &data)?;
                Ok(Some(Versioned::new(version, value)))
            }
            _ => Ok(None),
        }
    }

    async fn acquire_inner(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, pbx_auth_core::Error> {
        let (_, fence, lease) = self.keys(key);
        let holder = Lease::random_holder()?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let holder_hex = hex::encode(holder);
        let granted: u64 = with_reconnect!(self, |conn| self
            .acquire
            .key(&lease)
            .key(&fence)
            .arg(&holder_hex)
            .arg(ttl_ms)
            .invoke_async(&mut conn))
        .map_err(|e| transport(&e))?;
        Ok((granted > 0).then(|| Lease::new(granted, holder)))
    }

    async fn write_inner(
        &self,
        key: &str,
        expected: Option<u64>,
        lease: &Lease,
        value: &[u8],
    ) -> Result<WriteOutcome, pbx_auth_core::Error> {
        let (cred, fence, _) = self.keys(key);
        let sealed = self.key.seal(cred.as_bytes(), value)?;
        // A write retried after a lost answer finds its own version and reports
        // VersionChanged; the caller then reads back what is stored.
        let result: i64 = with_reconnect!(self, |conn| self
            .write
            .key(&cred)
            .key(&fence)
            .arg(lease.fence())
            .arg(expected.unwrap_or(0))
            .arg(&sealed)
            .invoke_async(&mut conn))
        .map_err(|e| transport(&e))?;
        match result {
            -2 => Ok(WriteOutcome::Fenced),
            -1 => Ok(WriteOutcome::VersionChanged),
            v => u64::try_from(v)
                .ok()
                .filter(|v| *v > 0)
                .map(WriteOutcome::Written)
                .ok_or_else(unexpected),
        }
    }

    async fn release_inner(&self, key: &str, lease: &Lease) -> Result<bool, pbx_auth_core::Error> {
        let (_, _, lease_key) = self.keys(key);
        let value = Self::lease_value(lease);
        let deleted: i64 = with_reconnect!(self, |conn| self
            .release
            .key(&lease_key)
            .arg(&value)
            .invoke_async(&mut conn))
        .map_err(|e| transport(&e))?;
        Ok(deleted == 1)
    }

    fn nonce_key(&self, key: &[u8]) -> String {
        let digest = Sha256::new()
            .chain_update((self.prefix.len() as u64).to_be_bytes())
            .chain_update(self.prefix.as_bytes())
            .chain_update(key)
            .finalize();
        format!("{}:nonce:{}", self.prefix, hex::encode(digest))
    }

    async fn insert_once_inner(
        &self,
        key: &[u8],
        ttl: Duration,
    ) -> Result<bool, pbx_auth_core::Error> {
        let name = self.nonce_key(key);
        let secs = ttl.as_secs().max(1);
        // A retry after a lost answer may find the key it just set and refuse the request:
        // failing closed, as the replay cache must.
        let answer: Value = with_reconnect!(self, |conn| redis::cmd("SET")
            .arg(&name)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(secs)
            .query_async(&mut conn))
        .map_err(|e| transport(&e))?;
        match answer {
            Value::Okay => Ok(true),
            Value::Nil => Ok(false),
            _ => Err(unexpected()),
        }
    }
}

impl SharedStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(self.load_inner(key))
    }

    fn acquire<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Option<Lease>> {
        Box::pin(self.acquire_inner(key, ttl))
    }

    fn write<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        lease: &'a Lease,
        value: &'a [u8],
    ) -> StoreFuture<'a, WriteOutcome> {
        Box::pin(self.write_inner(key, expected, lease, value))
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a Lease) -> StoreFuture<'a, bool> {
        Box::pin(self.release_inner(key, lease))
    }
}

impl ReplayStore for RedisStore {
    fn insert_once<'a>(&'a self, key: &'a [u8], ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(self.insert_once_inner(key, ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_comes_off_the_url_and_the_rest_stays() {
        let (url, prefix) =
            split_url("rediss://u:p@host:6380/2?prefix=billing&protocol=resp3").unwrap();
        assert_eq!(prefix.as_deref(), Some("billing"));
        assert_eq!(url, "rediss://u:p@host:6380/2?protocol=resp3");
        let (url, prefix) = split_url("redis://127.0.0.1:1/").unwrap();
        assert_eq!(prefix, None);
        assert_eq!(url, "redis://127.0.0.1:1/");
        assert!(matches!(split_url("http://x/"), Err(Error::InvalidUrl(_))));
        assert!(matches!(split_url("not a url"), Err(Error::InvalidUrl(_))));
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("app-1:prod").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("a b").is_err());
        assert!(check_prefix("{x}").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_connect_error_without_the_password() {
        // Port 1 on loopback: nothing listens there.
        let err = RedisStore::connect(
            "redis://user:hunter2@127.0.0.1:1/",
            SealingKey::from_bytes([0; 32]),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Connect(_)), "{err:?}");
        assert!(!format!("{err} {err:?}").contains("hunter2"));
    }
}
