//! Validates `queries/` against `schema/ion.graphql` and generates the typed operations.
//! All the work lives in the `ion-client-build` crate so it can be tested on its own.

fn main() {
    ion_client_build::Builder::new()
        .schema("schema/ion.graphql")
        .queries("queries")
        .runtime_path("crate")
        .output_file("operations.rs")
        .run_or_exit();
}
