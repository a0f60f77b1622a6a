//! The token exchange and the token cache.

use std::time::Duration;

use futures_util::future::join_all;
use ion_client::{AuthScheme, ErrorKind, RetryPolicy, TransportFailure};

use crate::support;
use crate::support::ops::{Echo, IdVars};
use crate::support::{
    CLIENT_ID, Fault, Gate, LEGACY_TOKEN_PATH, LogCapture, ManualClock, MockIon, Reply, SECRET,
    TOKEN_PATH, TokenReply, client, closed_port, manual_clock, setup,
};

fn vars() -> IdVars {
    IdVars { id: 1 }
}

fn bearer(n: usize) -> Option<String> {
    Some(format!("Bearer {}{n}", crate::support::TOKEN_PREFIX))
}

#[tokio::test]
async fn client_credentials_post_with_audience() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(ion.config(&clock).audience("https://api.example"));
    client.execute::<Echo>(vars()).await.expect("echo");

    assert_eq!(ion.token_requests(), 1);
    let form = &ion.token_forms()[0];
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(field("grant_type"), Some("client_credentials"));
    assert_eq!(field("client_id"), Some(CLIENT_ID));
    assert_eq!(field("client_secret"), Some(SECRET));
    assert_eq!(field("audience"), Some("https://api.example"));
    assert_eq!(
        ion.token_auth_headers(),
        vec![None],
        "secret in the body, no Basic header"
    );
    assert_eq!(ion.seen_auth(), vec![bearer(1)]);
}

#[tokio::test]
async fn raw_header_scheme_sends_the_bare_token() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(ion.config(&clock).auth_scheme(AuthScheme::Raw));
    client.execute::<Echo>(vars()).await.expect("echo");
    assert_eq!(
        ion.seen_auth(),
        vec![Some(format!("{}1", crate::support::TOKEN_PREFIX))]
    );
}

#[tokio::test]
async fn a_thousand_concurrent_calls_on_a_cold_cache_make_one_token_request() {
    let (ion, _, client) = setup();
    let calls = (0..1000).map(|i| client.execute::<Echo>(IdVars { id: i }));
    let results = tokio::time::timeout(Duration::from_secs(60), join_all(calls))
        .await
        .expect("bounded in time");
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(ion.graphql_requests(), 1000);
}

#[tokio::test]
async fn refresh_runs_in_the_background_while_the_current_token_serves() {
    let (ion, clock, client) = setup();
    client.execute::<Echo>(vars()).await.expect("first call");
    assert_eq!(ion.token_requests(), 1);

    // Keycloak's 300 s token: nothing is refetched before ¾ of its lifetime...
    clock.advance(Duration::from_secs(200));
    client.execute::<Echo>(vars()).await.expect("call at 200 s");
    assert_eq!(ion.token_requests(), 1, "no refetch at 200 s of 300 s");

    // ...and from 225 s a refresh starts in the background. The token endpoint is held at a
    // gate: callers keep being served with the current token and nobody waits.
    let gate = crate::support::Gate::new();
    ion.script_tokens([TokenReply::WaitThenIssue(gate.clone())]);
    clock.advance(Duration::from_secs(30));
    client.execute::<Echo>(vars()).await.expect("call at 230 s");
    ion.wait_token_requests(2).await;
    for _ in 0..5 {
        client
            .execute::<Echo>(vars())
            .await
            .expect("served while refreshing");
    }
    assert_eq!(ion.token_requests(), 2, "one refresh, however many callers");
    assert!(ion.seen_auth().iter().all(|a| *a == bearer(1)));

    // Past the old token's usable life (270 s) callers get the refreshed one.
    gate.open();
    clock.advance(Duration::from_secs(50));
    client.execute::<Echo>(vars()).await.expect("call at 280 s");
    assert_eq!(ion.seen_auth().last().cloned().flatten(), bearer(2));
    assert_eq!(ion.token_requests(), 2);
    assert_eq!(ion.graphql_requests(), 9);
}

