//! The rate limiter: a token bucket per API client in front of `/graphql`, answering `429`
//! with `Retry-After` beyond it, as ION's fair-use limits do (ION publishes no numbers, so
//! they are the emulator's options).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate limit: `rate` requests per second on average, up to `burst` at once.
///
/// Each API client (by client id) has a bucket holding up to `burst` tokens, refilled at
/// `rate` per second; a GraphQL request takes one (a batch is one request), and a request
/// that finds the bucket empty is answered `429` with `Retry-After` (whole seconds, at least
/// 1: when the next token is due, rounded up) before anything executes.
///
/// # Example
/// ```
/// use ion_emulator::{EmulatorOptions, RateLimit};
///
/// let options = EmulatorOptions::new().rate_limit(RateLimit::new(200.0, 50));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    rate: f64,
    burst: u32,
}

impl RateLimit {
    /// `rate` requests per second (a rate that is not a positive number is 1 per second),
    /// bursts of up to `burst` (at least 1).
    pub fn new(rate: f64, burst: u32) -> RateLimit {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        RateLimit {
            rate,
            burst: burst.max(1),
        }
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The largest burst.
    pub fn burst(&self) -> u32 {
        self.burst
    }
}

/// One client's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client under one limit (none: every request is admitted).
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    limit: Option<RateLimit>,
    buckets: HashMap<String, Bucket>,
}

impl Limiter {
    pub fn new(limit: Option<RateLimit>) -> Limiter {
        Limiter {
            state: Mutex::new(State {
                limit,
                buckets: HashMap::new(),
            }),
        }
    }

    /// Sets or lifts the limit; every bucket starts full again.
    pub fn set(&self, limit: Option<RateLimit>) {
        let mut state = self.lock();
        state.limit = limit;
        state.buckets.clear();
    }

    /// Takes a token from `client`'s bucket at `now`, or says how long until one is due.
    pub fn admit(&self, client: &str, now: Instant) -> Result<(), Duration> {
        let mut state = self.lock();
        let Some(limit) = state.limit else {
            return Ok(());
        };
        let burst = f64::from(limit.burst);
        let bucket = state.buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limit.rate))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A wait as a `Retry-After` value: whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_admits_its_burst_then_its_rate() {
        let limiter = Limiter::new(Some(RateLimit::new(10.0, 3)));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit("a", t0).is_ok());
        }
        let wait = limiter.admit("a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert_eq!(retry_after_secs(wait), 1);
        // Another client has its own bucket.
        assert!(limiter.admit("b", t0).is_ok());
        // 100 ms later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.admit("a", t1).is_ok());
        assert!(limiter.admit("a", t1).is_err());
        // A long pause refills up to the burst, no more.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.admit("a", t2).is_ok());
        }
        assert!(limiter.admit("a", t2).is_err());
        limiter.set(None);
        assert!(limiter.admit("a", t2).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(RateLimit::new(f64::NAN, 0), RateLimit::new(1.0, 1));
    }
}
