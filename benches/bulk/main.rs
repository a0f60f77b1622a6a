//! Bulk work against the emulator in this process: an import under a rate limit and an
//! export of every node.
//!
//! `cargo bench -p ion-benches --bench bulk -- --bench` measures and prints Markdown; under
//! `cargo test --benches` (no `--bench` argument) each case runs once on small data and only
//! checks its answers.
//!
//! - **Import.** Rows (one `createRun` each) against an emulator limiting the client to
//!   `rate` requests per second (burst a tenth of it): the Python importers' way (one request
//!   per row, in turn, through the same client), and `ion_client::bulk::Job` at concurrency
//!   16 with and without a fixed rate (10,000 rows each, as the bulk tests import). Requests
//!   per second are given as a ratio of the limit, for the whole job and for its second half
//!   (the pace it settled at); 429s are the emulator's own count, per 1,000 rows and for the
//!   first and second half of the rows apart (whether they fall once the job has adapted).
//! - **Export.** Every run of a seeded emulator through the typed `list_runs_nodes` stream
//!   (100 a page): nodes per second.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use ion_client::bulk::{Job, Order, Outcome};
use ion_client::operations::StarterOperations as _;
use ion_client::operations::list_runs;
use ion_client::testing::Seed;
use ion_client::testing::{RateLimit, TestIon};
use ion_client::{Client, RawRequest};
use serde_json::json;

const CREATE: &str =
    "mutation Create($title: String!) { createRun(input: { title: $title }) { run { id } } }";

/// How much to measure.
struct Plan {
    rate: f64,
    /// Rows of the one-request-per-row loop (its rate does not depend on how many).
    rows: usize,
    /// Rows of each bulk job: enough for the time it takes to learn the limit (two
    /// `Retry-After` waits of a second at least) to be a small part of the whole.
    job_rows: usize,
    export_runs: i64,
}

impl Plan {
    const FULL: Plan = Plan {
        rate: 200.0,
        rows: 2_000,
        job_rows: 10_000,
        export_runs: 100_000,
    };
    const QUICK: Plan = Plan {
        rate: 1_000.0,
        rows: 40,
        job_rows: 40,
        export_runs: 500,
    };
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let plan = if full { Plan::FULL } else { Plan::QUICK };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let out = runtime.block_on(async {
        let mut out = String::new();
        import(&plan, &mut out).await;
        export(&plan, &mut out).await;
        out
    });
    print!("{out}");
}

/// One import: what it took and what the emulator refused.
struct Measured {
    rows: usize,
    elapsed: Duration,
    /// When half the rows were done.
    half_elapsed: Duration,
    refused: u64,
    refused_first_half: u64,
    ok: usize,
}

async fn limited(plan: &Plan) -> TestIon {
    let burst = (plan.rate / 10.0).ceil() as u32;
    TestIon::builder()
        .seed(Seed::Empty)
        .rate_limit(RateLimit::new(plan.rate, burst))
        .start()
        .await
        .expect("emulator")
}

fn rows(count: usize, tag: &str) -> Vec<serde_json::Value> {
    (0..count)
        .map(|i| json!({ "title": format!("{tag}-{i}") }))
        .collect()
}

/// One request per row, in turn: the importers' loop.
async fn sequential(plan: &Plan) -> Measured {
    let ion = limited(plan).await;
    let client: &Client = ion.client();
    let started = Instant::now();
    let (mut ok, mut half, mut half_elapsed) = (0, 0, Duration::ZERO);
    for (i, row) in rows(plan.rows, "seq").into_iter().enumerate() {
        if i == plan.rows / 2 {
            half = ion.emulator().counters().rate_limited;
            half_elapsed = started.elapsed();
        }
        let answer = client
            .execute_raw(RawRequest::mutation(CREATE).variables(row))
            .await;
        if answer.is_ok_and(|a| a.get("errors").is_none()) {
            ok += 1;
        }
    }
    Measured {
        rows: plan.rows,
        elapsed: started.elapsed(),
        half_elapsed,
        refused: ion.emulator().counters().rate_limited,
        refused_first_half: half,
        ok,
    }
}