#[tokio::test]
async fn a_failed_refresh_never_replaces_a_valid_token() {
    let logs = LogCapture::install();
    let (ion, clock, client) = setup();
    client.execute::<Echo>(vars()).await.expect("first call");

    ion.script_tokens([TokenReply::Status(500, "oops".into())]);
    clock.advance(Duration::from_secs(230));
    client
        .execute::<Echo>(vars())
        .await
        .expect("served by the current token");
    logs.wait_for("token refresh failed").await;

    // The failure is behind us and the current token still serves, without a new request
    // during the 1 s backoff window.
    client.execute::<Echo>(vars()).await.expect("still served");
    assert_eq!(ion.token_requests(), 2);

    // After the window, the next call starts one more refresh (which succeeds).
    clock.advance(Duration::from_secs(1));
    client
        .execute::<Echo>(vars())
        .await
        .expect("served, refresh restarted");
    ion.wait_token_requests(3).await;
    clock.advance(Duration::from_secs(50));
    client.execute::<Echo>(vars()).await.expect("new token");
    assert_eq!(ion.seen_auth().last().cloned().flatten(), bearer(2));
    assert_eq!(ion.token_requests(), 3);
    assert_eq!(ion.graphql_requests(), 5);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_tried_once_per_backoff_window_and_heals() {
    let (ion, clock, client) = setup();
    ion.script_tokens([
        TokenReply::Status(503, "down".into()),
        TokenReply::Status(503, "down".into()),
    ]);

    // Ten waiting callers share one attempt and all receive the same error.
    let first: Vec<_> = join_all((0..10).map(|_| client.execute::<Echo>(vars()))).await;
    let errors: Vec<_> = first
        .into_iter()
        .map(|r| r.expect_err("endpoint down"))
        .collect();
    assert_eq!(ion.token_requests(), 1);
    assert!(errors.iter().all(|e| e.same_failure(&errors[0])));
    assert!(matches!(
        errors[0].kind(),
        ErrorKind::HttpStatus { status: 503, .. }
    ));

    // Within the 1 s window: the same error, no request.
    let again = client
        .execute::<Echo>(vars())
        .await
        .expect_err("still in the window");
    assert!(again.same_failure(&errors[0]));
    assert_eq!(ion.token_requests(), 1);

    // After it: one new attempt for everyone (fails again; the window doubles to 2 s).
    clock.advance(Duration::from_secs(1));
    let second: Vec<_> = join_all((0..10).map(|_| client.execute::<Echo>(vars()))).await;
    assert!(second.iter().all(Result::is_err));
    assert_eq!(ion.token_requests(), 2);
    clock.advance(Duration::from_secs(1));
    assert!(client.execute::<Echo>(vars()).await.is_err(), "2 s window");
    assert_eq!(ion.token_requests(), 2);

    // The endpoint has recovered: the same client heals by itself.
    clock.advance(Duration::from_secs(1));
    let healed: Vec<_> = join_all((0..10).map(|_| client.execute::<Echo>(vars()))).await;
    assert!(healed.iter().all(Result::is_ok));
    assert_eq!(ion.token_requests(), 3);
    assert_eq!(ion.graphql_requests(), 10);
}

#[tokio::test]
async fn keycloak_errors_are_quoted_without_the_secret() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(ion.config(&clock).client_secret("wrong-secret-value"));
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("bad secret");
    assert_eq!(
        err.to_string(),
        format!(
            "authentication failed: the token endpoint {} answered 401: unauthorized_client: \
             Invalid client secret [redacted]",
            ion.token_url()
        )
    );
    match err.kind() {
        ErrorKind::Authentication {
            status,
            error,
            description,
            ..
        } => {
            assert_eq!(*status, Some(401));
            assert_eq!(error.as_deref(), Some("unauthorized_client"));
            assert_eq!(
                description.as_deref(),
                Some("Invalid client secret [redacted]")
            );
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
    assert!(!format!("{err:?}").contains("wrong-secret-value"));
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(ion.graphql_requests(), 0);
}

#[tokio::test]
async fn a_404_from_the_token_url_names_the_other_path_form() {
    let ion = MockIon::start();
    ion.serve_token_at(TOKEN_PATH);
    let clock = manual_clock();
    let legacy = format!("{}{LEGACY_TOKEN_PATH}", ion.base_url());
    let client = client(ion.config(&clock).token_url(&legacy));
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("wrong path form");
    assert_eq!(
        err.to_string(),
        format!(
            "authentication failed: the token endpoint {legacy} answered 404 (Realm does not \
             exist); this host may serve the token endpoint at the other path form, {}",
            ion.token_url()
        )
    );
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(ion.graphql_requests(), 0);

    // And the reverse: a host that only serves the older layout.
    let old = MockIon::start();
    old.serve_token_at(LEGACY_TOKEN_PATH);
    let client = support::client(old.config(&clock));
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("wrong path form");
    assert!(err.to_string().ends_with(&format!(
        "the other path form, {}{LEGACY_TOKEN_PATH}",
        old.base_url()
    )));
}

#[tokio::test]
async fn concurrent_401s_invalidate_one_token_and_cause_one_refetch() {
    let (ion, _, client) = setup();
    client.execute::<Echo>(vars()).await.expect("warm");

    // Fifty requests leave with token 1 and wait at the server until all have arrived; the
    // token is revoked meanwhile, so all fifty are answered 401.
    let gate = crate::support::Gate::new();
    ion.script(
        (0..50).map(|_| crate::support::Reply::Before(crate::support::Fault::Wait(gate.clone()))),
    );
    ion.expire_tokens();
    let calls = join_all((0..50).map(|i| client.execute::<Echo>(IdVars { id: i })));
    let opener = async {
        ion.wait_graphql_requests(51).await;
        gate.open();
    };
    let (results, ()) = tokio::join!(calls, opener);
    assert!(
        results.iter().all(Result::is_ok),
        "each replayed once with token 2"
    );
    assert_eq!(ion.token_requests(), 2, "one refetch for fifty 401s");
    assert_eq!(ion.graphql_requests(), 1 + 50 + 50);
    assert_eq!(
        ion.seen_auth().iter().filter(|a| **a == bearer(2)).count(),
        50
    );
}

/// ION refusing every token, fresh ones too: after the one replay with a new token, the
/// client keeps that token and answers 401s at once, without a token request, for a backoff
/// window (1 s doubling to 30 s); each window's end allows one refetch and replay.
#[tokio::test]
async fn a_persistent_401_fetches_one_token_per_backoff_window() {
    let (ion, clock, client) = setup();
    ion.refuse_every_token(true);
    // 1,000 calls, 100 ms apart: refetches at 0, 1, 3, 7, 15, 31, 61 and 91 s.
    for call in 0..1000 {
        let err = client.execute::<Echo>(vars()).await.expect_err("refused");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Authentication {
                    status: Some(401),
                    ..
                }
            ),
            "call {call}: {err:?}"
        );
        clock.advance(Duration::from_millis(100));
    }
    assert_eq!(ion.token_requests(), 1 + 8);
    assert_eq!(ion.graphql_requests(), 1000 + 8);
    assert!(clock.sleeps().is_empty(), "no call waited");

    // Within a window the error says so.
    let err = client.execute::<Echo>(vars()).await.expect_err("refused");
    assert_eq!(
        err.to_string(),
        "authentication failed: ION answered 401 to query Echo: Token is expired. (it refused \
         a freshly fetched token too; no new token is fetched for 21s)"
    );
    // ION accepts tokens again: the kept token serves at once, and the windows start over.
    ion.refuse_every_token(false);
    client.execute::<Echo>(vars()).await.expect("accepted");
    assert_eq!(ion.token_requests(), 9);
    ion.refuse_every_token(true);
    assert!(client.execute::<Echo>(vars()).await.is_err());
    assert_eq!(
        ion.token_requests(),
        10,
        "a refetch: the windows started over"
    );
    clock.advance(Duration::from_secs(1));
    assert!(client.execute::<Echo>(vars()).await.is_err());
    assert_eq!(ion.token_requests(), 11, "after a 1 s window");
}

