//! The emulator alone: `queries/get_runs.graphql` at concurrency 16 over real HTTP on
//! 127.0.0.1, in requests per second.
//!
//! `cargo bench -p ion-emulator --bench throughput` runs 20,000 requests (at most 30 s);
//! `ION_EMULATOR_BENCH_REQUESTS=N` changes the count, and `cargo test --benches` (as CI does)
//! runs 200 as a smoke test. It asserts what the emulator answered, never a timing.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/emulator/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use support::*;

const CONCURRENCY: usize = 16;
/// Requests under `cargo bench`; under `cargo test --benches` (a smoke run) 200.
const BENCH_REQUESTS: usize = 20_000;
const SMOKE_REQUESTS: usize = 200;
/// However many requests were asked for, the measurement stops after this long.
const TIME_LIMIT: Duration = Duration::from_secs(30);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("ION_EMULATOR_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench {
            BENCH_REQUESTS
        } else {
            SMOKE_REQUESTS
        });
    runtime.block_on(get_runs_at_concurrency_16(total));
}

async fn get_runs_at_concurrency_16(total: usize) {
    let e = demo().await;
    let token = token(&e).await;
    let query = include_str!("../../../queries/get_runs.graphql");
    let body = Arc::new(json!({ "query": query, "operationName": "GetRuns" }));
    let client = http();
    let issued = Arc::new(AtomicUsize::new(0));
    let url = e.graphql_url();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, body, issued, url, token) = (
            client.clone(),
            body.clone(),
            issued.clone(),
            url.clone(),
            token.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut done = 0usize;
            while issued.fetch_add(1, Ordering::Relaxed) < total && started.elapsed() < TIME_LIMIT {
                let resp = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&*body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                let v: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(v["data"]["runs"]["edges"].as_array().map(Vec::len), Some(6));
                done += 1;
            }
            done
        }));
    }
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    let elapsed = started.elapsed();
    let rate = done as f64 / elapsed.as_secs_f64();
    eprintln!(
        "get_runs: {done} requests at concurrency {CONCURRENCY} in {:.2} s = {rate:.0} requests/s ({} build)",
        elapsed.as_secs_f64(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert_eq!(e.counters().operations as usize, done);
}
