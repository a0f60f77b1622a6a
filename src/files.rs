//! Files: attach a file to an entity, and download one, each in one call.
//!
//! ION keeps file bytes in object storage. Attaching is two steps, which
//! [`Client::attach_file`] takes together: `createFileAttachment(input: {entityId,
//! filename})` makes the attachment row and answers the `contentType` ION chose and a
//! pre-signed `uploadUrl`; the bytes then go to that URL in one `PUT` with that
//! `Content-Type`. [`Client::download_file`] reads the row's `downloadUrl` and streams the
//! bytes from it to disk.
//!
//! # What it guarantees
//!
//! - **Memory.** The bytes are streamed in chunks of 256 KiB, never held whole: attaching or
//!   downloading a file of any size holds a few chunks at a time.
//! - **Credentials.** Storage receives no `Authorization` header, no token and no header of
//!   ION's: only `Content-Type` and `Content-Length` beside the HTTP client's own. The
//!   requests go through the client's HTTP client, so the proxy rules of its
//!   [`Config`](crate::Config) apply to them as to every other request. A storage URL is
//!   used only when it is `https://`, or `http://` to a loopback host (the emulator).
//!   Messages name the storage URL without its query, which carries the signature.
//! - **Length.** `Content-Length` is always sent (never a chunked body), and a source that
//!   gives fewer bytes than announced is an error, never a short file. A download is checked
//!   against the length storage announced.
//! - **Retries.** A `PUT` or `GET` that fails transiently (a 5xx, a reset, nothing moving
//!   for the client's attempt timeout) is sent again under the client's
//!   [`RetryPolicy`](crate::RetryPolicy) (its attempts, backoff and longest `Retry-After`):
//!   a file is opened again and sent from its start. A reader ([`FileSource::reader`])
//!   cannot be read twice, so it is sent once. A 403 (an expired or refused URL) and the
//!   other 4xx are not retried.
//! - **No orphan goes unnamed.** When the upload fails, the attachment row exists already:
//!   the error ([`ErrorKind::Upload`]) names its id, and with
//!   [`delete_on_failure`](AttachFile::delete_on_failure) the row is deleted and the error
//!   says whether that worked ([`Cleanup`]).
//! - **No half file.** A download is written to a temporary file beside its destination and
//!   renamed into place only when complete; on failure the temporary file is removed.
//!
//! ION's file operations (make the row, read it, delete it) are hand-written in one private
//! module, the only place that knows them; the shipped schema has the one upload flow above,
//! so that module is where a flow that creates the row after the upload would go.
//!
//! A storage URL is reached with the client's HTTP client, whose TLS setup follows ION's own
//! endpoints: a client of a loopback `http://` ION (the emulator) trusts no certificate, so
//! its storage must be loopback `http://` too.

mod flow;
mod storage;

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWriteExt};

use self::storage::{AsyncSink, Failed, ProgressFn, Reader, SignedUrl};
use crate::error::{Cleanup, human_duration};
use crate::{Client, Error, ErrorKind, Id};

/// The `Content-Type` sent when ION names none and the caller gave none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// How far a transfer has come, handed to a [`progress`](AttachFile::progress) callback
/// after each chunk. A retried transfer starts again from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes sent (or received) so far in this attempt.
    pub done: u64,
    /// Bytes in all: the source's length for an upload, the length storage announced for a
    /// download (0 when it announced none).
    pub total: u64,
}

/// Where an attachment's bytes come from: a file, or a reader with a name and a length.
pub struct FileSource {
    inner: SourceKind,
}

enum SourceKind {
    Path(PathBuf),
    Reader {
        reader: Option<Reader>,
        file_name: String,
        len: u64,
    },
}

impl FileSource {
    /// The file at `path`: its name is the attachment's file name unless
    /// [`AttachFile::file_name`] says otherwise, its length is read when the upload starts,
    /// and a retry opens it again.
    pub fn path(path: impl Into<PathBuf>) -> FileSource {
        FileSource {
            inner: SourceKind::Path(path.into()),
        }
    }

