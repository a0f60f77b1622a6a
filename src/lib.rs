//! A typed client for the ION Factory OS GraphQL API.
//!
//! Operations live in `queries/*.graphql`; the build validates each against
//! `schema/ion.graphql` and generates a module per operation (see [`operations`]) and one typed
//! async method per operation on [`Client`].
//!
//! The runtime: [`Environment`] names the ION deployment, [`Config`] holds credentials and
//! limits (from code or `ION_*` variables), and [`Client`] caches tokens, sends operations
//! (typed, batched, paginated or raw) and retries them under the [`retry`] policy. Every
//! failure is an [`Error`] whose [`ErrorKind`] says what the caller can do.

pub mod operation;
pub mod operations;

pub mod auth;
mod batch;
mod client;
pub mod clock;
pub mod config;
pub mod environment;
pub mod error;
mod pagination;
pub mod retry;
mod transport;

pub use operation::{Operation, OperationKind, PageCursor, Paginated};

pub use batch::{Batch, BatchResponse, BatchSlot};
pub use client::Client;
pub use clock::{Clock, SystemClock};
pub use config::{AuthScheme, Config, ConfigBuilder};
pub use environment::{Environment, Region, Stage};
pub use error::{Error, ErrorKind, GraphqlError, TransportFailure};
pub use retry::RetryPolicy;

/// Re-exported so generated code and users share one version of `graphql_client`'s traits.
pub use graphql_client;
