//! File storage: what ION's object storage does for its pre-signed URLs, on the emulator's own
//! host.
//!
//! An entity with `filename`, `contentType` and `s3Key` columns (`FileAttachment`) is a
//! stored file. Creating one (`createFileAttachment`, `createAsset`) gives it a key and the
//! content type its file name suggests; a payload's `uploadUrl` is then a signed `PUT` URL
//! for that key and type, and the row's `downloadUrl`, once bytes are stored, a signed `GET`
//! URL. Both are `http://<emulator>/storage/<key>?Expires=<unix seconds>&Signature=<hex>`:
//! HMAC-SHA256 with a key of the emulator's own over the method, the key, the expiry and
//! (for a `PUT`) the content type, valid for [`DEFAULT_URL_LIFETIME`] of the emulator's clock.
//!
//! A `PUT` is refused as S3 refuses it, with an XML `<Error>` and its status: a missing or
//! wrong signature or a `Content-Type` other than the signed one (403
//! `SignatureDoesNotMatch`), an expired URL (403 `AccessDenied`), no `Content-Length` (411
//! `MissingContentLength`), more than the size cap (400 `EntityTooLarge`). Accepted bytes go
//! to a file in a temporary folder of the emulator's own (removed when it stops), a chunk at
//! a time, so a large file costs disk, not memory. Storage requests are recorded (headers,
//! no body) under [`Endpoint::Storage`](crate::Endpoint::Storage), and faults injected there
//! apply to them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::faults::{Endpoint, FaultKind};
use super::http::{ConnHandle, Shared};
use super::model::Entity;
use super::store::{Clock, Row};

/// How long a signed URL stays valid: ION's are valid for minutes.
pub const DEFAULT_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The largest file a `PUT` stores: S3's limit for one `PUT`.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The bucket stored files name (`s3Bucket`).
const BUCKET: &str = "ion-emulator";

/// How much of a stored file one chunk of a download holds.
const CHUNK_BYTES: usize = 256 * 1024;

/// A file held by the emulator's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredFile {
    /// Its key (the row's `s3Key`).
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The `Content-Type` it was sent with.
    pub content_type: String,
}

/// The emulator's storage: signing, and the files stored.
pub(crate) struct Storage {
    signing_key: ring::hmac::Key,
    clock: Arc<Clock>,
    url_lifetime: Duration,
    max_file_bytes: u64,
    /// `http://127.0.0.1:<port>`, known once the emulator listens.
    base_url: OnceLock<String>,
    /// The folder the bytes are kept in, made on the first upload.
    folder: OnceLock<Result<PathBuf, String>>,
    files: Mutex<HashMap<String, StoredFile>>,
}

