//! The retry policy: what is retried, how often, how long to wait, and the budget that keeps
//! an outage from multiplying the load.
//!
//! # The policy
//!
//! **Queries** are retried after a connect failure, an attempt timeout, a connection
//! interrupted after sending (reset, closed, truncated body), and the statuses 429, 502, 503
//! and 504. Every other status, GraphQL `errors[]` and decode failures are returned at once.
//!
//! **Mutations** are sent again only when they certainly never executed: after a connect
//! failure, and after a 429. A 429 is ION's rate limiter refusing the request before ION runs
//! it, so the mutation is sent again after the wait (its `Retry-After` honoured, within the
//! attempts, the budget and the total timeout, as for a query); when the retries run out it is
//! returned as [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited), still unexecuted. Any
//! other failure after sending (reset, timeout, 5xx) is returned as
//! [`ErrorKind::OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown) and never replayed.
//!
//! **A 401 from the API**, for either kind, invalidates the token that was sent (only that
//! one, so concurrent 401s cause one token request) and the request is replayed once with a
//! new token. This is safe for a mutation because ION's auth layer rejects a request before
//! it executes. A second 401 is returned as
//! [`ErrorKind::Authentication`](crate::ErrorKind::Authentication) with ION's message. The
//! replay does not count against the attempts or the budget. When that second 401 refused a
//! token fetched for the replay (ION refuses every token: clock skew, a wrong realm or
//! audience, revoked permissions), the client keeps the token and, for a window of 1 s
//! doubling to 30 s, returns 401s at once without fetching or replaying; the window closes
//! as soon as ION accepts a request (see [`auth`](crate::auth)).
//!
//! **Token failures** are not retried by the operation that met them: the token cache
//! makes one attempt per backoff window (see [`auth`](crate::auth)) and every caller waiting
//! on it receives that attempt's error at once.
//!
//! # The numbers (defaults)
//!
//! | what | default | setter |
//! |---|---|---|
//! | attempts per operation, the first included | 4 ([`DEFAULT_MAX_ATTEMPTS`]) | [`RetryPolicy::with_max_attempts`] |
//! | backoff before retry *n* | random in ½·*d*..*d*, *d* = min(10 s, 200 ms × 2ⁿ⁻¹): 100–200 ms, 200–400 ms, 400–800 ms | [`RetryPolicy::with_backoff`] |
//! | `Retry-After` (seconds or HTTP date) | waited instead of the backoff when ≤ 60 s, plus a jitter of up to a tenth of it (at most 1 s) so a crowd of callers does not return at one instant; a longer one ends the retries and is returned in the error | [`RetryPolicy::with_max_retry_after`] |
//! | total time, waits included | 120 s ([`Config`](crate::Config)'s total timeout): no retry starts if its wait would pass it | [`ConfigBuilder::total_timeout`](crate::ConfigBuilder::total_timeout) |
//! | retry budget per client | 100 tokens; a retry costs 5, a retry after a timeout 10; each successful operation returns 1 | [`RetryPolicy::with_budget`] |
//!
//! The budget is shared by every operation of one [`Client`](crate::Client) (and its clones).
//! When it cannot pay for a retry, the failure is returned as it is: during a long outage a
//! client makes at most 20 extra requests, then sends each operation once until successes
//! refill the budget. A budget of 0 ([`RetryPolicy::with_budget`]`(0, ..)`) means no retries.
//!
//! All arithmetic on these durations saturates: a `Retry-After` of `u64::MAX` seconds with a
//! cap of [`Duration::MAX`] is a wait that passes the total timeout (so no retry), not an
//! overflow.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{OperationKind, TransportFailure};

/// What happened to one attempt, as the transport saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// No HTTP answer: the connection failed, timed out or broke.
    Transport(TransportFailure),
    /// An HTTP answer other than one that carries a GraphQL envelope.
    Status(u16),
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Send it again, within the attempts, the total timeout and the budget.
    Retry {
        /// A retry after a timeout costs the budget more.
        after_timeout: bool,
    },
    /// Forget the token that was sent and send it once more with a new one.
    ReplayWithNewToken,
    /// Return the failure as it is.
    Fail,
    /// A mutation that may have executed: return `OutcomeUnknown`, never send it again.
    OutcomeUnknown,
}

