//! A serde `Deserializer` for the success path only: it reads what a good GraphQL response
//! holds (objects, arrays, strings, numbers, `true`, `false`, `null`) and gives up, with no
//! message, on anything else, so that [`wire::from_body`](crate::wire::from_body) reads the body
//! again with serde_json, whose value, error, line and column are the ones reported.
//!
//! Invariant: whatever it accepts, serde_json's `from_str` accepts with the same value, for
//! every type whose `Deserialize` never recovers from an error of its deserializer (the
//! generated types, the envelope, `serde_json::Value`): it calls the same visitor methods
//! serde_json calls for the same text (`visit_borrowed_str` for a string without escapes,
//! `visit_u64` for a non-negative integer, `visit_i64` for a negative one, `visit_unit` after
//! checking an ignored value, ...), and refuses every text serde_json refuses. Numbers other
//! than short integers are handed to serde_json's own number parser. What it refuses but
//! serde_json accepts costs a second read, never a different answer: a `\u` escape of half
//! a surrogate pair alone, nesting deeper than [`MAX_DEPTH`], keys read as numbers or
//! booleans, byte buffers, `i128`, enums and `RawValue` (and numbers read without a type's
//! hint, under serde_json's `arbitrary_precision`). `response/differential.rs` checks it against
//! serde_json on mutated responses, and this module's tests on arbitrary JSON.
//!
//! Faster than serde_json on a page because it does less per token: no error position kept,
//! no scratch buffer for unescaped strings, an error that holds nothing and is never
//! formatted, and code small enough to be inlined into the generated visitors.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, Visitor};

/// Nesting at which the reader gives up (serde_json refuses past 128).
pub(crate) const MAX_DEPTH: u32 = 100;

/// `text` read as `T`; `None` when the reader gives up (see the module's doc).
pub(crate) fn from_str<'de, T: serde::Deserialize<'de>>(text: &'de str) -> Option<T> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let value = T::deserialize(&mut reader).ok()?;
    reader.skip_space();
    (reader.pos == reader.bytes.len()).then_some(value)
}

/// Why the reader gave up: never shown, so it holds nothing.
#[derive(Debug)]
pub(crate) struct GiveUp;

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not read by the quick reader")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    #[cold]
    fn custom<T: std::fmt::Display>(_: T) -> GiveUp {
        GiveUp
    }
}

type Result<T> = std::result::Result<T, GiveUp>;

/// Whether serde_json hands numbers to `deserialize_any`'s visitors as numbers. Under its
/// `arbitrary_precision` feature (which any crate of a build can turn on) it hands them over
/// as a map holding their text, which this reader does not imitate: it then leaves every
/// number read without a type's hint to serde_json.
fn plain_numbers() -> bool {
    static PLAIN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PLAIN.get_or_init(|| {
        serde_json::from_str::<serde_json::Number>("1.50").is_ok_and(|n| n.to_string() == "1.5")
    })
}

struct Reader<'de> {
    text: &'de str,
    bytes: &'de [u8],
    pos: usize,
    depth: u32,
}

/// A string as read: borrowed from the body when it held no escape.
enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

const ONES: u64 = u64::MAX / 255;
const HIGHS: u64 = ONES << 7;

/// The high bit of each byte of `chunk` that is `"`, `\` or a control character, and maybe of
/// bytes after the first such one (Mycroft's test, as serde_json scans strings): the lowest
/// set bit is exact.
#[inline(always)]
fn specials(chunk: u64) -> u64 {
    let control = chunk.wrapping_sub(ONES * 0x20) & !chunk;
    let quote = chunk ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = chunk ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGHS
}

