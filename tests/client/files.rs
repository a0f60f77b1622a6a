//! Files through the client and the emulator's storage: a round trip byte for byte, each
//! failure rule of an upload and a download, and memory that stays flat on a large file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use ion_client::testing::emulator::{Emulator, EmulatorOptions, Endpoint, Fault, HandlerError};
use ion_client::{Cleanup, Error, ErrorKind, FileSource, TransportFailure};

use super::soak::live_bytes;
use super::support::*;

/// Bytes that differ from one position to the next, so a reordered or dropped chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(21);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// The storage requests the emulator received, as (method-less) header lists.
fn storage_requests(e: &Emulator) -> Vec<Vec<(String, String)>> {
    e.requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Storage)
        .map(|r| r.headers)
        .collect()
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The upload error's fields.
fn upload_kind(
    error: &Error,
) -> (
    Option<i64>,
    Option<u16>,
    Option<String>,
    Option<TransportFailure>,
    Cleanup,
) {
    match error.kind() {
        ErrorKind::Upload {
            attachment_id,
            status,
            code,
            failure,
            cleanup,
            ..
        } => (*attachment_id, *status, code.clone(), *failure, *cleanup),
        other => panic!("expected an upload error, got {other:?}: {error}"),
    }
}

fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_multi_mib_file_goes_there_and_back_byte_for_byte() {
    let _alone = MEMORY.lock().await;
    let (e, _clock, client) = setup().await;
    let folder = tempfile::tempdir().expect("tempdir");
    let bytes = pattern(5 * 1024 * 1024 + 17);
    let source = folder.path().join("traveler.pdf");
    std::fs::write(&source, &bytes).expect("write");

    let attachment = client.attach_file(1, &source).await.expect("attached");
    assert_eq!(attachment.file_name, "traveler.pdf");
    assert_eq!(attachment.content_type, "application/pdf");
    assert_eq!(attachment.size, bytes.len() as u64);
    assert_eq!(e.stored_files()[0].size, bytes.len() as u64);
    let url = attachment.download_url.as_deref().expect("a download URL");
    assert!(
        url.starts_with(&format!("{}/storage/", e.api_base())),
        "{url}"
    );

    // Storage saw the length and ION's content type, and nothing of ION's credentials.
    let requests = storage_requests(&e);
    assert_eq!(requests.len(), 1);
    let put = &requests[0];
    assert_eq!(header(put, "content-length"), Some("5242897"));
    assert_eq!(header(put, "content-type"), Some("application/pdf"));
    assert_eq!(header(put, "transfer-encoding"), None);
    assert!(
        put.iter()
            .all(|(k, v)| k != "authorization" && !v.contains("Bearer")),
        "{put:?}"
    );

    let out = folder.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let downloaded = client
        .download_file(attachment.id, &out)
        .await
        .expect("downloaded");
    assert_eq!(downloaded.path, out.join("traveler.pdf"));
    assert_eq!(downloaded.size, bytes.len() as u64);
    assert!(
        std::fs::read(&downloaded.path).expect("read") == bytes,
        "bytes differ"
    );
    assert_eq!(entries(&out), ["traveler.pdf"], "no temporary file left");
    let get = storage_requests(&e).pop().expect("get");
    assert_eq!(header(&get, "authorization"), None);

    // To a path, replacing what is there.
    let exact = folder.path().join("copy.bin");
    std::fs::write(&exact, b"old").expect("write");
    client
        .download_file(attachment.id, &exact)
        .await
        .expect("downloaded");
    assert!(std::fs::read(&exact).expect("read") == bytes);
}

#[tokio::test]
async fn a_server_file_name_cannot_leave_the_folder() {
    let (_e, _clock, client) = setup().await;
    let folder = tempfile::tempdir().expect("tempdir");
    let source = folder.path().join("a.txt");
    std::fs::write(&source, b"hello").expect("write");
    let attachment = client
        .attach_file(1, &source)
        .file_name("../../escape.txt")
        .await
        .expect("attached");
    let out = folder.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let downloaded = client
        .download_file(attachment.id, &out)
        .await
        .expect("downloaded");
    assert_eq!(downloaded.path, out.join("escape.txt"));

    let missing = format!("{}/", folder.path().join("nowhere").display());
    let error = client
        .download_file(attachment.id, &missing)
        .await
        .expect_err("no such folder");
    assert_eq!(
        error.to_string(),
        format!(
            "downloading attachment {} failed: the folder {missing} does not exist",
            attachment.id
        )
    );
}