#[tokio::test]
async fn dropping_the_client_leaves_no_task_behind() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();

    let client = client(ion.config(&clock));
    client.execute::<Echo>(vars()).await.expect("warm");
    // A refresh that never completes: the token endpoint holds it forever.
    ion.script_tokens([TokenReply::WaitThenIssue(crate::support::Gate::new())]);
    clock.advance(Duration::from_secs(240));
    let clone = client.clone();
    clone
        .execute::<Echo>(vars())
        .await
        .expect("served during the refresh");
    ion.wait_token_requests(2).await;
    assert!(
        metrics.num_alive_tasks() > baseline,
        "the refresh task is running"
    );

    drop(client);
    assert!(
        metrics.num_alive_tasks() > baseline,
        "a clone still holds the client"
    );
    drop(clone);
    // Aborted tasks are removed when the runtime next runs them; yield a bounded number of
    // times rather than wait for any amount of time.
    for _ in 0..1000 {
        if metrics.num_alive_tasks() == baseline {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(metrics.num_alive_tasks(), baseline);
}

/// A clock that panics once, when armed, on the first reading taken inside a Tokio task (the
/// token fetch runs as one; the test's own calls do not), standing in for any bug in a fetch.
#[derive(Debug)]
struct PanicOnce {
    clock: std::sync::Arc<ManualClock>,
    armed: std::sync::atomic::AtomicBool,
}

impl ion_client::Clock for PanicOnce {
    fn now(&self) -> std::time::Instant {
        if tokio::task::try_id().is_some()
            && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("injected failure in the token fetch");
        }
        self.clock.now()
    }
    fn system_time(&self) -> std::time::SystemTime {
        self.clock.system_time()
    }
    fn sleep(&self, d: Duration) -> ion_client::clock::Sleep {
        self.clock.sleep(d)
    }
}

