//! The `Created` field: `YYYY-MM-DDThh:mm:ssZ` in UTC, whole seconds, formatted explicitly
//! (never through a local-time formatter, which is what made the seed's `Z` fragile).

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Length of a `Created` value.
pub const CREATED_LEN: usize = 20;

/// Seconds since the Unix epoch (negative before 1970), truncated to whole seconds.
fn unix_seconds(at: SystemTime) -> Option<i64> {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok(),
        // Truncate towards the past, as a wall clock shows it.
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).ok()?;
            Some(if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            })
        }
    }
}

/// Formats `at` as a `Created` value, or `None` outside the years 0000 to 9999 (the field
/// has exactly four year digits).
pub fn format_created(at: SystemTime) -> Option<[u8; CREATED_LEN]> {
    let secs = unix_seconds(at)?;
    // Headers made within the same second share their `Created`: remember the last one
    // per thread instead of redoing the calendar arithmetic for every header.
    if let Some(hit) = LAST.with(|last| last.get().filter(|(s, _)| *s == secs)) {
        return Some(hit.1);
    }
    let out = format_seconds(secs)?;
    LAST.with(|last| last.set(Some((secs, out))));
    Some(out)
}

thread_local! {
    static LAST: Cell<Option<(i64, [u8; CREATED_LEN])>> = const { Cell::new(None) };
}

fn format_seconds(secs: i64) -> Option<[u8; CREATED_LEN]> {
    let t = OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut out = *b"0000-00-00T00:00:00Z";
    put4(&mut out[0..4], year);
    put2(&mut out[5..7], u8::from(t.month()));
    put2(&mut out[8..10], t.day());
    put2(&mut out[11..13], t.hour());
    put2(&mut out[14..16], t.minute());
    put2(&mut out[17..19], t.second());
    Some(out)
}

/// Formats `at` as a `Created` string (convenience over [`format_created`]).
pub fn created_string(at: SystemTime) -> Option<String> {
    format_created(at).map(|b| b.iter().map(|&c| char::from(c)).collect())
}

fn put2(out: &mut [u8], v: u8) {
    out[0] = b'0' + v / 10;
    out[1] = b'0' + v % 10;
}

fn put4(out: &mut [u8], v: u32) {
    let digits = [v / 1000, v / 100 % 10, v / 10 % 10, v % 10];
    for (slot, d) in out.iter_mut().zip(digits) {
        // Each digit is below 10, so it fits a byte.
        *slot = b'0' + u8::try_from(d).unwrap_or(0);
    }
}

/// Why a `Created` value was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreatedError {
    /// Not exactly `YYYY-MM-DDThh:mm:ssZ` (fractions, offsets, lowercase `t`/`z`, ...).
    Format,
    /// The shape is right but the date or time does not exist (`2023-02-30`, `25:00:00`).
    Impossible,
}

/// Parses a `Created` value strictly into a point in time.
///
/// # Errors
///
/// Returns [`CreatedError::Format`] for anything but the exact 20-character form and
/// [`CreatedError::Impossible`] for dates or times that do not exist.
pub fn parse_created(value: &str) -> Result<SystemTime, CreatedError> {
    let b = value.as_bytes();
    if b.len() != CREATED_LEN {
        return Err(CreatedError::Format);
    }
    let shape_ok = b.iter().enumerate().all(|(i, &c)| match i {
        4 | 7 => c == b'-',
        10 => c == b'T',
        13 | 16 => c == b':',
        19 => c == b'Z',
        _ => c.is_ascii_digit(),
    });
    if !shape_ok {
        return Err(CreatedError::Format);
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let small = |r| u8::try_from(num(r)).map_err(|_| CreatedError::Impossible);
    let year = i32::try_from(num(0..4)).map_err(|_| CreatedError::Impossible)?;
    let month = Month::try_from(small(5..7)?).map_err(|_| CreatedError::Impossible)?;
    let date = Date::from_calendar_date(year, month, small(8..10)?)
        .map_err(|_| CreatedError::Impossible)?;
    let clock = Time::from_hms(small(11..13)?, small(14..16)?, small(17..19)?)
        .map_err(|_| CreatedError::Impossible)?;
    let secs = PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp();
    Ok(match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn formats_utc_whole_seconds() {
        let t = at(1_461_944_906) + Duration::from_millis(999);
        assert_eq!(created_string(t).unwrap(), "2016-04-29T15:48:26Z");
        assert_eq!(created_string(UNIX_EPOCH).unwrap(), "1970-01-01T00:00:00Z");
        let before = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(created_string(before).unwrap(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_and_round_trips() {
        let t = parse_created("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(created_string(t).unwrap(), "2024-02-29T23:59:59Z");
        assert_eq!(
            parse_created("2016-04-29T15:48:26Z").unwrap(),
            at(1_461_944_906)
        );
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            "2024-02-29T23:59:59.123Z",
            "2024-02-29t23:59:59Z",
            "2024-02-29T23:59:59z",
            "2024-02-29T23:59:59+00:00",
            "2024-02-29 23:59:59Z",
            "",
        ] {
            assert_eq!(parse_created(bad), Err(CreatedError::Format), "{bad}");
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-02-30T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:60:00Z",
            "2023-01-01T00:00:60Z",
        ] {
            assert_eq!(parse_created(bad), Err(CreatedError::Impossible), "{bad}");
        }
    }
}
