//! Bulk jobs against the emulator: every input ends ok, error or unknown; what the emulator
//! executed is what the job reported (ok, or unknown); nothing executes twice; nothing is
//! lost. Executions are counted from the emulator's own rows: each input creates a run with a
//! title of its own.
#![cfg(all(feature = "starter", feature = "testing"))]
#![allow(clippy::unwrap_used, missing_docs)]

// The client tests' helpers; this binary uses only some of them.
#[allow(dead_code)]
#[path = "client/support.rs"]
mod support;

use std::collections::HashMap;

use futures_util::StreamExt as _;
use ion_client::bulk::{Job, Order, Outcome};
use ion_client::operations::create_run;
use ion_client::operations::types::CreateRunInput;
use ion_client::testing::emulator::{Emulator, EmulatorOptions, Endpoint, Fault, Seed};
use ion_client::testing::{RateLimit, TestIon};
use ion_client::{Nullable, RetryPolicy};
use serde_json::{Value, json};

use support::*;

const CREATE: &str =
    "mutation Create($title: String!) { createRun(input: { title: $title }) { run { id } } }";

/// How many runs carry each title, from the emulator's store.
fn executions(e: &Emulator) -> HashMap<String, u32> {
    let mut seen = HashMap::new();
    for run in e.snapshot()["Run"].as_array().into_iter().flatten() {
        if let Some(title) = run["title"].as_str() {
            *seen.entry(title.to_owned()).or_insert(0) += 1;
        }
    }
    seen
}

