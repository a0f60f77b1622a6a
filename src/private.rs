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

/// The success path's decoder on one response body, as [`Client`](crate::Client) runs it: the
/// typed `data` of a good response, `None` for anything else. For the benchmarks, which measure
/// it beside serde_json over the bytes.
pub fn decode_good_response<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    let one_pass = crate::response::OnePass::<T>::new();
    one_pass.check(body);
    one_pass.take().map(|decoded| decoded.data)
}

/// A struct's response keys, for [`Field`]: generated beside each struct by
/// [`decode_struct!`](crate::__decode_struct).
pub trait Keys {
    /// The keys, in the struct's order.
    const KEYS: &'static [&'static str];
    /// A key's index in [`KEYS`](Keys::KEYS), `usize::MAX` for none: a `match` on string
    /// literals, which compiles to length and integer comparisons where comparing with the
    /// list's entries would call `memcmp` for every key.
    fn find(key: &str) -> usize;
}

/// The seed a generated `Deserialize` impl reads a struct's keys with: a key's index in the
/// struct's field list, or an `unknown field` error naming the key and the expected ones (a
/// GraphQL response holds exactly the fields selected, so any other key means the JSON does
/// not answer this operation). Used by [`decode_struct!`](crate::__decode_struct).
///
/// Generic over the struct's [`Keys`], so each struct's key `match` is inlined into the
/// parser's key read rather than called through a pointer for every key.
pub struct Field<K>(std::marker::PhantomData<K>);

impl<K> Field<K> {
    /// The seed of the struct whose keys are `K`.
    #[inline]
    pub fn new() -> Field<K> {
        Field(std::marker::PhantomData)
    }
}

impl<K> Default for Field<K> {
    fn default() -> Field<K> {
        Field::new()
    }
}

