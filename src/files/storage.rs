//! The storage side of the file calls: one `PUT` of a body to a pre-signed URL, one `GET`
//! of one into a file, what storage answered, and the URL rules. Nothing here knows ION's
//! GraphQL operations (`flow.rs` does).
//!
//! A pre-signed URL is a credential of its own: its query carries the signature. Messages
//! name the storage host and path, never the query; body excerpts are redacted of the
//! query's values.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use tokio::io::{AsyncRead, ReadBuf};
use url::Url;

use super::Progress;
use crate::Error;
use crate::TransportFailure;
use crate::environment::is_loopback;
use crate::wire::{error_chain, excerpt, failure_of, read_prefix};

/// How much of the source one frame of the body holds. Memory per upload is a few of these
/// (the one being read, the ones hyper is writing), whatever the file's size.
pub(crate) const UPLOAD_CHUNK_BYTES: usize = 256 * 1024;

/// The most read of a storage error answer: S3's `<Error>` documents are well under 1 KiB.
const ERROR_BODY_BYTES: usize = 16 * 1024;

/// The callback that hears of each chunk.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A source of bytes: boxed, so a path's file and a caller's reader are one type.
pub(crate) type Reader = Pin<Box<dyn AsyncRead + Send>>;

/// A pre-signed URL, checked: `https://`, or `http://` to a loopback host (the emulator).
#[derive(Clone)]
pub(crate) struct SignedUrl {
    url: Url,
}

impl SignedUrl {
    /// Checks `text`; `Err` says why it is refused, naming the URL without its query.
    pub(crate) fn parse(text: &str) -> Result<SignedUrl, String> {
        let url = Url::parse(text).map_err(|e| format!("the storage URL is not a URL ({e})"))?;
        let shown = shown(&url);
        match url.scheme() {
            "https" => Ok(SignedUrl { url }),
            "http" if is_loopback(&url) => Ok(SignedUrl { url }),
            "http" => Err(format!(
                "the storage URL {shown} uses http:// to a host that is not loopback; only \
                 https:// is sent file bytes"
            )),
            other => Err(format!(
                "the storage URL {shown} has the scheme `{other}`; expected https://"
            )),
        }
    }

    /// The URL as messages name it: scheme, host, port and path, no query.
    pub(crate) fn shown(&self) -> String {
        shown(&self.url)
    }

    /// The query's values, which excerpts of storage's answers are redacted of.
    fn secrets(&self) -> Vec<String> {
        self.url
            .query_pairs()
            .map(|(_, v)| v.into_owned())
            .filter(|v| v.len() >= 8)
            .collect()
    }
}

fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Why one exchange with storage failed.
#[derive(Debug)]
pub(crate) enum Failed {
    /// Storage answered a status other than 2xx.
    Status {
        status: u16,
        code: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No answer: connect failure, timeout, reset.
    Transport {
        failure: TransportFailure,
        detail: String,
        source: Option<reqwest::Error>,
    },
    /// The source gave fewer bytes than announced.
    ShortSource { read: u64, announced: u64 },
    /// Reading the source, or writing the destination, failed.
    Local(std::io::Error),
    /// The answer's body was not as long as it said.
    Length { got: u64, announced: u64 },
}

impl Failed {
    /// Whether sending again may help: a 5xx, a timeout or a broken connection (a `PUT` and a
    /// `GET` are idempotent). A 403 (an expired or refused URL) is not: the same URL will be
    /// refused again.
    pub(crate) fn transient(&self) -> bool {
        match self {
            Failed::Status { status, .. } => (500..=599).contains(status),
            Failed::Transport { .. } | Failed::Length { .. } => true,
            Failed::ShortSource { .. } | Failed::Local(_) => false,
        }
    }

    /// What happened, for the message.
    pub(crate) fn describe(&self, url: &SignedUrl) -> String {
        let at = url.shown();
        match self {
            Failed::Status {
                status,
                code,
                message,
                ..
            } => {
                let reason = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                let said = match (code, message.is_empty()) {
                    (Some(code), false) => format!(": {code}: {message}"),
                    (Some(code), true) => format!(": {code}"),
                    (None, false) => format!(": {message}"),
                    (None, true) => String::new(),
                };
                format!("storage at {at} answered HTTP {status}{reason}{said}")
            }
            Failed::Transport {
                failure, detail, ..
            } => format!("storage at {at}: {failure}: {detail}"),
            Failed::ShortSource { read, announced } => {
                format!("the source ended after {read} of the {announced} bytes announced")
            }
            Failed::Local(e) => e.to_string(),
            Failed::Length { got, announced } => {
                format!("storage at {at} sent {got} bytes of the {announced} it announced")
            }
        }
    }

