//! The runtime's integration tests, one binary: every behaviour of the runtime against a mock
//! ION on 127.0.0.1, asserting exact counts of token requests, HTTP requests and mutations
//! executed. Time is driven by a manual clock; nothing sleeps to synchronise.

#[path = "runtime/support.rs"]
mod support;

#[path = "runtime/batch.rs"]
mod batch;
#[path = "runtime/config.rs"]
mod config;
#[path = "runtime/dispatch.rs"]
mod dispatch;
#[path = "runtime/hardening.rs"]
mod hardening;
#[path = "runtime/logging.rs"]
mod logging;
#[path = "runtime/pagination.rs"]
mod pagination;
#[path = "runtime/retries.rs"]
mod retries;
#[path = "runtime/tokens.rs"]
mod tokens;
