//! ion-client beside what a user would pick instead, in one process.
//!
//! `cargo bench -p ion-benches --bench compare` measures and prints Markdown
//! tables (`benches/regenerate.sh` wraps them into `BENCHMARKS.md`). Under
//! `cargo test --benches` (no `--bench` argument) every case runs once, quickly, and only the
//! answers are checked: nothing here ever asserts a timing.
//!
//! Method, for every table: the clients take turns in slices (the order rotates each
//! round) so each sees the same machine noise, and the median over rounds is reported; ratios
//! are against a baseline measured in the same run, because an absolute figure on a shared
//! machine means little.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod baselines;
mod data;
mod decode;
mod per_request;
mod server;

use std::alloc::System;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

use per_request::{Clients, Contender};
use server::Server;

/// Counts every allocation of the process; the decode table reads it.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// How much to measure: `cargo bench` runs [`Plan::FULL`], `cargo test --benches` [`Plan::QUICK`].
struct Plan {
    rounds: usize,
    /// Requests per slice for the small page; the large pages take fewer (see `requests`).
    small_requests: usize,
    mb_requests: usize,
    ten_mb_requests: usize,
    decode_rounds: usize,
    /// Decodes per round of the 1 MB body (a tenth as many of the 10 MB one).
    decode_iterations: usize,
    later_starts: usize,
}

impl Plan {
    const FULL: Plan = Plan {
        // Five rounds and 150/15 large requests a slice: with three rounds of 100/10, the same
        // client's ratio moved by ±15 % between runs on a busy machine.
        rounds: 5,
        small_requests: 5_000,
        mb_requests: 150,
        ten_mb_requests: 15,
        decode_rounds: 3,
        decode_iterations: 10,
        later_starts: 10,
    };
    const QUICK: Plan = Plan {
        rounds: 1,
        small_requests: 64,
        mb_requests: 16,
        ten_mb_requests: 2,
        decode_rounds: 1,
        decode_iterations: 1,
        later_starts: 1,
    };
}

/// Concurrencies measured for the small page and for the large pages (where
/// 64 pages of 10 MB in flight would measure the allocator more than the clients).
const SMALL_CONCURRENCY: [usize; 3] = [1, 16, 64];
const LARGE_CONCURRENCY: [usize; 2] = [1, 16];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    // `--start-only` and `--decode-only` print one table alone, for working on it.
    let start_only = args.iter().any(|a| a == "--start-only");
    let plan = if full { Plan::FULL } else { Plan::QUICK };
    let _ = rustls::crypto::ring::default_provider().install_default();
    // "Tracing on at the default level": a subscriber at INFO, as an application has, so
    // whatever ion-client does at INFO really happens (its per-operation span is DEBUG); the
    // output goes nowhere. `ION_BENCH_LOG` sets another filter (`off`, `ion_client=debug`).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("ION_BENCH_LOG").unwrap_or_else(|_| "info".to_owned()),
        ))
        .with_writer(std::io::sink)
        .init();
    // `ION_BENCH_WORKER=1` (for `--profile`): the clients on one worker thread of a
    // multi-threaded runtime instead of the main thread's current-thread runtime, as an
    // application on `#[tokio::main]` has them.
    let runtime = if std::env::var_os("ION_BENCH_WORKER").is_some() {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };

    let mut out = String::new();
    if let Some(at) = args.iter().position(|a| a == "--profile") {
        // For a profiler (callgrind): one client, one page, c=1, nothing else.
        // `--profile ion|graphql_client|reqwest|hyper PAGE REQUESTS [CONCURRENCY]`, PAGE one
        // of small, 1mb, 10mb; CONCURRENCY 1 unless given.
        let who = args.get(at + 1).map(String::as_str).unwrap_or("ion");
        let page = args.get(at + 2).map(String::as_str).unwrap_or("small");
        let requests = args
            .get(at + 3)
            .and_then(|n| n.parse().ok())
            .unwrap_or(2_000);
        let concurrency = args.get(at + 4).and_then(|n| n.parse().ok()).unwrap_or(1);
        runtime.block_on(profile(who, page, requests, concurrency));
        return;
    }
    if start_only {
        runtime.block_on(test_kit_start(&plan, &mut out));
        print!("{out}");
        return;
    }
    let pages = data::pages();
    // `--profile-decode N [TIMES] [list|list10]` decodes a page TIMES (20) times with the N-th
    // decoder of a table: the 1 MB page and the first table (0 = ion-client); with `list`, the
    // 1 MB `ListRuns` page and its table, with `list10` the 10 MB one; for
    // callgrind: instruction counts are what noise cannot move (subtract a run with TIMES 0
    // for the pages' construction).
    if let Some(at) = args.iter().position(|a| a == "--profile-decode") {
        let which: usize = args.get(at + 1).and_then(|n| n.parse().ok()).unwrap_or(0);
        let times: usize = args.get(at + 2).and_then(|n| n.parse().ok()).unwrap_or(20);
        let list = args.get(at + 3).map(String::as_str);
        let (decoder, body) = if let Some(size @ ("list" | "list10")) = list {
            let bytes = if size == "list" { 1 << 20 } else { 10 << 20 };
            let (_, body) = data::list_runs_page_of_size(bytes);
            (&decode::list_runs_decoders()[which], body.into())
        } else {
            let page = pages.iter().find(|p| p.path == "1mb").unwrap();
            (&decode::decoders()[which], page.body.clone())
        };
        let runs: usize = (0..times).map(|_| (decoder.decode)(&body)).sum();
        println!("{}: {runs} runs decoded", decoder.label);
        return;
    }
    if args.iter().any(|a| a == "--decode-only") {
        decode_tables(&plan, &pages, &mut out);
        print!("{out}");
        return;
    }
    let server = Server::start(
        &pages
            .iter()
            .map(|p| (p.path, p.body.clone()))
            .collect::<Vec<_>>(),
    );
    runtime.block_on(per_request_tables(&plan, &server, &pages, &mut out));
    decode_tables(&plan, &pages, &mut out);
    runtime.block_on(test_kit_start(&plan, &mut out));
    print!("{out}");
}