/// The retry policy as one pure function of the operation's kind and what happened; the
/// [module docs](self) state it in words, the table-driven test in full.
pub(crate) fn decide(kind: OperationKind, outcome: Outcome) -> Decision {
    use OperationKind::{Mutation, Query};
    match (kind, outcome) {
        // Certainly never reached the server.
        (_, Outcome::Transport(TransportFailure::Connect)) => Decision::Retry {
            after_timeout: false,
        },
        // ION's auth layer refuses before executing: safe to replay either kind once.
        (_, Outcome::Status(401)) => Decision::ReplayWithNewToken,
        (Query, Outcome::Transport(failure)) => Decision::Retry {
            after_timeout: failure == TransportFailure::Timeout,
        },
        (Mutation, Outcome::Transport(_)) => Decision::OutcomeUnknown,
        // The rate limiter refuses before ION runs anything: safe to send either kind again
        // after the wait.
        (_, Outcome::Status(429)) | (Query, Outcome::Status(502..=504)) => Decision::Retry {
            after_timeout: false,
        },
        (Mutation, Outcome::Status(500..=599)) => Decision::OutcomeUnknown,
        (_, Outcome::Status(_)) => Decision::Fail,
    }
}

/// Attempts per operation by default, the first included.
///
/// Four attempts ride out a gateway restart (a few hundred milliseconds of 502/503) without
/// holding a caller for long.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// The backoff before the first retry, before jitter.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// The cap on a backoff, before jitter.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest `Retry-After` the client waits for; ION publishes no rate numbers, and a
/// caller waiting longer than a minute is better told so.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Retry budget per client, in tokens.
pub const DEFAULT_RETRY_BUDGET: u32 = 100;
/// Tokens one retry costs.
pub const DEFAULT_RETRY_COST: u32 = 5;
/// Tokens one retry after a timeout costs: timeouts suggest an overloaded server.
pub const DEFAULT_TIMEOUT_RETRY_COST: u32 = 10;
/// Tokens each successful operation returns to the budget.
pub const DEFAULT_SUCCESS_REFILL: u32 = 1;
/// The most jitter added to a `Retry-After` wait: enough to spread a crowd of callers over a
/// second, small beside the waits servers ask for.
pub const RETRY_AFTER_MAX_JITTER: Duration = Duration::from_secs(1);

