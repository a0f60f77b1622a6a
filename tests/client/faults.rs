//! Each emulator fault, end to end through typed operations: what a query does (retried) and
//! what a mutation does (never replayed once it may have executed), with exact counts.

use std::time::Duration;

use ion_client::operations::StarterOperations;
use ion_client::operations::create_run;
use ion_client::operations::types::CreateRunInput;
use ion_client::testing::emulator::{Endpoint, Fault};
use ion_client::{Error, ErrorKind, Nullable, RetryPolicy, TransportFailure};

use super::support::*;

fn new_run(title: &str) -> create_run::Variables {
    create_run::Variables {
        input: CreateRunInput {
            title: Nullable::Value(title.to_owned()),
            ..Default::default()
        },
    }
}

async fn get_runs_ok(client: &ion_client::Client) {
    let data = client.get_runs().await.unwrap();
    assert_eq!(data.runs.unwrap().edges.len(), 6);
}

async fn create_fails(client: &ion_client::Client) -> Error {
    client
        .create_run(new_run("faulted"))
        .await
        .expect_err("the mutation meets the fault")
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_for_a_query_and_for_a_mutation() {
    let (e, clock, client) = setup().await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::status(429).retry_after("3"));
    get_runs_ok(&client).await;
    assert_eq!(counts(e.counters()), (1, 2, 0));
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!(
        Duration::from_secs(3) <= sleeps[0] && sleeps[0] <= Duration::from_millis(3300),
        "Retry-After waited, with at most a tenth more as jitter: {sleeps:?}"
    );

    // The rate limiter refused the mutation before it ran: sent again after the wait, it
    // executes once.
    e.reset_counters();
    e.faults()
        .inject(Endpoint::Graphql, Fault::status(429).retry_after("3"));
    client
        .create_run(new_run("throttled"))
        .await
        .expect("sent again after the wait");
    assert_eq!(clock.sleeps().len(), 2);
    assert_eq!(counts(e.counters()), (0, 2, 1), "executed once");
}

