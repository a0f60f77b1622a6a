//! The ion-client repository's maintenance commands, as a library the tests can reach
//! (`cargo xtask --help` lists the commands; `main.rs` is their command line).

pub mod schema_sync;
pub mod timings;

pub use schema_sync::{
    REFERENCE_SCHEMA, SCHEMA_HEADER, SyncError, deprecation_reason, reachable_types, synced_schema,
};
