//! Support for generated code. Not a public API: names here may change in any release.

pub use futures_core::Stream;
pub use serde;
pub use serde_json;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// Decodes a GraphQL enum from a string without allocating for known values.
pub fn deserialize_enum<'de, D, T>(deserializer: D, from: fn(&str) -> T) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T>(fn(&str) -> T);
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an enum value as a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok((self.0)(v))
        }
    }
    deserializer.deserialize_str(V(from))
}

/// An object of an abstract type, buffered with its `__typename` so it can be decoded as the
/// right variant.
pub struct TypedValue(pub String, serde_json::Value);

/// Buffers an object and reads its `__typename` (empty when absent).
pub fn typed_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TypedValue, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    let typename = value
        .get("__typename")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_string();
    Ok(TypedValue(typename, value))
}

/// Decodes a buffered object as a variant whose type does not hold `__typename` (the variant
/// says it): the key is removed first, so the type can refuse unknown fields.
pub fn decode_variant<T: serde::de::DeserializeOwned, E: de::Error>(
    mut value: TypedValue,
) -> Result<T, E> {
    if let Some(map) = value.1.as_object_mut() {
        map.remove("__typename");
    }
    serde_json::from_value(value.1).map_err(E::custom)
}

/// Serializes a variant whose type does not hold `__typename`, putting the key back first so
/// the output decodes again.
pub fn serialize_variant<S: serde::Serializer, T: serde::Serialize>(
    serializer: S,
    typename: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let mut map = serde_json::Map::new();
    map.insert("__typename".into(), typename.into());
    match serde_json::to_value(value).map_err(S::Error::custom)? {
        serde_json::Value::Object(fields) => map.extend(fields),
        other => return serde::Serialize::serialize(&other, serializer),
    }
    serde::Serialize::serialize(&map, serializer)
}

/// Decodes a buffered object as one variant's struct.
pub fn decode_value<T: serde::de::DeserializeOwned, E: de::Error>(
    value: TypedValue,
) -> Result<T, E> {
    serde_json::from_value(value.1).map_err(E::custom)
}