async fn profile(who: &str, page: &str, requests: usize, concurrency: usize) {
    let contender = match who {
        "ion" => Contender::Ion,
        "graphql_client" => Contender::GraphqlClient,
        "reqwest" => Contender::Reqwest,
        "hyper" => Contender::Hyper,
        other => panic!("--profile takes ion, graphql_client, reqwest or hyper, not {other}"),
    };
    let pages = data::pages();
    let page = pages
        .iter()
        .find(|p| p.path == page)
        .expect("--profile's page is small, 1mb or 10mb");
    let server = Server::start(&[(page.path, page.body.clone())]);
    let clients = Arc::new(Clients::new(&server, page).await);
    per_request::one(&clients, contender, None).await;
    // Allocations are the process's: the canned server's share is the same for every client.
    let before = GLOBAL.stats();
    let process_before = process_cpu_ns();
    // The slice runs as a task so that "this thread" is the runtime's worker under
    // `ION_BENCH_WORKER=1` (where `block_on`'s own thread only waits).
    let slice = tokio::spawn({
        let clients = Arc::clone(&clients);
        async move { per_request::slice(&clients, contender, concurrency, requests).await }
    });
    let (rate, cpu) = slice.await.expect("slice");
    let process_cpu = process_cpu_ns().saturating_sub(process_before) as f64 / 1e3;
    let after = GLOBAL.stats();
    let allocations =
        (after.allocations + after.reallocations) - (before.allocations + before.reallocations);
    let bytes = after.bytes_allocated - before.bytes_allocated;
    eprintln!(
        "{} at c={concurrency}: {} requests/s, {cpu:.1} µs CPU per request on this thread, \
         {:.1} µs in the whole process, {:.1} allocations and {} bytes allocated per request \
         (server included)",
        contender.label(),
        thousands(rate),
        process_cpu / requests as f64,
        allocations as f64 / requests as f64,
        bytes / requests
    );
}