impl<'de> Reader<'de> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips JSON's four whitespace bytes; the next byte, if any.
    #[inline(always)]
    fn skip_space(&mut self) -> Option<u8> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\n' | b'\t' | b'\r') => self.pos += 1,
                other => return other.copied(),
            }
        }
    }

    /// Reads `word` (the rest of `null`, `true`, `false`) after its first byte.
    #[inline]
    fn word(&mut self, word: &[u8]) -> Result<()> {
        let end = self.pos + 1 + word.len();
        if self.bytes.get(self.pos + 1..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Reads a string whose opening quote is at `pos`.
    #[inline(always)]
    fn string(&mut self) -> Result<Text<'de>> {
        let start = self.pos + 1;
        let mut at = start;
        // Eight bytes at a time to the first `"`, `\` or control character.
        while let Some(chunk) = self.bytes.get(at..at + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let found = specials(u64::from_le_bytes(word));
            if found != 0 {
                at += found.trailing_zeros() as usize / 8;
                return self.string_end(start, at);
            }
            at += 8;
        }
        while let Some(&b) = self.bytes.get(at) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            at += 1;
        }
        self.string_end(start, at)
    }

    /// A string from `start` whose first `"`, `\` or control character (or the end of the
    /// body) is at `at`.
    #[inline(always)]
    fn string_end(&mut self, start: usize, at: usize) -> Result<Text<'de>> {
        match self.bytes.get(at) {
            Some(b'"') => {
                self.pos = at + 1;
                self.text.get(start..at).map(Text::Borrowed).ok_or(GiveUp)
            }
            Some(b'\\') => self.escaped(start, at),
            _ => Err(GiveUp),
        }
    }

    /// The rest of a string from its first escape, at `at`.
    #[cold]
    fn escaped(&mut self, start: usize, mut at: usize) -> Result<Text<'de>> {
        let mut out = String::from(self.text.get(start..at).ok_or(GiveUp)?);
        let mut plain = at;
        loop {
            match self.bytes.get(at) {
                Some(b'"') => {
                    out.push_str(self.text.get(plain..at).ok_or(GiveUp)?);
                    self.pos = at + 1;
                    return Ok(Text::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(self.text.get(plain..at).ok_or(GiveUp)?);
                    let c = match self.bytes.get(at + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let code = self.hex4(at + 2)?;
                            at += 4;
                            if (0xD800..0xDC00).contains(&code) {
                                // The first half of a pair (as servers that escape all
                                // but ASCII write an emoji): the second must follow.
                                if self.bytes.get(at + 2..at + 4) != Some(b"\\u") {
                                    return Err(GiveUp);
                                }
                                let low = self.hex4(at + 4)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(GiveUp);
                                }
                                at += 6;
                                let pair = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                char::from_u32(pair).ok_or(GiveUp)?
                            } else {
                                // A second half alone is not a character: left to
                                // serde_json.
                                char::from_u32(code).ok_or(GiveUp)?
                            }
                        }
                        _ => return Err(GiveUp),
                    };
                    out.push(c);
                    at += 2;
                    plain = at;
                }
                Some(0..0x20) | None => return Err(GiveUp),
                Some(_) => at += 1,
            }
        }
    }

    /// The four hex digits of a `\u` escape at `from`.
    fn hex4(&self, from: usize) -> Result<u32> {
        let hex = self.text.get(from..from + 4).ok_or(GiveUp)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GiveUp);
        }
        u32::from_str_radix(hex, 16).map_err(|_| GiveUp)
    }

    /// Reads a number at `pos`. An integer of up to 18 digits is read here; any other
    /// number (a fraction, an exponent, more digits, `-0`) by serde_json itself, as
    /// [`serde_json::Number`], so its value and its kind (`u64`, `i64` or `f64`) are
    /// serde_json's.
    #[inline]
    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let negative = self.bytes[self.pos] == b'-';
        let start = self.pos + usize::from(negative);
        let mut at = start;
        let mut value: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.bytes.get(at) {
            value = value * 10 + u64::from(digit - b'0');
            at += 1;
            if at - start > 18 {
                return self.other_number(visitor);
            }
        }
        let digits = at - start;
        let simple = digits > 0
            && (digits == 1 || self.bytes[start] != b'0')
            && !matches!(self.bytes.get(at), Some(b'.' | b'e' | b'E'))
            && !(negative && value == 0);
        if !simple {
            return self.other_number(visitor);
        }
        self.pos = at;
        if negative {
            // At most 18 digits: within `i64`.
            visitor.visit_i64(-(value as i64))
        } else {
            visitor.visit_u64(value)
        }
    }

    /// A number [`number`](Self::number) does not read itself: its text (every byte that can
    /// be part of a JSON number; if serde_json reads a number here, it ends where they do)
    /// read by serde_json alone.
    #[cold]
    fn other_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let len = self.bytes[self.pos..]
            .iter()
            .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        let text = self.text.get(self.pos..self.pos + len).ok_or(GiveUp)?;
        let number: serde_json::Number = serde_json::from_str(text).map_err(|_| GiveUp)?;
        self.pos += len;
        if let Some(n) = number.as_u64() {
            visitor.visit_u64(n)
        } else if let Some(n) = number.as_i64() {
            visitor.visit_i64(n)
        } else {
            visitor.visit_f64(number.as_f64().ok_or(GiveUp)?)
        }
    }

    #[inline]
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        self.pos += 1;
        if self.depth > MAX_DEPTH {
            Err(GiveUp)
        } else {
            Ok(())
        }
    }

    /// After an array's elements or an object's members: its closing `]` or `}`.
    #[inline]
    fn close(&mut self, bracket: u8) -> Result<()> {
        self.depth -= 1;
        if self.skip_space() == Some(bracket) {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    #[inline]
    fn visit_text<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.string()? {
            Text::Borrowed(s) => visitor.visit_borrowed_str(s),
            Text::Owned(s) => visitor.visit_str(&s),
        }
    }

    #[inline]
    fn array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.enter()?;
        let value = visitor.visit_seq(Elements {
            reader: self,
            first: true,
        })?;
        self.close(b']')?;
        Ok(value)
    }

    #[inline]
    fn object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.enter()?;
        let value = visitor.visit_map(Members {
            reader: self,
            first: true,
        })?;
        self.close(b'}')?;
        Ok(value)
    }
}