/// Checks each input's outcome against what the emulator executed; returns the count of
/// each outcome.
fn reconcile(
    e: &Emulator,
    outcomes: &[Option<Outcome>],
    title: impl Fn(usize) -> String,
) -> [usize; 3] {
    let executed = executions(e);
    let mut counts = [0; 3];
    for (i, outcome) in outcomes.iter().enumerate() {
        let outcome = outcome.unwrap_or_else(|| panic!("input {i} has no result"));
        let ran = executed.get(&title(i)).copied().unwrap_or(0);
        assert!(ran <= 1, "input {i} executed {ran} times");
        match outcome {
            Outcome::Ok => assert_eq!(ran, 1, "input {i} reported ok but did not execute"),
            Outcome::Error => assert_eq!(ran, 0, "input {i} reported an error but executed"),
            Outcome::Unknown => {}
        }
        counts[outcome as usize] += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_rows_under_a_rate_limit_with_faults_are_each_accounted_for() {
    const ROWS: usize = 10_000;
    let e = Emulator::start(
        EmulatorOptions::new()
            .seed(Seed::Empty)
            .rate_limit(RateLimit::new(600.0, 30)),
    )
    .await
    .unwrap();
    // Retries wait on a manual clock: the emulator's 429s are retried at once, and a row
    // whose retries run out is an error (never executed), which the counts below allow.
    let clock = manual_clock();
    let client = client(
        config(&e, &clock).retry_policy(RetryPolicy::default().with_budget(1_000_000, 1, 1)),
    );
    let title = |i: usize| format!("bulk-{i}");
    let rows = (0..ROWS).map(move |i| json!({ "title": format!("bulk-{i}") }));
    let mut results = Job::new(&client)
        .concurrency(16)
        .order(Order::Completion)
        .run_document(CREATE, rows);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; ROWS];
    let mut n = 0usize;
    while let Some(item) = results.next().await {
        let slot = &mut outcomes[item.index as usize];
        assert!(slot.is_none(), "input {} answered twice", item.index);
        *slot = Some(item.outcome());
        n += 1;
        // Trouble every 50 answers, in turn: executed and unanswered, refused, unknown before
        // executing, throttled, cut short after executing.
        if n.is_multiple_of(50) {
            let fault = match (n / 50) % 5 {
                0 => Fault::reset_after_executing(),
                1 => Fault::status(503),
                2 => Fault::connection_reset(),
                3 => Fault::status(429).retry_after("0"),
                _ => Fault::truncated_json(),
            };
            e.faults().inject(Endpoint::Graphql, fault);
        }
    }
    let stats = results.stats();
    assert_eq!(n, ROWS);
    let [ok, error, unknown] = reconcile(&e, &outcomes, title);
    eprintln!(
        "{ROWS} rows: {ok} ok, {error} error, {unknown} unknown; {} 429s ({} from the bucket), {} decreases",
        stats.rate_limited,
        e.counters().rate_limited,
        stats.decreases
    );
    assert_eq!(ok + error + unknown, ROWS);
    assert!(unknown > 0, "the faults made some outcomes unknown");
    assert!(e.counters().rate_limited > 0, "the bucket pushed back");
    assert!(ok > ROWS / 2);
    assert_eq!(stats.started, ROWS as u64);
}

#[tokio::test]
async fn a_job_slows_down_on_429s_and_every_throttled_row_still_applies_once() {
    let ion = TestIon::builder()
        .seed(Seed::Empty)
        .rate_limit(RateLimit::new(100.0, 5))
        .start()
        .await
        .unwrap();
    let rows: Vec<create_run::Variables> = (0..150)
        .map(|i| create_run::Variables {
            input: CreateRunInput {
                title: Nullable::Value(format!("typed-{i}")),
                ..Default::default()
            },
        })
        .collect();
    let mut results = Job::new(ion.client())
        .concurrency(8)
        .run::<create_run::CreateRun, _>(rows);
    let mut outcomes = Vec::new();
    while let Some(item) = results.next().await {
        assert_eq!(item.index as usize, outcomes.len(), "input order");
        outcomes.push(Some(item.outcome()));
    }
    let stats = results.stats();
    let [ok, error, unknown] = reconcile(ion.emulator(), &outcomes, |i| format!("typed-{i}"));
    assert_eq!(
        (ok, error, unknown),
        (150, 0, 0),
        "429s are waited for, not failures"
    );
    assert!(
        ion.emulator().counters().rate_limited > 0,
        "the bucket pushed back"
    );
    assert_eq!(stats.rate_limited, ion.emulator().counters().rate_limited);
    assert!(stats.decreases > 0, "{stats:?}");
    assert_eq!(ion.emulator().counters().mutations, 150);
}

#[tokio::test]
async fn stop_sends_no_new_request_and_yields_those_in_flight() {
    let (e, _clock, client) = setup().await;
    let before = e.counters().mutations;
    let rows = (0..1_000).map(|i| json!({ "title": format!("stopped-{i}") }));
    let mut results = Job::new(&client).concurrency(4).run_document(CREATE, rows);
    let mut received = Vec::new();
    while let Some(item) = results.next().await {
        received.push(item);
        if received.len() == 10 {
            results.stop();
        }
    }
    let executed = e.counters().mutations - before;
    assert!(received.iter().all(|i| i.outcome() == Outcome::Ok));
    assert_eq!(
        received.len() as u64,
        executed,
        "every request started was yielded"
    );
    assert!(
        executed < 20,
        "at most the ones in flight after the stop: {executed}"
    );
    assert_eq!(results.stats().started, executed);
}

#[tokio::test]
async fn graphql_errors_are_errors_and_the_data_comes_back_redacted() {
    let (_e, _clock, client) = setup().await;
    let rows = vec![json!({ "title": "fine" }), json!({ "title": Value::Null })];
    let mut results = Job::new(&client).run_document(CREATE, rows);
    let first = results.next().await.unwrap();
    assert!(first.result.as_ref().unwrap()["createRun"]["run"]["id"].is_i64());
    let second = results.next().await.unwrap();
    assert_eq!(second.outcome(), Outcome::Error);
    assert!(matches!(
        second.result.unwrap_err().kind(),
        ion_client::ErrorKind::Graphql { .. }
    ));
    assert!(results.next().await.is_none());
}

#[tokio::test]
async fn in_input_order_a_refused_row_is_sent_again_even_when_results_wait_for_it() {
    // A tight bucket and retries that do not wait (a manual clock): rows are refused through
    // all of the client's attempts and queued to be sent again while later rows' results
    // wait for them in input order, with the window halved below their number.
    let e = Emulator::start(
        EmulatorOptions::new()
            .seed(Seed::Empty)
            .rate_limit(RateLimit::new(20.0, 2)),
    )
    .await
    .unwrap();
    let clock = manual_clock();
    let client = client(config(&e, &clock));
    let rows = (0..60).map(|i| json!({ "title": format!("ordered-{i}") }));
    let mut results = Job::new(&client).concurrency(8).run_document(CREATE, rows);
    let mut outcomes = Vec::new();
    let all = async {
        while let Some(item) = results.next().await {
            assert_eq!(item.index as usize, outcomes.len(), "input order");
            outcomes.push(Some(item.outcome()));
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), all)
        .await
        .expect("the job ends");
    assert_eq!(outcomes.len(), 60);
    let [ok, error, unknown] = reconcile(&e, &outcomes, |i| format!("ordered-{i}"));
    assert_eq!(unknown, 0);
    assert_eq!(ok + error, 60);
    assert!(e.counters().rate_limited > 0);
}