impl<'de, K: Keys> de::DeserializeSeed<'de> for Field<K> {
    type Value = usize;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<K: Keys> Visitor<'_> for Field<K> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    #[inline(always)]
    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        match K::find(key) {
            usize::MAX => Err(E::unknown_field(key, K::KEYS)),
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

/// The `Deserialize` and `Serialize` impls of a generated response struct: the one list of its
/// response keys, so decoding and encoding cannot disagree.
///
/// `decode_struct!(Name { index => field = "responseKey", ... })`, in the order of the struct's
/// key list. A struct that holds fragments reads its keys flat into locals, says where each
/// value lives (`@ run_summary.id`) and how the struct is built from the locals:
/// `decode_struct!(Name { 0 => id = "id" @ run_summary.id, ... } => Name { run_summary:
/// RunSummary { id }, ... })`. Field types are inferred from the struct.
///
/// Decoding reads a JSON object key by key through [`Field`], [`field`] and [`take`], as
/// `#[derive(Deserialize)]` with `deny_unknown_fields` does (an unknown or repeated key is an
/// error; an absent key is `None` for an `Option`, else `missing field`), without the
/// derive's per-struct field enum and visitor and its sequence form, which no JSON object
/// needs: checking those bodies was most of what a generated crate cost rustc. Encoding writes
/// every field under its key, as `#[derive(Serialize)]` does.
///
/// The macro's own names (`__D`, `__map`, `__Visitor`, ...) cannot meet a generated name:
/// generated names never start with `__`, and locals are hygienic.
#[doc(hidden)]
#[macro_export]
macro_rules! __decode_struct {
    (@impl $name:ident { $($index:literal => $field:ident = $key:literal @ $($path:ident).+,)* } => $build:expr) => {
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<__D: $crate::__private::serde::Deserializer<'de>>(
                __deserializer: __D,
            ) -> ::core::result::Result<Self, __D::Error> {
                const __FIELDS: &[&str] = &[$($key),*];
                struct __Keys;
                impl $crate::__private::Keys for __Keys {
                    const KEYS: &'static [&'static str] = __FIELDS;
                    #[inline(always)]
                    fn find(__key: &str) -> usize {
                        match __key {
                            $($key => $index,)*
                            _ => usize::MAX,
                        }
                    }
                }
                struct __Visitor;
                impl<'de> $crate::__private::serde::de::Visitor<'de> for __Visitor {
                    type Value = $name;
                    fn expecting(
                        &self,
                        __f: &mut ::core::fmt::Formatter<'_>,
                    ) -> ::core::fmt::Result {
                        __f.write_str(concat!("struct ", stringify!($name)))
                    }
                    #[allow(unused_mut)]
                    #[inline]
                    fn visit_map<__A: $crate::__private::serde::de::MapAccess<'de>>(
                        self,
                        mut __map: __A,
                    ) -> ::core::result::Result<$name, __A::Error> {
                        $(let mut $field = ::core::option::Option::None;)*
                        while let ::core::option::Option::Some(__key) =
                            __map.next_key_seed($crate::__private::Field::<__Keys>::new())?
                        {
                            let __read: ::core::result::Result<(), __A::Error> = match __key {
                                $($index => $crate::__private::field(&mut __map, &mut $field, $key),)*
                                _ => ::core::result::Result::Ok(()),
                            };
                            __read?;
                        }
                        $(let $field = $crate::__private::take($field, $key)?;)*
                        ::core::result::Result::Ok($build)
                    }
                }
                __deserializer.deserialize_struct(stringify!($name), __FIELDS, __Visitor)
            }
        }
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<__S: $crate::__private::serde::Serializer>(
                &self,
                __serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                use $crate::__private::serde::ser::SerializeStruct as _;
                let mut __state =
                    __serializer.serialize_struct(stringify!($name), <[&str]>::len(&[$($key),*]))?;
                $(__state.serialize_field($key, &self.$($path).+)?;)*
                __state.end()
            }
        }
    };
    ($name:ident { $($index:literal => $field:ident = $key:literal,)* }) => {
        $crate::__decode_struct!(@impl $name { $($index => $field = $key @ $field,)* } => $name { $($field,)* });
    };
    ($name:ident { $($index:literal => $field:ident = $key:literal @ $($path:ident).+,)* } => $build:expr) => {
        $crate::__decode_struct!(@impl $name { $($index => $field = $key @ $($path).+,)* } => $build);
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
        0 => id = "id",
        1 => title = "title",
        2 => skipped = "skipped",
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

    #[test]
    fn serializes_every_field_under_its_key() {
        let run = Run {
            id: 4,
            title: None,
            skipped: Some(true),
        };
        assert_eq!(
            serde_json::to_string(&run).unwrap(),
            r#"{"id":4,"title":null,"skipped":true}"#
        );
    }

    /// A struct holding a fragment as a named field reads and writes its keys flat.
    #[derive(Debug, PartialEq)]
    struct Summary {
        id: i64,
        etag: Option<String>,
    }
    #[derive(Debug, PartialEq)]
    struct Held {
        summary: Summary,
        part_number: String,
    }
    crate::__private::decode_struct!(Held {
        0 => id = "id" @ summary.id,
        1 => etag = "_etag" @ summary.etag,
        2 => part_number = "partNumber" @ part_number,
    } => Held {
        summary: Summary { id, etag },
        part_number,
    });

    #[test]
    fn a_struct_holding_a_fragment_is_flat_on_the_wire() {
        let text = r#"{"id":1,"_etag":"e1","partNumber":"TA-100"}"#;
        let held: Held = serde_json::from_str(text).unwrap();
        assert_eq!(
            held,
            Held {
                summary: Summary {
                    id: 1,
                    etag: Some("e1".into())
                },
                part_number: "TA-100".into()
            }
        );
        assert_eq!(serde_json::to_string(&held).unwrap(), text);
        let unknown = serde_json::from_str::<Held>(r#"{"id":1,"partNumber":"x","title":"t"}"#)
            .unwrap_err()
            .to_string();
        assert!(unknown.starts_with("unknown field `title`"), "{unknown}");
    }

    /// Field and type names the macro uses itself, or that a careless expansion would capture:
    /// this compiles, and decodes and encodes them.
    mod collisions {
        #![allow(non_camel_case_types, dead_code)]
        #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct D(pub i64);
        #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct A(pub i64);
        #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct S(pub i64);
        #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct Visitor(pub i64);
        #[derive(Debug, PartialEq)]
        pub struct Value {
            pub map: D,
            pub key: A,
            pub read: S,
            pub find: Visitor,
            pub deserializer: Option<i64>,
            pub serializer: Option<i64>,
            pub state: Option<i64>,
            pub f: Option<i64>,
            pub field: Option<i64>,
            pub take: Option<i64>,
            pub value: Option<i64>,
            pub de: Option<i64>,
            pub self_: Option<i64>,
        }
        crate::__private::decode_struct!(Value {
            0 => map = "map",
            1 => key = "key",
            2 => read = "read",
            3 => find = "find",
            4 => deserializer = "deserializer",
            5 => serializer = "serializer",
            6 => state = "state",
            7 => f = "f",
            8 => field = "field",
            9 => take = "take",
            10 => value = "value",
            11 => de = "de",
            12 => self_ = "self",
        });
    }

    #[test]
    fn names_colliding_with_the_macro_s_own_decode_and_encode() {
        use collisions::*;
        let text = r#"{"map":1,"key":2,"read":3,"find":4,"deserializer":5,"serializer":null,"state":7,"f":8,"field":9,"take":10,"value":11,"de":12,"self":13}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value.map, D(1));
        assert_eq!(value.find, Visitor(4));
        assert_eq!(value.self_, Some(13));
        assert_eq!(serde_json::to_string(&value).unwrap(), text);
    }
}

/// `decode_struct!` against serde's own derive on arbitrary JSON: the same decisions and the
/// same values for every object, and the same output when encoding what both decoded. (A JSON
/// array is the one documented difference: the derive reads it as the fields in order, the
/// macro refuses it.)
#[cfg(test)]
mod differential {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    #[derive(Debug, PartialEq, Clone)]
    struct Ours {
        id: i64,
        title: Option<String>,
        done: Option<bool>,
        tags: Vec<Option<String>>,
        etag: Option<String>,
    }
    crate::__private::decode_struct!(Ours {
        0 => id = "id",
        1 => title = "title",
        2 => done = "done",
        3 => tags = "tags",
        4 => etag = "_etag",
    });

    #[derive(Debug, PartialEq, Clone, serde::Deserialize, serde::Serialize)]
    #[serde(deny_unknown_fields)]
    struct Derived {
        id: i64,
        title: Option<String>,
        done: Option<bool>,
        tags: Vec<Option<String>>,
        #[serde(rename = "_etag")]
        etag: Option<String>,
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::String),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(2, 8, 3, |inner| {
            prop::collection::vec(inner, 0..3).prop_map(Value::Array)
        })
    }

    /// Objects with the struct's keys (present, absent, of any type), sometimes another key.
    fn object() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("id"),
            Just("title"),
            Just("done"),
            Just("tags"),
            Just("_etag"),
            Just("etag"),
            Just("other"),
        ];
        prop::collection::vec((key, value()), 0..7).prop_map(|pairs| {
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(k.to_string(), v);
            }
            Value::Object(map)
        })
    }

    fn same(ours: &Ours, derived: &Derived) -> bool {
        ours.id == derived.id
            && ours.title == derived.title
            && ours.done == derived.done
            && ours.tags == derived.tags
            && ours.etag == derived.etag
    }

    proptest! {
        #[test]
        fn decodes_and_encodes_as_the_derive(value in object()) {
            let text = value.to_string();
            let ours = serde_json::from_str::<Ours>(&text);
            let derived = serde_json::from_str::<Derived>(&text);
            match (&ours, &derived) {
                (Ok(o), Ok(d)) => {
                    prop_assert!(same(o, d), "{text}: {o:?} vs {d:?}");
                    prop_assert_eq!(
                        serde_json::to_string(o).unwrap(),
                        serde_json::to_string(d).unwrap()
                    );
                }
                (Err(o), Err(d)) => prop_assert_eq!(o.to_string(), d.to_string()),
                _ => prop_assert!(false, "{text}: ours {ours:?}, derive {derived:?}"),
            }
        }

        #[test]
        fn a_repeated_key_is_refused_as_the_derive_refuses_it(id in any::<i64>(), dup in 0usize..5) {
            let keys = ["id", "title", "done", "tags", "_etag"];
            let text = format!(r#"{{"id":{id},"title":"t","done":true,"tags":[],"_etag":null,"{}":null}}"#, keys[dup]);
            let ours = serde_json::from_str::<Ours>(&text).map(|_| ()).map_err(|e| e.to_string());
            let derived = serde_json::from_str::<Derived>(&text).map(|_| ()).map_err(|e| e.to_string());
            prop_assert!(ours.is_err());
            prop_assert_eq!(ours, derived);
        }
    }

    #[test]
    fn an_array_is_the_one_difference() {
        let text = r#"[1, "t", true, [], null]"#;
        assert!(serde_json::from_str::<Derived>(text).is_ok());
        assert!(serde_json::from_str::<Ours>(text).is_err());
    }
}
