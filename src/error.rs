//! The one public error type.
//!
//! [`Error`] is opaque and cheap to clone (an `Arc` inside), so one failure can be handed to
//! every caller that waited on it. What a caller can act on is its [`ErrorKind`]; the message
//! (`Display`) is for people: lowercase, no trailing period, naming what was expected and what
//! was found.
//!
//! Invariant: no message, `Debug` output, field or [`source`](std::error::Error::source) of
//! an error ever holds a client secret or an access token, as written or escaped (as `Debug`
//! and JSON escape it). Body excerpts, GraphQL errors and partial data are redacted before
//! they are stored; a source whose text would show a secret, or is longer than 4 KiB, is not
//! kept, and a reqwest source is kept without its URL. Text from a server is kept within
//! bounds: at most 100 GraphQL errors of 1,000 characters, quoted values of 80.

use std::error::Error as StdError;
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

impl StdError for PageStop {}

/// What became of an attachment row whose upload failed ([`ErrorKind::Upload`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cleanup {
    /// No row was made, so there is nothing to clean up.
    NoRow,
    /// The row is still there, without its bytes (`delete_on_failure` was off).
    Kept,
    /// The row was deleted (`delete_on_failure`).
    Deleted,
    /// Deleting the row failed; it is still there, without its bytes.
    DeleteFailed,
}

/// What went wrong, in terms a caller can act on.
///
/// Match on it without matching on strings. The enum and every variant with fields are
/// `#[non_exhaustive]`, so kinds and fields can be added without breaking callers: use `..` in
/// patterns and a `_` arm. To build a kind with fields (in a test), use its constructor:
/// [`ErrorKind::rate_limited`], [`ErrorKind::http_status`], ...
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
    /// Sending a file's bytes to storage failed ([`Client::attach_file`](crate::Client::attach_file)).
    /// When ION had already made the attachment row, `attachment_id` names it: with
    /// `delete_on_failure` it was deleted (or the delete failed, `cleanup` says which), else it
    /// is still there, without its bytes.
    #[non_exhaustive]
    Upload {
        /// The attachment row made for the upload; `None` when the failure came before ION
        /// made one (the file could not be opened).
        attachment_id: Option<i64>,
        /// The HTTP status storage answered, when it answered.
        status: Option<u16>,
        /// Storage's error code (S3's `<Code>`: `AccessDenied`, `SignatureDoesNotMatch`, ...),
        /// when its answer carried one.
        code: Option<String>,
        /// The transport failure, when there was one.
        failure: Option<TransportFailure>,
        /// What became of the attachment row.
        cleanup: Cleanup,
    },
    /// Reading a file's bytes from storage, or writing them to disk, failed
    /// ([`Client::download_file`](crate::Client::download_file)). Nothing was left under the
    /// destination's name.
    #[non_exhaustive]
    Download {
        /// The attachment being downloaded.
        attachment_id: i64,
        /// The HTTP status storage answered, when it answered.
        status: Option<u16>,
        /// Storage's error code (S3's `<Code>`), when its answer carried one.
        code: Option<String>,
        /// The transport failure, when there was one.
        failure: Option<TransportFailure>,
    },
    /// A bug: part of the client panicked (so far only the token request can report one).
    /// The client keeps working: the failure is handled like a failed token request, with
    /// its backoff. Please report it with the message.
    Internal,
}

/// Constructors for the kinds with fields, which `#[non_exhaustive]` keeps other crates from
/// writing as struct literals; with [`Error::from_kind`] they build any error a test needs. A
/// field added to a kind later gets its neutral value (`None`, empty) here, so these calls keep
/// compiling.
impl ErrorKind {
    /// [`ErrorKind::Authentication`].
    pub fn authentication(
        status: Option<u16>,
        error: Option<String>,
        description: Option<String>,
    ) -> ErrorKind {
        ErrorKind::Authentication {
            status,
            error,
            description,
        }
    }

    /// [`ErrorKind::RateLimited`].
    pub fn rate_limited(retry_after: Option<Duration>) -> ErrorKind {
        ErrorKind::RateLimited { retry_after }
    }

