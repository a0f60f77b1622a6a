//! The one public error type.
//!
//! [`Error`] is opaque and cheap to clone (an `Arc` inside), so one failure can be handed to
//! every caller that waited on it. What a caller can act on is its [`ErrorKind`]; the message
//! (`Display`) is for people: lowercase, no trailing period, naming what was expected and what
//! was found.
//!
//! Invariant: no message, `Debug` output or field of an error ever holds a client secret or an
//! access token. Body excerpts are redacted before they are stored.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One GraphQL error from a response's `errors[]`: message, path, locations and extensions.
///
/// This is `graphql_client`'s type, so code written for `graphql_client` reads it unchanged.
pub use graphql_client::Error as GraphqlError;

/// Why a request failed below HTTP.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportFailure {
    /// The connection could not be made (refused, unreachable, DNS, TLS handshake): the
    /// request certainly never reached the server.
    Connect,
    /// No complete response arrived within the attempt or total timeout.
    Timeout,
    /// The connection broke after the request was sent (reset, closed, truncated body).
    Interrupted,
}

impl TransportFailure {
    fn describe(self) -> &'static str {
        match self {
            TransportFailure::Connect => "could not connect",
            TransportFailure::Timeout => "timed out",
            TransportFailure::Interrupted => "the connection was interrupted",
        }
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The longest cursor quoted in a message; cursors are opaque and can be long.
const CURSOR_CHARS: usize = 80;

/// Why following the pages of a connection stopped before its last page.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStop {
    /// Page `page` says `hasNextPage` but its `endCursor` is null.
    MissingEndCursor {
        /// The page (1 for the first).
        page: u64,
    },
    /// Page `page` returned an `endCursor` seen before: following it would loop.
    CursorRepeated {
        /// The page (1 for the first).
        page: u64,
        /// The cursor.
        cursor: String,
    },
    /// `count` pages in a row said `hasNextPage` but held no edges.
    EmptyPages {
        /// How many.
        count: u32,
    },
    /// The page cap was reached and the server has more.
    PageLimit {
        /// The cap.
        limit: u64,
    },
}

impl fmt::Display for PageStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageStop::MissingEndCursor { page } => write!(
                f,
                "page {page} says pageInfo.hasNextPage but its pageInfo.endCursor is null"
            ),
            PageStop::CursorRepeated { page, cursor } => {
                let mut shown: String = cursor.chars().take(CURSOR_CHARS).collect();
                if cursor.chars().count() > CURSOR_CHARS {
                    shown.push('…');
                }
                write!(
                    f,
                    "page {page} returned the endCursor `{shown}`, which was seen before; \
                     stopping instead of looping"
                )
            }
            PageStop::EmptyPages { count } => write!(
                f,
                "{count} pages in a row said hasNextPage but held no edges; stopping instead \
                 of paging through nothing"
            ),
            PageStop::PageLimit { limit } => {
                write!(
                    f,
                    "the cap of {limit} pages was reached and the server has more"
                )
            }
        }
    }
}

impl std::error::Error for PageStop {}

