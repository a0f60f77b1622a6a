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

    #[test]
    fn json_string_round_trips() {
        let j: JsonString = serde_json::from_str(r#""{\"a\":[1,2]}""#).unwrap();
        assert_eq!(j.0, serde_json::json!({"a": [1, 2]}));
        assert_eq!(serde_json::to_string(&j).unwrap(), r#""{\"a\":[1,2]}""#);
        assert!(serde_json::from_str::<JsonString>(r#""{not json""#).is_err());
    }
}