    /// `len` bytes of `reader`, attached as `file_name`. A reader is read once, so a failed
    /// upload from it is not retried; fewer than `len` bytes is an error, and bytes past `len`
    /// are not read.
    pub fn reader(
        reader: impl AsyncRead + Send + 'static,
        file_name: impl Into<String>,
        len: u64,
    ) -> FileSource {
        FileSource {
            inner: SourceKind::Reader {
                reader: Some(Box::pin(reader)),
                file_name: file_name.into(),
                len,
            },
        }
    }
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            SourceKind::Path(p) => f.debug_tuple("FileSource::path").field(p).finish(),
            SourceKind::Reader { file_name, len, .. } => f
                .debug_struct("FileSource::reader")
                .field("file_name", file_name)
                .field("len", len)
                .finish_non_exhaustive(),
        }
    }
}

impl From<PathBuf> for FileSource {
    fn from(path: PathBuf) -> FileSource {
        FileSource::path(path)
    }
}

impl From<&Path> for FileSource {
    fn from(path: &Path) -> FileSource {
        FileSource::path(path)
    }
}

impl From<&PathBuf> for FileSource {
    fn from(path: &PathBuf) -> FileSource {
        FileSource::path(path)
    }
}

/// A file attached to an entity: what [`Client::attach_file`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// The attachment's id (`FileAttachment.id`).
    pub id: i64,
    /// The file name ION stored.
    pub file_name: String,
    /// The `Content-Type` the bytes were sent with.
    pub content_type: String,
    /// The bytes sent.
    pub size: u64,
    /// A short-lived URL to download the bytes: as ION answered it when the row was made,
    /// else as it answers once the bytes are stored (`None` when it named none).
    pub download_url: Option<String>,
}

/// A downloaded file: what [`Client::download_file`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// The attachment's id.
    pub attachment_id: i64,
    /// Where the bytes are.
    pub path: PathBuf,
    /// The file name ION stores for the attachment.
    pub file_name: Option<String>,
    /// ION's `contentType` for the attachment.
    pub content_type: Option<String>,
    /// The bytes written.
    pub size: u64,
}

/// An upload being set up: await it (it implements [`IntoFuture`]) to run it. Made by
/// [`Client::attach_file`].
#[must_use = "an upload does nothing until awaited"]
pub struct AttachFile<'a> {
    client: &'a Client,
    entity: Id,
    source: FileSource,
    file_name: Option<String>,
    content_type: Option<String>,
    progress: Option<ProgressFn>,
    delete_on_failure: bool,
}

impl std::fmt::Debug for AttachFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachFile")
            .field("entity", &self.entity)
            .field("source", &self.source)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("delete_on_failure", &self.delete_on_failure)
            .finish_non_exhaustive()
    }
}

