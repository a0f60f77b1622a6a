//! The retry policy: what is retried for queries and mutations, how long it waits, the
//! budget, the total timeout, and the 401 replay.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ion_client::{ErrorKind, RetryPolicy, TransportFailure};

use crate::support::ops::{Echo, EchoWrite, GetThing, IdVars};
use crate::support::{Fault, Gate, MockIon, Reply, client, closed_port, manual_clock, setup};

fn vars() -> IdVars {
    IdVars { id: 7 }
}

const HTML_502: &str = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>";

#[tokio::test]
async fn queries_retry_on_502_503_504_429_resets_and_truncated_bodies() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let policy = RetryPolicy::default().with_max_attempts(7);
    let client = client(ion.config(&clock).retry_policy(policy));
    ion.script([
        Reply::Before(Fault::status(502, HTML_502)),
        Reply::Before(Fault::status(503, "")),
        Reply::Before(Fault::status(504, "")),
        Reply::Before(Fault::status(429, "")),
        Reply::Before(Fault::Reset),
        Reply::Before(Fault::Truncate),
    ]);
    let data = client
        .execute::<Echo>(vars())
        .await
        .expect("the seventh attempt succeeds");
    assert_eq!(data.echo, serde_json::json!({"id": 7}));
    assert_eq!(ion.graphql_requests(), 7);
    assert_eq!(ion.token_requests(), 1);
    // Six waits, each between half and all of 200 ms × 2^(n-1), capped at 10 s.
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 6);
    for (n, wait) in sleeps.iter().enumerate() {
        let full = Duration::from_millis(200 * (1 << n)).min(Duration::from_secs(10));
        assert!(
            *wait >= full / 2 && *wait <= full,
            "retry {}: {wait:?}",
            n + 1
        );
    }
}

#[tokio::test]
async fn queries_retry_connect_failures_up_to_the_attempt_limit() {
    let clock = manual_clock();
    let tokens = MockIon::start();
    let api = format!("http://127.0.0.1:{}", closed_port());
    let client = client(tokens.config(&clock).api_url(&api));
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("nothing listens");
    assert!(matches!(
        err.kind(),
        ErrorKind::Transport {
            failure: TransportFailure::Connect,
            ..
        }
    ));
    assert_eq!(err.attempts(), 4);
    assert_eq!(clock.sleeps().len(), 3);
    assert!(err.to_string().starts_with(&format!(
        "query Echo failed: could not connect to {api}/graphql: "
    )));
}

#[tokio::test]
async fn attempt_timeouts_are_retried_for_queries() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(
        ion.config(&clock)
            .attempt_timeout(Duration::from_millis(100)),
    );
    // The first request is held forever; the client gives up on it after 100 ms.
    ion.script([Reply::Before(Fault::Wait(Gate::new()))]);
    client
        .execute::<Echo>(vars())
        .await
        .expect("second attempt");
    assert_eq!(ion.graphql_requests(), 2);
    assert_eq!(clock.sleeps().len(), 1);
}