    /// [`ErrorKind::HttpStatus`].
    pub fn http_status(
        status: u16,
        excerpt: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> ErrorKind {
        ErrorKind::HttpStatus {
            status,
            excerpt: excerpt.into(),
            retry_after,
        }
    }

    /// [`ErrorKind::Transport`].
    pub fn transport(failure: TransportFailure) -> ErrorKind {
        ErrorKind::Transport { failure }
    }

    /// [`ErrorKind::Graphql`].
    pub fn graphql(errors: Vec<GraphqlError>, data: Option<serde_json::Value>) -> ErrorKind {
        ErrorKind::Graphql { errors, data }
    }

    /// [`ErrorKind::EtagConflict`].
    pub fn etag_conflict(errors: Vec<GraphqlError>, data: Option<serde_json::Value>) -> ErrorKind {
        ErrorKind::EtagConflict { errors, data }
    }

    /// [`ErrorKind::Decode`].
    pub fn decode(operation: impl Into<String>, path: impl Into<String>) -> ErrorKind {
        ErrorKind::Decode {
            operation: operation.into(),
            path: path.into(),
        }
    }

    /// [`ErrorKind::OutcomeUnknown`].
    pub fn outcome_unknown(failure: Option<TransportFailure>, status: Option<u16>) -> ErrorKind {
        ErrorKind::OutcomeUnknown { failure, status }
    }

    /// [`ErrorKind::ResponseTooLarge`].
    pub fn response_too_large(limit: u64) -> ErrorKind {
        ErrorKind::ResponseTooLarge { limit }
    }

    /// [`ErrorKind::Pagination`].
    pub fn pagination(stop: PageStop) -> ErrorKind {
        ErrorKind::Pagination { stop }
    }

    /// [`ErrorKind::Upload`].
    pub fn upload(
        attachment_id: Option<i64>,
        status: Option<u16>,
        code: Option<String>,
        failure: Option<TransportFailure>,
        cleanup: Cleanup,
    ) -> ErrorKind {
        ErrorKind::Upload {
            attachment_id,
            status,
            code,
            failure,
            cleanup,
        }
    }

    /// [`ErrorKind::Download`].
    pub fn download(
        attachment_id: i64,
        status: Option<u16>,
        code: Option<String>,
        failure: Option<TransportFailure>,
    ) -> ErrorKind {
        ErrorKind::Download {
            attachment_id,
            status,
            code,
            failure,
        }
    }
}

/// The error type of every fallible function in this crate.
///
/// Cheap to clone; two clones of one failure compare equal with [`Error::same_failure`].
/// [`source`](std::error::Error::source) gives the underlying error when there is one (a
/// `reqwest::Error` for a failure below HTTP, a `serde_json::Error` for a decode failure), for
/// callers that walk error chains; what to do about an error is its [`kind`](Error::kind).
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

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    operation: Option<String>,
    trace_id: Option<String>,
    attempts: u32,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

/// The longest text of a source kept with an error.
const MAX_SOURCE_BYTES: usize = 4 * 1024;

/// An error that can be kept as an [`Error`]'s source, in the form safe to keep.
pub(crate) trait Source: StdError + Send + Sync + Sized + 'static {
    /// The error without what must not be shown (a reqwest error's URL).
    fn sanitized(self) -> Self {
        self
    }
}

impl Source for reqwest::Error {
    fn sanitized(self) -> Self {
        self.without_url()
    }
}
impl Source for serde_json::Error {}
impl Source for std::io::Error {}
impl Source for rustls::Error {}
impl Source for PageStop {}

impl Error {
    /// An error of `kind` whose `Display` is `message`, for tests of code that handles this
    /// crate's errors (a fake client of your own that answers with a rate limit, say). Kinds
    /// with fields are built with their constructors ([`ErrorKind::rate_limited`], ...). The
    /// error has no operation, trace id, attempts or source.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use ion_client::{Error, ErrorKind};
    ///
    /// let wait = Some(Duration::from_secs(3));
    /// let err = Error::from_kind(ErrorKind::rate_limited(wait), "rate limited: ION answered 429");
    /// assert_eq!(err.retry_after(), wait);
    /// assert_eq!(err.status(), Some(429));
    /// ```
    pub fn from_kind(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                operation: None,
                trace_id: None,
                attempts: 0,
                source: None,
            }),
        }
    }

    /// A configuration error: `invalid configuration: {message}`.
    pub(crate) fn config(message: impl fmt::Display) -> Error {
        Error::from_kind(
            ErrorKind::Configuration,
            format!("invalid configuration: {message}"),
        )
    }

    /// Keeps `source` as the underlying error, sanitised (see [`Source`]), unless its text or
    /// that of an error in its chain shows one of `secrets`: then it is dropped, as the
    /// message would have redacted it.
    pub(crate) fn with_source(mut self, source: impl Source, secrets: &[&str]) -> Error {
        let source = source.sanitized();
        // A source whose text is longer than a message may be (serde quoting a huge value
        // it could not read) is not kept either: the message says what it said, clipped.
        let too_long = source.to_string().len() > MAX_SOURCE_BYTES;
        if !too_long && !crate::secret::chain_shows_any(&source, secrets) {
            self.inner_mut().source = Some(Arc::new(source));
        }
        self
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
        Arc::make_mut(&mut self.inner)
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
            ErrorKind::Authentication { status, .. }
            | ErrorKind::OutcomeUnknown { status, .. }
            | ErrorKind::Upload { status, .. }
            | ErrorKind::Download { status, .. } => *status,
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
        d.field("attempts", &self.inner.attempts);
        if let Some(source) = &self.inner.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source: &(dyn StdError + 'static) = self.inner.source.as_deref()?;
        Some(source)
    }
}

/// What is wrong with one configuration value, said without the `invalid configuration:`
/// prefix, so that whoever knows where the value came from (a variable such as `ION_ENV`)
/// can name it before it becomes an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid(String);

impl Invalid {
    pub(crate) fn new(reason: impl Into<String>) -> Invalid {
        Invalid(reason.into())
    }

    /// The error naming where the value came from (a variable or a setting):
    /// `invalid configuration: NAME: reason`.
    pub(crate) fn named(self, name: &str) -> Error {
        Error::config(format_args!("{name}: {}", self.0))
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `invalid configuration: reason`.
impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Error {
        Error::config(invalid.0)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn clones_are_the_same_failure() {
        let a = Error::config("x");
        let b = a.clone();
        assert!(a.same_failure(&b));
        assert!(!a.same_failure(&Error::config("x")));
    }

    #[test]
    fn a_source_that_would_show_a_secret_is_not_kept() {
        let echoed = serde_json::from_str::<u8>("\"tok-123\"").expect_err("not a number");
        let kept = Error::config("x").with_source(echoed, &["other"]);
        let source = kept.source().map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("invalid type: string \"tok-123\", expected u8 at line 1 column 9")
        );
        let echoed = serde_json::from_str::<u8>("\"tok-123\"").expect_err("not a number");
        let dropped = Error::config("x").with_source(echoed, &["tok-123"]);
        assert!(dropped.source().is_none());
        assert!(!format!("{dropped:?}").contains("tok-123"));
    }
}
