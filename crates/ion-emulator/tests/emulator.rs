//! Integration tests of the ION emulator, over real HTTP on 127.0.0.1.
//!
//! One test binary; the modules under `tests/emulator/` group the tests by concern.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "emulator/support.rs"]
mod support;

#[path = "emulator/auth.rs"]
mod auth;
#[path = "emulator/conventions.rs"]
mod conventions;
#[path = "emulator/coverage.rs"]
mod coverage;
#[path = "emulator/data.rs"]
mod data;
#[path = "emulator/faults.rs"]
mod faults;
#[path = "emulator/handlers.rs"]
mod handlers;
#[path = "emulator/schemas.rs"]
mod schemas;
#[path = "emulator/storage.rs"]
mod storage;
