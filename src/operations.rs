//! The starter operations generated from ion-client's own `queries/` (feature `starter`).
//!
//! One module per operation, named after the operation in snake case, holding `QUERY`,
//! `OPERATION_NAME`, `Variables`, `ResponseData` and the nested response types; the input
//! objects, enums and scalars they share are generated once in [`types`]. The typed methods are
//! on the [`StarterOperations`] trait: `use ion_client::operations::StarterOperations;`.

include!(concat!(env!("OUT_DIR"), "/operations.rs"));
