//! Tokens end to end: the 401 replay after expiry, the token endpoint down and back, and a
//! wrong secret.

use std::time::Duration;

use ion_client::operations::StarterOperations;
use ion_client::testing::emulator::{DEFAULT_TOKEN_LIFETIME, Endpoint, Fault};
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