/// What went wrong, in terms a caller can act on.
///
/// Match on it without matching on strings; every variant is `#[non_exhaustive]` so fields can
/// be added without breaking callers (use `..` in patterns).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// The configuration is incomplete or invalid (a missing variable, a bad URL, `http://`
    /// to a non-loopback host, an unknown environment name). Fix the configuration.
    Configuration,
    /// The token endpoint refused the credentials, or ION refused the token (a 401 that
    /// persisted after one refresh, or a 403). Fix the credentials or their permissions.
    #[non_exhaustive]
    Authentication {
        /// The HTTP status that said so (token endpoint or API).
        status: Option<u16>,
        /// Keycloak's `error` code (`invalid_client`, `unauthorized_client`, ...), when the
        /// token endpoint sent one.
        error: Option<String>,
        /// Keycloak's `error_description`, or ION's message for a 401/403 (for example
        /// `Token is expired.`).
        description: Option<String>,
    },
    /// ION answered 429. Wait at least `retry_after` (when it sent one) before trying again.
    #[non_exhaustive]
    RateLimited {
        /// The delay ION asked for in `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// An HTTP status the client does not handle otherwise (for example a 500, a 404, a
    /// redirect, or a 502/503/504 that persisted through the retries of a query).
    #[non_exhaustive]
    HttpStatus {
        /// The status code.
        status: u16,
        /// A short, redacted excerpt of the body; HTML pages are reduced to their text.
        excerpt: String,
        /// The delay the server asked for in `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The request did not complete below HTTP (connect failure, timeout, reset).
    #[non_exhaustive]
    Transport {
        /// What failed.
        failure: TransportFailure,
    },
    /// The server answered with GraphQL `errors[]`. Any partial `data` is kept.
    #[non_exhaustive]
    Graphql {
        /// The errors, in the server's order.
        errors: Vec<GraphqlError>,
        /// The partial `data` sent beside the errors, untyped.
        data: Option<serde_json::Value>,
    },
    /// A write was refused because the `etag` it sent is stale: someone else changed the
    /// object. Read it again (with its new `_etag`) and retry the change if it still applies.
    #[non_exhaustive]
    EtagConflict {
        /// The errors, in the server's order.
        errors: Vec<GraphqlError>,
        /// The partial `data` sent beside the errors, untyped.
        data: Option<serde_json::Value>,
    },
    /// The response could not be decoded into the operation's types.
    #[non_exhaustive]
    Decode {
        /// The operation whose response failed to decode.
        operation: String,
        /// The JSON path that failed (`data.runs.edges[0].node.id`), empty for the envelope.
        path: String,
    },
    /// A mutation may or may not have executed: it was sent, and then the connection broke,
    /// timed out, or a gateway answered 5xx. It was not replayed. Check the server's state
    /// before trying again.
    #[non_exhaustive]
    OutcomeUnknown {
        /// The transport failure, when there was one.
        failure: Option<TransportFailure>,
        /// The HTTP status, when a gateway answered.
        status: Option<u16>,
    },
    /// The response body was larger than the configured limit; it was not read further.
    #[non_exhaustive]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The API was used in a way it does not support (for example a batch slot taken from
    /// another batch's response).
    Usage,
    /// Following the pages of a connection stopped before its last page: a cursor seen
    /// before, a missing `endCursor`, a run of empty pages, or the page cap. The pages before
    /// it were delivered.
    #[non_exhaustive]
    Pagination {
        /// Why.
        stop: PageStop,
    },
    /// A bug: part of the client panicked (so far only the token request can report one).
    /// The client keeps working: the failure is handled like a failed token request, with
    /// its backoff. Please report it with the message.
    Internal,
}

/// The error type of every fallible function in this crate.
///
/// Cheap to clone; two clones of one failure compare equal with [`Error::same_failure`].
///
/// # Example
///
/// ```
/// use ion_client::{Config, ErrorKind};
///
/// let err = Config::builder().build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Configuration));
/// assert!(err.to_string().starts_with("invalid configuration:"));
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    operation: Option<String>,
    trace_id: Option<String>,
    attempts: u32,
}

impl Error {
    /// A new error with its kind and its full human message.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                operation: None,
                trace_id: None,
                attempts: 0,
            }),
        }
    }

    /// A configuration error.
    pub(crate) fn config(message: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::Configuration,
            format!("invalid configuration: {message}"),
        )
    }

    /// Sets the operation, the trace id and the attempt count on an error built by one
    /// thread of control (before it is shared).
    pub(crate) fn with_context(
        mut self,
        operation: Option<&str>,
        trace_id: Option<&str>,
        attempts: u32,
    ) -> Error {
        let inner = self.inner_mut();
        if let Some(op) = operation {
            inner.operation = Some(op.to_owned());
        }
        if let Some(id) = trace_id {
            inner.trace_id = Some(id.to_owned());
        }
        inner.attempts = attempts;
        self
    }

    /// The inner value, for modification before the error is shared (cloned only in the
    /// unexpected case that it already is).
    fn inner_mut(&mut self) -> &mut Inner {
        if Arc::get_mut(&mut self.inner).is_none() {
            let this = &self.inner;
            self.inner = Arc::new(Inner {
                kind: this.kind.clone(),
                message: this.message.clone(),
                operation: this.operation.clone(),
                trace_id: this.trace_id.clone(),
                attempts: this.attempts,
            });
        }
        Arc::get_mut(&mut self.inner).unwrap_or_else(|| unreachable!("a fresh Arc is unique"))
    }

    /// What went wrong, for callers to act on.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The operation that failed, when the error belongs to one.
    pub fn operation(&self) -> Option<&str> {
        self.inner.operation.as_deref()
    }

    /// The `x-b3-trace-id` of the last response, worth quoting to First Resonance's support.
    pub fn trace_id(&self) -> Option<&str> {
        self.inner.trace_id.as_deref()
    }

    /// How many HTTP attempts were made for the operation (0 when none was sent).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The GraphQL errors, for the `Graphql` and `EtagConflict` kinds; empty otherwise.
    pub fn graphql_errors(&self) -> &[GraphqlError] {
        match &self.inner.kind {
            ErrorKind::Graphql { errors, .. } | ErrorKind::EtagConflict { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The partial `data` kept beside GraphQL errors, untyped.
    pub fn partial_data(&self) -> Option<&serde_json::Value> {
        match &self.inner.kind {
            ErrorKind::Graphql { data, .. } | ErrorKind::EtagConflict { data, .. } => data.as_ref(),
            _ => None,
        }
    }

    /// The delay the server asked for in `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.inner.kind {
            ErrorKind::RateLimited { retry_after } | ErrorKind::HttpStatus { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match &self.inner.kind {
            ErrorKind::HttpStatus { status, .. } => Some(*status),
            ErrorKind::RateLimited { .. } => Some(429),
            ErrorKind::Authentication { status, .. } | ErrorKind::OutcomeUnknown { status, .. } => {
                *status
            }
            _ => None,
        }
    }

    /// Whether `self` and `other` are clones of one failure (for example the one token
    /// failure that every waiting caller receives).
    pub fn same_failure(&self, other: &Error) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(op) = &self.inner.operation {
            d.field("operation", op);
        }
        if let Some(id) = &self.inner.trace_id {
            d.field("trace_id", id);
        }
        d.field("attempts", &self.inner.attempts).finish()
    }
}

impl std::error::Error for Error {}

/// Formats a duration for messages: whole seconds when it is whole, milliseconds otherwise.
pub(crate) fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Summarises GraphQL errors for a message: the first error and how many more there are.
pub(crate) fn summarize_graphql_errors(errors: &[GraphqlError]) -> String {
    let Some(first) = errors.first() else {
        return "no error message".to_owned();
    };
    let mut out = String::new();
    if let Some(path) = &first.path {
        let joined: Vec<String> = path.iter().map(ToString::to_string).collect();
        out.push_str(&joined.join("."));
        out.push_str(": ");
    }
    out.push_str(&first.message);
    if errors.len() > 1 {
        out.push_str(&format!(" (and {} more)", errors.len() - 1));
    }
    out
}

/// `text` with every non-empty secret replaced by `[redacted]`.
pub(crate) fn redact(text: &str, secrets: &[crate::secret::Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let secret = secret.expose();
        if !secret.is_empty() && out.contains(secret) {
            out = out.replace(secret, "[redacted]");
        }
    }
    out
}

/// A GraphQL error with the secrets removed from its message and from every string in its
/// extensions.
pub(crate) fn redact_graphql_error(
    mut error: GraphqlError,
    secrets: &[crate::secret::Secret],
) -> GraphqlError {
    fn walk(value: &mut serde_json::Value, secrets: &[crate::secret::Secret]) {
        match value {
            serde_json::Value::String(s) => *s = redact(s, secrets),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, secrets)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, secrets)),
            _ => {}
        }
    }
    error.message = redact(&error.message, secrets);
    if let Some(extensions) = error.extensions.as_mut() {
        extensions.values_mut().for_each(|v| walk(v, secrets));
    }
    error
}

