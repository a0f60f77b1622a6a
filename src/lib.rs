//! A typed client for the ION Factory OS GraphQL API.
//!
//! Operations live in `queries/*.graphql`; the build validates each against
//! `schema/ion.graphql` and generates a module per operation (see [`operations`]) and one typed
//! async method per operation on [`Client`].

mod client;
#[cfg(feature = "emulator")]
pub mod emulator;
mod nullable;
pub mod operation;
pub mod operations;
pub mod scalars;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use client::{Client, Error};
pub use nullable::Nullable;
pub use operation::{Operation, OperationKind, PageCursor, Paginated};

/// Re-exported so generated code and users share one version of `graphql_client`'s traits.
pub use graphql_client;
