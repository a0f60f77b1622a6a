//! `Builder`: what a `build.rs` calls. Reads the schema and `queries/`, generates, writes the
//! files into `OUT_DIR` and tells cargo what to watch.

use std::path::{Path, PathBuf};

use crate::{
    DeprecationPolicy, Diagnostics, Generated, Options, SHIPPED_SCHEMA, SourceFile, files,
    generate_split,
};

/// Configures and runs the generator from a `build.rs`.
#[derive(Debug, Clone)]
pub struct Builder {
    /// `None`: the schema shipped with ion-client.
    schema: Option<PathBuf>,
    queries: PathBuf,
    output_file: String,
    options: Options,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            schema: None,
            queries: PathBuf::from("queries"),
            output_file: "ion_operations.rs".to_string(),
            options: Options::default(),
        }
    }
}

impl Builder {
    /// A builder with the defaults: the schema shipped with ion-client, `queries/`, methods on
    /// an `Operations` trait, runtime `::ion_client`, output `ion_operations.rs` (what
    /// `ion_client::include_operations!()` includes).
    pub fn new() -> Self {
        Self::default()
    }
    /// Use this schema file (relative to the crate root), for example one pulled with
    /// `ion schema pull`, instead of the schema shipped with ion-client.
    pub fn schema(mut self, path: impl Into<PathBuf>) -> Self {
        self.schema = Some(path.into());
        self
    }
    /// The queries directory (searched recursively for `*.graphql`).
    pub fn queries(mut self, path: impl Into<PathBuf>) -> Self {
        self.queries = path.into();
        self
    }
    /// The path of the runtime crate in generated code.
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.options.runtime_path = path.into();
        self
    }
    /// The name of the generated extension trait holding one method per operation.
    pub fn client_trait(mut self, name: impl Into<String>) -> Self {
        self.options.client_trait = name.into();
        self
    }
    /// Maps a custom scalar to a Rust type path.
    pub fn scalar(mut self, graphql: impl Into<String>, rust: impl Into<String>) -> Self {
        self.options.scalars.push((graphql.into(), rust.into()));
        self
    }
    /// What to do with deprecated fields.
    pub fn deprecations(mut self, policy: DeprecationPolicy) -> Self {
        self.options.deprecations = policy;
        self
    }
    /// The file name written into `OUT_DIR`.
    pub fn output_file(mut self, name: impl Into<String>) -> Self {
        self.output_file = name.into();
        self
    }

    /// Reads the inputs, generates, and writes `OUT_DIR/<output_file>` and the files it
    /// includes (see [`Generated::files`]); prints `cargo:rerun-if-changed` for every input
    /// and `cargo:warning` for every warning. A file whose text is unchanged is not rewritten,
    /// so its modification time, and rustc's view of it, stay as they were.
    ///
    /// # Errors
    /// I/O failures, and the diagnostics of an invalid schema or operation.
    pub fn run(&self) -> Result<Generated, Box<dyn std::error::Error>> {
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        let out_dir = std::env::var_os("OUT_DIR")
            .map(PathBuf::from)
            .ok_or("OUT_DIR is not set: run from a build script")?;
        let generated = self.generate_from(&root)?;
        let mut written = Vec::new();
        for (name, text) in &generated.files {
            let name = if name == "main" {
                &self.output_file
            } else {
                name
            };
            let path = out_dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&path, text)?;
            }
            written.push(path);
        }
        // Files of operations that are gone would otherwise stay behind, unused.
        let split_dir = out_dir.join(self.split_dir());
        if let Ok(entries) = std::fs::read_dir(&split_dir) {
            for entry in entries.flatten() {
                if !written.contains(&entry.path()) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        for w in &generated.warnings {
            println!("cargo:warning={w}");
        }
        Ok(generated)
    }

    /// The folder of the included files: the output file's name without `.rs`.
    fn split_dir(&self) -> String {
        self.output_file
            .strip_suffix(".rs")
            .unwrap_or(&self.output_file)
            .to_string()
    }

    /// Like [`Builder::run`] but returns the generated code instead of writing it.
    ///
    /// # Errors
    /// As [`Builder::run`].
    pub fn generate_from(&self, root: &Path) -> Result<Generated, Box<dyn std::error::Error>> {
        let schema = match &self.schema {
            Some(path) => {
                let schema_path = root.join(path);
                println!("cargo:rerun-if-changed={}", schema_path.display());
                let text = files::read_capped(&schema_path, files::MAX_SOURCE_BYTES)
                    .map_err(|e| format!("cannot read the schema: {e}"))?;
                SourceFile::new(path, text)
            }
            None => SourceFile::new("ion-client-build/schema/ion.graphql", SHIPPED_SCHEMA),
        };
        let queries_dir = root.join(&self.queries);
        println!("cargo:rerun-if-changed={}", queries_dir.display());
        let mut queries = Vec::new();
        for path in files::graphql_files(&queries_dir)? {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = files::read_capped(&path, files::MAX_SOURCE_BYTES)?;
            let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            queries.push(SourceFile::new(shown, text));
        }
        Ok(generate_split(
            &schema,
            &queries,
            &self.options,
            &self.split_dir(),
        )?)
    }

    /// Runs the generator; on failure prints every diagnostic and exits the build script with
    /// status 1, which fails the build.
    pub fn run_or_exit(self) {
        if let Err(e) = self.run() {
            if let Some(diags) = e.downcast_ref::<Diagnostics>() {
                for d in &diags.0 {
                    println!("cargo:warning={d}");
                }
            }
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// `builder.generate_from(root)` on a thread of its own, waited for a limited time: a
    /// blocking open fails the test instead of hanging it.
    fn bounded(builder: Builder, root: &Path) -> Result<Generated, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            let _ = tx.send(builder.generate_from(&root).map_err(|e| e.to_string()));
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("built or refused at once, not blocked")
    }

    fn mkfifo(path: &Path) {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
    }

    /// The build reads its inputs by the `files` rules: a FIFO among the queries or as the
    /// schema is refused without waiting for a writer, and a link to `/dev/zero` among the
    /// queries is refused by name, never read.
    #[test]
    fn inputs_that_are_not_regular_files_are_refused_unread() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("queries")).expect("mkdir");
        std::fs::write(root.join("queries/me.graphql"), "query Me { me { id } }").expect("write");
        mkfifo(&root.join("queries/pipe.graphql"));
        let err = bounded(Builder::new(), root).expect_err("a FIFO among the queries");
        assert!(
            err.ends_with("pipe.graphql is a named pipe, not a regular file"),
            "{err}"
        );

        std::fs::remove_file(root.join("queries/pipe.graphql")).expect("rm");
        std::os::unix::fs::symlink("/dev/zero", root.join("queries/zero.graphql")).expect("link");
        let err = bounded(Builder::new(), root).expect_err("a link among the queries");
        assert!(err.contains("zero.graphql is a symbolic link"), "{err}");

        std::fs::remove_file(root.join("queries/zero.graphql")).expect("rm");
        mkfifo(&root.join("schema.graphql"));
        let err = bounded(Builder::new().schema("schema.graphql"), root)
            .expect_err("a FIFO as the schema");
        assert!(
            err.starts_with("cannot read the schema: ")
                && err.ends_with("is a named pipe, not a regular file"),
            "{err}"
        );
        assert!(bounded(Builder::new(), root).is_ok(), "the rest builds");
    }
}