impl<'a> AttachFile<'a> {
    /// The attachment's file name, instead of the path's (or the reader's).
    pub fn file_name(mut self, name: impl Into<String>) -> AttachFile<'a> {
        self.file_name = Some(name.into());
        self
    }

    /// The `Content-Type` to send when ION's answer names none (else
    /// [`DEFAULT_CONTENT_TYPE`]). When ION names one, it is sent: the upload URL is signed
    /// for it, and storage refuses any other.
    pub fn content_type(mut self, content_type: impl Into<String>) -> AttachFile<'a> {
        self.content_type = Some(content_type.into());
        self
    }

    /// Calls `callback` after each chunk sent, with the bytes sent so far in this attempt.
    /// It runs on the task that sends the body: keep it short.
    pub fn progress(
        mut self,
        callback: impl Fn(Progress) + Send + Sync + 'static,
    ) -> AttachFile<'a> {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Deletes the attachment row when its bytes could not be sent (default `false`: the row
    /// is kept, and the error names it).
    pub fn delete_on_failure(mut self, delete: bool) -> AttachFile<'a> {
        self.delete_on_failure = delete;
        self
    }

    async fn run(self) -> Result<Attachment, Error> {
        let AttachFile {
            client,
            entity,
            source,
            file_name,
            content_type,
            progress,
            delete_on_failure,
        } = self;
        let row = RowOwner {
            client,
            entity,
            delete_on_failure,
        };
        let (source_name, len, mut reader) = match source.inner {
            SourceKind::Path(path) => {
                let len = file_len(&path).map_err(|e| no_row(&path.display().to_string(), e))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, len, Opener::Path(path))
            }
            SourceKind::Reader {
                reader,
                file_name,
                len,
            } => (file_name, len, Opener::Once(reader)),
        };
        let file_name = file_name.unwrap_or(source_name);
        if file_name.is_empty() {
            return Err(Error::from_kind(
                ErrorKind::upload(None, None, None, None, Cleanup::NoRow),
                "cannot attach a file without a file name: pass one with file_name(..)",
            ));
        }
        let Some(created) = flow::create(client, &row.entity, &file_name).await? else {
            return Err(Error::from_kind(
                ErrorKind::upload(None, None, None, None, Cleanup::NoRow),
                format!(
                    "createFileAttachment answered no attachment for `{file_name}` on entity {}",
                    row.entity.as_str()
                ),
            ));
        };
        let id = created.row.id;
        let stored_name = created.row.filename.clone().unwrap_or(file_name);
        let content_type = created
            .row
            .content_type
            .clone()
            .or(content_type)
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        let url = match created.upload_url.as_deref().map(SignedUrl::parse) {
            Some(Ok(url)) => url,
            Some(Err(why)) => return Err(row.failed(id, &stored_name, why, None, 0).await),
            None => {
                let why = "ION answered no uploadUrl".to_owned();
                return Err(row.failed(id, &stored_name, why, None, 0).await);
            }
        };
        let config = client.config();
        let policy = config.retry_policy().clone();
        let stall = config.attempt_timeout();
        let http = client.transport().http();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let opened = match reader.open().await {
                Ok(opened) => opened,
                Err(e) => {
                    let why = e.to_string();
                    let error = row.failed(id, &stored_name, why, None, attempts - 1).await;
                    return Err(error.with_source(e, &[]));
                }
            };
            let Some(opened) = opened else {
                let why = "the reader was already read".to_owned();
                return Err(row.failed(id, &stored_name, why, None, attempts - 1).await);
            };
            let sent = storage::put(
                http,
                &url,
                &content_type,
                opened,
                len,
                progress.clone(),
                stall,
            )
            .await;
            let failed = match sent {
                Ok(()) => {
                    // ION may name the download URL only once the bytes are there; a failed
                    // read costs the caller nothing but the URL.
                    let download_url = match created.row.download_url {
                        Some(url) => Some(url),
                        None => flow::read(client, id)
                            .await
                            .ok()
                            .flatten()
                            .and_then(|row| row.download_url),
                    };
                    return Ok(Attachment {
                        id,
                        file_name: stored_name,
                        content_type,
                        size: len,
                        download_url,
                    });
                }
                Err(failed) => failed,
            };
            let wait = retry_wait(&policy, &failed, attempts, reader.rewindable());
            match wait {
                Some(wait) => {
                    tracing::debug!(
                        attachment = id,
                        delay = %human_duration(wait),
                        error = %failed.describe(&url),
                        "retrying the upload"
                    );
                    config.clock.sleep(wait).await;
                }
                None => {
                    let why = failed.describe(&url);
                    return Err(row
                        .failed(id, &stored_name, why, Some(failed), attempts)
                        .await);
                }
            }
        }
    }
}

/// Who owns an attachment row while its bytes are sent, and whether to delete it on failure.
struct RowOwner<'a> {
    client: &'a Client,
    entity: Id,
    delete_on_failure: bool,
}

impl RowOwner<'_> {
    /// The error for a failed upload of attachment `id`, after deleting the row when asked.
    async fn failed(
        &self,
        id: i64,
        name: &str,
        why: String,
        failed: Option<Failed>,
        attempts: u32,
    ) -> Error {
        let (cleanup, after) = if self.delete_on_failure {
            match flow::delete(self.client, id, &self.entity).await {
                Ok(()) => (Cleanup::Deleted, format!("attachment {id} was deleted")),
                Err(e) => (
                    Cleanup::DeleteFailed,
                    format!(
                        "deleting attachment {id} failed too ({e}); it is left without its bytes"
                    ),
                ),
            }
        } else {
            (
                Cleanup::Kept,
                format!("attachment {id} is left without its bytes"),
            )
        };
        let (status, code, failure) = match &failed {
            Some(f) => (f.status(), f.code(), f.failure()),
            None => (None, None, None),
        };
        let error = Error::from_kind(
            ErrorKind::upload(Some(id), status, code, failure, cleanup),
            format!("uploading `{name}` (attachment {id}) failed: {why}; {after}"),
        )
        .with_context(None, None, attempts);
        match failed {
            Some(failed) => failed.source_of(error),
            None => error,
        }
    }
}

