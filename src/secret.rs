//! `Secret`, the one type that holds the client secret and access tokens, and [`redact`], the
//! one function that removes them from text.
//!
//! A leaf module, so configuration, authentication, transport and errors can all hold and
//! redact secrets without importing one another.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// What a secret is replaced with wherever text could have shown it.
pub(crate) const REDACTED: &str = "[redacted]";

/// A secret string (the client secret or an access token). `Debug` prints `[redacted]`; there
/// is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// What is removed from text and JSON: each non-empty secret as written and in the escaped
/// forms a server or this crate may print it in (Rust's `Debug`, which serde's error messages
/// quote values with; JSON, with and without `\u` escapes for non-ASCII), so that a secret
/// holding a `"` or a `é` is removed however it was quoted. Built once per failure and
/// applied to every string of it.
pub(crate) struct Redactor {
    forms: Vec<String>,
}

impl Redactor {
    /// Redacts `secrets`; empty ones are ignored.
    pub(crate) fn new(secrets: &[&str]) -> Redactor {
        let mut forms: Vec<String> = Vec::new();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            let debug = format!("{secret:?}");
            let json = serde_json::to_string(secret).unwrap_or_default();
            let ascii = ascii_json(secret);
            for form in [
                (*secret).to_owned(),
                unquoted(&debug).to_owned(),
                unquoted(&json).to_owned(),
                ascii,
            ] {
                if !form.is_empty() && !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        // Longest first, so a form that contains another is replaced whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        Redactor { forms }
    }

    /// Whether `text` shows a secret in any form.
    pub(crate) fn shows(&self, text: &str) -> bool {
        self.forms.iter().any(|f| text.contains(f.as_str()))
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }

    /// `text` without a trailing part that could be the beginning of a secret: for text cut
    /// at an arbitrary point, where a secret cut in two would escape [`text`](Self::text).
    pub(crate) fn without_partial_tail<'t>(&self, text: &'t str) -> &'t str {
        let mut end = text.len();
        for form in &self.forms {
            // The longest proper prefix of `form` that `text` ends with.
            let longest = (1..form.len())
                .rev()
                .filter(|&n| form.is_char_boundary(n))
                .find(|&n| text[..end].ends_with(&form[..n]));
            if let Some(n) = longest {
                end -= n;
            }
        }
        &text[..end]
    }

    /// Removes every secret from `value`: from its strings and its object keys, at any
    /// depth.
    pub(crate) fn json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.forms.is_empty() {
            return;
        }
        match value {
            Value::String(s) if self.shows(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                if map.keys().any(|k| self.shows(k)) {
                    let entries = std::mem::take(map);
                    for (key, item) in entries {
                        map.insert(self.text(&key), item);
                    }
                }
                map.values_mut().for_each(|v| self.json(v));
            }
            _ => {}
        }
    }
}

/// `"text"` without its quotes.
fn unquoted(quoted: &str) -> &str {
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(quoted)
}

/// The JSON string body of `s` with every non-ASCII character as `\uXXXX` (UTF-16, lower-case
/// hex), as Python's `json.dumps` writes it.
fn ascii_json(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in unquoted(&json).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// `text` with every occurrence of each non-empty secret replaced by `[redacted]` (see
/// [`Redactor`] for the forms): messages, body excerpts, GraphQL errors and Keycloak's
/// answers all go through it.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    Redactor::new(secrets).text(text)
}

/// Whether the text of `error`, or of any error in its chain of sources, shows one of the
/// non-empty `secrets` in any of the forms [`Redactor`] removes.
pub(crate) fn chain_shows_any(error: &(dyn StdError + 'static), secrets: &[&str]) -> bool {
    let redactor = Redactor::new(secrets);
    let mut next = Some(error);
    while let Some(e) = next {
        if redactor.shows(&e.to_string()) {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_debug_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn every_secret_is_redacted_and_empty_ones_are_ignored() {
        assert_eq!(
            redact("tok-1 and s3cret, tok-1 again", &["tok-1", "", "s3cret"]),
            "[redacted] and [redacted], [redacted] again"
        );
        assert_eq!(redact("nothing here", &[]), "nothing here");
    }

    #[test]
    fn escaped_forms_are_redacted_too() {
        let secret = "se\"cr\\ét";
        let debug = format!("invalid type: string {:?}", format!("x{secret}y"));
        assert_eq!(
            redact(&debug, &[secret]),
            "invalid type: string \"x[redacted]y\""
        );
        let json = serde_json::json!({ "m": secret }).to_string();
        assert_eq!(redact(&json, &[secret]), r#"{"m":"[redacted]"}"#);
        let python = r#"{"m": "se\"cr\\\u00e9t"}"#;
        assert_eq!(redact(python, &[secret]), r#"{"m": "[redacted]"}"#);
    }

    #[test]
    fn a_secret_cut_in_two_leaves_no_half_behind() {
        let r = Redactor::new(&["tok-SENSITIVE"]);
        assert_eq!(r.without_partial_tail("id tok-SEN"), "id ");
        assert_eq!(
            r.without_partial_tail("id tok-SENSITIVE"),
            "id tok-SENSITIVE"
        );
        assert_eq!(r.without_partial_tail("plain"), "plain");
    }

    #[test]
    fn json_strings_and_keys_at_any_depth() {
        let r = Redactor::new(&["tok-1"]);
        let mut v = serde_json::json!({"a": ["x tok-1", {"tok-1": 1, "b": "tok-1"}], "n": 3});
        r.json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x [redacted]", {"[redacted]": 1, "b": "[redacted]"}], "n": 3})
        );
    }
}
