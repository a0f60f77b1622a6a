//! File storage: signed upload and download URLs on the emulator's own host, refused as S3
//! refuses them.

use std::time::Duration;

use ion_emulator::{Emulator, EmulatorOptions, Endpoint, Fault, Seed};
use serde_json::{Value, json};

use super::support::*;

const CREATE: &str = "mutation($entityId: ID!, $filename: String!) {
  createFileAttachment(input: {entityId: $entityId, filename: $filename}) {
    fileAttachment { id contentType s3Key s3Bucket downloadUrl }
    uploadUrl
  }
}";

/// Makes an attachment row for `filename` on entity 1 and returns its payload.
async fn create(e: &Emulator, filename: &str) -> Value {
    let d = data(e, CREATE, json!({"entityId": 1, "filename": filename})).await;
    d["createFileAttachment"].clone()
}

async fn put(url: &str, content_type: &str, body: &'static [u8]) -> (u16, String) {
    let response = http()
        .put(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("put");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

fn code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

#[tokio::test]
async fn an_upload_is_stored_and_served_back() {
    let e = demo().await;
    let created = create(&e, "traveler.pdf").await;
    let row = &created["fileAttachment"];
    assert_eq!(row["contentType"], "application/pdf");
    assert_eq!(row["s3Bucket"], "ion-emulator");
    assert!(row["downloadUrl"].is_null(), "nothing stored yet");
    let url = created["uploadUrl"].as_str().expect("uploadUrl");
    assert!(
        url.starts_with(&format!("{}/storage/", e.api_base())),
        "{url}"
    );
    let (status, _) = put(url, "application/pdf", b"%PDF-1.7 bytes").await;
    assert_eq!(status, 200);
    let stored = e.stored_files();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].size, 14);
    assert_eq!(stored[0].content_type, "application/pdf");
    assert_eq!(stored[0].key, row["s3Key"].as_str().expect("key"));

    let read = data(
        &e,
        "query($id: ID!) { fileAttachment(id: $id) { downloadUrl contentType } }",
        json!({"id": row["id"]}),
    )
    .await;
    let download = read["fileAttachment"]["downloadUrl"].as_str().expect("url");
    let response = http().get(download).send().await.expect("get");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "14");
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        b"%PDF-1.7 bytes"
    );

    let put_request = e
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Storage)
        .expect("recorded");
    assert!(
        put_request
            .headers
            .iter()
            .any(|(k, v)| k == "content-length" && v == "14")
    );
    assert!(put_request.body.is_empty(), "bytes are not recorded");
}

#[tokio::test]
async fn create_asset_answers_an_upload_url_too() {
    let e = demo().await;
    let d = data(
        &e,
        "mutation { createAsset(input: {entityId: 1, filename: \"a.png\"}) { uploadUrl fileAttachment { contentType } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["createAsset"]["fileAttachment"]["contentType"],
        "image/png"
    );
    let url = d["createAsset"]["uploadUrl"].as_str().expect("uploadUrl");
    assert_eq!(put(url, "image/png", b"png").await.0, 200);
}

#[tokio::test]
async fn uploads_are_refused_as_s3_refuses_them() {
    let e = start(EmulatorOptions::new().seed(Seed::Demo).max_file_bytes(8)).await;
    let created = create(&e, "log.txt").await;
    let url = created["uploadUrl"].as_str().expect("uploadUrl").to_owned();

    let (status, body) = put(&url, "image/png", b"text").await;
    assert_eq!((status, code(&body)), (403, "SignatureDoesNotMatch"));

    let unsigned = url.split('?').next().expect("path");
    let (status, body) = put(unsigned, "text/plain", b"text").await;
    assert_eq!((status, code(&body)), (403, "AccessDenied"));

    let tampered = url.replace("Signature=", "Signature=0");
    assert_eq!(put(&tampered, "text/plain", b"text").await.0, 403);

    let (status, body) = put(&url, "text/plain", b"more than eight bytes").await;
    assert_eq!((status, code(&body)), (400, "EntityTooLarge"));

    // A chunked body has no Content-Length.
    let answer = raw_chunked_put(&e, &url).await;
    assert!(answer.starts_with("HTTP/1.1 411"), "{answer}");
    assert_eq!(code(&answer), "MissingContentLength");

    e.advance_clock(ion_emulator::DEFAULT_URL_LIFETIME + Duration::from_secs(1));
    let (status, body) = put(&url, "text/plain", b"text").await;
    assert_eq!((status, code(&body)), (403, "AccessDenied"));
    assert!(body.contains("Request has expired"), "{body}");
    assert!(e.stored_files().is_empty());
}

#[tokio::test]
async fn storage_faults_answer_as_s3() {
    let e = demo().await;
    let created = create(&e, "log.txt").await;
    let url = created["uploadUrl"].as_str().expect("uploadUrl").to_owned();
    e.faults().inject(Endpoint::Storage, Fault::status(503));
    e.faults().inject(Endpoint::Storage, Fault::expired_url());
    let (status, body) = put(&url, "text/plain", b"text").await;
    assert_eq!((status, code(&body)), (503, "SlowDown"));
    let (status, body) = put(&url, "text/plain", b"text").await;
    assert_eq!((status, code(&body)), (403, "AccessDenied"));
    assert_eq!(put(&url, "text/plain", b"text").await.0, 200);
    assert_eq!(e.counters().faults_injected, 2);
}

/// A `PUT` with a chunked body, written by hand (reqwest always announces a known length).
async fn raw_chunked_put(e: &Emulator, url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = url.strip_prefix(&e.api_base()).expect("on the emulator");
    let mut stream = tokio::net::TcpStream::connect(e.addr())
        .await
        .expect("connect");
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\ntext\r\n0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    answer
}