#[tokio::test]
async fn a_token_fetch_that_panics_is_reported_as_a_panic_and_backs_off_then_heals() {
    let ion = MockIon::start();
    let manual = manual_clock();
    let clock = std::sync::Arc::new(PanicOnce {
        clock: std::sync::Arc::clone(&manual),
        armed: std::sync::atomic::AtomicBool::new(true),
    });
    let client = client(ion.config(&manual).clock(clock));
    let err = client.execute::<Echo>(vars()).await.expect_err("panicked");
    assert!(matches!(err.kind(), ErrorKind::Internal), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the token request panicked (a bug in ion-client, please report it): injected failure \
         in the token fetch"
    );
    // Within the backoff window the same failure, without a request...
    let again = client.execute::<Echo>(vars()).await.expect_err("window");
    assert!(again.same_failure(&err));
    // ...and after it a new fetch: the slot was not left holding the dead one.
    manual.advance(Duration::from_secs(1));
    client.execute::<Echo>(vars()).await.expect("healed");
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(ion.graphql_requests(), 1);
}

#[test]
fn a_refresh_cancelled_by_its_runtime_shutting_down_does_not_strand_the_cache() {
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    let (ion, clock, client) = setup();
    runtime().block_on(async { client.execute::<Echo>(vars()).await.expect("warm") });

    // A sync wrapper's next call, on a runtime of its own: the token is due for refresh, the
    // refresh starts in the background and its runtime is gone before it finishes.
    ion.script_tokens([TokenReply::WaitThenIssue(crate::support::Gate::new())]);
    clock.advance(Duration::from_secs(240));
    runtime().block_on(async {
        client
            .execute::<Echo>(vars())
            .await
            .expect("served by token 1");
        ion.wait_token_requests(2).await;
    });

    // Past token 1's usable life, a third runtime's call starts a new fetch instead of
    // waiting on the dead one.
    clock.advance(Duration::from_secs(40));
    runtime().block_on(async { client.execute::<Echo>(vars()).await.expect("new token") });
    assert_eq!(ion.token_requests(), 3);
    assert_eq!(ion.seen_auth().last().cloned().flatten(), bearer(2));
}

fn issue(expires_in: serde_json::Value) -> TokenReply {
    TokenReply::Status(
        200,
        serde_json::json!({"access_token": "tok-SENSITIVE-x", "expires_in": expires_in})
            .to_string(),
    )
}