    /// `error` with this failure's underlying error (reqwest's or the I/O error) as its
    /// `source()`, when there is one.
    pub(crate) fn source_of(self, error: Error) -> Error {
        match self {
            Failed::Transport {
                source: Some(source),
                ..
            } => error.with_source(source, &[]),
            Failed::Local(source) => error.with_source(source, &[]),
            _ => error,
        }
    }

    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Failed::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn code(&self) -> Option<String> {
        match self {
            Failed::Status { code, .. } => code.clone(),
            _ => None,
        }
    }

    pub(crate) fn failure(&self) -> Option<TransportFailure> {
        match self {
            Failed::Transport { failure, .. } => Some(*failure),
            Failed::Length { .. } => Some(TransportFailure::Interrupted),
            _ => None,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Failed::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What the body and the exchange share: bytes read so far, and why the source stopped.
#[derive(Default)]
struct BodyState {
    read: AtomicU64,
    short: AtomicBool,
    error: Mutex<Option<std::io::Error>>,
}

/// A request body that reads its source a chunk at a time, exactly `remaining` bytes.
struct UploadBody {
    /// In a mutex only so the body is `Sync`, as reqwest asks; `poll_frame` has `&mut` and
    /// never locks.
    reader: Mutex<Reader>,
    remaining: u64,
    total: u64,
    state: Arc<BodyState>,
    progress: Option<ProgressFn>,
}

impl http_body::Body for UploadBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining)
            .unwrap_or(usize::MAX)
            .min(UPLOAD_CHUNK_BYTES);
        let mut chunk = vec![0u8; want];
        let reader = this
            .reader
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let mut buf = ReadBuf::new(&mut chunk);
        match reader.as_mut().poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                let kept = std::io::Error::new(e.kind(), e.to_string());
                *this
                    .state
                    .error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e);
                Poll::Ready(Some(Err(kept)))
            }
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    this.state.short.store(true, Ordering::SeqCst);
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the source ended before its announced length",
                    ))));
                }
                chunk.truncate(n);
                this.remaining -= n as u64;
                let sent = this.total - this.remaining;
                this.state.read.store(sent, Ordering::SeqCst);
                if let Some(progress) = &this.progress {
                    progress(Progress {
                        done: sent,
                        total: this.total,
                    });
                }
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// One `PUT` of `len` bytes of `reader` to `url` with `content_type`: no header but those two
/// and reqwest's own (no `Authorization`, nothing of ION's). `stall` ends an attempt in which
/// nothing moved for that long.
pub(crate) async fn put(
    http: &reqwest::Client,
    url: &SignedUrl,
    content_type: &str,
    reader: Reader,
    len: u64,
    progress: Option<ProgressFn>,
    stall: Duration,
) -> Result<(), Failed> {
    let state = Arc::new(BodyState::default());
    let body = UploadBody {
        reader: Mutex::new(reader),
        remaining: len,
        total: len,
        state: Arc::clone(&state),
        progress,
    };
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let request = http
        .put(url.url.clone())
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, len)
        .body(reqwest::Body::wrap(body));
    let sent = tokio::select! {
        sent = request.send() => sent,
        () = stalled(&state.read, stall) => {
            return Err(Failed::Transport {
                failure: TransportFailure::Timeout,
                detail: format!("nothing moved for {}", crate::error::human_duration(stall)),
                source: None,
            });
        }
    };
    // The source's own failures come first: they are why the request broke.
    if state.short.load(Ordering::SeqCst) {
        return Err(Failed::ShortSource {
            read: state.read.load(Ordering::SeqCst),
            announced: len,
        });
    }
    if let Some(e) = state
        .error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(Failed::Local(e));
    }
    let response = sent.map_err(transport)?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(refusal(response, url).await)
}

