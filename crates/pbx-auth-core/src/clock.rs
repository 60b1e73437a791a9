//! Wall-clock time for signing, injectable so tests and vectors are deterministic.
//!
//! Token expiry never uses this clock: the cache keeps expiry as a monotonic instant. The
//! wall clock is only for values that go on the wire (Kalliope `Created`, Fernet timestamps).

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + Debug {
    /// The current time as the server would see it.
    fn now(&self) -> SystemTime;

    /// Tells the clock what time a server reported (its `Date` header). Clocks that correct
    /// for skew use it; the default ignores it.
    fn observe_server_time(&self, _server_now: SystemTime) {}

    /// Time on a monotonic clock since a fixed point of this process: it never goes back
    /// and is not moved when the wall clock is stepped. Things remembered "for a while"
    /// (the Kalliope verifier's replay cache) expire on it, so setting the wall clock
    /// forward cannot make them forget early. The default reads the process's monotonic
    /// clock; a test clock that simulates time passing overrides both methods.
    fn monotonic(&self) -> Duration {
        process_monotonic()
    }
}

/// The operating system's monotonic clock, as time since the first call in this process.
pub fn process_monotonic() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// A shared, type-erased clock.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant, for tests and test vectors.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(SystemTime);

impl FixedClock {
    /// A clock that always answers `at`.
    pub fn new(at: SystemTime) -> Self {
        Self(at)
    }

    /// A clock at `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: u64) -> Self {
        Self(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Wraps a clock and adds the offset learned from the server's `Date` header, so signed
/// timestamps land inside the server's acceptance window even when the local clock is off.
#[derive(Debug)]
pub struct SkewAdjustedClock<C = SystemClock> {
    inner: C,
    /// Server time minus local time, in milliseconds.
    offset_ms: AtomicI64,
}

impl<C: Clock> SkewAdjustedClock<C> {
    /// Wraps `inner` with no offset yet.
    pub fn new(inner: C) -> Self {
        Self {
            inner,
            offset_ms: AtomicI64::new(0),
        }
    }

    /// The offset currently applied (server minus local), in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Learns the offset from an HTTP `Date` header value. Returns whether it parsed.
    pub fn observe_date_header(&self, value: &http::HeaderValue) -> bool {
        match parse_http_date(value) {
            Some(server_now) => {
                self.observe_server_time(server_now);
                true
            }
            None => false,
        }
    }
}

impl Default for SkewAdjustedClock<SystemClock> {
    fn default() -> Self {
        Self::new(SystemClock)
    }
}

impl<C: Clock> Clock for SkewAdjustedClock<C> {
    fn now(&self) -> SystemTime {
        shift(self.inner.now(), self.offset_ms())
    }

    fn monotonic(&self) -> Duration {
        self.inner.monotonic()
    }

    fn observe_server_time(&self, server_now: SystemTime) {
        // `Date` has one-second resolution, so offsets under a second are noise.
        let local = self.inner.now();
        let offset = signed_millis_between(local, server_now);
        let offset = if offset.abs() < 1000 { 0 } else { offset };
        self.offset_ms.store(offset, Ordering::Relaxed);
    }
}

/// Parses an HTTP `Date` header value (IMF-fixdate and the two obsolete forms).
pub fn parse_http_date(value: &http::HeaderValue) -> Option<SystemTime> {
    httpdate::parse_http_date(value.to_str().ok()?).ok()
}

fn signed_millis_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn shift(t: SystemTime, offset_ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(offset_ms.unsigned_abs());
    if offset_ms >= 0 {
        t.checked_add(magnitude).unwrap_or(t)
    } else {
        t.checked_sub(magnitude).unwrap_or(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_is_learned_from_date_header() {
        let clock = SkewAdjustedClock::new(FixedClock::from_unix(1_000_000));
        // 1_000_000 + 120 s = Mon, 12 Jan 1970 13:48:40 GMT
        let header = http::HeaderValue::from_static("Mon, 12 Jan 1970 13:48:40 GMT");
        assert!(clock.observe_date_header(&header));
        assert_eq!(clock.offset_ms(), 120_000);
        assert_eq!(
            clock.now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_120)
        );
    }

    #[test]
    fn negative_skew_and_noise() {
        let clock = SkewAdjustedClock::new(FixedClock::from_unix(1_000_000));
        clock.observe_server_time(SystemTime::UNIX_EPOCH + Duration::from_secs(999_000));
        assert_eq!(clock.offset_ms(), -1_000_000);
        clock.observe_server_time(SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000_400));
        assert_eq!(clock.offset_ms(), 0);
    }

    #[test]
    fn bad_date_is_ignored() {
        let clock = SkewAdjustedClock::new(FixedClock::from_unix(5));
        assert!(!clock.observe_date_header(&http::HeaderValue::from_static("yesterday")));
        assert_eq!(clock.offset_ms(), 0);
    }
}