/// A bulk job at concurrency 16, with or without a fixed rate.
async fn bulk(plan: &Plan, rate: Option<f64>) -> Measured {
    let ion = limited(plan).await;
    let started = Instant::now();
    let mut results = Job::new(ion.client())
        .concurrency(16)
        .set_rate(rate)
        .order(Order::Completion)
        .run_document(CREATE, rows(plan.job_rows, "bulk"));
    let (mut ok, mut seen, mut half, mut half_elapsed) = (0, 0, 0, Duration::ZERO);
    while let Some(item) = results.next().await {
        seen += 1;
        if seen == plan.job_rows / 2 {
            half = ion.emulator().counters().rate_limited;
            half_elapsed = started.elapsed();
        }
        if item.outcome() == Outcome::Ok {
            ok += 1;
        }
    }
    Measured {
        rows: plan.job_rows,
        elapsed: started.elapsed(),
        half_elapsed,
        refused: ion.emulator().counters().rate_limited,
        refused_first_half: half,
        ok,
    }
}

async fn import(plan: &Plan, out: &mut String) {
    let cases = [
        ("one request per row, in turn", sequential(plan).await),
        ("`bulk::Job`, concurrency 16", bulk(plan, None).await),
        (
            "`bulk::Job`, concurrency 16, `.rate(limit)`",
            bulk(plan, Some(plan.rate)).await,
        ),
    ];
    out.push_str(&format!(
        "## Bulk import under a rate limit\n\n`createRun` rows against the emulator in this \
         process limiting the client to {} requests/s (burst {}); 429s are the emulator's count \
         (each request refused, so one 429 met with 16 requests in flight counts up to 16). \
         Goal: the job reaches at least 0.9 of the limit, with few 429s, falling after the \
         first seconds. Without a fixed rate the job has to learn the limit: the first 429 \
         comes within the burst and only says there is a limit, the next one measures it, and \
         each costs the whole job its `Retry-After` (a second at least), so the whole-job ratio \
         depends on how long the job is; the second half shows the pace it settled at.\n\n\
         | importer | rows ok | requests/s | ratio of the limit | ratio, second half | \
         429s per 1,000 rows | 429s in the first half / second half |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
        plan.rate,
        (plan.rate / 10.0).ceil()
    ));
    for (name, m) in &cases {
        assert_eq!(m.ok, m.rows, "{name}: every row applies");
        let per_second = m.rows as f64 / m.elapsed.as_secs_f64();
        let second_half =
            (m.rows - m.rows / 2) as f64 / m.elapsed.saturating_sub(m.half_elapsed).as_secs_f64();
        out.push_str(&format!(
            "| {name} | {} | {per_second:.1} | {:.2} | {:.2} | {:.1} | {} / {} |\n",
            m.ok,
            per_second / plan.rate,
            second_half / plan.rate,
            m.refused as f64 * 1000.0 / m.rows as f64,
            m.refused_first_half,
            m.refused - m.refused_first_half,
        ));
    }
    out.push('\n');
}

async fn export(plan: &Plan, out: &mut String) {
    let runs: Vec<serde_json::Value> = (1..=plan.export_runs)
        .map(|id| json!({ "id": id, "title": format!("run {id}") }))
        .collect();
    let ion = TestIon::builder()
        .seed(Seed::Json(json!({ "Run": runs })))
        .start()
        .await
        .expect("emulator");
    let started = Instant::now();
    let variables = list_runs::Variables {
        first: ion_client::Nullable::Value(100),
        ..Default::default()
    };
    let mut nodes = ion.client().list_runs_nodes(variables);
    let mut count = 0i64;
    while let Some(node) = nodes.next().await {
        node.expect("node");
        count += 1;
    }
    let elapsed = started.elapsed();
    assert_eq!(count, plan.export_runs, "every node");
    out.push_str(&format!(
        "## Export\n\nEvery run of an emulator in this process seeded with {} runs, through the \
         typed `list_runs_nodes` stream, 100 a page (what `ion export` follows): {:.0} nodes/s \
         ({:.2} s).\n\n",
        plan.export_runs,
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    ));
}
