//! End-to-end tests of the client against the bundled emulator: typed generated operations
//! over real HTTP on 127.0.0.1, asserting exact counts from the emulator's counters (token
//! requests, GraphQL requests, mutations executed). Retries and token backoff wait on a
//! manual clock and token expiry moves with the emulator's clock, so nothing sleeps to
//! synchronise. Per-operation response snapshots live elsewhere; these tests cover flows.
#![cfg(all(feature = "starter", feature = "testing"))]
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "client/support.rs"]
mod support;

#[path = "client/auth.rs"]
mod auth;
#[path = "client/faults.rs"]
mod faults;
#[path = "client/reads.rs"]
mod reads;
#[path = "client/soak.rs"]
mod soak;
#[path = "client/writes.rs"]
mod writes;