/// How failed requests are retried. See the [module documentation](self) for the policy.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use ion_client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(3)
///     .with_backoff(Duration::from_millis(100), Duration::from_secs(2));
/// assert_eq!(policy.max_attempts(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    budget: u32,
    retry_cost: u32,
    timeout_retry_cost: u32,
    success_refill: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            budget: DEFAULT_RETRY_BUDGET,
            retry_cost: DEFAULT_RETRY_COST,
            timeout_retry_cost: DEFAULT_TIMEOUT_RETRY_COST,
            success_refill: DEFAULT_SUCCESS_REFILL,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (the 401 replay still happens: it is part of
    /// authentication, not a retry).
    pub fn never() -> RetryPolicy {
        RetryPolicy::default().with_max_attempts(1)
    }

    /// Attempts per operation, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> RetryPolicy {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry and the cap; each retry doubles it, and the wait
    /// is a random duration between half and all of it.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> RetryPolicy {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest `Retry-After` the client waits for before it retries; a longer one ends
    /// the retries and the error carries it.
    pub fn with_max_retry_after(mut self, max: Duration) -> RetryPolicy {
        self.max_retry_after = max;
        self
    }

    /// The retry budget: its capacity in tokens, the cost of a retry and of a retry after a
    /// timeout. Each successful operation returns one token.
    pub fn with_budget(mut self, capacity: u32, retry_cost: u32, timeout_cost: u32) -> RetryPolicy {
        self.budget = capacity;
        self.retry_cost = retry_cost;
        self.timeout_retry_cost = timeout_cost;
        self
    }

    /// Attempts per operation, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff before the first retry, before jitter.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The cap on a backoff, before jitter.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest `Retry-After` waited for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The budget's capacity in tokens.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// The wait before retry number `retry` (1 for the first retry), given a uniform random
    /// number in `[0, 1)`: between half and all of `min(max, initial × 2^(retry−1))`.
    pub(crate) fn backoff(&self, retry: u32, unit_random: f64) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let full = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = full / 2;
        half + (full - half).mul_f64(unit_random.clamp(0.0, 1.0))
    }

    /// The wait before a retry the server timed with `Retry-After`: what it asked, plus a
    /// jitter of up to a tenth of it (at most [`RETRY_AFTER_MAX_JITTER`]) given a uniform
    /// random number in `[0, 1)`. Never less than asked.
    pub(crate) fn retry_after_wait(&self, asked: Duration, unit_random: f64) -> Duration {
        let spread = (asked / 10).min(RETRY_AFTER_MAX_JITTER);
        asked.saturating_add(spread.mul_f64(unit_random.clamp(0.0, 1.0)))
    }

    /// A new budget for one client.
    pub(crate) fn new_budget(&self) -> RetryBudget {
        RetryBudget {
            available: Mutex::new(self.budget),
            capacity: self.budget,
            retry_cost: self.retry_cost,
            timeout_retry_cost: self.timeout_retry_cost,
            success_refill: self.success_refill,
        }
    }
}

/// The tokens one client may spend on retries.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    available: Mutex<u32>,
    capacity: u32,
    retry_cost: u32,
    timeout_retry_cost: u32,
    success_refill: u32,
}

impl RetryBudget {
    /// Takes the cost of one retry, or returns `false` when the budget cannot pay it.
    pub(crate) fn try_withdraw(&self, after_timeout: bool) -> bool {
        let cost = if after_timeout {
            self.timeout_retry_cost
        } else {
            self.retry_cost
        };
        if self.capacity == 0 {
            // An empty budget pays for nothing, even a retry that costs nothing.
            return false;
        }
        let mut available = self.available.lock().unwrap_or_else(|e| e.into_inner());
        if *available >= cost {
            *available -= cost;
            true
        } else {
            false
        }
    }

    /// Returns tokens after a successful operation.
    pub(crate) fn on_success(&self) {
        let mut available = self.available.lock().unwrap_or_else(|e| e.into_inner());
        *available = available
            .saturating_add(self.success_refill)
            .min(self.capacity);
    }
}

/// What a client's 429s tell the jobs sharing it ([`bulk`](crate::bulk)): how many there
/// were, when the latest came, and the latest instant a `Retry-After` asked to wait until.
#[derive(Debug, Default)]
pub(crate) struct RateSignal {
    refusals: AtomicU64,
    times: Mutex<RefusalTimes>,
}

#[derive(Debug, Default, Clone, Copy)]
struct RefusalTimes {
    last: Option<Instant>,
    resume_at: Option<Instant>,
}

impl RateSignal {
    /// Records a 429 answered at `now`, with the wait it asked for.
    pub(crate) fn refused(&self, retry_after: Option<Duration>, now: Instant) {
        let mut times = self.times.lock().unwrap_or_else(|e| e.into_inner());
        times.last = Some(times.last.map_or(now, |last| last.max(now)));
        if let Some(wait) = retry_after {
            let until = crate::clock::instant_after(now, wait);
            if times.resume_at.is_none_or(|r| r < until) {
                times.resume_at = Some(until);
            }
        }
        // Counted last, so that whoever sees the count sees the times that go with it.
        self.refusals.fetch_add(1, Ordering::SeqCst);
    }

