//! Time, injected.
//!
//! The token cache decides when to refresh from [`Clock::now`], and the retry policy waits
//! with [`Clock::sleep`]. Tests inject a [`ManualClock`] they drive by hand, so token expiry,
//! refresh windows, backoff and `Retry-After` are checked exactly, without waiting for real
//! time. Per-attempt timeouts use tokio's timer directly: they bound real I/O.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
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

/// `at + d`, or the latest instant that can be represented when that overflows: a deadline
/// that far away is never reached, which is what an overflowing one means.
pub(crate) fn instant_after(at: Instant, d: Duration) -> Instant {
    if let Some(later) = at.checked_add(d) {
        return later;
    }
    let mut step = d;
    let mut out = at;
    while !step.is_zero() {
        match out.checked_add(step) {
            Some(later) => out = later,
            None => step /= 2,
        }
    }
    out
}

/// A clock for tests, driven by hand: time moves only by [`advance`](ManualClock::advance)
/// and by [`sleep`](Clock::sleep), which records the duration, moves time forward by it and
/// returns at once. Retries, backoff and `Retry-After` waits then cost no real time and can be
/// asserted exactly, and a token's expiry is reached by advancing the clock.
///
/// Its wall-clock time starts at a fixed instant (2023-11-14T22:13:20Z), so HTTP dates in
/// `Retry-After` are exact.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use ion_client::clock::{Clock, ManualClock};
/// use ion_client::{Config, Environment};
///
/// let clock = Arc::new(ManualClock::new());
/// let config = Config::builder()
///     .environment(Environment::staging())
///     .client_id("id")
///     .client_secret("secret")
///     .clock(clock.clone())
///     .build()?;
/// let start = clock.now();
/// clock.advance(Duration::from_secs(300)); // past a token's lifetime
/// assert_eq!(clock.now() - start, Duration::from_secs(300));
/// assert!(clock.sleeps().is_empty(), "no retry waited yet");
/// # Ok::<(), ion_client::Error>(())
/// ```
pub struct ManualClock {
    base: Instant,
    base_system: SystemTime,
    offset: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
    on_sleep: Mutex<Option<SleepHook>>,
}

type SleepHook = Box<dyn FnMut(Duration) + Send>;

/// The wall-clock time a [`ManualClock`] starts at.
const MANUAL_CLOCK_EPOCH: Duration = Duration::from_secs(1_700_000_000);

/// Locks a test clock's state; a panic in a hook cannot leave it inconsistent (each update is
/// one assignment), so a poisoned lock is used as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ManualClock {
    /// A clock at its start, with no sleep recorded.
    pub fn new() -> ManualClock {
        ManualClock {
            base: Instant::now(),
            base_system: SystemTime::UNIX_EPOCH + MANUAL_CLOCK_EPOCH,
            offset: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
            on_sleep: Mutex::new(None),
        }
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut offset = lock(&self.offset);
        *offset = offset.saturating_add(d);
    }

    /// Every duration slept so far (retry backoffs and `Retry-After` waits), in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        lock(&self.sleeps).clone()
    }

    /// Calls `hook` with each duration slept, after time has moved (to change the world while
    /// the client waits to retry, say).
    pub fn on_sleep(&self, hook: impl FnMut(Duration) + Send + 'static) {
        *lock(&self.on_sleep) = Some(Box::new(hook));
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("elapsed", &*lock(&self.offset))
            .field("sleeps", &lock(&self.sleeps).len())
            .finish_non_exhaustive()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        instant_after(self.base, *lock(&self.offset))
    }

    fn system_time(&self) -> SystemTime {
        let offset = *lock(&self.offset);
        self.base_system
            .checked_add(offset)
            .unwrap_or(self.base_system)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        lock(&self.sleeps).push(duration);
        self.advance(duration);
        if let Some(hook) = lock(&self.on_sleep).as_mut() {
            hook(duration);
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_saturate_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            instant_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let far = instant_after(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(1_000_000_000));
        assert_eq!(instant_after(far, Duration::MAX), far);
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new();
        let start = clock.now();
        clock.advance(Duration::from_secs(2));
        drop(clock.sleep(Duration::from_millis(500)));
        assert_eq!(clock.now() - start, Duration::from_millis(2_500));
        assert_eq!(clock.sleeps(), vec![Duration::from_millis(500)]);
        clock.advance(Duration::MAX);
        assert!(clock.now() > start, "saturates instead of overflowing");
    }
}