impl Storage {
    pub(crate) fn new(clock: Arc<Clock>, url_lifetime: Duration, max_file_bytes: u64) -> Storage {
        let key: Vec<u8> = (0..4)
            .flat_map(|_| fastrand::u64(..).to_le_bytes())
            .collect();
        Storage {
            signing_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
            clock,
            url_lifetime,
            max_file_bytes,
            base_url: OnceLock::new(),
            folder: OnceLock::new(),
            files: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredFile>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The files stored, by key.
    pub(crate) fn stored(&self) -> Vec<StoredFile> {
        let mut files: Vec<StoredFile> = self.files().values().cloned().collect();
        files.sort_by(|a, b| a.key.cmp(&b.key));
        files
    }

    /// Whether rows of `entity` are stored files.
    pub(crate) fn holds(entity: &Entity) -> bool {
        ["filename", "contentType", "s3Key"]
            .iter()
            .all(|c| entity.column(c).is_some())
    }

    /// Gives a new stored file's input its key, bucket and (unless given) content type.
    pub(crate) fn prepare(entity: &Entity, input: &mut Map<String, Value>, key: String) {
        if !Storage::holds(entity) {
            return;
        }
        let name = input
            .get("filename")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let content_type = content_type_of(name);
        input
            .entry("contentType")
            .or_insert_with(|| Value::from(content_type));
        input.entry("s3Key").or_insert_with(|| Value::from(key));
        if entity.column("s3Bucket").is_some() {
            input
                .entry("s3Bucket")
                .or_insert_with(|| Value::from(BUCKET));
        }
    }

    /// The signed `PUT` URL for a stored file's row.
    pub(crate) fn upload_url(&self, row: &Row) -> Option<String> {
        let key = row.data.get("s3Key")?.as_str()?;
        let content_type = row.data.get("contentType")?.as_str()?;
        self.signed("PUT", key, content_type)
    }

    /// The signed `GET` URL for a stored file's row, once its bytes are stored.
    pub(crate) fn download_url(&self, row: &Row) -> Option<String> {
        let key = row.data.get("s3Key")?.as_str()?;
        if !self.files().contains_key(key) {
            return None;
        }
        self.signed("GET", key, "")
    }

    fn signed(&self, method: &str, key: &str, content_type: &str) -> Option<String> {
        let base = self.base_url.get()?;
        let lifetime = i64::try_from(self.url_lifetime.as_secs()).unwrap_or(i64::MAX / 4);
        let expires = self.clock.now_secs().saturating_add(lifetime);
        let signature = self.signature(method, key, expires, content_type);
        Some(format!(
            "{base}/storage/{key}?Expires={expires}&Signature={signature}"
        ))
    }

    fn signature(&self, method: &str, key: &str, expires: i64, content_type: &str) -> String {
        let text = format!("{method}\n{key}\n{expires}\n{content_type}");
        let tag = ring::hmac::sign(&self.signing_key, text.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks a request's signature and expiry; `Err` is S3's refusal (status, code,
    /// message).
    fn check(
        &self,
        method: &str,
        key: &str,
        uri: &Uri,
        content_type: &str,
    ) -> Result<(), (u16, &'static str, &'static str)> {
        let mut expires = None;
        let mut signature = None;
        for (name, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            match &*name {
                "Expires" => expires = value.parse::<i64>().ok(),
                "Signature" => signature = Some(value.into_owned()),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err((
                403,
                "AccessDenied",
                "Query-string authentication requires the Signature and Expires parameters",
            ));
        };
        let expected = self.signature(method, key, expires, content_type);
        if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err((
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. \
                 Check your key and signing method.",
            ));
        }
        if self.clock.now_secs() > expires {
            return Err((403, "AccessDenied", "Request has expired"));
        }
        Ok(())
    }

    fn folder(&self) -> Result<&PathBuf, String> {
        self.folder
            .get_or_init(|| {
                let path = std::env::temp_dir().join(format!(
                    "ion-emulator-storage-{}-{:016x}",
                    std::process::id(),
                    fastrand::u64(..)
                ));
                std::fs::create_dir(&path)
                    .map(|()| path)
                    .map_err(|e| format!("cannot make the storage folder: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(Ok(folder)) = self.folder.get() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The content type a file name suggests, as ION guesses it from the extension.
fn content_type_of(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

/// An S3 `<Error>` answer.
fn s3_error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{:016X}</RequestId></Error>",
        fastrand::u64(..)
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// What an injected fault does to a storage request.
enum Trouble {
    None,
    /// Answer this instead.
    Answer(Response),
    /// Reset the connection half way through the body.
    ResetHalfWay,
    /// Do the work, then reset instead of answering.
    ResetAfter,
    /// Send half the body of a download.
    Truncate,
}

async fn trouble(shared: &Shared) -> Trouble {
    let Some(kind) = shared.faults.take(Endpoint::Storage) else {
        return Trouble::None;
    };
    shared.counters.faults_injected();
    match kind {
        FaultKind::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Trouble::None
        }
        FaultKind::Status { status, .. } | FaultKind::Html { status } => {
            let (code, message) = match status {
                403 => ("AccessDenied", "Access Denied"),
                500 => (
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                ),
                503 => ("SlowDown", "Please reduce your request rate."),
                _ => ("ServiceUnavailable", "Service is unable to handle request."),
            };
            Trouble::Answer(s3_error(status, code, message))
        }
        FaultKind::ExpiredUrl => {
            Trouble::Answer(s3_error(403, "AccessDenied", "Request has expired"))
        }
        FaultKind::ConnectionReset => Trouble::ResetHalfWay,
        FaultKind::ResetAfterExecuting => Trouble::ResetAfter,
        FaultKind::TruncatedJson => Trouble::Truncate,
    }
}

/// What every storage request does first: it is recorded, then takes the injected fault if
/// one is due; a fault that is a whole answer comes back as `Err`.
async fn begin(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Result<Trouble, Response> {
    shared.record(Endpoint::Storage, uri.path(), headers, b"");
    match trouble(shared).await {
        Trouble::Answer(response) => Err(response),
        other => Ok(other),
    }
}

/// `PUT /storage/{key}`.
pub(crate) async fn put(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    conn: axum::Extension<ConnHandle>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let trouble = match begin(&shared, &uri, &headers).await {
        Ok(trouble) => trouble,
        Err(response) => return response,
    };
    let storage = &shared.instance.storage;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Err((status, code, message)) = storage.check("PUT", &key, &uri, content_type) {
        return s3_error(status, code, message);
    }
    let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return s3_error(
            411,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        );
    };
    if length > storage.max_file_bytes {
        return s3_error(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
        );
    }
    let folder = match storage.folder() {
        Ok(folder) => folder.clone(),
        Err(why) => return s3_error(500, "InternalError", &why),
    };
    let part = folder.join(format!("{key}.part"));
    let done = folder.join(&key);
    let Ok(mut file) = tokio::fs::File::create(&part).await else {
        return s3_error(500, "InternalError", "cannot write the object");
    };
    let mut received = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The client went away: nothing is stored.
            drop(file);
            let _ = tokio::fs::remove_file(&part).await;
            return s3_error(400, "IncompleteBody", "The request body ended early");
        };
        received += chunk.len() as u64;
        if file.write_all(&chunk).await.is_err() {
            let _ = tokio::fs::remove_file(&part).await;
            return s3_error(500, "InternalError", "cannot write the object");
        }
        if matches!(trouble, Trouble::ResetHalfWay) && received >= length / 2 {
            drop(file);
            let _ = tokio::fs::remove_file(&part).await;
            return conn.reset().await;
        }
    }
    if received != length {
        let _ = tokio::fs::remove_file(&part).await;
        return s3_error(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        );
    }
    if file.flush().await.is_err() || tokio::fs::rename(&part, &done).await.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
        return s3_error(500, "InternalError", "cannot write the object");
    }
    storage.files().insert(
        key.clone(),
        StoredFile {
            key,
            size: received,
            content_type: content_type.to_owned(),
        },
    );
    if matches!(trouble, Trouble::ResetAfter) {
        return conn.reset().await;
    }
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::ETAG, HeaderValue::from_static("\"emulated\""));
    response
}

/// `GET /storage/{key}`.
pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    conn: axum::Extension<ConnHandle>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let trouble = match begin(&shared, &uri, &headers).await {
        Ok(trouble) => trouble,
        Err(response) => return response,
    };
    let storage = &shared.instance.storage;
    if let Err((status, code, message)) = storage.check("GET", &key, &uri, "") {
        return s3_error(status, code, message);
    }
    let Some(stored) = storage.files().get(&key).cloned() else {
        return s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    let Ok(Ok(file)) = storage
        .folder()
        .map(|folder| std::fs::File::open(folder.join(&key)))
    else {
        return s3_error(500, "InternalError", "cannot read the object");
    };
    if matches!(trouble, Trouble::ResetHalfWay | Trouble::ResetAfter) {
        return conn.reset().await;
    }
    // Half the bytes under the full length: the connection ends early, as a cut transfer.
    let sent = match trouble {
        Trouble::Truncate => stored.size / 2,
        _ => stored.size,
    };
    let file = tokio::fs::File::from_std(file).take(sent);
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK_BYTES];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(stored.size));
    if let Ok(v) = HeaderValue::from_str(&stored.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_of("traveler.PDF"), "application/pdf");
        assert_eq!(content_type_of("photo.jpeg"), "image/jpeg");
        assert_eq!(content_type_of("no-extension"), "application/octet-stream");
    }

    #[test]
    fn signatures_cover_method_key_expiry_and_type() {
        let storage = Storage::new(Arc::new(Clock::default()), DEFAULT_URL_LIFETIME, 10);
        let a = storage.signature("PUT", "k", 5, "text/plain");
        assert_eq!(a.len(), 64);
        assert_eq!(a, storage.signature("PUT", "k", 5, "text/plain"));
        assert_ne!(a, storage.signature("GET", "k", 5, "text/plain"));
        assert_ne!(a, storage.signature("PUT", "j", 5, "text/plain"));
        assert_ne!(a, storage.signature("PUT", "k", 6, "text/plain"));
        assert_ne!(a, storage.signature("PUT", "k", 5, "image/png"));
    }
}
