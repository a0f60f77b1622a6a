//! A response's GraphQL `errors[]`, read within bounds and made safe to keep.
//!
//! A server decides how large `errors[]` is: a 60 MiB message, a million errors, or a `path`
//! of a million zeros (about 12 bytes of memory per byte of input as `Vec<PathFragment>`).
//! [`GraphqlErrors`] reads it with visitors that keep at most [`MAX_ERRORS`] errors, each
//! with at most [`MAX_PATH`] path segments and locations, message and keys cut to what an
//! error message can use, and extensions only up to [`MAX_EXTENSIONS_BYTES`] of JSON; the rest
//! is skipped as it is read, without being held. [`GraphqlErrors::redacted`] then removes the
//! token and the client secret and clips the text for good.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::GraphqlError;
use crate::secret::Redactor;
use crate::wire::{EXCERPT_INPUT_BYTES, MESSAGE_CHARS, clip, floor_char_boundary};
use graphql_client::{Location, PathFragment};

/// The most errors kept of one response: more than any caller reads, and the count of the
/// rest is still reported.
pub(crate) const MAX_ERRORS: usize = 100;
/// The most path segments (and locations) kept of one error: deeper than any operation of
/// ION's schema nests.
pub(crate) const MAX_PATH: usize = 64;
/// The longest path key kept, in characters: field names and aliases are short.
const PATH_KEY_CHARS: usize = 200;
/// The largest `extensions` object kept, as JSON text: ION's are a code and a few fields.
pub(crate) const MAX_EXTENSIONS_BYTES: usize = 16 * 1024;

/// `errors[]` as read: the first [`MAX_ERRORS`] errors and how many the response held.
#[derive(Debug, Default)]
pub(crate) struct GraphqlErrors {
    pub(crate) kept: Vec<GraphqlError>,
    pub(crate) total: usize,
}

impl GraphqlErrors {
    /// The kept errors without the token and the client secret (in messages, path keys and
    /// extensions, keys and values) and with messages clipped to [`MESSAGE_CHARS`].
    pub(crate) fn redacted(self, redactor: &Redactor) -> GraphqlErrors {
        let kept = self
            .kept
            .into_iter()
            .map(|mut error| {
                error.message = clip(&error.message, MESSAGE_CHARS, redactor);
                for segment in error.path.iter_mut().flatten() {
                    if let PathFragment::Key(key) = segment {
                        *key = clip(key, PATH_KEY_CHARS, redactor);
                    }
                }
                if let Some(extensions) = error.extensions.take() {
                    let mut value = serde_json::Value::Object(extensions.into_iter().collect());
                    redactor.json(&mut value);
                    if let serde_json::Value::Object(map) = value {
                        error.extensions = Some(map.into_iter().collect());
                    }
                }
                error
            })
            .collect();
        GraphqlErrors {
            kept,
            total: self.total,
        }
    }
}

impl<'de> Deserialize<'de> for GraphqlErrors {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Errors;
        impl<'de> Visitor<'de> for Errors {
            type Value = GraphqlErrors;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of GraphQL errors")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GraphqlErrors, A::Error> {
                let mut out = GraphqlErrors::default();
                loop {
                    let more = if out.kept.len() < MAX_ERRORS {
                        seq.next_element::<Bounded>()?
                            .map(|e| out.kept.push(e.0))
                            .is_some()
                    } else {
                        seq.next_element::<IgnoredAny>()?.is_some()
                    };
                    if !more {
                        return Ok(out);
                    }
                    out.total += 1;
                }
            }
        }
        deserializer.deserialize_seq(Errors)
    }
}

/// One error, read within bounds.
struct Bounded(GraphqlError);

impl<'de> Deserialize<'de> for Bounded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Error;
        impl<'de> Visitor<'de> for Error {
            type Value = Bounded;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a GraphQL error object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bounded, A::Error> {
                let mut message = None;
                let mut locations = None;
                let mut path = None;
                let mut extensions = None;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Message => message = Some(map.next_value::<Text>()?.0),
                        Key::Locations => {
                            locations = map.next_value::<Option<Few<Location>>>()?.map(|few| few.0);
                        }
                        Key::Path => {
                            path = map
                                .next_value::<Option<Few<Segment>>>()?
                                .map(|few| few.0.into_iter().map(|segment| segment.0).collect());
                        }
                        Key::Extensions => {
                            let raw = map.next_value::<Option<&'de RawValue>>()?;
                            extensions =
                                match raw {
                                    Some(raw) if raw.get().len() <= MAX_EXTENSIONS_BYTES => {
                                        serde_json::from_str::<
                                            Option<HashMap<String, serde_json::Value>>,
                                        >(raw.get())
                                        .map_err(de::Error::custom)?
                                    }
                                    // Larger ones are not kept: nothing in them is worth holding
                                    // a response's worth of memory.
                                    _ => None,
                                };
                        }
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let message = message.ok_or_else(|| de::Error::missing_field("message"))?;
                Ok(Bounded(GraphqlError {
                    message,
                    locations,
                    path,
                    extensions,
                }))
            }
        }
        deserializer.deserialize_map(Error)
    }
}

