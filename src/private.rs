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

/// The seed a generated `Deserialize` impl reads a struct's keys with: a key's index in the
/// struct's field list, or an `unknown field` error naming the key and the expected ones (a
/// GraphQL response holds exactly the fields selected, so any other key means the JSON does
/// not answer this operation). Used by [`decode_struct!`](crate::__decode_struct).
///
/// It holds the keys, and the struct's own `match` from a key to its index (`usize::MAX` for
/// none): a `match` on string literals compiles to length and integer comparisons, where
/// comparing with the list's entries would call `memcmp` for every key.
#[derive(Clone, Copy)]
pub struct Field(pub &'static [&'static str], pub fn(&str) -> usize);

impl<'de> de::DeserializeSeed<'de> for Field {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for Field {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        match (self.1)(key) {
            usize::MAX => Err(E::unknown_field(key, self.0)),
            index => Ok(index),
        }
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<usize, E> {
        match std::str::from_utf8(key) {
            Ok(key) => self.visit_str(key),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(key), &self)),
        }
    }
}

/// Reads the value of the key just read into `slot`; a key given twice is an error.
#[inline]
pub fn field<'de, A: de::MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The value read for a field, or, when its key was absent, what `T` decodes from nothing:
/// `None` for an `Option`, else a `missing field` error (as `#[derive(Deserialize)]` does).
#[inline]
pub fn take<'de, T: Deserialize<'de>, E: de::Error>(
    slot: Option<T>,
    name: &'static str,
) -> Result<T, E> {
    match slot {
        Some(value) => Ok(value),
        None => T::deserialize(Missing(name, std::marker::PhantomData)),
    }
}

/// A deserializer for an absent key: `None` to an `Option`, `missing field` to anything else.
struct Missing<E>(&'static str, std::marker::PhantomData<E>);

impl<'de, E: de::Error> Deserializer<'de> for Missing<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, E> {
        Err(E::missing_field(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The `Deserialize` impl of a generated response struct, from its fields: `index => field:
/// Type = "responseKey"`, in the order of the struct's key list.
///
/// It reads a JSON object key by key through [`Field`], [`field`] and [`take`]. The
/// expansion is what `#[derive(Deserialize)]` does for such a struct, without the derive's
/// per-struct field enum and visitor and its sequence form, which no JSON object needs:
/// checking those bodies was most of what a generated crate cost rustc.
#[doc(hidden)]
#[macro_export]
macro_rules! __decode_struct {
    ($name:ident { $($index:literal => $field:ident: $ty:ty = $key:literal,)* }) => {
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                const __FIELDS: &[&str] = &[$($key),*];
                struct __Visitor;
                impl<'de> $crate::__private::serde::de::Visitor<'de> for __Visitor {
                    type Value = $name;
                    fn expecting(
                        &self,
                        f: &mut ::core::fmt::Formatter<'_>,
                    ) -> ::core::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($name)))
                    }
                    #[allow(unused_mut)]
                    #[inline]
                    fn visit_map<A: $crate::__private::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> ::core::result::Result<$name, A::Error> {
                        fn find(key: &str) -> usize {
                            match key {
                                $($key => $index,)*
                                _ => usize::MAX,
                            }
                        }
                        $(let mut $field: ::core::option::Option<$ty> = None;)*
                        while let Some(key) = map.next_key_seed($crate::__private::Field(__FIELDS, find))? {
                            let read: ::core::result::Result<(), A::Error> = match key {
                                $($index => $crate::__private::field(&mut map, &mut $field, $key),)*
                                _ => Ok(()),
                            };
                            read?;
                        }
                        Ok($name { $($field: $crate::__private::take($field, $key)?,)* })
                    }
                }
                deserializer.deserialize_struct(stringify!($name), __FIELDS, __Visitor)
            }
        }
    };
}
pub use crate::__decode_struct as decode_struct;

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    struct Run {
        id: i64,
        title: Option<String>,
        skipped: Option<bool>,
    }
    crate::__private::decode_struct!(Run {
        0 => id: i64 = "id",
        1 => title: Option<String> = "title",
        2 => skipped: Option<bool> = "skipped",
    });

    fn decode(value: serde_json::Value) -> Result<Run, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn decodes_every_key_in_any_order() {
        let run = decode(json!({"skipped": true, "title": "T", "id": 4})).unwrap();
        assert_eq!(
            run,
            Run {
                id: 4,
                title: Some("T".into()),
                skipped: Some(true)
            }
        );
        let from_text: Run =
            serde_json::from_str(r#"{"id":1,"title":null,"skipped":null}"#).unwrap();
        assert_eq!(
            from_text,
            Run {
                id: 1,
                title: None,
                skipped: None
            }
        );
    }

    #[test]
    fn an_absent_nullable_key_is_none_and_an_absent_required_key_an_error() {
        assert_eq!(
            decode(json!({"id": 4})).unwrap(),
            Run {
                id: 4,
                title: None,
                skipped: None
            }
        );
        assert_eq!(
            decode(json!({"title": "T"})).unwrap_err(),
            "missing field `id`"
        );
    }

    #[test]
    fn unknown_and_repeated_keys_and_wrong_shapes_are_errors() {
        let unknown = decode(json!({"id": 4, "name": "x"})).unwrap_err();
        assert!(
            unknown.starts_with("unknown field `name`, expected one of `id`, `title`, `skipped`"),
            "{unknown}"
        );
        let twice = serde_json::from_str::<Run>(r#"{"id":1,"id":2}"#)
            .unwrap_err()
            .to_string();
        assert!(twice.starts_with("duplicate field `id`"), "{twice}");
        let array = decode(json!([4, "T", true])).unwrap_err();
        assert_eq!(array, "invalid type: sequence, expected struct Run");
        let wrong = decode(json!({"id": "four"})).unwrap_err();
        assert_eq!(wrong, "invalid type: string \"four\", expected i64");
    }
}