impl<'a> IntoFuture for AttachFile<'a> {
    type Output = Result<Attachment, Error>;
    type IntoFuture = BoxFuture<'a, Result<Attachment, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Opens the source for each attempt.
enum Opener {
    /// A file, opened again for each attempt.
    Path(PathBuf),
    /// A reader, given out once.
    Once(Option<Reader>),
}

impl Opener {
    async fn open(&mut self) -> std::io::Result<Option<Reader>> {
        match self {
            Opener::Path(path) => {
                let file = tokio::fs::File::open(&*path).await?;
                Ok(Some(Box::pin(file)))
            }
            Opener::Once(reader) => Ok(reader.take()),
        }
    }

    fn rewindable(&self) -> bool {
        matches!(self, Opener::Path(_))
    }
}

/// The length of the regular file at `path`; anything else (a folder, a FIFO, a device) is
/// refused, so an upload never blocks on or streams from something with no fixed length.
fn file_len(path: &Path) -> std::io::Result<u64> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(metadata.len())
}

/// The error for a source that cannot be read before any row exists.
fn no_row(what: &str, e: std::io::Error) -> Error {
    Error::from_kind(
        ErrorKind::upload(None, None, None, None, Cleanup::NoRow),
        format!("cannot attach `{what}`: {e}"),
    )
    .with_source(e, &[])
}

/// The wait before the next attempt, or `None` when there is none: not transient, a reader
/// already read, the attempts spent, or a `Retry-After` longer than the policy waits.
fn retry_wait(
    policy: &crate::RetryPolicy,
    failed: &Failed,
    attempts: u32,
    rewindable: bool,
) -> Option<Duration> {
    if !failed.transient() || !rewindable || attempts >= policy.max_attempts() {
        return None;
    }
    match failed.retry_after() {
        Some(asked) if asked > policy.max_retry_after() => None,
        Some(asked) => Some(policy.retry_after_wait(asked, fastrand::f64())),
        None => Some(policy.backoff(attempts, fastrand::f64())),
    }
}

/// A download being set up: await it (it implements [`IntoFuture`]) to run it. Made by
/// [`Client::download_file`].
#[must_use = "a download does nothing until awaited"]
pub struct DownloadFile<'a> {
    client: &'a Client,
    attachment_id: i64,
    destination: PathBuf,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for DownloadFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadFile")
            .field("attachment_id", &self.attachment_id)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

impl<'a> DownloadFile<'a> {
    /// Calls `callback` after each chunk received, with the bytes received so far in this
    /// attempt.
    pub fn progress(
        mut self,
        callback: impl Fn(Progress) + Send + Sync + 'static,
    ) -> DownloadFile<'a> {
        self.progress = Some(Arc::new(callback));
        self
    }

    async fn run(self) -> Result<Downloaded, Error> {
        let id = self.attachment_id;
        let fail = |status, code, failure, message: String| {
            Error::from_kind(ErrorKind::download(id, status, code, failure), message)
        };
        let Some(row) = flow::read(self.client, id).await? else {
            return Err(fail(
                None,
                None,
                None,
                format!("downloading attachment {id} failed: there is no attachment {id}"),
            ));
        };
        let Some(url) = row.download_url.as_deref() else {
            return Err(fail(
                None,
                None,
                None,
                format!("downloading attachment {id} failed: ION answered no downloadUrl"),
            ));
        };
        let url = SignedUrl::parse(url).map_err(|why| {
            fail(
                None,
                None,
                None,
                format!("downloading attachment {id} failed: {why}"),
            )
        })?;
        let path =
            destination_path(&self.destination, row.filename.as_deref(), id).map_err(|why| {
                fail(
                    None,
                    None,
                    None,
                    format!("downloading attachment {id} failed: {why}"),
                )
            })?;
        let local = |e: std::io::Error, attempts: u32| {
            let message = format!(
                "downloading attachment {id} to {} failed: {e}",
                path.display()
            );
            fail(None, None, None, message)
                .with_context(None, None, attempts)
                .with_source(e, &[])
        };
        let config = self.client.config();
        let policy = config.retry_policy().clone();
        let stall = config.attempt_timeout();
        let http = self.client.transport().http();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let mut temp = TempFile::create(&path)
                .await
                .map_err(|e| local(e, attempts))?;
            let got = storage::get(
                http,
                &url,
                stall,
                FileSink {
                    file: &mut temp.file,
                    progress: self.progress.clone(),
                },
            )
            .await;
            let failed = match got {
                Ok(size) => {
                    temp.finish(&path).await.map_err(|e| local(e, attempts))?;
                    return Ok(Downloaded {
                        attachment_id: id,
                        path,
                        file_name: row.filename,
                        content_type: row.content_type,
                        size,
                    });
                }
                Err(failed) => failed,
            };
            drop(temp);
            match retry_wait(&policy, &failed, attempts, true) {
                Some(wait) => config.clock.sleep(wait).await,
                None => {
                    let message = format!(
                        "downloading attachment {id} failed: {}",
                        failed.describe(&url)
                    );
                    let error = fail(failed.status(), failed.code(), failed.failure(), message)
                        .with_context(None, None, attempts);
                    return Err(failed.source_of(error));
                }
            }
        }
    }
}