#[tokio::test]
async fn a_huge_expires_in_is_clamped_without_overflow() {
    let logs = LogCapture::install();
    let (ion, clock, client) = setup();
    ion.script_tokens([issue(serde_json::json!(u64::MAX))]);
    ion.respond(|_| serde_json::json!({"data": {"echo": 1}}));
    // The mock does not know this token: accept any by answering before the check.
    ion.script((0..3).map(|_| {
        crate::support::Reply::Before(crate::support::Fault::status(200, r#"{"data":{"echo":1}}"#))
    }));
    client.execute::<Echo>(vars()).await.expect("served");
    assert!(logs.text().contains("expires_in is outside 30s..=86400s"));
    // Clamped to a day: no refresh at 17 h, a background refresh from 18 h.
    clock.advance(Duration::from_secs(17 * 3600));
    client
        .execute::<Echo>(vars())
        .await
        .expect("served at 17 h");
    assert_eq!(ion.token_requests(), 1);
    clock.advance(Duration::from_secs(2 * 3600));
    client
        .execute::<Echo>(vars())
        .await
        .expect("served at 19 h");
    ion.wait_token_requests(2).await;
}

/// `1e400` is valid JSON beyond `f64`: a huge lifetime like any other, clamped to a day.
#[tokio::test]
async fn an_expires_in_beyond_f64_is_clamped_like_any_huge_value() {
    let logs = LogCapture::install();
    let (ion, clock, client) = setup();
    ion.script_tokens([TokenReply::Status(
        200,
        r#"{"access_token":"tok-SENSITIVE-x","expires_in":1e400}"#.to_owned(),
    )]);
    ion.script((0..2).map(|_| {
        crate::support::Reply::Before(crate::support::Fault::status(200, r#"{"data":{"echo":1}}"#))
    }));
    client.execute::<Echo>(vars()).await.expect("served");
    assert!(logs.text().contains("expires_in is outside 30s..=86400s"));
    clock.advance(Duration::from_secs(17 * 3600));
    client
        .execute::<Echo>(vars())
        .await
        .expect("served at 17 h");
    assert_eq!(ion.token_requests(), 1);
}

#[tokio::test]
async fn expires_in_zero_does_not_turn_caching_off() {
    let logs = LogCapture::install();
    let ion = MockIon::start();
    ion.set_token_lifetime(0);
    let clock = manual_clock();
    let client = client(ion.config(&clock));
    for i in 0..100 {
        client
            .execute::<Echo>(IdVars { id: i })
            .await
            .expect("call");
    }
    assert_eq!(ion.token_requests(), 1, "one token for 100 calls");
    assert_eq!(ion.graphql_requests(), 100);
    assert!(logs.text().contains("expires_in is outside 30s..=86400s"));
    // The floor is 30 s: refreshed from 22.5 s, used until 27 s.
    clock.advance(Duration::from_secs(28));
    client.execute::<Echo>(vars()).await.expect("new token");
    assert_eq!(ion.token_requests(), 2);
}

#[tokio::test]
async fn expires_in_as_a_string_or_a_float_is_read_and_a_missing_one_is_the_default() {
    for (expires_in, still_cached_at, refetched_by) in [
        (serde_json::json!("3599"), 2000, 3600),
        (serde_json::json!(3599.0), 2000, 3600),
        // The documented default of 60 s: refreshed from 45 s.
        (serde_json::Value::Null, 40, 60),
    ] {
        let (ion, clock, client) = setup();
        let body = if expires_in.is_null() {
            serde_json::json!({"access_token": "tok-SENSITIVE-1"})
        } else {
            serde_json::json!({"access_token": "tok-SENSITIVE-1", "expires_in": expires_in})
        };
        ion.script_tokens([TokenReply::Status(200, body.to_string())]);
        ion.script((0..3).map(|_| {
            crate::support::Reply::Before(crate::support::Fault::status(
                200,
                r#"{"data":{"echo":1}}"#,
            ))
        }));
        client.execute::<Echo>(vars()).await.expect("first");
        clock.advance(Duration::from_secs(still_cached_at));
        client.execute::<Echo>(vars()).await.expect("cached");
        assert_eq!(ion.token_requests(), 1, "expires_in {expires_in}");
        clock.advance(Duration::from_secs(refetched_by - still_cached_at));
        client.execute::<Echo>(vars()).await.expect("refetched");
        assert_eq!(ion.token_requests(), 2, "expires_in {expires_in}");
    }
}

#[tokio::test]
async fn a_token_the_header_cannot_carry_is_a_failed_fetch() {
    let (ion, clock, client) = setup();
    ion.script_tokens([TokenReply::Status(
        200,
        r#"{"access_token":"tok-SENSITIVE-\u0001bad","expires_in":300}"#.to_owned(),
    )]);
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("unsendable");
    assert!(
        matches!(err.kind(), ErrorKind::Decode { path, .. } if path == "access_token"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("SENSITIVE"));
    assert_eq!(ion.graphql_requests(), 0, "nothing sent with it");
    // In the backoff window: the same failure. After it: a new token, which works.
    assert!(client.execute::<Echo>(vars()).await.is_err());
    assert_eq!(ion.token_requests(), 1);
    clock.advance(Duration::from_secs(1));
    client.execute::<Echo>(vars()).await.expect("new token");
    assert_eq!(ion.token_requests(), 2);
}

#[tokio::test]
async fn retry_after_from_the_token_endpoint_is_honoured() {
    let (ion, clock, client) = setup();
    ion.script_tokens([TokenReply::StatusWith(
        429,
        vec![("retry-after", "10".to_owned())],
        "slow down".to_owned(),
    )]);
    let err = client.execute::<Echo>(vars()).await.expect_err("429");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    assert_eq!(
        err.to_string(),
        format!(
            "rate limited: the token endpoint {} answered 429 (retry after 10s): slow down",
            ion.token_url()
        )
    );
    // The 1 s backoff is lengthened to the 10 s asked for.
    clock.advance(Duration::from_secs(1));
    assert!(client.execute::<Echo>(vars()).await.is_err());
    clock.advance(Duration::from_secs(8));
    assert!(client.execute::<Echo>(vars()).await.is_err());
    assert_eq!(ion.token_requests(), 1);
    clock.advance(Duration::from_secs(1));
    client.execute::<Echo>(vars()).await.expect("after 10 s");
    assert_eq!(ion.token_requests(), 2);
}

#[tokio::test]
async fn waiting_for_a_token_counts_against_the_total_timeout() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(
        ion.config(&clock)
            .total_timeout(Duration::from_millis(200))
            .attempt_timeout(Duration::from_secs(30)),
    );
    let gate = crate::support::Gate::new();
    ion.script_tokens([TokenReply::WaitThenIssue(gate.clone())]);
    // The token endpoint hangs: the call gives up when its total timeout passes (200 ms of
    // real time, the one timer that bounds waiting on I/O)...
    let err = client.execute::<Echo>(vars()).await.expect_err("timed out");
    assert_eq!(
        err.to_string(),
        "query Echo timed out waiting for an access token: the total timeout of 200ms passed"
    );
    assert!(matches!(
        err.kind(),
        ErrorKind::Transport {
            failure: ion_client::TransportFailure::Timeout,
            ..
        }
    ));
    // ...while the shared fetch goes on: once the endpoint answers, the next caller gets that
    // token without a new request.
    ion.wait_token_requests(1).await;
    gate.open();
    let waiting = client.access_token();
    crate::support::bounded(waiting, "the shared fetch")
        .await
        .expect("token");
    client.execute::<Echo>(vars()).await.expect("served");
    assert_eq!(ion.token_requests(), 1);
}

/// Where a failure below HTTP is met.
#[derive(Debug, Clone, Copy)]
enum Side {
    TokenRequest,
    Operation,
}

/// A failure below HTTP reads the same whether the token request or the operation met it:
/// one reading of reqwest's errors (could not connect, or interrupted after) and the client's
/// own attempt timeout for a server that never answers; reqwest's error is the source, without
/// its URL.
#[tokio::test]
async fn failures_below_http_read_alike_for_token_requests_and_operations() {
    let cases = [
        ("refused", TransportFailure::Connect),
        ("reset", TransportFailure::Interrupted),
        ("silent", TransportFailure::Timeout),
    ];
    for (how, expected) in cases {
        for side in [Side::TokenRequest, Side::Operation] {
            let err = failure_below_http(how, side).await;
            assert!(
                matches!(err.kind(), ErrorKind::Transport { failure, .. } if *failure == expected),
                "{how} at the {side:?}: {err:?}"
            );
            let source =
                std::error::Error::source(&err).and_then(|s| s.downcast_ref::<reqwest::Error>());
            match expected {
                TransportFailure::Timeout => assert!(source.is_none(), "{err:?}"),
                _ => {
                    let source = source.unwrap_or_else(|| panic!("reqwest's error: {err:?}"));
                    assert_eq!(source.url(), None, "{how} at the {side:?}");
                }
            }
        }
    }
}

/// The error of one query that meets `how` ("refused", "reset", "silent") at `side`.
async fn failure_below_http(how: &str, side: Side) -> ion_client::Error {
    let ion = MockIon::start();
    let clock = manual_clock();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let mut config = ion
        .config(&clock)
        .retry_policy(RetryPolicy::never())
        .attempt_timeout(Duration::from_millis(100));
    let silent = || Fault::Wait(Gate::new());
    match (how, side) {
        ("refused", Side::TokenRequest) => {
            config = config.token_url(format!("{closed}{TOKEN_PATH}"))
        }
        ("refused", Side::Operation) => config = config.api_url(&closed),
        ("reset", Side::TokenRequest) => ion.script_tokens([TokenReply::Fail(Fault::Reset)]),
        ("reset", Side::Operation) => ion.script([Reply::Before(Fault::Reset)]),
        ("silent", Side::TokenRequest) => ion.script_tokens([TokenReply::Fail(silent())]),
        ("silent", Side::Operation) => ion.script([Reply::Before(silent())]),
        _ => unreachable!("{how}"),
    }
    client(config)
        .execute::<Echo>(vars())
        .await
        .expect_err("a failure below HTTP")
}
