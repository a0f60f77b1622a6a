//! Small helpers on the wire format, shared by the token exchange, the transport and the
//! response decoding: bounded body reads, `Retry-After`, what a failed reqwest exchange means
//! ([`failure_of`]), error chains, body excerpts and JSON error summaries.
//!
//! A leaf module: it knows HTTP and JSON, and nothing of the client.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::TransportFailure;
use crate::secret::Redactor;

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

/// What a reqwest error below HTTP means, for the token exchange and the transport alike:
/// [`Connect`](TransportFailure::Connect) when the connection was never made (refused,
/// unreachable, DNS, TLS handshake, the connect timeout), so the request certainly never
/// reached the server; [`Interrupted`](TransportFailure::Interrupted) for anything after it
/// (a reset, a closed connection, a broken body, an operating system's timeout on an open
/// connection). [`Timeout`](TransportFailure::Timeout) is never read off a reqwest error: it
/// is the client's own attempt or total timeout passing, which the caller knows.
pub(crate) fn failure_of(err: &reqwest::Error) -> TransportFailure {
    if err.is_connect() {
        TransportFailure::Connect
    } else {
        TransportFailure::Interrupted
    }
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

/// A body read as `serde_json::from_slice` reads it, but faster: a body that is UTF-8 (checked
/// once, whole) is read as text by [`quick_json`](crate::quick_json), which does less per token
/// than serde_json, and, when that gives up (on anything but a good response's JSON), by
/// serde_json over the text, which spares it checking every string and key again; any other
/// body is read as bytes. The value, or the error (message, line and column), is
/// `from_slice`'s either way (`response/differential.rs` checks it).
pub(crate) fn from_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => match crate::quick_json::from_str(text) {
            Some(value) => Ok(value),
            None => serde_json::from_str(text),
        },
        Err(_) => serde_json::from_slice(body),
    }
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

/// The longest excerpt of a body kept in an error, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// How much of a body an excerpt looks at: an excerpt of a 64 MiB error page costs the work
/// of its first 16 KiB.
pub(crate) const EXCERPT_INPUT_BYTES: usize = 16 * 1024;

/// A short, single-line excerpt of a response body for an error message.
///
/// HTML pages (gateway error pages, login pages) are reduced to their visible text so the
/// message says "502 Bad Gateway" rather than a wall of markup. `secrets` lists strings that
/// must never appear (the current token, the client secret).
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    let redactor = Redactor::new(secrets);
    let cut = body.len() > EXCERPT_INPUT_BYTES;
    let body = &body[..body.len().min(EXCERPT_INPUT_BYTES)];
    let text = String::from_utf8_lossy(body);
    // A secret cut in two by the prefix would escape redaction: its first part is dropped.
    let text = if cut {
        redactor.without_partial_tail(&text)
    } else {
        &text
    };
    let trimmed = text.trim_start();
    let looks_html = trimmed.starts_with('<');
    let plain = if looks_html {
        html_to_text(trimmed)
    } else {
        trimmed.to_owned()
    };
    let plain = redactor.text(&plain);
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".to_owned();
    }
    truncated(&collapsed, EXCERPT_CHARS, false)
}

/// The longest message text kept from a server's answer (a GraphQL error's message, a
/// decode error's reason): ION's messages are a line or two; a validation message quoting a
/// large input value is cut rather than kept whole.
pub(crate) const MESSAGE_CHARS: usize = 1000;

/// The longest value quoted inside a decode error's reason (serde quotes the value it could
/// not read, which a server can make as large as the response).
pub(crate) const QUOTED_CHARS: usize = 80;

/// `text` as an error keeps it: only its first [`EXCERPT_INPUT_BYTES`] read (a secret cut in
/// two there is dropped, not half shown), redacted, and cut to `max_chars` characters with
/// `…` marking a cut.
pub(crate) fn clip(text: &str, max_chars: usize, redactor: &Redactor) -> String {
    let cut = text.len() > EXCERPT_INPUT_BYTES;
    let head = if cut {
        redactor.without_partial_tail(&text[..floor_char_boundary(text, EXCERPT_INPUT_BYTES)])
    } else {
        text
    };
    truncated(&redactor.text(head), max_chars, cut)
}

