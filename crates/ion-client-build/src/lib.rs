//! Validation and code generation for ion-client operations.

use std::path::PathBuf;

/// Configures and runs the generator from a `build.rs`.
#[derive(Debug, Default)]
pub struct Builder {
    schema: Option<PathBuf>,
    queries: Option<PathBuf>,
    runtime_path: Option<String>,
    output_file: Option<String>,
}

impl Builder {
    /// A builder with default settings.
    pub fn new() -> Self {
        Self::default()
    }
    /// The schema file.
    pub fn schema(mut self, path: impl Into<PathBuf>) -> Self {
        self.schema = Some(path.into());
        self
    }
    /// The queries directory.
    pub fn queries(mut self, path: impl Into<PathBuf>) -> Self {
        self.queries = Some(path.into());
        self
    }
    /// The path of the runtime crate in generated code.
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = Some(path.into());
        self
    }
    /// The file name written into `OUT_DIR`.
    pub fn output_file(mut self, name: impl Into<String>) -> Self {
        self.output_file = Some(name.into());
        self
    }
    /// Runs the generator, exiting the build script with diagnostics on failure.
    pub fn run_or_exit(self) {
        let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
        let name = self.output_file.unwrap_or_else(|| "operations.rs".into());
        std::fs::write(out.join(name), "// @generated\npub mod types {}\n")
            .expect("write generated file");
    }
}
