//! A typed client for the ION Factory OS GraphQL API.
//!
//! Your operations live in `.graphql` files; `ion-client-build` (a build-dependency) validates
//! each against ION's schema and generates a module per operation and one typed async method
//! per operation on an `Operations` trait implemented for [`Client`]
//! (see [`include_operations!`]).
//!
//! The runtime: [`Environment`] names the ION deployment, [`Config`] holds credentials and
//! limits (from code or `ION_*` variables), and [`Client`] caches tokens, sends operations
//! (typed, batched, paginated or raw) and retries them under the [`retry`] policy; [`bulk`]
//! runs one operation over many inputs inside ION's rate limits, with an outcome per input. Files attach to
//! and download from ION's storage in one call each ([`files`]).
//! Every failure is an [`Error`] whose [`ErrorKind`] says what the caller can do.
//!
//! # Features
//! None is on by default: the runtime alone brings no server, command line or test crate.
//! - `starter`: 44 ready-made operations (runs, steps, procedures, parts, inventory,
//!   purchasing, receiving, issues, users, files) as `ion_client::operations` and the
//!   `operations::StarterOperations` trait. A trait, never inherent methods, so an
//!   application's own operation of the same name always wins (or, with both traits
//!   imported, fails to compile loudly).
//! - `testing`: `ion_client::testing`: the local ION emulator with a configured client in one
//!   call, redactions for snapshots, record/replay fixtures.
//!
//! The `ion` command line is its own crate, `ion-cli`.

pub mod auth;
mod batch;
pub mod bulk;
mod client;
pub mod clock;
pub mod config;
mod document;
pub mod environment;
pub mod error;
pub mod files;
mod id;
mod nullable;
pub mod operation;
#[cfg(feature = "starter")]
pub mod operations;
pub mod pagination;
#[cfg(test)]
mod properties;
mod quick_json;
mod response;
pub mod retry;
pub mod scalars;
mod secret;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
mod wire;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use auth::AccessToken;
pub use batch::{Batch, BatchResponse, BatchSlot};
pub use client::{Client, RawRequest};
pub use clock::{Clock, SystemClock};
pub use config::{AuthScheme, Config, ConfigBuilder};
pub use environment::{Environment, Region, Stage};
pub use error::{Cleanup, Error, ErrorKind, GraphqlError, TransportFailure};
pub use files::{AttachFile, Attachment, DownloadFile, Downloaded, FileSource, Progress};
pub use id::Id;
pub use nullable::Nullable;
pub use operation::{Operation, OperationKind, PageCursor, Paginated};
pub use pagination::{Nodes, Pages};
pub use retry::RetryPolicy;

/// Includes the operations that `ion_client_build::Builder` generated for this crate's
/// `queries/` (from its `build.rs`): the `types` module, one module per operation, and the
/// `Operations` trait with one typed method per operation on [`Client`].
///
/// ```ignore
/// ion_client::include_operations!();
/// // or, for a custom `Builder::output_file`:
/// ion_client::include_operations!("my_operations.rs");
/// ```
#[macro_export]
macro_rules! include_operations {
    () => {
        include!(concat!(env!("OUT_DIR"), "/ion_operations.rs"));
    };
    ($file:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $file));
    };
}

/// Re-exported so generated code and users share one version of `graphql_client`'s traits.
pub use graphql_client;
