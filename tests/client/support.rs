//! Shared helpers: an emulator with the demo seed, a client pointed at it, a manual clock.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ion_client::clock::{Clock, Sleep};
use ion_client::testing::emulator::{Counters, Emulator, EmulatorOptions, Seed};
use ion_client::{Client, Config, ConfigBuilder, Environment, RetryPolicy};

pub async fn demo() -> Emulator {
    match Emulator::start(EmulatorOptions::new().seed(Seed::Demo)).await {
        Ok(e) => e,
        Err(e) => panic!("emulator did not start: {e}"),
    }
}

/// A config for `emulator`'s first client whose retries and token backoff run on `clock`.
pub fn config(emulator: &Emulator, clock: &Arc<ManualClock>) -> ConfigBuilder {
    let env = Environment::custom(&emulator.api_base(), &emulator.token_url())
        .expect("loopback environment");
    Config::builder()
        .environment(env)
        .client_id(emulator.client_id())
        .client_secret(emulator.client_secret())
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .retry_policy(RetryPolicy::default())
}

pub fn client(builder: ConfigBuilder) -> Client {
    Client::new(builder.build().expect("config")).expect("client")
}

/// An emulator, a manual clock and a client with the default policy.
pub async fn setup() -> (Emulator, Arc<ManualClock>, Client) {
    let e = demo().await;
    let clock = ManualClock::new();
    let c = client(config(&e, &clock));
    (e, clock, c)
}

/// `(token requests, GraphQL requests, mutations executed)`.
pub fn counts(c: Counters) -> (u64, u64, u64) {
    (c.token_requests, c.graphql_requests, c.mutations)
}

/// A clock driven by hand: `sleep` records the duration, moves time forward by it and
/// returns at once, so backoff and `Retry-After` cost no real time and are asserted exactly.
pub struct ManualClock {
    base: Instant,
    base_system: SystemTime,
    offset: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock").finish_non_exhaustive()
    }
}

impl ManualClock {
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            base: Instant::now(),
            base_system: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            offset: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
        })
    }
    pub fn advance(&self, d: Duration) {
        *self.offset.lock().unwrap() += d;
    }
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.lock().unwrap()
    }
    fn system_time(&self) -> SystemTime {
        self.base_system + *self.offset.lock().unwrap()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleeps.lock().unwrap().push(duration);
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}
