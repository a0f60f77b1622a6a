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
