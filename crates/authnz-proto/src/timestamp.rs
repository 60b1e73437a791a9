//! Date-times the way authnzerver writes and reads them: naive UTC ISO-8601.
//!
//! The server parses `expires` with a format that makes the fraction mandatory
//! (`YYYY-MM-DDTHH:MM:SS.ffffff`, optional `Z`, no `+00:00`), while it writes datetimes
//! with Python's `isoformat()`, which omits the fraction when it is zero. So this type
//! always writes six fractional digits and reads with or without them.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const WRITE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]");
const READ: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond digits:1+]]]"
);

/// A naive UTC date-time as exchanged with authnzerver.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(PrimitiveDateTime);

impl Timestamp {
    /// The timestamp of a system time.
    pub fn from_system_time(t: SystemTime) -> Self {
        let utc = OffsetDateTime::from(t).to_offset(UtcOffset::UTC);
        Self(PrimitiveDateTime::new(utc.date(), utc.time()))
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// `duration` after now (for `session-new`'s `expires`).
    pub fn in_future(duration: Duration) -> Self {
        Self::from_system_time(SystemTime::now() + duration)
    }

    /// Parses the server's form: with or without a fraction, with an optional `Z`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::MalformedRequest`] when the text is not such a date-time.
    pub fn parse(text: &str) -> Result<Self, crate::Error> {
        let text = text.strip_suffix('Z').unwrap_or(text);
        PrimitiveDateTime::parse(text, READ).map(Self).map_err(|_| {
            crate::Error::MalformedRequest(format!("`{text}` is not an ISO date-time"))
        })
    }

    /// The underlying naive date-time (UTC).
    pub fn as_primitive(&self) -> PrimitiveDateTime {
        self.0
    }

    /// The system time this timestamp stands for.
    pub fn to_system_time(&self) -> SystemTime {
        SystemTime::from(self.0.assume_utc())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Formatting a PrimitiveDateTime with a fixed description cannot fail for years
        // 0..=9999; fall back to Debug output rather than panicking.
        match self.0.format(WRITE) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl std::str::FromStr for Timestamp {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(|_| serde::de::Error::custom("not an ISO date-time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_six_digits_and_reads_both_forms() {
        let t = Timestamp::parse("2030-01-01T00:00:00").unwrap();
        assert_eq!(t.to_string(), "2030-01-01T00:00:00.000000");
        let t = Timestamp::parse("2026-11-29T12:02:57.044327").unwrap();
        assert_eq!(t.to_string(), "2026-11-29T12:02:57.044327");
        let z = Timestamp::parse("2026-11-29T12:02:57.044327Z").unwrap();
        assert_eq!(t, z);
        assert!(Timestamp::parse("2026-11-29T12:02:57+00:00").is_err());
        assert!(Timestamp::parse("tomorrow").is_err());
    }

    #[test]
    fn round_trips_system_time() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        let t = Timestamp::from_system_time(now);
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.123456");
        assert_eq!(t.to_system_time(), now);
    }
}
