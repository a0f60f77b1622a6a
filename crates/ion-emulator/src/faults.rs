//! Programmable faults and the counters tests assert on.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /graphql`.
    Graphql,
    /// The Keycloak token endpoint (both paths).
    Token,
    /// File storage: the pre-signed upload and download URLs (`/storage/...`). A fault there
    /// answers as S3 does (an XML `<Error>`); [`FaultKind::ConnectionReset`] resets half way
    /// through an upload's body, and [`FaultKind::TruncatedJson`] sends half of a download.
    Storage,
}

/// What goes wrong with one response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status before doing anything, with an optional `Retry-After` value
    /// and a JSON body.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` header value, if any (seconds or an HTTP date).
        retry_after: Option<String>,
    },
    /// Answer with this status and an HTML page, as a gateway or load balancer does.
    Html {
        /// The HTTP status code.
        status: u16,
    },
    /// Do the work, then send `200` with the response body cut in half (the request did
    /// execute: for a mutation its outcome is unknown to the client).
    TruncatedJson,
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Close the connection with a TCP reset before answering (nothing executes).
    ConnectionReset,
    /// Do the work, then close the connection with a TCP reset instead of answering (the
    /// request did execute: for a mutation its outcome is unknown to the client, which sees
    /// what it sees when a reset comes before the work).
    ResetAfterExecuting,
    /// For [`Endpoint::Storage`]: refuse the URL as expired (403 `AccessDenied`, `Request
    /// has expired`), whatever its expiry.
    ExpiredUrl,
}

/// A fault to inject into the next matching request(s).
///
/// # Example
/// ```no_run
/// # async fn f(emulator: &ion_emulator::Emulator) {
/// use ion_emulator::{Endpoint, Fault};
/// emulator.faults().inject(Endpoint::Graphql, Fault::status(429).retry_after("2").times(2));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    times: u32,
}

impl Fault {
    /// A bare HTTP status (`429`, `502`, `503`, ...) with a small JSON body.
    pub fn status(status: u16) -> Fault {
        Fault {
            kind: FaultKind::Status {
                status,
                retry_after: None,
            },
            times: 1,
        }
    }

    /// An HTML error page with this status, as a proxy in front of ION sends.
    pub fn html(status: u16) -> Fault {
        Fault {
            kind: FaultKind::Html { status },
            times: 1,
        }
    }

    /// A `200` whose JSON body is cut short; the request itself executes.
    pub fn truncated_json() -> Fault {
        Fault {
            kind: FaultKind::TruncatedJson,
            times: 1,
        }
    }

    /// A response delayed by `delay`.
    pub fn slow(delay: Duration) -> Fault {
        Fault {
            kind: FaultKind::Slow(delay),
            times: 1,
        }
    }

    /// A connection reset instead of a response.
    pub fn connection_reset() -> Fault {
        Fault {
            kind: FaultKind::ConnectionReset,
            times: 1,
        }
    }

    /// A connection reset after the request has executed, instead of its answer.
    pub fn reset_after_executing() -> Fault {
        Fault {
            kind: FaultKind::ResetAfterExecuting,
            times: 1,
        }
    }

    /// A storage URL refused as expired ([`FaultKind::ExpiredUrl`]).
    pub fn expired_url() -> Fault {
        Fault {
            kind: FaultKind::ExpiredUrl,
            times: 1,
        }
    }

    /// Adds a `Retry-After` header to a [`Fault::status`] fault (ignored by other kinds).
    pub fn retry_after(mut self, value: impl Into<String>) -> Fault {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Applies the fault to this many consecutive requests instead of one.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = n;
        self
    }

    /// What goes wrong.
    pub fn kind(&self) -> &FaultKind {
        &self.kind
    }
}

/// The faults waiting to be injected; shared with the running server.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    queue: Mutex<VecDeque<(Endpoint, Fault)>>,
    token_down: AtomicBool,
}

