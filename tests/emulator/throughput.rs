//! A bounded throughput measurement: `queries/get_runs.graphql` at concurrency 16.
//!
//! Runs 1,600 requests by default (a second or two even in a debug build) and prints
//! requests per second; `ION_EMULATOR_BENCH_REQUESTS=20000 cargo test --release --test emulator
//! throughput -- --nocapture` gives the number worth reporting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::support::*;

const CONCURRENCY: usize = 16;
const DEFAULT_REQUESTS: usize = 1600;
/// However many requests were asked for, the measurement stops after this long.
const TIME_LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_runs_throughput_at_concurrency_16() {
    let total: usize = std::env::var("ION_EMULATOR_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_REQUESTS);
    let e = demo().await;
    let token = token(&e).await;
    let query = include_str!("../../queries/get_runs.graphql");
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