/// The newtype name serde_json reads as a request for the raw text of a value (`RawValue`),
/// which this reader leaves to serde_json.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// `Deserializer` methods that call another with the same visitor.
macro_rules! forward {
    ($to:ident: $($name:ident)*) => {
        $(
            #[inline]
            fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                self.$to(visitor)
            }
        )*
    };
}

/// `Deserializer` methods that give up: serde_json reads what they are asked for.
macro_rules! give_up {
    ($($name:ident)*) => {
        $(
            fn $name<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
                Err(GiveUp)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'n') => {
                self.word(b"ull")?;
                visitor.visit_unit()
            }
            Some(b't') => {
                self.word(b"rue")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.word(b"alse")?;
                visitor.visit_bool(false)
            }
            Some(b'-' | b'0'..=b'9') if plain_numbers() => self.number(visitor),
            Some(b'"') => self.visit_text(visitor),
            Some(b'[') => self.array(visitor),
            Some(b'{') => self.object(visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b't' | b'f') => self.deserialize_any(visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'-' | b'0'..=b'9') => self.number(visitor),
            _ => Err(GiveUp),
        }
    }

    // Every number is read as serde_json's `deserialize_number` reads it; the visitor says
    // which it takes.
    forward!(deserialize_i64:
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_u8 deserialize_u16
        deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
    );

    give_up!(deserialize_i128 deserialize_u128);

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'"') => self.visit_text(visitor),
            _ => Err(GiveUp),
        }
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    give_up!(deserialize_bytes deserialize_byte_buf);

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'n') => {
                self.word(b"ull")?;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'n') => {
                self.word(b"ull")?;
                visitor.visit_unit()
            }
            _ => Err(GiveUp),
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == RAW_VALUE {
            return Err(GiveUp);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'[') => self.array(visitor),
            _ => Err(GiveUp),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'{') => self.object(visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.skip_space() {
            Some(b'{') => self.object(visitor),
            Some(b'[') => self.array(visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(GiveUp)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // serde_json checks the value and calls `visit_unit`.
        self.deserialize_any(IgnoredAny)?;
        visitor.visit_unit()
    }
}

/// An array's elements, as serde_json's `SeqAccess` reads them.
struct Elements<'r, 'de> {
    reader: &'r mut Reader<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Elements<'_, 'de> {
    type Error = GiveUp;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.reader.skip_space() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => {
                self.reader.pos += 1;
                if let Some(b']') | None = self.reader.skip_space() {
                    return Err(GiveUp);
                }
            }
            Some(_) if self.first => self.first = false,
            _ => return Err(GiveUp),
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

/// An object's members, as serde_json's `MapAccess` reads them.
struct Members<'r, 'de> {
    reader: &'r mut Reader<'de>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for Members<'_, 'de> {
    type Error = GiveUp;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.reader.skip_space() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => {
                self.reader.pos += 1;
                self.reader.skip_space();
            }
            Some(_) if self.first => self.first = false,
            _ => return Err(GiveUp),
        }
        match self.reader.peek() {
            Some(b'"') => seed.deserialize(Key(&mut *self.reader)).map(Some),
            _ => Err(GiveUp),
        }
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.reader.skip_space() {
            Some(b':') => {
                self.reader.pos += 1;
                seed.deserialize(&mut *self.reader)
            }
            _ => Err(GiveUp),
        }
    }
}

/// An object's key, at its opening quote, as serde_json's `MapKey` reads it: a string to
/// every visitor that takes one; keys read as numbers or booleans are left to serde_json.
struct Key<'a, 'de>(&'a mut Reader<'de>);

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = GiveUp;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.0.visit_text(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == RAW_VALUE {
            return Err(GiveUp);
        }
        visitor.visit_newtype_struct(self)
    }

    // Keys read as numbers, booleans or bytes are left to serde_json.
    give_up!(
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_bytes deserialize_byte_buf
    );
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(GiveUp)
    }
    serde::forward_to_deserialize_any! {
        char str string unit unit_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::from_str;
    use crate::response::TypedEnvelope;

    /// The reader's answer beside serde_json's: wherever the reader answers, serde_json
    /// answers the same. `Err` with the text when they differ.
    fn agrees<T>(text: &str) -> Result<Option<T>, String>
    where
        T: serde::de::DeserializeOwned + std::fmt::Debug + PartialEq,
    {
        let quick = from_str::<T>(text);
        let reference = serde_json::from_str::<T>(text);
        match (&quick, &reference) {
            (None, _) => Ok(quick),
            (Some(q), Ok(r)) if q == r => Ok(quick),
            _ => Err(format!(
                "{text:?}: quick {quick:?}, serde_json {reference:?}"
            )),
        }
    }

    #[test]
    fn numbers_are_plain_without_arbitrary_precision() {
        assert!(super::plain_numbers());
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            "null",
            " true ",
            "false",
            "0",
            "-1",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "-0",
            "1.5",
            "-0.0",
            "1e3",
            "1E-3",
            "2.5e-324",
            "\"\"",
            "\"plain\"",
            "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u4e2d\"",
            "\"\u{7f}é😀\"",
            "[]",
            "[1, [2, {\"a\": [null]}], \"x\"]",
            "{}",
            "{\"a\": 1, \"b\": {\"c\": \"d\"}, \"\\u0061\": 2}",
            "\"\\ud83d\\ude00 \\uD834\\uDD1E\\udbff\\udfff\"",
            " \n\t\r{ \"a\" : [ 1 , 2 ] } \n",
        ] {
            assert!(agrees::<Value>(text).unwrap().is_some(), "{text}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses_or_leaves_it_to_serde_json() {
        for text in [
            "",
            " ",
            "nul",
            "nulll",
            "tru",
            "falsey",
            "01",
            "-",
            "--1",
            "+1",
            "1.",
            ".5",
            "1e",
            "1e400",
            "-1e400",
            "NaN",
            "Infinity",
            "\"",
            "\"abc",
            "\"\u{1}\"",
            "\"\t\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud83d\\u0041\"",
            "\"\\ud83d\\ud83d\"",
            "\"\\ud83dx\"",
            "\"\\ud83d\\\"",
            "\"\\ud83d\\ude0\"",
            "[",
            "[1",
            "[1,]",
            "[,1]",
            "[1 2]",
            "]",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{,\"a\":1}",
            "{\"a\":1 \"b\":2}",
            "{1:2}",
            "{\"a\" 1}",
            "1 2",
            "{} x",
            "[]]",
            "\u{c}1",
            "\u{a0}1",
            "1\u{0}",
        ] {
            assert!(agrees::<Value>(text).is_ok(), "{text}");
            if serde_json::from_str::<Value>(text).is_err() {
                assert!(from_str::<Value>(text).is_none(), "{text}");
            }
        }
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(from_str::<Value>(&deep).is_none());
        let shallow = format!("{}1{}", "[".repeat(99), "]".repeat(99));
        assert!(agrees::<Value>(&shallow).unwrap().is_some());
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (0u32..1000).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            "[a-z\"\\\\/\u{0}-\u{1f}\u{7f}é😀]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof!["[a-z_]{0,8}", "\\PC{0,4}", Just("data".to_owned())],
                        inner
                    ),
                    0..6
                )
                .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// Text spliced into a body: JSON's tokens and near misses.
    const SPLICES: &[&str] = &[
        "",
        " ",
        ",",
        ":",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "\\",
        "\\u",
        "\\ud800",
        "\\ud83d\\ude00",
        "\\udc00",
        "-",
        "0",
        "01",
        ".",
        "e",
        "E+",
        "null",
        "nul",
        "true",
        "\u{0}",
        "\u{1f}",
        "\t",
        "\u{a0}",
        "1e999",
        "-0",
        "99999999999999999999",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Arbitrary JSON, written compact or pretty, then maybe spliced, read as a `Value`
        /// and as a response envelope: wherever the reader answers, serde_json answers the
        /// same, and the reader answers every unspliced body.
        #[test]
        fn agrees_with_serde_json_on_arbitrary_json(
            value in json(),
            pretty in any::<bool>(),
            splices in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(SPLICES), 0usize..3),
                0..3,
            ),
        ) {
            let mut text = if pretty {
                serde_json::to_string_pretty(&value).unwrap_or_default()
            } else {
                value.to_string()
            };
            let spliced = !splices.is_empty();
            for (at, insert, remove) in &splices {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + remove).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, insert);
            }
            let read = agrees::<Value>(&text).map_err(TestCaseError::fail)?;
            prop_assert!(spliced || read.is_some(), "{}", text);
            let envelope = format!("{{\"data\":{text},\"errors\":[{text}],\"x\":{text}}}");
            agrees::<Envelope>(&envelope).map_err(TestCaseError::fail)?;
        }
    }

    /// A response envelope as the success path reads it, comparable.
    #[derive(Debug, PartialEq)]
    struct Envelope(Option<Value>, Option<usize>);

    impl<'de> serde::Deserialize<'de> for Envelope {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Envelope, D::Error> {
            let e = TypedEnvelope::<Value>::deserialize(d)?;
            Ok(Envelope(e.data, e.errors.map(|e| e.len())))
        }
    }
}
