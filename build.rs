//! With the `starter` feature, validates `queries/` against the schema shipped inside
//! `ion-client-build` (the repository's `schema/ion.graphql`) and generates the starter
//! operations into `OUT_DIR/operations.rs`.
//! All the work lives in the `ion-client-build` crate, so it can be tested on its own and used by
//! applications' build scripts the same way. Without the feature there is nothing to do, and the
//! generator is not even compiled.

fn main() {
    #[cfg(feature = "starter")]
    ion_client_build::Builder::new()
        .queries("queries")
        .runtime_path("crate")
        .client_trait("StarterOperations")
        .output_file("operations.rs")
        .run_or_exit();
}