impl Faults {
    /// Queues a fault for the next request(s) to `endpoint`; faults apply in the order queued.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault) {
        if fault.times == 0 {
            return;
        }
        self.queue().push_back((endpoint, fault));
    }

    /// Makes the token endpoint answer `503` with an HTML page until set back to `false`.
    pub fn set_token_endpoint_down(&self, down: bool) {
        self.inner.token_down.store(down, Ordering::SeqCst);
    }

    /// Whether the token endpoint is down.
    pub fn token_endpoint_down(&self) -> bool {
        self.inner.token_down.load(Ordering::SeqCst)
    }

    /// Removes every queued fault and brings the token endpoint back.
    pub fn clear(&self) {
        self.queue().clear();
        self.set_token_endpoint_down(false);
    }

    /// How many injections are still queued (a fault with `times(3)` counts 3).
    pub fn pending(&self) -> u32 {
        self.queue().iter().map(|(_, f)| f.times).sum()
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<(Endpoint, Fault)>> {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the next fault for a request to `endpoint`, if one is queued.
    pub(crate) fn take(&self, endpoint: Endpoint) -> Option<FaultKind> {
        let mut queue = self.queue();
        let pos = queue.iter().position(|(e, _)| *e == endpoint)?;
        let entry = queue.get_mut(pos)?;
        let kind = entry.1.kind.clone();
        entry.1.times -= 1;
        if entry.1.times == 0 {
            queue.remove(pos);
        }
        Some(kind)
    }
}

/// A snapshot of what the emulator received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// HTTP requests that reached the token endpoint (any realm, any outcome).
    pub token_requests: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// HTTP requests to `/graphql` (a batch is one).
    pub graphql_requests: u64,
    /// GraphQL operations executed (each element of a batch is one).
    pub operations: u64,
    /// Mutation root fields executed against the store, successful or not.
    pub mutations: u64,
    /// Requests refused with `401` by the GraphQL endpoint's authentication.
    pub unauthorized: u64,
    /// Faults injected (each application of a fault counts one).
    pub faults_injected: u64,
    /// Requests to `/graphql` refused with `429` by the rate limit
    /// ([`EmulatorOptions::rate_limit`](crate::EmulatorOptions::rate_limit)).
    pub rate_limited: u64,
}

/// The live counters behind [`Counters`].
#[derive(Debug, Default)]
pub(crate) struct CounterCells {
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
    graphql_requests: AtomicU64,
    operations: AtomicU64,
    mutations: AtomicU64,
    unauthorized: AtomicU64,
    faults_injected: AtomicU64,
    rate_limited: AtomicU64,
}

macro_rules! bump {
    ($($name:ident),*) => {
        impl CounterCells {
            $(pub fn $name(&self) { self.$name.fetch_add(1, Ordering::Relaxed); })*
        }
    };
}

impl CounterCells {
    pub fn snapshot(&self) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            token_requests: get(&self.token_requests),
            tokens_issued: get(&self.tokens_issued),
            graphql_requests: get(&self.graphql_requests),
            operations: get(&self.operations),
            mutations: get(&self.mutations),
            unauthorized: get(&self.unauthorized),
            faults_injected: get(&self.faults_injected),
            rate_limited: get(&self.rate_limited),
        }
    }

    pub fn reset(&self) {
        for c in [
            &self.token_requests,
            &self.tokens_issued,
            &self.graphql_requests,
            &self.operations,
            &self.mutations,
            &self.unauthorized,
            &self.faults_injected,
            &self.rate_limited,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    pub fn mutation(&self) {
        self.mutations.fetch_add(1, Ordering::Relaxed);
    }
}

bump!(
    token_requests,
    tokens_issued,
    graphql_requests,
    operations,
    unauthorized,
    faults_injected,
    rate_limited
);

/// One request the emulator received, as recorded for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// Which endpoint it reached.
    pub endpoint: Endpoint,
    /// Request path.
    pub path: String,
    /// Request headers, names lower-cased, in the order received. `authorization` values
    /// and form secrets are kept: these are the emulator's own throwaway credentials.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

/// How many requests the recorder keeps; older ones are dropped so a long-running
/// `ion emulator` does not grow without bound.
pub(crate) const RECORDED_REQUESTS_LIMIT: usize = 1000;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_and_count_down() {
        let f = Faults::default();
        f.inject(Endpoint::Graphql, Fault::status(503).times(2));
        f.inject(Endpoint::Token, Fault::connection_reset());
        assert_eq!(f.pending(), 3);
        assert_eq!(f.take(Endpoint::Token), Some(FaultKind::ConnectionReset));
        assert!(matches!(
            f.take(Endpoint::Graphql),
            Some(FaultKind::Status { status: 503, .. })
        ));
        assert!(f.take(Endpoint::Graphql).is_some());
        assert_eq!(f.take(Endpoint::Graphql), None);
    }
}
