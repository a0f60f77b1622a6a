//! [`Nullable`]: an input value that can be omitted, sent as `null`, or sent as a value.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A nullable GraphQL input: left out of the request, sent as explicit `null`, or sent as a
/// value.
///
/// GraphQL gives omission and `null` different meanings: in an ION update, an omitted field is
/// left alone while `null` clears it. `Option` cannot say both, so nullable inputs use this.
///
/// ```
/// use ion_client::Nullable;
/// let keep: Nullable<String> = Nullable::Omitted; // the default
/// let clear: Nullable<String> = Nullable::Null;
/// let set: Nullable<String> = "Line 3".to_string().into();
/// assert!(keep.is_omitted() && clear.is_null() && set.value().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Nullable<T> {
    /// Not sent at all (the default).
    #[default]
    Omitted,
    /// Sent as `null`.
    Null,
    /// Sent as this value.
    Value(T),
}

impl<T> Nullable<T> {
    /// Whether the value is left out of the request.
    pub fn is_omitted(&self) -> bool {
        matches!(self, Nullable::Omitted)
    }
    /// Whether the value is sent as `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }
    /// The value, if one is sent.
    pub fn value(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
    /// The value, if one is sent, by value.
    pub fn into_value(self) -> Option<T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

/// `Some(v)` sets `v`; `None` is [`Nullable::Omitted`], which leaves the field alone.
///
/// Never an explicit `null`: an `Option` that happens to be `None` (a field the caller did not
/// fill in) must not clear the field on an update. Clearing is said explicitly, with
/// [`Nullable::Null`] or [`Nullable::null_if_none`].
impl<T> From<Option<T>> for Nullable<T> {
    fn from(value: Option<T>) -> Self {
        match value {
            Some(v) => Nullable::Value(v),
            None => Nullable::Omitted,
        }
    }
}

impl<T> Nullable<T> {
    /// `Some(v)` sets `v`; `None` is an explicit `null`, which clears the field on an update.
    pub fn null_if_none(value: Option<T>) -> Nullable<T> {
        match value {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        }
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Value(v) => v.serialize(serializer),
            // An omitted field is skipped by `skip_serializing_if`; if it is serialized anyway
            // (e.g. inside a list) it can only be null.
            Nullable::Omitted | Nullable::Null => serializer.serialize_none(),
        }
    }
}

/// A missing field decodes as `Omitted` (through `#[serde(default)]`), `null` as `Null`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Nullable::null_if_none(Option::<T>::deserialize(
            deserializer,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Default, PartialEq, Debug)]
    struct Input {
        #[serde(default, skip_serializing_if = "Nullable::is_omitted")]
        a: Nullable<i64>,
    }

    #[test]
    fn an_option_never_becomes_an_explicit_null_by_accident() {
        let none: Option<i64> = None;
        assert_eq!(Nullable::<i64>::from(none), Nullable::Omitted);
        assert_eq!(Nullable::<i64>::from(Some(4)), Nullable::Value(4));
        assert_eq!(Nullable::null_if_none(none), Nullable::<i64>::Null);
        assert_eq!(Nullable::null_if_none(Some(4)), Nullable::Value(4));
        let from_option = Input { a: none.into() };
        assert_eq!(serde_json::to_string(&from_option).unwrap(), "{}");
    }

    #[test]
    fn three_states_on_the_wire() {
        let omitted = Input::default();
        let null = Input { a: Nullable::Null };
        let value = Input { a: 3.into() };
        assert_eq!(serde_json::to_string(&omitted).unwrap(), "{}");
        assert_eq!(serde_json::to_string(&null).unwrap(), r#"{"a":null}"#);
        assert_eq!(serde_json::to_string(&value).unwrap(), r#"{"a":3}"#);
        for v in [omitted, null, value] {
            let back: Input = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back, v);
        }
    }
}
