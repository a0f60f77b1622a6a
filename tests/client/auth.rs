//! Tokens end to end: the 401 replay after expiry, the token endpoint down and back, and a
//! wrong secret.

use std::time::Duration;

use ion_client::operations::StarterOperations;
use ion_client::testing::emulator::{
    DEFAULT_TOKEN_LIFETIME, Emulator, EmulatorOptions, Endpoint, Fault, Seed,
};
use ion_client::{ErrorKind, TransportFailure};

use super::support::*;

/// The first backoff window after a failed token request, as `auth`'s docs state it.
const TOKEN_RETRY_INITIAL: Duration = Duration::from_secs(1);

#[tokio::test]
async fn an_expired_token_is_refetched_once_and_the_query_replayed() {
    let (e, _clock, client) = setup().await;
    client.get_runs().await.unwrap();
    assert_eq!(counts(e.counters()), (1, 1, 0));
    // Only the emulator's clock moves: the client still holds the token as valid, sends it,
    // meets ION's 401, fetches one new token and replays.
    e.advance_clock(DEFAULT_TOKEN_LIFETIME + Duration::from_secs(1));
    let data = client.get_runs().await.unwrap();
    assert_eq!(data.runs.unwrap().edges.len(), 6);
    let c = e.counters();
    assert_eq!(counts(c), (2, 3, 0));
    assert_eq!((c.unauthorized, c.tokens_issued), (1, 2));
    // The new token serves the next call without another exchange.
    client.get_runs().await.unwrap();
    assert_eq!(counts(e.counters()), (2, 4, 0));
}

#[tokio::test]
async fn the_token_endpoint_down_fails_fast_then_the_same_client_heals() {
    let (e, clock, client) = setup().await;
    e.faults().set_token_endpoint_down(true);
    let first = client.get_runs().await.unwrap_err();
    assert!(
        matches!(first.kind(), ErrorKind::HttpStatus { status: 503, .. }),
        "{first:?}"
    );
    assert!(first.to_string().contains("token endpoint"), "{first}");
    assert_eq!(
        counts(e.counters()),
        (1, 0, 0),
        "no GraphQL request without a token"
    );

    // Back up, but within the backoff window the cached failure is returned at once.
    e.faults().set_token_endpoint_down(false);
    let again = client.get_runs().await.unwrap_err();
    assert!(again.same_failure(&first));
    assert_eq!(counts(e.counters()), (1, 0, 0));

    // After the window, one new exchange heals the same client.
    clock.advance(TOKEN_RETRY_INITIAL);
    client.get_runs().await.unwrap();
    assert_eq!(counts(e.counters()), (2, 1, 0));
}

#[tokio::test]
async fn a_reset_token_request_is_a_transport_error_then_heals() {
    let (e, clock, client) = setup().await;
    e.faults()
        .inject(Endpoint::Token, Fault::connection_reset());
    let err = client.get_runs().await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport {
                failure: TransportFailure::Interrupted,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(counts(e.counters()), (1, 0, 0));
    clock.advance(TOKEN_RETRY_INITIAL);
    client.get_runs().await.unwrap();
    assert_eq!(counts(e.counters()), (2, 1, 0));
}

#[tokio::test]
async fn a_wrong_secret_is_keycloaks_authentication_error_and_never_printed() {
    let e = demo().await;
    let clock = manual_clock();
    let secret = "wrong-secret-4c1d9e";
    let client = client(config(&e, &clock).client_secret(secret));
    let err = client.get_runs().await.unwrap_err();
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
                Some("Invalid client or Invalid client credentials")
            );
        }
        other => panic!("expected Authentication, found {other:?}"),
    }
    assert_eq!(counts(e.counters()), (1, 0, 0));
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{client:?}"),
        format!("{:?}", client.config()),
    ] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
    // Nor is the emulator's real secret (this client never had it) anywhere in the error.
    assert!(!format!("{err:?}").contains(e.client_secret()));
}

/// The emulator on a runtime of its own, so it outlives the runtimes the client's calls are
/// made on; tokens live `lifetime`.
fn emulator_on_its_own_runtime(lifetime: Duration) -> (tokio::runtime::Runtime, Emulator) {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let options = EmulatorOptions::new()
        .seed(Seed::Demo)
        .token_lifetime(lifetime);
    let emulator = server.block_on(Emulator::start(options)).unwrap();
    (server, emulator)
}

/// A runtime for one call, as a synchronous wrapper builds them: dropped when the call
/// returns, with whatever it spawned and never ran.
fn call_on_a_runtime_of_its_own<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(call)
}

/// The token cache survives a background refresh whose runtime is dropped before the refresh
/// task is ever polled: a call that finds its token due for refresh spawns the refresh and
/// returns at once (`access_token`), then its runtime goes away.
#[test]
fn a_refresh_dropped_before_its_first_poll_does_not_strand_the_token_cache() {
    let lifetime = Duration::from_secs(30);
    let (_server, e) = emulator_on_its_own_runtime(lifetime);
    let clock = manual_clock();
    let client = client(config(&e, &clock));
    let advance = |by: Duration| {
        clock.advance(by);
        e.advance_clock(by);
    };

    call_on_a_runtime_of_its_own(client.get_runs()).unwrap();
    // 24 s of 30: due for refresh (from 22.5 s), still usable (until 27 s).
    advance(Duration::from_secs(24));
    call_on_a_runtime_of_its_own(client.access_token()).unwrap();
    assert_eq!(e.counters().token_requests, 1, "the refresh never ran");
    // 32 s: the first token is past its use; every call must fetch or share a new one.
    advance(Duration::from_secs(8));
    for call in 3..=6 {
        call_on_a_runtime_of_its_own(client.get_runs())
            .unwrap_or_else(|err| panic!("call {call}: {err}"));
    }
    let c = e.counters();
    assert_eq!((c.token_requests, c.graphql_requests), (2, 5));
}

/// The same for callers cancelled in the poll that started a token fetch: a `select!` that
/// another branch wins at once (the fetch task was spawned and never ran), and a zero timeout
/// (the fetch runs until its runtime is dropped, its request held by the token endpoint).
#[test]
fn a_fetch_whose_caller_is_cancelled_does_not_strand_the_token_cache() {
    let (_server, e) = emulator_on_its_own_runtime(DEFAULT_TOKEN_LIFETIME);
    let clock = manual_clock();
    let client = client(config(&e, &clock));

    let lost_the_race = call_on_a_runtime_of_its_own(async {
        tokio::select! {
            biased;
            data = client.get_runs() => Some(data),
            () = std::future::ready(()) => None,
        }
    });
    assert!(lost_the_race.is_none(), "the ready branch wins");
    assert_eq!(e.counters().token_requests, 0, "the fetch never ran");

    e.faults()
        .inject(Endpoint::Token, Fault::slow(Duration::from_secs(3600)));
    call_on_a_runtime_of_its_own(async {
        let timed_out = tokio::time::timeout(Duration::ZERO, client.get_runs()).await;
        assert!(timed_out.is_err(), "a zero timeout elapses");
        // The fetch goes on without its caller until the token endpoint has its request.
        let arrived = async {
            while e.counters().token_requests == 0 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), arrived)
            .await
            .expect("the token request arrives");
    });

    for call in 1..=4 {
        call_on_a_runtime_of_its_own(client.get_runs())
            .unwrap_or_else(|err| panic!("call {call}: {err}"));
    }
    let c = e.counters();
    assert_eq!((c.token_requests, c.graphql_requests), (2, 4));
}