/// Each wait is what the server asked plus the jitter: up to a tenth of it, at most 1 s.
fn assert_waited(sleeps: &[Duration], asked: &[u64]) {
    assert_eq!(sleeps.len(), asked.len(), "{sleeps:?}");
    for (slept, asked) in sleeps.iter().zip(asked) {
        let asked = Duration::from_secs(*asked);
        let most = asked + (asked / 10).min(Duration::from_secs(1));
        assert!(
            asked <= *slept && *slept <= most,
            "waited {slept:?} for {asked:?}"
        );
    }
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_with_a_little_jitter() {
    let (ion, clock, client) = setup();
    ion.script([
        Reply::Before(Fault::status_with(429, "retry-after", "7", "slow down")),
        Reply::Before(Fault::status_with(503, "retry-after", "2", "")),
    ]);
    client.execute::<Echo>(vars()).await.expect("third attempt");
    assert_waited(&clock.sleeps(), &[7, 2]);
    assert_eq!(ion.graphql_requests(), 3);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited_with_a_little_jitter() {
    let (ion, clock, client) = setup();
    use ion_client::Clock as _;
    let at = httpdate::fmt_http_date(clock.system_time() + Duration::from_secs(5));
    ion.script([Reply::Before(Fault::status_with(
        429,
        "retry-after",
        &at,
        "",
    ))]);
    client
        .execute::<Echo>(vars())
        .await
        .expect("second attempt");
    assert_waited(&clock.sleeps(), &[5]);
    assert_eq!(ion.graphql_requests(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_retries_and_is_reported() {
    let (ion, clock, client) = setup();
    ion.script([Reply::Before(Fault::status_with(
        429,
        "retry-after",
        "3600",
        "",
    ))]);
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("not waiting an hour");
    assert!(
        matches!(err.kind(), ErrorKind::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 3600)
    );
    assert_eq!(
        err.to_string(),
        "rate limited: ION answered 429 to query Echo (retry after 3600s)"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(ion.graphql_requests(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_retry_after_near_u64_max_with_no_cap_saturates_instead_of_overflowing() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(
        ion.config(&clock)
            .retry_policy(RetryPolicy::default().with_max_retry_after(Duration::MAX)),
    );
    ion.script([Reply::Before(Fault::status_with(
        503,
        "retry-after",
        &u64::MAX.to_string(),
        "busy",
    ))]);
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("a wait past the total timeout is not waited");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(u64::MAX)));
    assert_eq!(ion.graphql_requests(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_zero_retry_budget_means_no_retries() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(
        ion.config(&clock)
            .retry_policy(RetryPolicy::default().with_budget(0, 0, 0)),
    );
    ion.script((0..4).map(|_| Reply::Before(Fault::status(503, "busy"))));
    let err = client.execute::<Echo>(vars()).await.expect_err("no retry");
    assert!(matches!(
        err.kind(),
        ErrorKind::HttpStatus { status: 503, .. }
    ));
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn retries_stop_before_the_total_timeout() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(
        ion.config(&clock)
            .total_timeout(Duration::from_secs(10))
            .retry_policy(RetryPolicy::default().with_max_attempts(10)),
    );
    ion.script((0..10).map(|_| Reply::Before(Fault::status_with(503, "retry-after", "4", "busy"))));
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("out of time");
    // Attempts at 0 s, 4 s and 8 s (plus jitter); a fourth would start after 12 s, past the
    // 10 s total.
    assert_eq!(ion.graphql_requests(), 3);
    assert_eq!(err.attempts(), 3);
    assert_waited(&clock.sleeps(), &[4, 4]);
    assert!(matches!(
        err.kind(),
        ErrorKind::HttpStatus { status: 503, .. }
    ));
}

#[tokio::test]
async fn the_retry_budget_keeps_an_outage_from_multiplying_the_load() {
    let ion = MockIon::start();
    let clock = manual_clock();
    // Room for two retries (cost 5 each).
    let policy = RetryPolicy::default().with_budget(10, 5, 10);
    let client = client(ion.config(&clock).retry_policy(policy));
    ion.script((0..100).map(|_| Reply::Before(Fault::status(503, "down"))));
    let mut attempts = Vec::new();
    for _ in 0..5 {
        let err = client.execute::<Echo>(vars()).await.expect_err("outage");
        attempts.push(err.attempts());
    }
    assert_eq!(attempts, vec![3, 1, 1, 1, 1]);
    assert_eq!(ion.graphql_requests(), 7, "5 operations, 2 retries");
}

#[tokio::test]
async fn non_retryable_statuses_are_returned_at_once() {
    let (ion, _, client) = setup();
    ion.script([Reply::Before(Fault::status(
        500,
        "<html><body><h1>Internal Server Error</h1></body></html>",
    ))]);
    let err = client.execute::<Echo>(vars()).await.expect_err("500");
    assert_eq!(
        err.to_string(),
        format!(
            "query Echo failed: {}/graphql answered HTTP 500 Internal Server Error: Internal Server Error",
            ion.base_url()
        )
    );
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn a_mutation_is_retried_after_a_connect_failure_and_executes_once() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let port = closed_port();
    // The API comes up on `port` (sharing the mock's tokens and counters) while the client
    // waits to retry: the first attempt certainly never reached it.
    let api: Arc<Mutex<Option<MockIon>>> = Arc::default();
    let (slot, shared) = (Arc::clone(&api), ion.shared_state());
    clock.on_sleep(move |_| {
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(|| MockIon::listen_with(port, Arc::clone(&shared)));
    });
    let client = client(
        ion.config(&clock)
            .api_url(format!("http://127.0.0.1:{port}")),
    );
    client
        .execute::<EchoWrite>(vars())
        .await
        .expect("the retry reaches the API");
    assert_eq!(clock.sleeps().len(), 1);
    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}

/// Runs `EchoWrite` once against a scripted failure and returns the error.
async fn mutation_failing_with(reply: Reply, ion: &MockIon) -> ion_client::Error {
    let clock = manual_clock();
    let client = client(
        ion.config(&clock)
            .attempt_timeout(Duration::from_millis(100)),
    );
    ion.script([reply]);
    let err = client
        .execute::<EchoWrite>(vars())
        .await
        .expect_err("not replayed");
    assert!(clock.sleeps().is_empty(), "no retry wait for a mutation");
    err
}

#[tokio::test]
async fn a_mutation_reset_after_sending_is_outcome_unknown_and_not_replayed() {
    let ion = MockIon::start();
    let err = mutation_failing_with(Reply::After(Fault::Reset), &ion).await;
    assert!(matches!(
        err.kind(),
        ErrorKind::OutcomeUnknown {
            failure: Some(TransportFailure::Interrupted),
            status: None,
            ..
        }
    ));
    assert!(err.to_string().starts_with(&format!(
        "outcome unknown: mutation EchoWrite was sent to {}/graphql but the connection was interrupted (",
        ion.base_url()
    )));
    assert!(
        err.to_string()
            .ends_with("); it may or may not have executed and was not replayed")
    );
    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}

/// `RawRequest::query` with a mutation document: the document's kind decides, so the
/// mutation is not replayed after a 503 or a reset after it executed, where a query is.
#[tokio::test]
async fn a_mutation_sent_as_a_raw_query_is_never_replayed() {
    let raw = |document| {
        ion_client::RawRequest::query(document)
            .operation_name("EchoWrite")
            .variables(serde_json::json!({"id": 7}))
    };
    let documents = [
        "mutation EchoWrite($id: ID!) { echo(id: $id) }",
        "query Other { a }\nmutation EchoWrite($id: ID!) { echo(id: $id) }",
    ];
    for document in documents {
        for reply in [
            Reply::Before(Fault::status(503, "unavailable")),
            Reply::After(Fault::Reset),
        ] {
            let (ion, clock, client) = setup();
            let executes = matches!(reply, Reply::After(_));
            ion.script([reply]);
            let err = client.execute_raw(raw(document)).await.expect_err("failed");
            assert!(
                matches!(err.kind(), ErrorKind::OutcomeUnknown { .. }),
                "{document}: {err:?}"
            );
            assert_eq!(ion.graphql_requests(), 1, "{document}: not replayed");
            assert_eq!(ion.mutations_executed(), usize::from(executes));
            assert!(clock.sleeps().is_empty());
        }
    }
    // The same 503 for a query document: retried.
    let (ion, _, client) = setup();
    ion.script([Reply::Before(Fault::status(503, "unavailable"))]);
    client
        .execute_raw(ion_client::RawRequest::query("query Echo { echo }"))
        .await
        .expect("retried");
    assert_eq!(ion.graphql_requests(), 2);
}

#[tokio::test]
async fn a_mutation_with_a_truncated_response_is_outcome_unknown() {
    let ion = MockIon::start();
    let err = mutation_failing_with(Reply::After(Fault::Truncate), &ion).await;
    assert!(matches!(
        err.kind(),
        ErrorKind::OutcomeUnknown {
            failure: Some(TransportFailure::Interrupted),
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}

#[tokio::test]
async fn a_mutation_timeout_is_outcome_unknown_and_not_replayed() {
    let ion = MockIon::start();
    let err = mutation_failing_with(Reply::After(Fault::Wait(Gate::new())), &ion).await;
    assert!(matches!(
        err.kind(),
        ErrorKind::OutcomeUnknown {
            failure: Some(TransportFailure::Timeout),
            status: None,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "outcome unknown: mutation EchoWrite was sent to {}/graphql but no response within \
             100ms; it may or may not have executed and was not replayed",
            ion.base_url()
        )
    );
    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}

#[tokio::test]
async fn a_mutation_answered_502_503_or_504_is_outcome_unknown() {
    for status in [502u16, 503, 504] {
        let ion = MockIon::start();
        let err = mutation_failing_with(Reply::After(Fault::status(status, HTML_502)), &ion).await;
        assert!(
            matches!(err.kind(), ErrorKind::OutcomeUnknown { failure: None, status: Some(s), .. } if *s == status)
        );
        assert_eq!(err.status(), Some(status));
        assert_eq!(ion.graphql_requests(), 1, "{status}");
        assert_eq!(ion.mutations_executed(), 1, "{status}");
    }
    // Even when the gateway failed before execution, the client cannot know it.
    let ion = MockIon::start();
    let err = mutation_failing_with(Reply::Before(Fault::status(503, "")), &ion).await;
    assert!(matches!(
        err.kind(),
        ErrorKind::OutcomeUnknown {
            status: Some(503),
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.mutations_executed(), 0);
}

#[tokio::test]
async fn a_mutation_answered_429_is_sent_again_after_the_wait_and_executes_once() {
    // The rate limiter refuses before ION runs anything: the mutation is safe to send again.
    let (ion, clock, client) = setup();
    ion.script([Reply::Before(Fault::status_with(
        429,
        "retry-after",
        "1",
        "",
    ))]);
    client
        .execute::<EchoWrite>(vars())
        .await
        .expect("sent again after the wait");
    assert_waited(&clock.sleeps(), &[1]);
    assert_eq!(ion.graphql_requests(), 2);
    assert_eq!(ion.mutations_executed(), 1);
}

#[tokio::test]
async fn a_mutation_answered_429_on_every_attempt_is_rate_limited_and_never_executed() {
    let (ion, clock, client) = setup();
    let refusal = || Reply::Before(Fault::status_with(429, "retry-after", "1", ""));
    ion.script([refusal(), refusal(), refusal(), refusal()]);
    let err = client
        .execute::<EchoWrite>(vars())
        .await
        .expect_err("four refusals");
    assert!(
        matches!(err.kind(), ErrorKind::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 1)
    );
    assert_eq!(err.attempts(), 4);
    assert_eq!(clock.sleeps().len(), 3);
    assert_eq!(ion.graphql_requests(), 4);
    assert_eq!(ion.mutations_executed(), 0);
}

#[tokio::test]
async fn a_401_replays_a_mutation_once_with_a_new_token() {
    let (ion, clock, client) = setup();
    client.execute::<Echo>(vars()).await.expect("warm");
    ion.expire_tokens();
    client
        .execute::<EchoWrite>(vars())
        .await
        .expect("replayed after the 401");
    assert_eq!(ion.token_requests(), 2);
    assert_eq!(ion.graphql_requests(), 3);
    assert_eq!(ion.mutations_executed(), 1);
    assert!(clock.sleeps().is_empty(), "the replay does not wait");
}

#[tokio::test]
async fn a_second_401_surfaces_ions_message() {
    let (ion, _, client) = setup();
    // Every token is refused, the new one too.
    ion.script([
        Reply::Before(Fault::status(401, r#"{"message": "Token is expired."}"#)),
        Reply::Before(Fault::status(401, r#"{"message": "Token is expired."}"#)),
    ]);
    let err = client
        .execute::<EchoWrite>(vars())
        .await
        .expect_err("401 twice");
    assert_eq!(
        err.to_string(),
        "authentication failed: ION answered 401 to mutation EchoWrite again after a token \
         refresh: Token is expired."
    );
    assert!(matches!(
        err.kind(),
        ErrorKind::Authentication { status: Some(401), description: Some(d), .. } if d == "Token is expired."
    ));
    assert_eq!(ion.token_requests(), 2);
    assert_eq!(ion.graphql_requests(), 2);
    assert_eq!(ion.mutations_executed(), 0);
}

#[tokio::test]
async fn a_403_is_not_replayed() {
    let (ion, _, client) = setup();
    ion.script([Reply::Before(Fault::status(
        403,
        r#"{"message": "Forbidden"}"#,
    ))]);
    let err = client.execute::<Echo>(vars()).await.expect_err("403");
    assert_eq!(
        err.to_string(),
        "authentication failed: ION answered 403 to query Echo: Forbidden"
    );
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(ion.graphql_requests(), 1);
}

/// The success path reads a body once, decoding the envelope and the typed data together; it
/// must still tell a 200 whose JSON ends early (interrupted: a query is retried, a mutation is
/// outcome-unknown) from a complete body of the wrong shape (a decode error naming its JSON
/// path), wherever the cut falls: where the types still fit, or after a value they reject.
#[tokio::test]
async fn one_pass_decoding_tells_a_cut_body_from_a_wrong_one() {
    let good = serde_json::json!({"data": {"thing": {"id": 3, "title": "x"}}});
    for cut in [
        r#"{"data": {"thing": {"id": 3, "ti"#,
        r#"{"data": {"thing": {"id": "not a number", "ti"#,
    ] {
        let (ion, clock, client) = setup();
        ion.script([Reply::Before(Fault::status(200, cut))]);
        let answer = good.clone();
        ion.respond(move |_| answer.clone());
        let data = client
            .execute::<GetThing>(IdVars { id: 3 })
            .await
            .unwrap_or_else(|e| panic!("{cut}: the retry succeeds, got {e}"));
        assert_eq!(data.thing.map(|t| t.id), Some(3));
        assert_eq!(ion.graphql_requests(), 2, "{cut}: retried once");
        assert_eq!(clock.sleeps().len(), 1);

        let ion = MockIon::start();
        let err = mutation_failing_with(Reply::Before(Fault::status(200, cut)), &ion).await;
        assert!(
            matches!(
                err.kind(),
                ErrorKind::OutcomeUnknown {
                    failure: Some(TransportFailure::Interrupted),
                    ..
                }
            ),
            "{cut}: {err}"
        );
        assert_eq!(ion.graphql_requests(), 1, "{cut}: never replayed");
    }

    // Complete but wrong: not retried, and the error names the JSON path.
    let (ion, clock, client) = setup();
    ion.respond(|_| serde_json::json!({"data": {"thing": {"id": "not a number", "title": "x"}}}));
    let err = client
        .execute::<GetThing>(IdVars { id: 3 })
        .await
        .expect_err("wrong type");
    assert!(matches!(
        err.kind(),
        ErrorKind::Decode { path, .. } if path == "data.thing.id"
    ));
    assert_eq!(ion.graphql_requests(), 1);
    assert!(clock.sleeps().is_empty());
}
