//! Files through the emulator's storage: `Client::attach_file` and `Client::download_file`
//! beside a raw reqwest streaming `PUT` and `GET` of the same bytes to the same storage
//! endpoint, in one process, taking turns.
//!
//! `cargo bench -p ion-benches --bench files` measures a 256 MiB file and prints a Markdown
//! table: the median throughput of each, their ratio, and the growth of the process's
//! resident set above what it was before the transfer (sampled every 2 ms from
//! `/proc/self/statm`; 0 off Linux). Under `cargo test --benches` it moves 1 MiB once each
//! way and checks the bytes, never a timing.
//!
//! The raw contender is what a user writes by hand: the upload URL is asked for outside the
//! timing (ion-client's upload includes its `createFileAttachment`), the file is read in the
//! same 256 KiB chunks into a streaming body with an exact `Content-Length`, and the download
//! is written chunk by chunk to a file.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::StreamBody;
use hyper::body::Frame;
use ion_client::RawRequest;
use ion_client::testing::TestIon;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const MIB: u64 = 1024 * 1024;
const CHUNK: usize = 256 * 1024;

struct Plan {
    size: u64,
    rounds: usize,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let plan = if full {
        Plan {
            size: 256 * MIB,
            rounds: 7,
        }
    } else {
        Plan {
            size: MIB,
            rounds: 1,
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let table = runtime.block_on(run(&plan, full));
    print!("{table}");
}

/// One measurement: seconds and the resident set's growth in bytes.
#[derive(Clone, Copy)]
struct Sample {
    seconds: f64,
    rss_growth: u64,
}

async fn run(plan: &Plan, full: bool) -> String {
    let ion = TestIon::start().await.expect("emulator");
    let client = ion.client().clone();
    let folder = tempfile::tempdir().expect("tempdir");
    let source = folder.path().join("large.bin");
    write_source(&source, plan.size);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut ion_up = Vec::new();
    let mut raw_up = Vec::new();
    let mut ion_down = Vec::new();
    let mut raw_down = Vec::new();
    for round in 0..plan.rounds {
        // Who goes first changes each round, and the disk is settled before each transfer,
        // so neither pays for the other's writes being flushed.
        let ion_first = round % 2 == 0;
        let mut attachment = None;
        for turn in 0..2 {
            settle();
            if (turn == 0) == ion_first {
                let (made, sample) =
                    measured(async { client.attach_file(1, &source).await.expect("attached") })
                        .await;
                assert_eq!(made.size, plan.size);
                ion_up.push(sample);
                attachment = Some(made);
            } else {
                // Raw reqwest, to a URL asked for outside the timing.
                let (url, content_type) = upload_url(&client).await;
                let ((), sample) =
                    measured(raw_put(&http, &url, &content_type, &source, plan.size)).await;
                raw_up.push(sample);
            }
        }
        let attachment = attachment.expect("uploaded");
        for turn in 0..2 {
            settle();
            if (turn == 0) == ion_first {
                let out = folder.path().join(format!("ion-{round}.bin"));
                let (downloaded, sample) = measured(async {
                    client
                        .download_file(attachment.id, &out)
                        .await
                        .expect("downloaded")
                })
                .await;
                assert_eq!(downloaded.size, plan.size);
                ion_down.push(sample);
                if !full {
                    assert!(same_bytes(&source, &out), "downloaded bytes differ");
                }
                let _ = std::fs::remove_file(&out);
            } else {
                let url = download_url(&client, attachment.id).await;
                let raw_out = folder.path().join(format!("raw-{round}.bin"));
                let (size, sample) = measured(raw_get(&http, &url, &raw_out)).await;
                assert_eq!(size, plan.size);
                raw_down.push(sample);
                let _ = std::fs::remove_file(&raw_out);
            }
        }
    }
    ion.stop().await;

    let mut out = String::from("## Files\n\nFrom `benches/files/`: ");
    out.push_str(&format!(
        "{} MiB through the emulator's storage on 127.0.0.1, median of {} rounds taking turns (the first alternating, the disk synced before each); \
         RSS growth is the peak resident set during the transfer above the one before it.\n\n",
        plan.size / MIB,
        plan.rounds
    ));
    out.push_str("| transfer | ion-client | raw reqwest | ratio | RSS growth, ion-client | RSS growth, raw |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for (what, ion, raw) in [
        (
            "upload (`attach_file` vs streaming `PUT`)",
            &ion_up,
            &raw_up,
        ),
        (
            "download (`download_file` vs streaming `GET`)",
            &ion_down,
            &raw_down,
        ),
    ] {
        let ion_mbs = throughput(plan.size, ion);
        let raw_mbs = throughput(plan.size, raw);
        out.push_str(&format!(
            "| {what} | {ion_mbs:.0} MiB/s | {raw_mbs:.0} MiB/s | {:.2}x | {:.1} MiB | {:.1} MiB |\n",
            ion_mbs / raw_mbs,
            max_growth(ion) as f64 / MIB as f64,
            max_growth(raw) as f64 / MIB as f64,
        ));
    }
    out.push('\n');
    out
}

/// Flushes the machine's dirty pages (`sync`), so a transfer does not share the disk with the
/// write-back of the one before it. Where there is no `sync`, nothing.
fn settle() {
    let _ = std::process::Command::new("sync").status();
}

/// A source file of `size` bytes that are not all alike (so nothing is compressed or skipped).
fn write_source(path: &Path, size: u64) {
    use std::io::Write as _;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut chunk = vec![0u8; CHUNK];
    let mut left = size;
    while left > 0 {
        for byte in &mut chunk {
            // xorshift: cheap bytes that differ.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        let n = left.min(CHUNK as u64) as usize;
        file.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    file.flush().unwrap();
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

/// MiB/s of the median run.
fn throughput(size: u64, samples: &[Sample]) -> f64 {
    let mut seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    size as f64 / MIB as f64 / median
}

fn max_growth(samples: &[Sample]) -> u64 {
    samples.iter().map(|s| s.rss_growth).max().unwrap_or(0)
}

/// Runs `work`, timing it and sampling the resident set meanwhile.
async fn measured<T>(work: impl std::future::Future<Output = T>) -> (T, Sample) {
    let before = resident_bytes();
    let peak = Arc::new(AtomicU64::new(before));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let peak = Arc::clone(&peak);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let started = Instant::now();
    let value = work.await;
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let sample = Sample {
        seconds,
        rss_growth: peak.load(Ordering::Relaxed).saturating_sub(before),
    };
    (value, sample)
}

/// The resident set of this process, from `/proc/self/statm` (0 where there is none).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

async fn upload_url(client: &ion_client::Client) -> (String, String) {
    let answer = client
        .execute_raw(RawRequest::mutation(
            "mutation { createFileAttachment(input: {entityId: 1, filename: \"raw.bin\"}) { \
             uploadUrl fileAttachment { contentType } } }",
        ))
        .await
        .unwrap();
    let payload = &answer["data"]["createFileAttachment"];
    (
        payload["uploadUrl"].as_str().unwrap().to_owned(),
        payload["fileAttachment"]["contentType"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn download_url(client: &ion_client::Client, id: i64) -> String {
    let answer = client
        .execute_raw(
            RawRequest::query("query($id: ID!) { fileAttachment(id: $id) { downloadUrl } }")
                .variables(serde_json::json!({ "id": id })),
        )
        .await
        .unwrap();
    answer["data"]["fileAttachment"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn raw_put(http: &reqwest::Client, url: &str, content_type: &str, path: &PathBuf, size: u64) {
    let file = tokio::fs::File::open(path).await.unwrap();
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; CHUNK];
        let n = file.read(&mut buf).await.unwrap();
        if n == 0 {
            return None;
        }
        buf.truncate(n);
        Some((Ok::<_, std::io::Error>(Frame::data(Bytes::from(buf))), file))
    });
    let response = http
        .put(url)
        .header("content-type", content_type)
        .header("content-length", size)
        .body(reqwest::Body::wrap(StreamBody::new(chunks)))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

async fn raw_get(http: &reqwest::Client, url: &str, path: &Path) -> u64 {
    let mut response = http.get(url).send().await.unwrap();
    assert!(response.status().is_success());
    let mut file = tokio::fs::File::create(path).await.unwrap();
    let mut size = 0u64;
    while let Some(chunk) = response.chunk().await.unwrap() {
        size += chunk.len() as u64;
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    size
}
