//! [`Id`]: ION's `ID` scalar as users hold it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An object id as ION's `ID` scalar carries it: `run(id: ID!)`, `UpdateRunInput.id: ID!`.
///
/// ION returns object ids as `Int` (`Run.id: Int!`) but takes them back as `ID`, so an `Id` is
/// built from an integer as easily as from a string, and compares equal to the integer ids of
/// responses:
///
/// ```
/// use ion_client::Id;
///
/// let run_id: i64 = 1135; // `Run.id` from a response
/// let id = Id::from(run_id);
/// assert_eq!(id, 1135);
/// assert_eq!(id, Id::from("1135"));
/// // Sent as ION's documentation writes it: a number when the id is an integer.
/// assert_eq!(serde_json::to_string(&id).unwrap(), "1135");
/// assert_eq!(serde_json::to_string(&Id::from("run-7")).unwrap(), "\"run-7\"");
/// // Read from a number or a string, as GraphQL's input coercion for `ID` allows.
/// let from_json: Id = serde_json::from_str("1135").unwrap();
/// assert_eq!(from_json, id);
/// ```
///
/// Equality is that of the id's text, as GraphQL defines `ID`: `Id::from(7) == Id::from("7")`,
/// and `"007"` is a different id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(String);

impl Id {
    /// The id's text (`"1135"` for the integer id 1135).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an integer, when it is one written canonically (`"1135"`, not `"01135"`).
    pub fn as_i64(&self) -> Option<i64> {
        let n: i64 = self.0.parse().ok()?;
        (n.to_string() == self.0).then_some(n)
    }
}

impl From<i64> for Id {
    fn from(id: i64) -> Self {
        Id(id.to_string())
    }
}

impl From<&str> for Id {
    fn from(id: &str) -> Self {
        Id(id.to_string())
    }
}

impl From<String> for Id {
    fn from(id: String) -> Self {
        Id(id)
    }
}

impl From<&Id> for Id {
    fn from(id: &Id) -> Self {
        id.clone()
    }
}

impl PartialEq<i64> for Id {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<Id> for i64 {
    fn eq(&self, other: &Id) -> bool {
        other == self
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_i64() {
            Some(n) => serializer.serialize_i64(n),
            None => serializer.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ID as a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id::from(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_compared_and_coded_as_ion_uses_ids() {
        assert_eq!(Id::from(42), Id::from("42"));
        assert_eq!(Id::from(String::from("42")), 42);
        assert_eq!(42, Id::from("42"));
        assert_ne!(Id::from("042"), 42);
        assert_eq!(Id::from("042").as_i64(), None);
        assert_eq!(Id::from(-3).as_i64(), Some(-3));
        assert_eq!(
            serde_json::to_value(Id::from(42)).unwrap(),
            serde_json::json!(42)
        );
        assert_eq!(
            serde_json::to_value(Id::from("042")).unwrap(),
            serde_json::json!("042")
        );
        let ids: Vec<Id> = serde_json::from_str(r#"[1, "2", 18446744073709551615]"#).unwrap();
        assert_eq!(
            ids,
            [Id::from(1), Id::from(2), Id::from("18446744073709551615")]
        );
        let err = serde_json::from_str::<Id>("1.5").unwrap_err().to_string();
        assert!(err.contains("an ID as a string or an integer"), "{err}");
        assert!(serde_json::from_str::<Id>("true").is_err());
        assert_eq!(Id::from(7).to_string(), "7");
    }
}
