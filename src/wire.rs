//! Small helpers on the wire format, shared by the token exchange, the transport and the
//! response decoding: bounded body reads, `Retry-After`, error chains, JSON error summaries.
//!
//! A leaf module: it knows HTTP and JSON, and nothing of the client.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// Reads at most `cap` bytes of a body and drops the rest unread (the connection is closed
/// rather than drained).
pub(crate) async fn read_prefix(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Bytes, reqwest::Error> {
    let mut body = bytes::BytesMut::new();
    while body.len() < cap {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body.freeze())
}

/// Reads `Retry-After`: delay-seconds or an HTTP date (a date in the past means now).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The causes of a reqwest error, most specific last, without the top line (which repeats
/// the URL the caller already names).
pub(crate) fn error_chain(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// A body read that failed.
pub(crate) enum ReadError {
    Http(reqwest::Error),
    TooLarge,
}

impl From<reqwest::Error> for ReadError {
    fn from(e: reqwest::Error) -> ReadError {
        ReadError::Http(e)
    }
}

/// Reads a response body, refusing more than `limit` bytes without reading them.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<bytes::Bytes, ReadError> {
    let announced = response.content_length();
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    // A body of one chunk (most small answers) is kept as it came, without a copy.
    let Some(first) = response.chunk().await? else {
        return Ok(bytes::Bytes::new());
    };
    if first.len() > limit {
        return Err(ReadError::TooLarge);
    }
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    // Sized once from the announced length (within the limit), so a large page is not
    // regrown and recopied as it arrives.
    let capacity = announced.map_or(first.len() + second.len(), |len| len as usize);
    let mut body = bytes::BytesMut::with_capacity(capacity.min(limit));
    body.extend_from_slice(&first);
    if body.len() + second.len() > limit {
        return Err(ReadError::TooLarge);
    }
    body.extend_from_slice(&second);
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A serde_json error without the input it quoted: its category and position.
pub(crate) fn json_error_summary(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "an I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected JSON",
        Category::Eof => "JSON that ends early",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        // 2015-10-21T07:28:00Z is now; the date is 2 minutes later.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn json_errors_do_not_quote_the_input() {
        let e = serde_json::from_str::<u8>("\"secret-ish\"").expect_err("not a number");
        let s = json_error_summary(&e);
        assert_eq!(s, "unexpected JSON at line 1 column 12");
    }
}
