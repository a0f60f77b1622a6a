//! Shared helpers: an emulator with the demo seed, and clients for it whose retries and token
//! backoff run on the library's `ManualClock`.

use std::sync::Arc;

pub use ion_client::clock::ManualClock;
use ion_client::testing::emulator::{Counters, Emulator, EmulatorOptions, Seed};
use ion_client::{Client, ConfigBuilder};

pub async fn demo() -> Emulator {
    match Emulator::start(EmulatorOptions::new().seed(Seed::Demo)).await {
        Ok(e) => e,
        Err(e) => panic!("emulator did not start: {e}"),
    }
}

/// A config for `emulator`'s first client ([`ion_client::testing::config_builder`]) whose
/// retries and token backoff run on `clock`.
pub fn config(emulator: &Emulator, clock: &Arc<ManualClock>) -> ConfigBuilder {
    ion_client::testing::config_builder(emulator)
        .expect("loopback environment")
        .clock(clock.clone())
}

pub fn client(builder: ConfigBuilder) -> Client {
    Client::new(builder.build().expect("config")).expect("client")
}

/// A new manual clock, shared between a test and its client.
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new())
}

/// An emulator, a manual clock and a client with the default policy.
pub async fn setup() -> (Emulator, Arc<ManualClock>, Client) {
    let e = demo().await;
    let clock = manual_clock();
    let c = client(config(&e, &clock));
    (e, clock, c)
}

/// `(token requests, GraphQL requests, mutations executed)`.
pub fn counts(c: Counters) -> (u64, u64, u64) {
    (c.token_requests, c.graphql_requests, c.mutations)
}

/// Held by the tests that read the process's live bytes (the soak, the large file) and by the
/// tests that allocate megabytes, so that no reading counts another test's buffers.
pub static MEMORY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
