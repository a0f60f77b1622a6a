//! Rust types for ION's custom scalars.
//!
//! | GraphQL       | Rust                     | on the wire                                  |
//! |---------------|--------------------------|----------------------------------------------|
//! | `DateTime`    | [`DateTime`]             | ISO 8601 string                              |
//! | `Decimal`     | [`Decimal`]              | string (numbers accepted when decoding)      |
//! | `JSONString`  | [`JsonString`]           | JSON encoded inside a string                 |
//! | `ScalarValue`, `SlateContent`, `DataGridRow` | [`Json`] | plain JSON                    |
//! | `Upload`      | [`Upload`]               | `null` placeholder (multipart uploads)       |

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Any JSON value: `ScalarValue`, `SlateContent`, `DataGridRow` and unknown custom scalars.
pub type Json = serde_json::Value;

/// An instant in time (ION's `DateTime`).
///
/// ION sends ISO 8601 strings. A value without a UTC offset (as some ION fields are stored) is
/// read as UTC. Serialized as RFC 3339 in UTC, e.g. `2024-03-01T08:30:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub jiff::Timestamp);

impl DateTime {
    /// The instant as a [`jiff::Timestamp`].
    pub fn timestamp(&self) -> jiff::Timestamp {
        self.0
    }
}

impl From<jiff::Timestamp> for DateTime {
    fn from(ts: jiff::Timestamp) -> Self {
        DateTime(ts)
    }
}

/// The error for a string that is not an ISO 8601 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an ISO 8601 date-time, found {found:?}")]
pub struct ParseDateTimeError {
    found: String,
}

impl FromStr for DateTime {
    type Err = ParseDateTimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(ts) = utc_timestamp(s) {
            return Ok(DateTime(ts));
        }
        if let Ok(ts) = s.parse::<jiff::Timestamp>() {
            return Ok(DateTime(ts));
        }
        // No offset: ION stores these in UTC.
        s.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|civil| civil.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|zoned| DateTime(zoned.timestamp()))
            .ok_or_else(|| ParseDateTimeError {
                found: s.to_string(),
            })
    }
}

/// The form ION writes every timestamp in, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, read without
/// jiff's general ISO 8601 parser (which costs a tenth of a page's decode); `None` for any other
/// text, which [`DateTime::from_str`] hands to jiff. It accepts only what jiff's
/// `Timestamp` parser accepts, with the same value (a leap second, `60`, and the year 0 are left to jiff).
fn utc_timestamp(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let (year, month, day) = (pair(b, 0)? * 100 + pair(b, 2)?, pair(b, 5)?, pair(b, 8)?);
    let (hour, minute, second) = (pair(b, 11)?, pair(b, 14)?, pair(b, 17)?);
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            let mut nanos = 0;
            for i in 0..9 {
                let digit = match fraction.get(i) {
                    Some(c @ b'0'..=b'9') => c - b'0',
                    Some(_) => return None,
                    None => 0,
                };
                nanos = nanos * 10 + i32::from(digit);
            }
            nanos
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let (month_days, before) = match month {
        1..=12 => MONTHS[month as usize - 1],
        _ => return None,
    };
    let (month_days, before) = match month {
        2 if leap => (29, before),
        3.. if leap => (month_days, before + 1),
        _ => (month_days, before),
    };
    if year == 0 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from 0001-01-01 to the year's first day, less those to 1970-01-01.
    let y = year - 1;
    let days = y * 365 + y / 4 - y / 100 + y / 400 - 719_162 + before + day - 1;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    jiff::Timestamp::new(seconds, nanos).ok()
}

/// Each month's days in a common year, and the days of the year before it.
const MONTHS: [(i64, i64); 12] = [
    (31, 0),
    (28, 31),
    (31, 59),
    (30, 90),
    (31, 120),
    (30, 151),
    (31, 181),
    (31, 212),
    (30, 243),
    (31, 273),
    (30, 304),
    (31, 334),
];

/// The two decimal digits at `at`.
#[inline]
fn pair(b: &[u8], at: usize) -> Option<i64> {
    let (high, low) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
    (high < 10 && low < 10).then(|| i64::from(high * 10 + low))
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DateTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 8601 date-time string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// An exact decimal number (ION's `Decimal`), never a binary float.
///
/// Decoded from a string (what ION sends) or from a JSON number, which is read through its
/// shortest decimal representation; encoded as a string so no precision is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal(pub rust_decimal::Decimal);

impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        Decimal(d)
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Self {
        Decimal(v.into())
    }
}