    /// How many 429s the client has been answered.
    pub(crate) fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::SeqCst)
    }

    /// The latest instant a `Retry-After` asked to wait until.
    pub(crate) fn resume_at(&self) -> Option<Instant> {
        self.lock().resume_at
    }

    /// When the latest 429 was answered.
    pub(crate) fn last_refused(&self) -> Option<Instant> {
        self.lock().last
    }

    fn lock(&self) -> RefusalTimes {
        *self.times.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_table() {
        use Decision::{Fail, OutcomeUnknown, ReplayWithNewToken};
        use OperationKind::{Mutation, Query};
        use TransportFailure::{Connect, Interrupted, Timeout};
        let retry = Decision::Retry {
            after_timeout: false,
        };
        let retry_timeout = Decision::Retry {
            after_timeout: true,
        };
        let t = Outcome::Transport;
        let s = Outcome::Status;
        #[rustfmt::skip]
        let table = [
            // outcome          query           mutation
            (t(Connect),        retry,          retry),
            (t(Timeout),        retry_timeout,  OutcomeUnknown),
            (t(Interrupted),    retry,          OutcomeUnknown),
            (s(401),            ReplayWithNewToken, ReplayWithNewToken),
            (s(429),            retry,          retry),
            (s(500),            Fail,           OutcomeUnknown),
            (s(501),            Fail,           OutcomeUnknown),
            (s(502),            retry,          OutcomeUnknown),
            (s(503),            retry,          OutcomeUnknown),
            (s(504),            retry,          OutcomeUnknown),
            (s(505),            Fail,           OutcomeUnknown),
            (s(599),            Fail,           OutcomeUnknown),
            (s(400),            Fail,           Fail),
            (s(403),            Fail,           Fail),
            (s(404),            Fail,           Fail),
            (s(302),            Fail,           Fail),
            (s(201),            Fail,           Fail),
        ];
        for (outcome, query, mutation) in table {
            assert_eq!(decide(Query, outcome), query, "query, {outcome:?}");
            assert_eq!(decide(Mutation, outcome), mutation, "mutation, {outcome:?}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, 0.999_999), Duration::from_nanos(199_999_900));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(p.backoff(20, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(u32::MAX, 0.5), Duration::from_millis(7500));
    }

    #[test]
    fn budget_pays_until_empty_and_refills_on_success() {
        let b = RetryPolicy::default().with_budget(12, 5, 10).new_budget();
        assert!(b.try_withdraw(false));
        assert!(b.try_withdraw(false));
        assert!(!b.try_withdraw(false), "2 left, a retry costs 5");
        for _ in 0..3 {
            b.on_success();
        }
        assert!(b.try_withdraw(false));
        assert!(!b.try_withdraw(true), "0 left");
        for _ in 0..100 {
            b.on_success();
        }
        assert!(b.try_withdraw(true));
        assert!(
            !b.try_withdraw(false),
            "refill is capped at the capacity: 12 - 10 = 2"
        );
    }

    #[test]
    fn a_zero_budget_pays_for_no_retry() {
        let b = RetryPolicy::default().with_budget(0, 0, 0).new_budget();
        assert!(!b.try_withdraw(false));
        assert!(!b.try_withdraw(true));
        b.on_success();
        assert!(!b.try_withdraw(false));
    }

    #[test]
    fn retry_after_waits_get_a_little_jitter_and_saturate() {
        let p = RetryPolicy::default();
        let secs = Duration::from_secs;
        assert_eq!(p.retry_after_wait(secs(7), 0.0), secs(7));
        assert_eq!(
            p.retry_after_wait(secs(7), 0.5),
            Duration::from_millis(7350)
        );
        assert_eq!(
            p.retry_after_wait(secs(60), 0.999),
            secs(60) + Duration::from_millis(999)
        );
        assert_eq!(p.retry_after_wait(Duration::ZERO, 0.7), Duration::ZERO);
        assert_eq!(p.retry_after_wait(Duration::MAX, 1.0), Duration::MAX);
        assert_eq!(
            p.backoff(u32::MAX, 1.0),
            DEFAULT_MAX_BACKOFF,
            "the backoff saturates too"
        );
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
        assert_eq!(RetryPolicy::never().max_attempts(), 1);
    }
}