impl<'a> IntoFuture for DownloadFile<'a> {
    type Output = Result<Downloaded, Error>;
    type IntoFuture = BoxFuture<'a, Result<Downloaded, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Where a download goes: into `destination` under a safe form of the attachment's name
/// when `destination` is a folder, else `destination` itself. A path that ends with a
/// separator names a folder, which must exist.
fn destination_path(
    destination: &Path,
    file_name: Option<&str>,
    id: i64,
) -> Result<PathBuf, String> {
    if destination.is_dir() {
        let name = file_name
            .and_then(safe_file_name)
            .unwrap_or_else(|| format!("attachment-{id}"));
        return Ok(destination.join(name));
    }
    let text = destination.as_os_str().to_string_lossy();
    if text.is_empty() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        return Err(format!(
            "the folder {} does not exist",
            destination.display()
        ));
    }
    Ok(destination.to_owned())
}

/// A file name from a server, made safe to create in a folder: its last path component
/// (after `/` or `\`), without control characters, never `.` or `..`, at most 255 bytes.
/// `None` when nothing is left.
pub(crate) fn safe_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned_trimmed = cleaned.trim();
    if cleaned_trimmed.is_empty() || cleaned_trimmed == "." || cleaned_trimmed == ".." {
        return None;
    }
    cleaned = cleaned_trimmed.to_owned();
    if cleaned.len() > 255 {
        let cut = crate::wire::floor_char_boundary(&cleaned, 255);
        cleaned.truncate(cut);
    }
    Some(cleaned)
}

/// A temporary file beside a download's destination, removed unless renamed into place
/// (also when the download is dropped half way).
struct TempFile {
    path: PathBuf,
    file: tokio::fs::File,
    kept: bool,
}

impl TempFile {
    async fn create(destination: &Path) -> std::io::Result<TempFile> {
        let parent = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = destination
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".to_owned());
        let path = parent.join(format!(".{name}.{:016x}.part", fastrand::u64(..)));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(TempFile {
            path,
            file,
            kept: false,
        })
    }

    /// Hands the last bytes to the operating system and renames the file to `destination`.
    /// No `fsync`: the rename is what keeps a half file from the final name, and syncing
    /// every download to the disk would cost most of its speed (the files bench measured it).
    async fn finish(mut self, destination: &Path) -> std::io::Result<()> {
        self.file.flush().await?;
        tokio::fs::rename(&self.path, destination).await?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

struct FileSink<'f> {
    file: &'f mut tokio::fs::File,
    progress: Option<ProgressFn>,
}

impl AsyncSink for FileSink<'_> {
    async fn write(
        &mut self,
        chunk: Bytes,
        got: u64,
        announced: Option<u64>,
    ) -> std::io::Result<()> {
        self.file.write_all(&chunk).await?;
        if let Some(progress) = &self.progress {
            progress(Progress {
                done: got,
                total: announced.unwrap_or(0),
            });
        }
        Ok(())
    }
}

