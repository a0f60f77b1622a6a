//! The operations generated from `queries/` by `build.rs`.
//!
//! One module per operation, named after the operation in snake case, holding `QUERY`,
//! `OPERATION_NAME`, `Variables`, `ResponseData` and the nested response types; the input
//! objects, enums and scalars they share are generated once in [`types`].

include!(concat!(env!("OUT_DIR"), "/operations.rs"));
