//! Redactions that make snapshots of ION responses stable across runs and seeds.

use serde::Serialize;
use serde_json::Value;

/// What [`redact`] replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redactions {
    /// Replace `_etag`, `etag` and `Etag` values with `"[etag]"` (they change on every write).
    pub etags: bool,
    /// Replace date-time strings (ISO 8601, as `DateTime` fields serialize) with
    /// `"[timestamp]"`.
    pub timestamps: bool,
    /// Replace token-like values (`access_token`, `token`, `Authorization`, JWT-shaped strings)
    /// with `"[token]"`, and pre-signed URLs (a `Signature` or `X-Amz-Signature` in the query:
    /// `uploadUrl`, `downloadUrl`) with `"[signed url]"`: they carry a credential, a port and
    /// an expiry.
    pub tokens: bool,
    /// Replace `id` and `*Id` integer values with `"[id]"` (off by default: ids of a seed are
    /// stable, and asserting them catches real bugs).
    pub ids: bool,
}

impl Default for Redactions {
    fn default() -> Self {
        Redactions {
            etags: true,
            timestamps: true,
            tokens: true,
            ids: false,
        }
    }
}

impl Redactions {
    /// The default redactions plus ids.
    pub fn with_ids() -> Self {
        Redactions {
            ids: true,
            ..Redactions::default()
        }
    }
}

/// Serializes `value` to JSON with the [default redactions](Redactions::default), ready for
/// `insta::assert_json_snapshot!`.
///
/// ```
/// let data = serde_json::json!({"run": {"id": 7, "_etag": "9f2c", "_created": "2024-03-01T08:30:00Z"}});
/// let redacted = ion_client::testing::redact(&data);
/// assert_eq!(redacted, serde_json::json!({"run": {"id": 7, "_etag": "[etag]", "_created": "[timestamp]"}}));
/// ```
pub fn redact<T: Serialize + ?Sized>(value: &T) -> Value {
    redact_with(value, &Redactions::default())
}

/// Like [`redact`] with explicit choices.
pub fn redact_with<T: Serialize + ?Sized>(value: &T, redactions: &Redactions) -> Value {
    let mut json = serde_json::to_value(value)
        .unwrap_or_else(|e| Value::String(format!("[unserializable: {e}]")));
    walk(&mut json, None, redactions);
    json
}

fn walk(value: &mut Value, key: Option<&str>, r: &Redactions) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                walk(v, Some(k.as_str()), r);
            }
        }
        Value::Array(items) => {
            for v in items {
                walk(v, key, r);
            }
        }
        Value::Null => {}
        _ => {
            if let Some(replacement) = replacement(value, key, r) {
                *value = Value::String(replacement.to_string());
            }
        }
    }
}

fn replacement(value: &Value, key: Option<&str>, r: &Redactions) -> Option<&'static str> {
    let key = key.unwrap_or_default();
    let lower = key.to_ascii_lowercase();
    if r.etags && matches!(key, "_etag" | "etag" | "Etag") {
        return Some("[etag]");
    }
    if r.tokens
        && (matches!(
            lower.as_str(),
            "access_token" | "token" | "authorization" | "refresh_token"
        ) || value.as_str().is_some_and(looks_like_jwt))
    {
        return Some("[token]");
    }
    if r.tokens && value.as_str().is_some_and(looks_like_signed_url) {
        return Some("[signed url]");
    }
    if r.timestamps && value.as_str().is_some_and(looks_like_timestamp) {
        return Some("[timestamp]");
    }
    if r.ids && value.is_number() && (key == "id" || (key.ends_with("Id") && key.len() > 2)) {
        return Some("[id]");
    }
    None
}

/// A URL whose query carries a signature (S3's `X-Amz-Signature`, the older `Signature`).
fn looks_like_signed_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.split_once('?').is_some_and(|(_, query)| {
            query.split('&').any(|pair| {
                let name = pair.split('=').next().unwrap_or_default();
                name.eq_ignore_ascii_case("signature")
                    || name.eq_ignore_ascii_case("x-amz-signature")
            })
        })
}

fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && s.starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn looks_like_timestamp(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM (then seconds, fractions and an offset, in any of ISO 8601's forms).
    let b = s.as_bytes();
    b.len() >= 16
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
        && s.parse::<crate::scalars::DateTime>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_etags_timestamps_tokens_and_optionally_ids() {
        let data = json!({
            "runs": [{"id": 1, "partId": 4, "_etag": "a", "etag": "b", "Etag": "c",
                      "_updated": "2024-03-01T08:30:00.123456+00:00", "title": "2024 build"}],
            "access_token": "secret",
            "note": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
        });
        assert_eq!(
            redact(&data),
            json!({
                "runs": [{"id": 1, "partId": 4, "_etag": "[etag]", "etag": "[etag]", "Etag": "[etag]",
                          "_updated": "[timestamp]", "title": "2024 build"}],
                "access_token": "[token]",
                "note": "[token]"
            })
        );
        let urls = json!({
            "uploadUrl": "http://127.0.0.1:1/storage/k?Expires=1&Signature=ab",
            "downloadUrl": "https://b.s3.amazonaws.com/k?X-Amz-Signature=cd&X-Amz-Expires=900",
            "url": "https://example.com/page?q=1"
        });
        assert_eq!(
            redact(&urls),
            json!({
                "uploadUrl": "[signed url]",
                "downloadUrl": "[signed url]",
                "url": "https://example.com/page?q=1"
            })
        );
        let ids = redact_with(&data, &Redactions::with_ids());
        assert_eq!(ids["runs"][0]["id"], json!("[id]"));
        assert_eq!(ids["runs"][0]["partId"], json!("[id]"));
    }
}