/// The longest excerpt of a body kept in an error, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// A short, single-line excerpt of a response body for an error message.
///
/// HTML pages (gateway error pages, login pages) are reduced to their visible text so the
/// message says "502 Bad Gateway" rather than a wall of markup. `redact` lists strings that
/// must never appear (the current token, the client secret).
/// How much of a body an excerpt looks at: an excerpt of a 64 MiB error page costs the work
/// of its first 16 KiB.
pub(crate) const EXCERPT_INPUT_BYTES: usize = 16 * 1024;

pub(crate) fn excerpt(body: &[u8], redact: &[&str]) -> String {
    let body = if body.len() > EXCERPT_INPUT_BYTES {
        // Drop as many bytes as the longest secret from the end of the prefix as well, so a
        // secret cut in two by the prefix cannot leave its first part behind unredacted.
        let longest = redact.iter().map(|s| s.len()).max().unwrap_or(0);
        &body[..EXCERPT_INPUT_BYTES.saturating_sub(longest)]
    } else {
        body
    };
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    let looks_html = trimmed.starts_with('<');
    let mut plain = if looks_html {
        html_to_text(trimmed)
    } else {
        trimmed.to_owned()
    };
    for secret in redact {
        if !secret.is_empty() {
            plain = plain.replace(secret, "[redacted]");
        }
    }
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut out: String = collapsed.chars().take(EXCERPT_CHARS).collect();
    if collapsed.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
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
    fn html_with_unclosed_tag_does_not_panic() {
        assert_eq!(excerpt(b"<html><body>oops <b", &[]), "oops");
        assert_eq!(excerpt("<p>é</p>ü<".as_bytes(), &[]), "é ü");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn graphql_error_summary_names_the_first_and_counts_the_rest() {
        let errors: Vec<GraphqlError> = serde_json::from_value(serde_json::json!([
            {"message": "boom", "path": ["runs", 0, "title"]},
            {"message": "bang"}
        ]))
        .unwrap_or_default();
        assert_eq!(
            summarize_graphql_errors(&errors),
            "runs.0.title: boom (and 1 more)"
        );
    }

    #[test]
    fn clones_are_the_same_failure() {
        let a = Error::config("x");
        let b = a.clone();
        assert!(a.same_failure(&b));
        assert!(!a.same_failure(&Error::config("x")));
    }
}