async fn per_request_tables(plan: &Plan, server: &Server, pages: &[data::Page], out: &mut String) {
    writeln!(
        out,
        "## Per-request cost\n\n\
         Requests per second through each client against a canned hyper server on 127.0.0.1 \
         (its own thread and single-threaded runtime; the clients share one other \
         single-threaded runtime). Median of {} alternating rounds; in brackets the ratio to raw \
         reqwest in the same run. Below each table: CPU time of the clients' thread per request \
         (µs), which decides once that thread is saturated.\n",
        plan.rounds
    )
    .unwrap();
    for page in pages {
        let (concurrencies, requests): (&[usize], usize) = match page.path {
            "small" => (&SMALL_CONCURRENCY, plan.small_requests),
            "1mb" => (&LARGE_CONCURRENCY, plan.mb_requests),
            _ => (&LARGE_CONCURRENCY, plan.ten_mb_requests),
        };
        let clients = Arc::new(Clients::new(server, page).await);
        // Warm-up: connect, and ion-client fetches and caches its token.
        for contender in Contender::ALL {
            per_request::one(&clients, contender, None).await;
        }
        // rate[contender][concurrency], cpu likewise.
        let mut rate = vec![vec![0.0; concurrencies.len()]; Contender::ALL.len()];
        let mut cpu = rate.clone();
        for (ci, &concurrency) in concurrencies.iter().enumerate() {
            let requests = requests.max(concurrency);
            let mut samples = vec![Vec::new(); Contender::ALL.len()];
            for round in 0..plan.rounds {
                for offset in 0..Contender::ALL.len() {
                    let i = (round + offset) % Contender::ALL.len();
                    let measured =
                        per_request::slice(&clients, Contender::ALL[i], concurrency, requests)
                            .await;
                    samples[i].push(measured);
                }
            }
            for (i, s) in samples.into_iter().enumerate() {
                rate[i][ci] = median(s.iter().map(|m| m.0).collect());
                cpu[i][ci] = median(s.iter().map(|m| m.1).collect());
            }
        }
        writeln!(
            out,
            "### {} ({}, {} runs; {} requests per slice)\n",
            page.label,
            human_bytes(page.body.len()),
            page.runs,
            requests
        )
        .unwrap();
        let reqwest = Contender::ALL
            .iter()
            .position(|c| *c == Contender::Reqwest)
            .unwrap();
        table_header(
            out,
            "client",
            concurrencies.iter().map(|c| format!("c={c}")),
        );
        for (i, contender) in Contender::ALL.iter().enumerate() {
            let cells = (0..concurrencies.len()).map(|ci| {
                format!(
                    "{} ({:.2}×)",
                    thousands(rate[i][ci]),
                    rate[i][ci] / rate[reqwest][ci]
                )
            });
            table_row(out, contender.label(), cells);
        }
        writeln!(out).unwrap();
        table_header(
            out,
            "CPU µs per request",
            concurrencies.iter().map(|c| format!("c={c}")),
        );
        for (i, contender) in Contender::ALL.iter().enumerate() {
            let cells = (0..concurrencies.len()).map(|ci| format!("{:.1}", cpu[i][ci]));
            table_row(out, contender.label(), cells);
        }
        writeln!(out).unwrap();
    }
}

fn decode_tables(plan: &Plan, pages: &[data::Page], out: &mut String) {
    writeln!(
        out,
        "## Decode\n\n\
         One body decoded on one thread, no I/O: throughput (median of {} alternating rounds) \
         with the ratio to the hand-written struct, and the allocations of one decode.\n",
        plan.decode_rounds
    )
    .unwrap();
    let decoders = decode::decoders();
    let hand = decoders
        .iter()
        .position(|d| d.label == "hand-written struct")
        .unwrap();
    for page in pages.iter().filter(|p| p.path != "small") {
        let title = format!(
            "### {} ({}, {} runs)\n",
            page.label,
            human_bytes(page.body.len()),
            page.runs
        );
        decode_table(
            plan,
            &decoders,
            hand,
            "× hand-written",
            &title,
            &page.body,
            page.runs,
            out,
        );
    }
    writeln!(
        out,
        "### `ListRuns` pages\n\n\
         The page `ion export` and the `*_nodes` streams read (`pageInfo`, a cursor and the \
         `RunSummary` fragment per run: an etag, an enum, a timestamp, nulls), decoded into the \
         generated `list_runs::ResponseData`; the ratio is to serde_json over the bytes.\n"
    )
    .unwrap();
    let list_decoders = decode::list_runs_decoders();
    for (label, size) in [("1 MB", 1usize << 20), ("10 MB", 10 << 20)] {
        let (runs, body) = data::list_runs_page_of_size(size);
        let title = format!(
            "#### {label} `ListRuns` page ({}, {runs} runs)\n",
            human_bytes(body.len())
        );
        decode_table(
            plan,
            &list_decoders,
            0,
            "× `from_slice`",
            &title,
            &body,
            runs,
            out,
        );
    }
    export_decode_table(plan, &list_decoders, out);
}

