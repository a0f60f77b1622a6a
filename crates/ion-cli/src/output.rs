//! What `ion` prints, made safe to print: text from a server or a file is untrusted.
//!
//! - Control characters (C0, DEL and C1, which a terminal reads as commands: ESC starts an
//!   escape sequence, CSI one by itself, BEL rings) are escaped as `\u{1b}` in every text line
//!   `ion` writes (errors, warnings, reports), newline and tab excepted. Printable text is
//!   unchanged.
//! - JSON on stdout is serde_json's, which escapes C0; DEL and C1, which it writes raw, are
//!   written as `\u007f`..`\u009f` escapes, so the JSON means the same and prints nothing a
//!   terminal acts on.
//! - [`Secrets`] removes the access token and the client secret from anything printed that
//!   came from the server, as a second line of defence behind the library's own redaction.
//! - Server text quoted in an error or a warning is cut to [`MAX_QUOTED_CHARS`]
//!   ([`excerpt`]); the JSON on stdout is the response, whole.

use std::borrow::Cow;

use serde_json::Value;

/// What a secret is replaced with, as the library replaces it.
const REDACTED: &str = "[redacted]";

/// The most characters of one server text (a GraphQL error message, a value quoted in an
/// error) an error or warning line quotes: a screenful, enough for any real message.
pub const MAX_QUOTED_CHARS: usize = 2000;

/// The most GraphQL errors `ion run` lists on stderr one per line; all are in the JSON on
/// stdout.
pub const MAX_LISTED_ERRORS: usize = 20;

/// `text` cut to [`MAX_QUOTED_CHARS`] characters, saying how much was left out.
pub fn excerpt(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!(
            "{}… ({} more bytes)",
            &text[..cut],
            text.len() - cut
        )),
    }
}

/// Whether `c` is a control character a terminal may act on: `char::is_control` (C0, DEL,
/// C1), except newline and tab, which text legitimately holds.
fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `text` with each control character other than newline and tab written as its escape
/// (`\u{1b}`); text without one is returned as is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as one line of JSON with no raw control character (see the module docs).
pub fn json_line(value: &Value) -> String {
    escape_json_controls(value.to_string())
}

/// `value` as indented JSON with no raw control character.
pub fn json_pretty(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its keys are strings.
    escape_json_controls(serde_json::to_string_pretty(value).unwrap_or_default())
}

/// serde_json escapes every C0 character, `"` and `\`; DEL and C1 are the only control
/// characters it leaves raw, and only inside strings (everything else it writes is ASCII
/// punctuation, digits and letters), where a `\u` escape means the same character.
fn escape_json_controls(json: String) -> String {
    if !json.chars().any(char::is_control) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_control() && u32::from(c) >= 0x7f {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The access tokens and the client secret `ion` holds, to remove from what it prints.
#[derive(Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Adds `secret` (an empty one is ignored: it would match everywhere).
    pub fn add(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if !secret.is_empty() && !self.0.contains(&secret) {
            self.0.push(secret);
        }
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// `text` without secrets and with control characters escaped: what an error or a
    /// warning line prints.
    pub fn line(&self, text: &str) -> String {
        escape_controls(&self.text(text)).into_owned()
    }

    /// `value` with every secret replaced in its strings and object keys.
    pub fn json(&self, value: Value) -> Value {
        if self.0.is_empty() {
            return value;
        }
        match value {
            Value::String(s) => Value::String(self.text(&s).into_owned()),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.text(&k).into_owned(), self.json(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn terminal_commands_are_escaped_and_text_is_not() {
        assert_eq!(
            escape_controls("\u{1b}]0;pwned\u{7}\u{1b}[2Jred\u{9b}31m\r"),
            "\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jred\\u{9b}31m\\u{d}"
        );
        assert_eq!(
            escape_controls("two\nlines\tand é ✓"),
            "two\nlines\tand é ✓"
        );
        assert_eq!(
            json_line(&json!({"a\u{9b}": "\u{1b}[31m\u{7f}"})),
            r#"{"a\u009b":"\u001b[31m\u007f"}"#
        );
    }

    #[test]
    fn quoted_text_is_cut_at_a_character_boundary() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(MAX_QUOTED_CHARS + 5);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"é".repeat(MAX_QUOTED_CHARS)));
        assert!(cut.ends_with("… (10 more bytes)"), "{cut}");
    }

    #[test]
    fn secrets_are_removed_from_strings_and_keys() {
        let mut secrets = Secrets::default();
        secrets.add("tok-123");
        secrets.add("");
        let value = secrets.json(json!({"tok-123": ["Bearer tok-123", 1, null]}));
        assert_eq!(value, json!({"[redacted]": ["Bearer [redacted]", 1, null]}));
        assert_eq!(
            secrets.line("bad tok-123\u{1b}[0m"),
            "bad [redacted]\\u{1b}[0m"
        );
    }

    proptest! {
        /// Whatever the text: no control character but newline and tab is left, and text
        /// without one comes back unchanged.
        #[test]
        fn escaping_leaves_no_control_characters(text in any::<String>()) {
            let escaped = escape_controls(&text);
            prop_assert!(!escaped.chars().any(is_unsafe));
            if !text.chars().any(is_unsafe) {
                prop_assert_eq!(escaped.as_ref(), text.as_str());
            }
        }

        /// JSON output holds no raw control character and reads back as the same value.
        #[test]
        fn json_output_is_escaped_and_equivalent(key in any::<String>(), text in any::<String>()) {
            let value = json!({ key: [text, 1] });
            for printed in [json_line(&value), json_pretty(&value)] {
                prop_assert!(!printed.chars().any(|c| c.is_control() && c != '\n'));
                let back: Value = serde_json::from_str(&printed).expect("valid JSON");
                prop_assert_eq!(&back, &value);
            }
        }
    }
}