impl Client {
    /// Attaches a file to an entity (a run, step, issue, part, receipt, ...): makes the
    /// attachment row in ION and streams the bytes to the storage URL ION answers. Await the
    /// returned [`AttachFile`]; its setters name the file, give a `Content-Type`, report
    /// progress and delete the row when the upload fails. See the [`files`](crate::files)
    /// module for what is guaranteed.
    ///
    /// # Errors
    ///
    /// The error of `createFileAttachment` as any operation's ([`ErrorKind::Graphql`],
    /// [`ErrorKind::OutcomeUnknown`], ...); [`ErrorKind::Upload`] when the file cannot be
    /// read, or its bytes could not be sent: it names the attachment row, if one was made,
    /// and what became of it.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use ion_client::FileSource;
    ///
    /// let ion = ion_client::testing::TestIon::start().await?;
    /// let report = b"serial 42: pass".to_vec();
    /// let len = report.len() as u64;
    /// let attachment = ion
    ///     .client()
    ///     .attach_file(1, FileSource::reader(std::io::Cursor::new(report), "report.txt", len))
    ///     .delete_on_failure(true)
    ///     .await?;
    /// assert_eq!(attachment.size, len);
    ///
    /// let folder = tempfile::tempdir()?;
    /// let downloaded = ion.client().download_file(attachment.id, folder.path()).await?;
    /// assert_eq!(std::fs::read(&downloaded.path)?, b"serial 42: pass");
    /// # Ok(()) }
    /// # #[cfg(feature = "testing")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
    /// ```
    pub fn attach_file(
        &self,
        entity: impl Into<Id>,
        source: impl Into<FileSource>,
    ) -> AttachFile<'_> {
        AttachFile {
            client: self,
            entity: entity.into(),
            source: source.into(),
            file_name: None,
            content_type: None,
            progress: None,
            delete_on_failure: false,
        }
    }

    /// Downloads attachment `attachment_id` to `destination`: into that folder under the
    /// attachment's file name (made safe: its last component, never `..`) when it is a
    /// folder, else to that path, replacing any file there. Await the returned
    /// [`DownloadFile`]. The bytes go to a temporary file beside the destination, renamed
    /// into place when all of them arrived.
    ///
    /// # Errors
    ///
    /// The error of the `fileAttachment` query as any operation's; [`ErrorKind::Download`]
    /// when there is no such attachment or no `downloadUrl`, when storage refuses or the
    /// transfer fails after the retries, or when the file cannot be written.
    pub fn download_file(
        &self,
        attachment_id: i64,
        destination: impl Into<PathBuf>,
    ) -> DownloadFile<'_> {
        DownloadFile {
            client: self,
            attachment_id,
            destination: destination.into(),
            progress: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_file_names_are_made_safe() {
        assert_eq!(safe_file_name("report.pdf").as_deref(), Some("report.pdf"));
        assert_eq!(
            safe_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            safe_file_name("..\\..\\boot.ini").as_deref(),
            Some("boot.ini")
        );
        assert_eq!(safe_file_name("a/..").as_deref(), None);
        assert_eq!(safe_file_name("..").as_deref(), None);
        assert_eq!(safe_file_name("").as_deref(), None);
        assert_eq!(safe_file_name("dir/").as_deref(), None);
        assert_eq!(
            safe_file_name("bad\u{1b}[31mname\n.txt").as_deref(),
            Some("bad[31mname.txt")
        );
        let long = "é".repeat(200);
        let safe = safe_file_name(&long).expect("kept");
        assert!(safe.len() <= 255 && safe.chars().all(|c| c == 'é'));
    }

    #[test]
    fn only_transient_failures_of_a_file_are_retried() {
        let policy = crate::RetryPolicy::default();
        let status = |status| Failed::Status {
            status,
            code: None,
            message: String::new(),
            retry_after: None,
        };
        assert!(retry_wait(&policy, &status(503), 1, true).is_some());
        assert!(
            retry_wait(&policy, &status(503), 1, false).is_none(),
            "a reader is sent once"
        );
        assert!(
            retry_wait(&policy, &status(503), 4, true).is_none(),
            "attempts spent"
        );
        assert!(retry_wait(&policy, &status(403), 1, true).is_none());
        assert!(retry_wait(&policy, &status(400), 1, true).is_none());
        let short = Failed::ShortSource {
            read: 1,
            announced: 2,
        };
        assert!(retry_wait(&policy, &short, 1, true).is_none());
        let long_wait = Failed::Status {
            status: 503,
            code: None,
            message: String::new(),
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert!(retry_wait(&policy, &long_wait, 1, true).is_none());
    }
}