#[tokio::test]
async fn a_503_of_a_mutation_is_still_outcome_unknown() {
    let (e, _clock, client) = setup().await;
    e.faults().inject(Endpoint::Graphql, Fault::status(503));
    let err = create_fails(&client).await;
    assert!(
        matches!(
            err.kind(),
            ErrorKind::OutcomeUnknown {
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(counts(e.counters()), (1, 1, 0), "not sent again");
}

#[tokio::test]
async fn an_html_502_is_retried_for_a_query_and_outcome_unknown_for_a_mutation() {
    let (e, _clock, client) = setup().await;
    e.faults().inject(Endpoint::Graphql, Fault::html(502));
    get_runs_ok(&client).await;
    assert_eq!(counts(e.counters()), (1, 2, 0));

    e.reset_counters();
    e.faults().inject(Endpoint::Graphql, Fault::html(502));
    let err = create_fails(&client).await;
    assert!(
        matches!(
            err.kind(),
            ErrorKind::OutcomeUnknown {
                failure: None,
                status: Some(502),
                ..
            }
        ),
        "{err:?}"
    );
    // The gateway page is reduced to its text in the message.
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    assert!(!err.to_string().contains("<html>"), "{err}");
    // The emulator's gateway answered before ION ran anything: the count says it did not
    // execute, which is exactly what the client cannot know and so does not assume.
    assert_eq!(counts(e.counters()), (0, 1, 0));
}

#[tokio::test]
async fn a_truncated_body_is_never_replayed_for_a_mutation_that_executed() {
    let (e, _clock, client) = setup().await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::truncated_json());
    let err = create_fails(&client).await;
    assert_eq!(err.attempts(), 1, "{err:?}");
    assert_eq!(
        counts(e.counters()),
        (1, 1, 1),
        "executed once, never twice"
    );
}

#[tokio::test]
async fn a_truncated_body_is_retried_for_a_query_and_outcome_unknown_for_a_mutation() {
    let (e, _clock, client) = setup().await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::truncated_json());
    get_runs_ok(&client).await;
    assert_eq!(counts(e.counters()), (1, 2, 0));

    e.reset_counters();
    e.faults()
        .inject(Endpoint::Graphql, Fault::truncated_json());
    let err = create_fails(&client).await;
    assert!(
        matches!(err.kind(), ErrorKind::OutcomeUnknown { .. }),
        "{err:?}"
    );
    assert_eq!(counts(e.counters()), (0, 1, 1));
}

/// A slow answer: the client's attempt timeout (a real-time bound on real I/O) is small, and
/// the fault is far longer, so which side wins is never a race.
const SMALL_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
const FAR_LONGER: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_slow_answer_past_the_attempt_timeout() {
    let e = demo().await;
    let clock = manual_clock();
    let client = client(config(&e, &clock).attempt_timeout(SMALL_ATTEMPT_TIMEOUT));
    // Warm the token first so the slow fault meets the GraphQL request.
    get_runs_ok(&client).await;
    e.reset_counters();

    // A query is retried after the timeout and the second attempt answers.
    e.faults()
        .inject(Endpoint::Graphql, Fault::slow(FAR_LONGER));
    get_runs_ok(&client).await;
    assert_eq!(counts(e.counters()), (0, 2, 0));

    // Without retries the query's timeout is returned as a transport timeout.
    let once = client_no_retry(&e, &clock);
    get_runs_ok(&once).await;
    e.reset_counters();
    e.faults()
        .inject(Endpoint::Graphql, Fault::slow(FAR_LONGER));
    let err = once.get_runs().await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport {
                failure: TransportFailure::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!((err.attempts(), e.counters().graphql_requests), (1, 1));

    // A mutation that times out is outcome-unknown and not replayed.
    e.reset_counters();
    e.faults()
        .inject(Endpoint::Graphql, Fault::slow(FAR_LONGER));
    let err = create_fails(&client).await;
    assert!(
        matches!(
            err.kind(),
            ErrorKind::OutcomeUnknown {
                failure: Some(TransportFailure::Timeout),
                status: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        counts(e.counters()),
        (0, 1, 0),
        "sent once, not executed yet"
    );
}

fn client_no_retry(
    e: &ion_client::testing::emulator::Emulator,
    clock: &std::sync::Arc<ManualClock>,
) -> ion_client::Client {
    client(
        config(e, clock)
            .attempt_timeout(SMALL_ATTEMPT_TIMEOUT)
            .retry_policy(RetryPolicy::never()),
    )
}

#[tokio::test]
async fn a_connection_reset_is_retried_for_a_query_and_outcome_unknown_for_a_mutation() {
    a_reset(
        Fault::connection_reset,
        0,
        "reset before executing; not replayed",
    )
    .await;
}

#[tokio::test]
async fn a_reset_after_executing_is_retried_for_a_query_and_outcome_unknown_for_a_mutation() {
    a_reset(
        Fault::reset_after_executing,
        1,
        "executed once, the answer lost; not replayed",
    )
    .await;
}

/// One reset on the GraphQL endpoint: a query is retried; a mutation is `OutcomeUnknown` after
/// its one attempt, never replayed, and the emulator executed it `executed` times.
async fn a_reset(fault: fn() -> Fault, executed: u64, why: &str) {
    let (e, _clock, client) = setup().await;
    e.faults().inject(Endpoint::Graphql, fault());
    get_runs_ok(&client).await;
    assert_eq!(counts(e.counters()), (1, 2, 0));

    e.reset_counters();
    e.faults().inject(Endpoint::Graphql, fault());
    let err = create_fails(&client).await;
    assert!(
        matches!(
            err.kind(),
            ErrorKind::OutcomeUnknown {
                failure: Some(TransportFailure::Interrupted),
                status: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 1);
    assert_eq!(counts(e.counters()), (0, 1, executed), "{why}");
}