#[tokio::test]
async fn a_503_is_retried_from_the_start_of_the_file() {
    let (e, clock, client) = setup().await;
    let folder = tempfile::tempdir().expect("tempdir");
    let source = folder.path().join("log.txt");
    std::fs::write(&source, pattern(300_000)).expect("write");
    e.faults().inject(Endpoint::Storage, Fault::status(503));
    let attachment = client.attach_file(1, &source).await.expect("attached");
    assert_eq!(attachment.size, 300_000);
    assert_eq!(storage_requests(&e).len(), 2);
    assert_eq!(clock.sleeps().len(), 1, "one backoff");
    assert_eq!(e.stored_files()[0].size, 300_000);
}

#[tokio::test]
async fn an_expired_url_is_not_retried_and_the_row_is_named() {
    let (e, clock, client) = setup().await;
    e.faults().inject(Endpoint::Storage, Fault::expired_url());
    let source = FileSource::reader(std::io::Cursor::new(b"0123456789".to_vec()), "a.txt", 10);
    let error = client.attach_file(1, source).await.expect_err("refused");
    let (id, status, code, failure, cleanup) = upload_kind(&error);
    let id = id.expect("a row was made");
    assert_eq!(
        (status, code.as_deref(), failure),
        (Some(403), Some("AccessDenied"), None)
    );
    assert_eq!(cleanup, Cleanup::Kept);
    let storage = format!("{}/storage/", e.api_base());
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "uploading `a.txt` (attachment {id}) failed: storage at {storage}"
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "answered HTTP 403 Forbidden: AccessDenied: Request has expired; attachment {id} is \
             left without its bytes"
        )),
        "{text}"
    );
    assert!(
        !text.contains("Signature"),
        "the URL's query is not quoted: {text}"
    );
    assert_eq!(error.status(), Some(403));
    assert_eq!(storage_requests(&e).len(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_reset_is_retried_for_a_file_and_not_for_a_reader() {
    let _alone = MEMORY.lock().await;
    let (e, _clock, client) = setup().await;
    let folder = tempfile::tempdir().expect("tempdir");
    let bytes = pattern(2 * 1024 * 1024);
    let source = folder.path().join("photo.png");
    std::fs::write(&source, &bytes).expect("write");
    e.faults()
        .inject(Endpoint::Storage, Fault::connection_reset());
    client
        .attach_file(1, &source)
        .await
        .expect("attached on the second attempt");
    assert_eq!(storage_requests(&e).len(), 2);

    e.faults()
        .inject(Endpoint::Storage, Fault::connection_reset());
    let len = bytes.len() as u64;
    let reader = FileSource::reader(std::io::Cursor::new(bytes), "photo.png", len);
    let error = client.attach_file(1, reader).await.expect_err("sent once");
    let (id, status, _, failure, cleanup) = upload_kind(&error);
    assert!(id.is_some());
    assert_eq!(
        (status, failure, cleanup),
        (None, Some(TransportFailure::Interrupted), Cleanup::Kept)
    );
    assert_eq!(error.attempts(), 1);
    assert_eq!(storage_requests(&e).len(), 3);
    assert_eq!(
        e.stored_files().len(),
        1,
        "only the file's upload is stored"
    );
}

#[tokio::test]
async fn a_short_source_is_an_error_not_a_short_file() {
    let (e, _clock, client) = setup().await;
    let source = FileSource::reader(std::io::Cursor::new(vec![7u8; 10]), "short.txt", 20);
    let error = client.attach_file(1, source).await.expect_err("short");
    let (id, _, _, _, _) = upload_kind(&error);
    let id = id.expect("row");
    assert_eq!(
        error.to_string(),
        format!(
            "uploading `short.txt` (attachment {id}) failed: the source ended after 10 of the \
             20 bytes announced; attachment {id} is left without its bytes"
        )
    );
    assert!(e.stored_files().is_empty());
}

#[tokio::test]
async fn delete_on_failure_deletes_the_row_and_says_so() {
    let (e, _clock, client) = setup().await;
    e.faults().inject(Endpoint::Storage, Fault::expired_url());
    let source = FileSource::reader(std::io::Cursor::new(b"abc".to_vec()), "a.txt", 3);
    let error = client
        .attach_file(1, source)
        .delete_on_failure(true)
        .await
        .expect_err("refused");
    let (id, _, _, _, cleanup) = upload_kind(&error);
    let id = id.expect("row");
    assert_eq!(cleanup, Cleanup::Deleted);
    assert!(
        error
            .to_string()
            .ends_with(&format!("; attachment {id} was deleted")),
        "{error}"
    );
    let folder = tempfile::tempdir().expect("tempdir");
    let gone = client
        .download_file(id, folder.path())
        .await
        .expect_err("deleted");
    assert!(matches!(
        gone.kind(),
        ErrorKind::Download { status: None, .. }
    ));
    assert_eq!(
        gone.to_string(),
        format!("downloading attachment {id} failed: there is no attachment {id}")
    );
}

#[tokio::test]
async fn a_failed_delete_is_said_too() {
    let options = EmulatorOptions::new().handler("deleteFileAttachment", |_, _| {
        Err(HandlerError::new("deleting is switched off"))
    });
    let e = Emulator::start(options).await.expect("emulator");
    let clock = manual_clock();
    let client = client(config(&e, &clock));
    e.faults().inject(Endpoint::Storage, Fault::expired_url());
    let source = FileSource::reader(std::io::Cursor::new(b"abc".to_vec()), "a.txt", 3);
    let error = client
        .attach_file(1, source)
        .delete_on_failure(true)
        .await
        .expect_err("refused");
    let (id, _, _, _, cleanup) = upload_kind(&error);
    let id = id.expect("row");
    assert_eq!(cleanup, Cleanup::DeleteFailed);
    assert!(
        error.to_string().ends_with(&format!(
            "; deleting attachment {id} failed too (GraphQL errors in mutation \
             DeleteFileAttachment: deleteFileAttachment: deleting is switched off); it is left \
             without its bytes"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn a_failed_download_leaves_no_file() {
    let _alone = MEMORY.lock().await;
    let (e, clock, client) = setup().await;
    let bytes = pattern(1024 * 1024);
    let len = bytes.len() as u64;
    let source = FileSource::reader(std::io::Cursor::new(bytes), "data.bin", len);
    let attachment = client.attach_file(1, source).await.expect("attached");
    let folder = tempfile::tempdir().expect("tempdir");

    // Cut short every time: retried, then given up, and nothing left behind.
    e.faults()
        .inject(Endpoint::Storage, Fault::truncated_json().times(4));
    let error = client
        .download_file(attachment.id, folder.path())
        .await
        .expect_err("cut");
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Download {
                failure: Some(TransportFailure::Interrupted),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 4);
    assert_eq!(clock.sleeps().len(), 3);
    assert!(
        entries(folder.path()).is_empty(),
        "{:?}",
        entries(folder.path())
    );

    // Refused: not retried, nothing left.
    e.faults().inject(Endpoint::Storage, Fault::expired_url());
    let error = client
        .download_file(attachment.id, folder.path())
        .await
        .expect_err("refused");
    assert_eq!(error.status(), Some(403));
    assert_eq!(error.attempts(), 1);
    assert!(entries(folder.path()).is_empty());
}

/// Attaching and downloading 256 MiB holds a few chunks at a time: measured by
/// [`measure_memory_on_a_large_file`] in a process of its own (this test binary, running that
/// test alone), so no other test's buffers are counted.
#[test]
fn memory_stays_flat_on_a_large_file() {
    let out = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "files::measure_memory_on_a_large_file",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("the test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the measurement ran: {text}");
    if let Some(line) = text.lines().find(|l| l.starts_with("256 MiB: ")) {
        eprintln!("{line}");
    }
}

/// The measurement: the bytes live in the process (counted by this binary's allocator,
/// emulator included) never grow by more than `FLAT` above what they were before, sampled at
/// every chunk.
#[tokio::test]
#[ignore = "run alone, in its own process, by memory_stays_flat_on_a_large_file"]
async fn measure_memory_on_a_large_file() {
    const SIZE: u64 = 256 * 1024 * 1024;
    /// A few chunks in flight on each side, the pool's buffers, and what other tests of this
    /// binary hold meanwhile.
    const FLAT: i64 = 8 << 20;
    let (_e, _clock, client) = setup().await;
    let folder = tempfile::tempdir().expect("tempdir");
    // Warm the token cache and the connection pool.
    let warm = FileSource::reader(std::io::Cursor::new(vec![1u8; 10]), "warm.txt", 10);
    client.attach_file(1, warm).await.expect("warm");

    let source = folder.path().join("large.bin");
    std::fs::File::create(&source)
        .and_then(|f| f.set_len(SIZE))
        .expect("sparse file");
    let baseline = live_bytes();
    let peak = Arc::new(AtomicI64::new(baseline));
    let sample = {
        let peak = Arc::clone(&peak);
        move |_| {
            peak.fetch_max(live_bytes(), Ordering::Relaxed);
        }
    };
    let attachment = client
        .attach_file(1, &source)
        .progress(sample.clone())
        .await
        .expect("attached");
    assert_eq!(attachment.size, SIZE);
    let upload_growth = peak.load(Ordering::Relaxed) - baseline;

    let baseline = live_bytes();
    peak.store(baseline, Ordering::Relaxed);
    let out = folder.path().join("large.out");
    let downloaded = client
        .download_file(attachment.id, &out)
        .progress(sample)
        .await
        .expect("downloaded");
    assert_eq!(downloaded.size, SIZE);
    let download_growth = peak.load(Ordering::Relaxed) - baseline;
    eprintln!(
        "256 MiB: peak growth {:.2} MiB uploading, {:.2} MiB downloading",
        upload_growth as f64 / 1048576.0,
        download_growth as f64 / 1048576.0
    );
    assert!(upload_growth < FLAT, "upload grew by {upload_growth} bytes");
    assert!(
        download_growth < FLAT,
        "download grew by {download_growth} bytes"
    );
}

#[tokio::test]
async fn plain_http_storage_off_loopback_is_refused_before_any_byte() {
    let options = EmulatorOptions::new().handler("createFileAttachment", |args, rows| {
        let input = &args["input"];
        let row = rows.create(
            "FileAttachment",
            &serde_json::json!({ "filename": input["filename"], "entityId": input["entityId"] }),
        )?;
        Ok(serde_json::json!({
            "fileAttachment": row,
            "uploadUrl": "http://bucket.example/k?Signature=0123456789abcdef",
        }))
    });
    let e = Emulator::start(options).await.expect("emulator");
    let clock = manual_clock();
    let client = client(config(&e, &clock));
    let source = FileSource::reader(std::io::Cursor::new(b"abc".to_vec()), "a.txt", 3);
    let error = client
        .attach_file(1, source)
        .delete_on_failure(true)
        .await
        .expect_err("refused");
    let (id, status, _, failure, cleanup) = upload_kind(&error);
    let id = id.expect("row");
    assert_eq!((status, failure, cleanup), (None, None, Cleanup::Deleted));
    assert_eq!(
        error.to_string(),
        format!(
            "uploading `a.txt` (attachment {id}) failed: the storage URL http://bucket.example/k \
             uses http:// to a host that is not loopback; only https:// is sent file bytes; \
             attachment {id} was deleted"
        )
    );
    assert!(storage_requests(&e).is_empty());
}

#[tokio::test]
async fn an_upload_in_which_nothing_moves_is_timed_out_and_retried() {
    let e = demo().await;
    let clock = manual_clock();
    let client = client(config(&e, &clock).attempt_timeout(std::time::Duration::from_millis(300)));
    // Storage sits on the first request far longer than the client waits for anything to move.
    e.faults().inject(
        Endpoint::Storage,
        Fault::slow(std::time::Duration::from_secs(30)),
    );
    let folder = tempfile::tempdir().expect("tempdir");
    let source = folder.path().join("a.txt");
    std::fs::write(&source, b"hello").expect("write");
    let attachment = client.attach_file(1, &source).await.expect("attached");
    assert_eq!(attachment.size, 5);
    assert_eq!(storage_requests(&e).len(), 2);
    assert_eq!(clock.sleeps().len(), 1, "one backoff after the timeout");
}
