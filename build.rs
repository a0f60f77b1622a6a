//! Validates `queries/` against `schema/ion.graphql` and generates the typed operations into
//! `OUT_DIR/operations.rs`. All the work lives in the `ion-client-build` crate, so it can be
//! tested on its own and used by applications' build scripts the same way.

fn main() {
    ion_client_build::Builder::new()
        .schema("schema/ion.graphql")
        .queries("queries")
        .runtime_path("crate")
        .inherent_client_methods()
        .output_file("operations.rs")
        .run_or_exit();
}