impl FromStr for Decimal {
    type Err = rust_decimal::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        rust_decimal::Decimal::from_str_exact(s)
            .or_else(|_| rust_decimal::Decimal::from_scientific(s))
            .map(Decimal)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number as a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                v.parse()
                    .map_err(|_| E::custom(format_args!("expected a decimal number, found {v:?}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                // The shortest representation that round-trips is the literal the server wrote.
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A JSON value that travels encoded inside a string (ION's `JSONString`).
///
/// Decoding parses the inner JSON; encoding writes it back as a string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonString(pub serde_json::Value);

impl Serialize for JsonString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for JsonString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = JsonString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string holding JSON")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonString, E> {
                serde_json::from_str(v).map(JsonString).map_err(|e| {
                    E::custom(format_args!("JSONString does not hold valid JSON: {e}"))
                })
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A file in a multipart GraphQL request (ION's `Upload`).
///
/// Serialized as `null`, the placeholder the multipart request spec puts in `variables`. ION's
/// usual file flow does not need it: `createFileAttachment` returns an `uploadUrl` to `PUT`
/// the bytes to, which [`Client::attach_file`](crate::Client::attach_file) does in one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Upload {
    /// The file name sent with the part.
    pub file_name: String,
}

impl Serialize for Upload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_none()
    }
}

impl<'de> Deserialize<'de> for Upload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Ok(Upload::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_exact() {
        let d: Decimal = serde_json::from_str("\"12345678901234567890.123456789\"").unwrap();
        assert_eq!(d.to_string(), "12345678901234567890.123456789");
        let d: Decimal = serde_json::from_str("0.1").unwrap();
        assert_eq!(d.to_string(), "0.1");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"0.1\"");
        assert!(serde_json::from_str::<Decimal>("\"ten\"").is_err());
    }

    #[test]
    fn datetime_with_and_without_offset() {
        let a: DateTime = serde_json::from_str("\"2024-03-01T08:30:00+00:00\"").unwrap();
        let b: DateTime = serde_json::from_str("\"2024-03-01T08:30:00\"").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"2024-03-01T08:30:00Z\""
        );
        let err = serde_json::from_str::<DateTime>("\"yesterday\"").unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
    }

    /// What jiff alone makes of a timestamp, as [`DateTime::from_str`] read it without
    /// [`utc_timestamp`].
    fn by_jiff(s: &str) -> Option<jiff::Timestamp> {
        s.parse::<jiff::Timestamp>().ok()
    }

    #[test]
    fn the_utc_form_reads_as_jiff_reads_it() {
        for text in [
            "2026-03-01T08:30:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00.5Z",
            "2000-02-29T00:00:00.000001Z",
            "0001-01-01T00:00:00Z",
            "2100-03-01T00:00:00Z",
            "2000-12-31T00:00:00Z",
            "9999-12-30T22:00:00Z",
            "2026-12-31T23:59:59.1234Z",
        ] {
            assert_eq!(utc_timestamp(text), by_jiff(text), "{text}");
            assert!(utc_timestamp(text).is_some(), "{text}");
        }
        // Refused here, whatever jiff makes of them.
        for text in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01t00:00:00Z",
            "2026-01-01T00:00:00z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00+00:00",
            "+2026-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "9999-12-31T00:00:00Z",
            "2026-01-01T00:00:0xZ",
            "2026-01-01T00:00:00.1x2Z",
            "",
        ] {
            assert_eq!(utc_timestamp(text), None, "{text}");
        }
        assert_eq!(
            DateTime::from_str("2026-01-01T00:00:60Z").map(|d| d.0),
            by_jiff("2026-01-01T00:00:60Z").ok_or(ParseDateTimeError {
                found: "2026-01-01T00:00:60Z".into()
            })
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// Every date-time in the UTC form, valid or not, against jiff: the same instant when
        /// read here, and read here whenever jiff reads it (bar a leap second and the year 0).
        #[test]
        fn the_utc_form_agrees_with_jiff(
            year in 0u32..10_000,
            month in 0u32..14,
            day in 0u32..33,
            hour in 0u32..25,
            minute in 0u32..61,
            second in 0u32..61,
            fraction in "(\\.[0-9]{0,10})?",
        ) {
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z"
            );
            let ours = utc_timestamp(&text);
            let jiff = by_jiff(&text);
            if ours.is_some() || (second != 60 && year != 0) {
                proptest::prop_assert_eq!(ours, jiff, "{}", text);
            }
        }
    }

    #[test]
    fn json_string_round_trips() {
        let j: JsonString = serde_json::from_str(r#""{\"a\":[1,2]}""#).unwrap();
        assert_eq!(j.0, serde_json::json!({"a": [1, 2]}));
        assert_eq!(serde_json::to_string(&j).unwrap(), r#""{\"a\":[1,2]}""#);
        assert!(serde_json::from_str::<JsonString>(r#""{not json""#).is_err());
    }
}