/// The decode share of `ion export` of 100,000 nodes: 1,000 `ListRuns` pages of 100 runs (the
/// page size `ion export` asks for) decoded one after another by each decoder, nodes/s.
fn export_decode_table(plan: &Plan, decoders: &[decode::Decoder], out: &mut String) {
    const PAGE: usize = 100;
    let pages = if plan.decode_iterations > 1 {
        1_000
    } else {
        10
    };
    let body = data::list_runs_page(PAGE);
    let measured = decode::measure(decoders, &body, PAGE, plan.decode_rounds, pages);
    writeln!(
        out,
        "#### `ion export` of {} nodes, decode only\n\n\
         {pages} `ListRuns` pages of {PAGE} runs ({} each), the page size `ion export` asks \
         for, decoded one after another; the network and the server are left out (the bulk \
         bench's \"Export\" row has them).\n",
        thousands((pages * PAGE) as f64),
        human_bytes(body.len())
    )
    .unwrap();
    table_header(
        out,
        "decoded by",
        ["nodes/s", "ms per 100,000 nodes", "× `from_slice`"]
            .map(str::to_owned)
            .into_iter(),
    );
    for (d, m) in decoders.iter().zip(&measured) {
        table_row(
            out,
            d.label,
            [
                thousands(PAGE as f64 / m.seconds),
                format!("{:.1}", m.seconds * 1e3 * (100_000 / PAGE) as f64),
                format!("{:.2}×", measured[0].seconds / m.seconds),
            ]
            .into_iter(),
        );
    }
    writeln!(out).unwrap();
}

/// One decode table: every decoder on one body, with the ratio to the `baseline`-th.
#[allow(clippy::too_many_arguments)]
fn decode_table(
    plan: &Plan,
    decoders: &[decode::Decoder],
    baseline: usize,
    ratio: &str,
    title: &str,
    body: &[u8],
    runs: usize,
    out: &mut String,
) {
    let iterations = if body.len() < 4 << 20 {
        plan.decode_iterations
    } else {
        plan.decode_iterations.div_ceil(10)
    };
    let measured = decode::measure(decoders, body, runs, plan.decode_rounds, iterations);
    let mb = body.len() as f64 / 1e6;
    writeln!(out, "{title}").unwrap();
    table_header(
        out,
        "decoded into",
        [
            "MB/s",
            "ms per decode",
            ratio,
            "allocations",
            "bytes allocated",
        ]
        .map(str::to_owned)
        .into_iter(),
    );
    for (d, m) in decoders.iter().zip(&measured) {
        table_row(
            out,
            d.label,
            [
                format!("{:.0}", mb / m.seconds),
                format!("{:.2}", m.seconds * 1e3),
                format!("{:.2}×", measured[baseline].seconds / m.seconds),
                thousands(m.allocations as f64),
                human_bytes(m.allocated_bytes),
            ]
            .into_iter(),
        );
    }
    writeln!(out).unwrap();
}

/// `TestIon::start()` with the shipped schema, the first start in this process and
/// later ones (each stopped before the next).
async fn test_kit_start(plan: &Plan, out: &mut String) {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let started = Instant::now();
    let first = ion_client::testing::TestIon::start()
        .await
        .expect("TestIon::start");
    let first_time = started.elapsed();
    first.stop().await;
    let mut later = Vec::new();
    for _ in 0..plan.later_starts {
        let started = Instant::now();
        let ion = ion_client::testing::TestIon::start()
            .await
            .expect("TestIon::start");
        later.push(started.elapsed().as_secs_f64());
        ion.stop().await;
    }
    writeln!(
        out,
        "### `TestIon::start()` ({profile} build)\n\n\
         | first start in the process | later starts (median of {n}) | min | max |\n\
         |---:|---:|---:|---:|\n\
         | {} | {} | {} | {} |\n",
        ms(first_time),
        ms(Duration::from_secs_f64(median(later.clone()))),
        ms(Duration::from_secs_f64(
            later.iter().copied().fold(f64::INFINITY, f64::min)
        )),
        ms(Duration::from_secs_f64(
            later.iter().copied().fold(0.0, f64::max)
        )),
        n = later.len(),
    )
    .unwrap();
}

/// CPU time this thread has run, in nanoseconds (Linux schedstat; 0 where unavailable, and
/// the CPU rows then read 0).
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time every thread of this process has run, in nanoseconds (0 where unavailable).
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn table_header(out: &mut String, first: &str, columns: impl Iterator<Item = String>) {
    let columns: Vec<String> = columns.collect();
    writeln!(out, "| {first} | {} |", columns.join(" | ")).unwrap();
    writeln!(out, "|---|{}", "---:|".repeat(columns.len())).unwrap();
}

fn table_row(out: &mut String, first: &str, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.collect();
    writeln!(out, "| {first} | {} |", cells.join(" | ")).unwrap();
}

fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn human_bytes(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