/// The keys of an error object; any other is skipped.
enum Key {
    Message,
    Locations,
    Path,
    Extensions,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl Visitor<'_> for Keys {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "message" => Key::Message,
                    "locations" => Key::Locations,
                    "path" => Key::Path,
                    "extensions" => Key::Extensions,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(Keys)
    }
}

/// A string of which only the beginning is kept: enough for [`clip`] to see that it was cut
/// and to drop a secret cut in two, never the whole of a huge one.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Prefix;
        impl Visitor<'_> for Prefix {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
                // One character beyond what `clip` reads, so it knows there was more.
                let end = floor_char_boundary(text, EXCERPT_INPUT_BYTES + 4);
                Ok(Text(text[..end].to_owned()))
            }
        }
        deserializer.deserialize_str(Prefix)
    }
}

/// A list of which the first [`MAX_PATH`] items are kept and the rest skipped.
struct Few<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Few<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct List<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for List<T> {
            type Value = Few<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Few<T>, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < MAX_PATH {
                    match seq.next_element::<T>()? {
                        Some(item) => kept.push(item),
                        None => return Ok(Few(kept)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Few(kept))
            }
        }
        deserializer.deserialize_seq(List(std::marker::PhantomData))
    }
}

/// A path segment: a key (of which only the beginning is kept) or an index (an integer
/// beyond `i32` is kept as its text).
struct Segment(PathFragment);

impl<'de> Deserialize<'de> for Segment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Segments;
        impl Visitor<'_> for Segments {
            type Value = Segment;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path segment (a string or an integer)")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Segment, E> {
                let end = floor_char_boundary(key, EXCERPT_INPUT_BYTES + 4);
                Ok(Segment(PathFragment::Key(key[..end].to_owned())))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Segment, E> {
                Ok(Segment(match i32::try_from(n) {
                    Ok(n) => PathFragment::Index(n),
                    Err(_) => PathFragment::Key(n.to_string()),
                }))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Segment, E> {
                Ok(Segment(match i32::try_from(n) {
                    Ok(n) => PathFragment::Index(n),
                    Err(_) => PathFragment::Key(n.to_string()),
                }))
            }
        }
        deserializer.deserialize_any(Segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> GraphqlErrors {
        serde_json::from_str(json).expect("errors[]")
    }

    #[test]
    fn errors_read_as_graphql_client_reads_them() {
        let json = r#"[{"message": "boom", "locations": [{"line": 1, "column": 2}],
            "path": ["runs", 0, "title"], "extensions": {"code": "X"}, "other": 1}]"#;
        let ours = read(json);
        let theirs: Vec<GraphqlError> = serde_json::from_str(json).expect("errors[]");
        assert_eq!(ours.kept, theirs);
        assert_eq!(ours.total, 1);
        let missing = serde_json::from_str::<GraphqlErrors>(r#"[{"path": []}]"#);
        assert!(missing.is_err());
    }

    #[test]
    fn huge_lists_keep_their_first_items_and_count_the_rest() {
        let errors = format!("[{}]", vec![r#"{"message":"m"}"#; 1000].join(","));
        let read_back = read(&errors);
        assert_eq!((read_back.kept.len(), read_back.total), (MAX_ERRORS, 1000));
        let path = format!(
            r#"[{{"message":"","path":[{}]}}]"#,
            vec!["0"; 100_000].join(",")
        );
        let read_back = read(&path);
        assert_eq!(
            read_back.kept[0].path.as_ref().map(Vec::len),
            Some(MAX_PATH)
        );
        let extensions = format!(
            r#"[{{"message":"","extensions":{{"x":"{}"}}}}]"#,
            "x".repeat(20_000)
        );
        assert_eq!(read(&extensions).kept[0].extensions, None);
        let big_index = read(r#"[{"message":"","path":[4294967296]}]"#);
        assert_eq!(
            big_index.kept[0].path,
            Some(vec![PathFragment::Key("4294967296".into())])
        );
    }

    #[test]
    fn messages_and_keys_are_clipped_and_redacted() {
        let secret = "tok-SENSITIVE";
        let json = format!(
            r#"[{{"message":"{secret} {}","path":["{secret}"],"extensions":{{"{secret}":"{secret}"}}}}]"#,
            "m".repeat(5_000_000)
        );
        let errors = read(&json).redacted(&Redactor::new(&[secret]));
        let error = &errors.kept[0];
        assert_eq!(error.message.chars().count(), MESSAGE_CHARS + 1);
        assert!(error.message.starts_with("[redacted] mmm") && error.message.ends_with('…'));
        assert_eq!(
            error.path,
            Some(vec![PathFragment::Key("[redacted]".into())])
        );
        assert_eq!(
            error.extensions.as_ref().and_then(|e| e.get("[redacted]")),
            Some(&serde_json::json!("[redacted]"))
        );
    }
}