/// A decode error's reason as an error keeps it: every quoted value in it (serde's
/// `"..."`, escaped as Rust's `Debug` does, and `` `...` ``) clipped to [`QUOTED_CHARS`] and
/// redacted, the rest redacted, the whole cut to [`MESSAGE_CHARS`].
pub(crate) fn clip_reason(reason: &str, redactor: &Redactor) -> String {
    let mut out = String::new();
    let mut rest = reason;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open];
        out.push_str(&clip(&rest[..=open], MESSAGE_CHARS, redactor));
        let inside = &rest[open + 1..];
        let close = if quote == b'"' {
            closing_quote(inside)
        } else {
            inside.find('`')
        };
        let (quoted, after) = match close {
            Some(i) => (&inside[..i], &inside[i..]),
            None => (inside, ""),
        };
        out.push_str(&clip(quoted, QUOTED_CHARS, redactor));
        if out.len() > MESSAGE_CHARS * 4 {
            rest = "";
            break;
        }
        match after.chars().next() {
            Some(c) => {
                out.push(c);
                rest = &after[c.len_utf8()..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(&clip(rest, MESSAGE_CHARS, redactor));
    truncated(&out, MESSAGE_CHARS, false)
}

/// Where a `Debug`-escaped string's closing `"` is, in the text after its opening one.
fn closing_quote(inside: &str) -> Option<usize> {
    let bytes = inside.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The largest index `<= at` that is a character boundary of `text`.
pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` cut to `max_chars` characters, `…` marking a cut (or an earlier one, `cut`).
fn truncated(text: &str, max_chars: usize, cut: bool) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None if cut => format!("{text}…"),
        None => text.to_owned(),
    }
}

/// Visible text of an HTML page: drops tags, comments, scripts and styles; decodes the common
/// entities.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(4096));
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'<' {
            let rest = &lower[i..];
            let skip_to = if rest.starts_with("<script") {
                rest.find("</script>").map(|p| p + "</script>".len())
            } else if rest.starts_with("<style") {
                rest.find("</style>").map(|p| p + "</style>".len())
            } else if rest.starts_with("<!--") {
                rest.find("-->").map(|p| p + 3)
            } else {
                rest.find('>').map(|p| p + 1)
            };
            match skip_to {
                Some(n) => {
                    i += n;
                    out.push(' ');
                }
                None => break,
            }
        } else {
            let next = lower[i..].find('<').map_or(bytes.len(), |p| i + p);
            out.push_str(&html[i..next]);
            i = next;
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
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

    #[test]
    fn html_pages_become_their_text() {
        let page = b"<html><head><title>502 Bad Gateway</title><style>body{}</style></head>\
            <body><center><h1>502 Bad Gateway</h1></center><script>x()</script></body></html>";
        assert_eq!(excerpt(page, &[]), "502 Bad Gateway 502 Bad Gateway");
    }

    #[test]
    fn excerpts_are_short_single_line_and_redacted() {
        let body = format!("token tok-123 was\n\nrejected {}", "x".repeat(500));
        let e = excerpt(body.as_bytes(), &["tok-123"]);
        assert!(e.starts_with("token [redacted] was rejected "));
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt(b"  \n", &[]), "(empty body)");
    }

    #[test]
    fn excerpts_read_a_bounded_prefix_and_never_half_a_secret() {
        let secret = "tok-SENSITIVE-0123456789";
        // The secret straddles the end of the prefix an excerpt reads.
        let mut body = "<p>".to_owned();
        body.push_str(&" ".repeat(EXCERPT_INPUT_BYTES - 3 - 10));
        body.push_str(secret);
        body.push_str(&"x".repeat(64 * 1024 * 1024));
        let e = excerpt(body.as_bytes(), &[secret]);
        assert_eq!(e, "(empty body)");
        assert!(!e.contains("tok-"));
        let page = format!("<h1>502 Bad Gateway</h1>{}", "<i></i>".repeat(10_000_000));
        assert_eq!(excerpt(page.as_bytes(), &[]), "502 Bad Gateway");
    }

    #[test]
    fn a_secret_straddling_the_excerpts_prefix_is_dropped_whole() {
        let secret = "tok-SENSITIVE-0123456789";
        for before in [EXCERPT_INPUT_BYTES - 10, EXCERPT_INPUT_BYTES - 30] {
            let body = format!("{}{secret}{}", " ".repeat(before), "x".repeat(100_000));
            let e = excerpt(body.as_bytes(), &[secret]);
            assert!(!e.contains("tok-"), "{e}");
        }
    }

    #[test]
    fn clips_read_a_prefix_redact_and_mark_the_cut() {
        let r = Redactor::new(&["tok-SENSITIVE"]);
        assert_eq!(clip("short tok-SENSITIVE", 100, &r), "short [redacted]");
        assert_eq!(clip("abcdef", 3, &r), "abc…");
        let huge = format!("{}tok-SENSITIVE", "a".repeat(EXCERPT_INPUT_BYTES - 5));
        let clipped = clip(&huge, 20_000, &r);
        assert!(
            !clipped.contains("tok-"),
            "{}",
            &clipped[clipped.len() - 20..]
        );
        assert!(clipped.ends_with("a…"));
    }

    #[test]
    fn decode_reasons_keep_their_shape_with_quoted_values_clipped() {
        let r = Redactor::new(&["se\"cret"]);
        let long = "y".repeat(500);
        let reason = format!(
            "invalid type: string {:?}, expected i64",
            format!("se\"cret {long}")
        );
        assert_eq!(
            clip_reason(&reason, &r),
            format!(
                "invalid type: string \"[redacted] {}…\", expected i64",
                "y".repeat(69)
            )
        );
        let variant = format!("unknown variant `{long}`, expected `OPEN` or `CLOSED`");
        assert_eq!(
            clip_reason(&variant, &r),
            format!(
                "unknown variant `{}…`, expected `OPEN` or `CLOSED`",
                "y".repeat(80)
            )
        );
        assert_eq!(clip_reason("unterminated \"abc", &r), "unterminated \"abc");
    }

    #[test]
    fn html_with_unclosed_tag_does_not_panic() {
        assert_eq!(excerpt(b"<html><body>oops <b", &[]), "oops");
        assert_eq!(excerpt("<p>é</p>ü<".as_bytes(), &[]), "é ü");
    }
}