/// One `GET` of `url`, each chunk handed to `sink` (which writes it), the total checked
/// against `Content-Length`. Returns the bytes received.
pub(crate) async fn get<F>(
    http: &reqwest::Client,
    url: &SignedUrl,
    stall: Duration,
    mut sink: F,
) -> Result<u64, Failed>
where
    F: AsyncSink,
{
    let send = http.get(url.url.clone()).send();
    let mut response = match tokio::time::timeout(stall, send).await {
        Ok(sent) => sent.map_err(transport)?,
        Err(_) => return Err(timeout(stall)),
    };
    if !response.status().is_success() {
        return Err(refusal(response, url).await);
    }
    let announced = response.content_length();
    let mut got = 0u64;
    loop {
        let chunk = match tokio::time::timeout(stall, response.chunk()).await {
            Ok(chunk) => chunk.map_err(transport)?,
            Err(_) => return Err(timeout(stall)),
        };
        let Some(chunk) = chunk else { break };
        got += chunk.len() as u64;
        sink.write(chunk, got, announced)
            .await
            .map_err(Failed::Local)?;
    }
    if let Some(announced) = announced
        && got != announced
    {
        return Err(Failed::Length { got, announced });
    }
    Ok(got)
}

/// Where a download's chunks go.
pub(crate) trait AsyncSink {
    /// Writes `chunk`; `got` bytes have arrived so far, of `announced` if storage said.
    fn write(
        &mut self,
        chunk: Bytes,
        got: u64,
        announced: Option<u64>,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
}

fn timeout(stall: Duration) -> Failed {
    Failed::Transport {
        failure: TransportFailure::Timeout,
        detail: format!("nothing moved for {}", crate::error::human_duration(stall)),
        source: None,
    }
}

fn transport(e: reqwest::Error) -> Failed {
    Failed::Transport {
        failure: failure_of(&e),
        detail: error_chain(&e),
        source: Some(e.without_url()),
    }
}

/// Storage's refusal: its status, and S3's `<Code>` and `<Message>` when the body is an S3
/// `<Error>` document (else an excerpt of the body).
async fn refusal(response: reqwest::Response, url: &SignedUrl) -> Failed {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_prefix(response, ERROR_BODY_BYTES)
        .await
        .unwrap_or_default();
    let secrets = url.secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let (code, message) = match s3_error(&body) {
        Some((code, message)) => (
            Some(excerpt(code.as_bytes(), &secrets)),
            excerpt(message.as_bytes(), &secrets),
        ),
        None => (None, excerpt(&body, &secrets)),
    };
    Failed::Status {
        status,
        code,
        message,
        retry_after,
    }
}

/// S3's error document: `<Error><Code>AccessDenied</Code><Message>...</Message>...</Error>`.
pub(crate) fn s3_error(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains("<Error>") {
        return None;
    }
    let element = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&close)?;
        Some(unescape(&text[start..end]))
    };
    let code = element("Code")?;
    Some((code, element("Message").unwrap_or_default()))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Ends when `counter` has not moved for `limit`.
async fn stalled(counter: &AtomicU64, limit: Duration) {
    let mut last = counter.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(limit).await;
        let now = counter.load(Ordering::SeqCst);
        if now == last {
            return;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_errors_are_read() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
            <Message>Request has expired</Message><RequestId>1</RequestId></Error>";
        assert_eq!(
            s3_error(body),
            Some(("AccessDenied".into(), "Request has expired".into()))
        );
        assert_eq!(
            s3_error(b"<Error><Code>A&amp;B</Code></Error>"),
            Some(("A&B".into(), String::new()))
        );
        assert_eq!(s3_error(b"<html>503</html>"), None);
        assert_eq!(s3_error(&[0xff, 0xfe]), None);
    }

    #[test]
    fn storage_urls_are_https_or_loopback() {
        assert!(SignedUrl::parse("https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abc").is_ok());
        assert!(SignedUrl::parse("http://127.0.0.1:9000/storage/k").is_ok());
        assert!(SignedUrl::parse("http://localhost:9000/k").is_ok());
        assert_eq!(
            SignedUrl::parse("http://bucket.example/k?X-Amz-Signature=secretsecret")
                .err()
                .as_deref(),
            Some(
                "the storage URL http://bucket.example/k uses http:// to a host that is not \
                 loopback; only https:// is sent file bytes"
            )
        );
        assert!(SignedUrl::parse("ftp://x/y").is_err());
        assert!(SignedUrl::parse("not a url").is_err());
    }

    #[test]
    fn messages_name_the_url_without_its_signature() {
        let url = SignedUrl::parse("https://b.example/a/k.pdf?X-Amz-Signature=0123456789abcdef")
            .expect("https");
        assert_eq!(url.shown(), "https://b.example/a/k.pdf");
        assert_eq!(url.secrets(), vec!["0123456789abcdef".to_string()]);
    }
}
