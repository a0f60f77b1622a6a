//! Time, injected.
//!
//! The token cache decides when to refresh from [`Clock::now`], and the retry policy waits
//! with [`Clock::sleep`]. Tests inject a clock they drive by hand, so token expiry, refresh
//! windows, backoff and `Retry-After` are checked exactly, without waiting for real time.
//! Per-attempt timeouts use tokio's timer directly: they bound real I/O.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

/// A boxed future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time for the token cache and the retry policy.
///
/// The default is [`SystemClock`]. Implement it to drive time by hand in tests.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current monotonic instant.
    fn now(&self) -> Instant;
    /// The current wall-clock time, used to read `Retry-After` given as an HTTP date.
    fn system_time(&self) -> SystemTime;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: [`Instant::now`], [`SystemTime::now`] and [`tokio::time::sleep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}
