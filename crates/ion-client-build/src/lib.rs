//! Validation and code generation for ion-client operations.
//!
//! `ion-client-build` turns `.graphql` operation files into typed Rust that calls the
//! `ion_client` runtime. It is what ion-client's own `build.rs` runs, and what an application
//! crate's `build.rs` runs to get typed functions for its own queries:
//!
//! ```no_run
//! // build.rs
//! ion_client_build::Builder::new()
//!     .schema("schema/ion.graphql")
//!     .queries("queries")
//!     .run_or_exit();
//! ```
//!
//! # What it checks
//! Every operation is validated against the schema with apollo-compiler (the full GraphQL
//! validation rules, unused variables and wrong argument types included). A build with any
//! invalid operation fails with every diagnostic at once, each naming `file:line:column`.
//!
//! # What it generates
//! One file (see `GENERATED.md` beside this crate's manifest for a whole example, and how it
//! compares with graphql_client's output):
//! - a `types` module with the enums and input objects the operations use, generated once and
//!   shared by all operations;
//! - a `fragments` module with one type per fragment that several operations use;
//! - one module per operation: `QUERY`, `OPERATION_NAME`, `Variables`, `ResponseData`, the
//!   nested response types, the fragments only this operation uses, and a unit struct
//!   implementing `graphql_client::GraphQLQuery` and `ion_client::Operation` (plus
//!   `ion_client::Paginated` when the operation pages);
//! - one async method per operation on `ion_client::Client`, as a trait (`Operations` by
//!   default).
//!
//! Every struct derives `Debug`, `Clone`, `PartialEq` and serde's traits through one `use` per
//! module; fields are snake_case under `rename_all = "camelCase"`, with a `rename` only where
//! that does not give the GraphQL name (`_etag`, `Etag`, `__typename`). Response structs refuse
//! unknown fields: a response holds exactly what was selected, so anything else means the JSON
//! answers another operation (a stale fixture, a wrong endpoint).
//!
//! # Fragments
//! A fragment is a type: in the `fragments` module when more than one operation uses it, in the
//! operation's module when only one does.
//! - A selection that is only a spread (`part { ...PartSummary }`) has the fragment's type, so
//!   the same fragment in two places is one Rust type: `get_run`'s `run.part` and the `Part`
//!   variant of `run.attributes.ionValue` are both `fragments::PartSummary`.
//! - A selection that spreads a fragment and adds fields (`run { ...RunSummary description }`)
//!   holds the fragment as a named field (`run.run_summary.id`, `run.description`).
//! - A spread whose response keys another selection of the same object also has (`{ ...Ids id }`)
//!   is merged into the struct instead: one JSON value cannot fill two fields. So is a spread
//!   under `@include`/`@skip`, or on a type other than the object's.
//! - On an interface or union the type is an enum by `__typename` with an `Other` fallback; a
//!   variant that is only a spread holds the fragment's type, and its `typename()` comes from the
//!   variant.
//!
//! Named field, not `#[serde(flatten)]`: `flatten` decodes through a buffer of every field and
//! cannot refuse an unknown one. A struct that holds fragments decodes through a flat private
//! `…Wire` struct (which refuses unknown fields) and moves the fields into place; it serializes
//! with `flatten`, which writes the same flat object. Measured with serde_json in a release build, decoding a 500-node page whose nodes are a 10-field `RunSummary` plus two
//! fields, on a loaded 2-core machine (three runs each, so read the ratios): fields inlined in
//! one struct 0.85–1.4 ms, the fragment as a named field through the wire struct 0.80–1.1 ms,
//! `#[serde(flatten)]` 1.3–2.1 ms; inlined and named refuse an unknown field, flatten accepts it.
//!
//! # What each type derives, and how responses decode
//! - Response structs: `Debug, Clone, PartialEq, Serialize` (so `insta`'s JSON and debug
//!   snapshots work), and `Deserialize` through one `ion_client::__private::decode_struct!` call
//!   per struct rather than `#[derive(Deserialize)]`. It decodes as the derive would (a key the
//!   struct does not have is an error, as is a key given twice; an absent key is `None` for a
//!   nullable or `@include`/`@skip` field, else an error) without the derive's per-struct field
//!   enum and visitor and its sequence form. Checking those bodies was most of a generated
//!   crate's build: for 76 operations of ION's published examples (`rustc -Z time-passes`, no
//!   incremental cache), rustc spent 21.6 s on the crate with the derive, 9.4 s with the macro,
//!   6.0-6.7 s with decoding stubbed out and 2.5 s with no derives at all, against 16.8 s for
//!   graphql_client's derive with the same four derives on its response types.
//! - Input objects and `Variables`: `Debug, Clone, PartialEq, Serialize` (they are only sent),
//!   plus `Default` when every field may be omitted and otherwise a `new` that takes the
//!   required fields and omits the rest:
//!   `UpdateRunInput { title: Nullable::Value(t), ..UpdateRunInput::new(id, etag) }`.
//! - Enums: `Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord`, with an `Other(String)` for
//!   values newer than the schema.
//!
//! # Names
//! Types are named relative to their module, after the response keys that lead to them:
//! - the struct of a root field is the field's name (`get_run::Run`, `list_runs::Runs`);
//! - a nested struct is the keys below the root field (`run.attributes.ionValue` →
//!   `AttributesIonValue`, `createPurchaseOrderLine.purchaseOrderLine.part` →
//!   `PurchaseOrderLinePart`);
//! - a fragment's type is the fragment's name, and the types nested in it are prefixed with it
//!   (`PurchaseOrderLineSummaryPart`);
//! - an abstract type's variants are the enum's name plus the object type (`SubjectThing`) and
//!   `…Other`.
//!
//! Collisions, in the order the selection declares them:
//! - a root field whose name is taken (by the operation's unit struct, as every ION mutation's
//!   is, by `Variables`, `ResponseData`, `Node`, a fragment of the module, or the `Serialize`,
//!   `Deserialize` and `Nullable` imports) gets the suffix `Payload`
//!   (`create_run::CreateRunPayload`);
//! - a nested name already taken gets the root field's key in front (`a.edges` → `Edges`, then
//!   `b.edges` → `BEdges`);
//! - whatever is still taken gets the first free number (`Thing2`).
//!
//! Fields and enum values follow the rules in [`names`].
//!
//! # Lean shared types
//! Input objects and enums are generated when an operation's variables reach them. ION's list
//! filters (`RunsInputFilters`) hold relation filters (`part: PartsInputFilters`,
//! `assignedTo: UserInputFilters`, ...) which reach almost every other filter family: counted over
//! the complete reference schema, the 19 input types `queries/` names reach 156 input objects
//! (2,587 fields) through them, against 45 (866 fields) without. So a relation filter is typed only when its family is
//! generated anyway (an operation's variables reach it without going through a relation);
//! otherwise the field is `Nullable<Json>` and takes the filter as JSON. `and_`/`or_` refer to
//! their own family and are always typed. The families generated grow with the operations, not
//! with the schema: ion-client's `queries/` names 12 `*InputFilters` types and gets those 12,
//! against the shipped and the reference schema alike (the generator test
//! `queries_against_the_reference_schema_stay_lean` checks it), where following every relation
//! gave 40 families with the shipped schema.
//!
//! # IDs
//! GraphQL `ID` is `ion_client::Id`: built from an integer or a string, compared with the
//! integer ids ION returns (`Run.id: Int!`), read from a JSON number or string, and sent as a
//! number when it is an integer (as ION's documentation writes variables).

#![warn(missing_docs)]

mod codegen;
pub mod drift;
pub mod names;
pub mod pagination;
mod sources;

use std::fmt;
use std::path::{Path, PathBuf};

pub use sources::SourceFile;

/// Where the generated per-operation methods go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMethods {
    /// `impl Client { ... }`: only possible inside the `ion_client` crate itself.
    Inherent,
    /// A trait with this name, implemented for `ion_client::Client` (for application crates).
    Trait(String),
}

/// What to do when an operation selects a deprecated field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeprecationPolicy {
    /// Print a cargo warning naming `file:line:column` (the default).
    Warn,
    /// Fail the build.
    Deny,
    /// Say nothing.
    Allow,
}

/// Options for one generation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the runtime crate in generated code (`crate` inside ion-client, `::ion_client`
    /// elsewhere).
    pub runtime_path: String,
    /// Where the per-operation methods go.
    pub client_methods: ClientMethods,
    /// Custom scalar → Rust type overrides (a path such as `my_crate::Money`), on top of the
    /// built-in mapping of ION's scalars. Overriding types must implement serde's traits,
    /// `Debug`, `Clone` and `PartialEq`.
    pub scalars: Vec<(String, String)>,
    /// Deprecated-field policy.
    pub deprecations: DeprecationPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime_path: "::ion_client".to_string(),
            client_methods: ClientMethods::Trait("Operations".to_string()),
            scalars: Vec::new(),
            deprecations: DeprecationPolicy::Warn,
        }
    }
}

/// One problem found in the schema or an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `file:line:column`.
    pub location: String,
    /// What is wrong, naming the offending name or value.
    pub message: String,
    /// The rendered report with source excerpts (may be empty).
    pub report: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.location, self.message)
    }
}

/// Every problem that stopped generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} error(s) in GraphQL sources:", self.0.len())?;
        for d in &self.0 {
            writeln!(f, "{d}")?;
            if !d.report.is_empty() {
                writeln!(f, "{}", d.report.trim_end())?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The output of a generation run.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The formatted Rust source.
    pub code: String,
    /// Non-fatal findings (deprecated fields, unused fragments, pagination hints).
    pub warnings: Vec<String>,
    /// The operations generated, by name, in output order.
    pub operations: Vec<String>,
}

/// Validates `queries` against `schema` and generates Rust.
///
/// # Errors
/// Returns every diagnostic when the schema or any operation is invalid.
pub fn generate(
    schema: &SourceFile,
    queries: &[SourceFile],
    options: &Options,
) -> Result<Generated, Diagnostics> {
    let schema = sources::load_schema(schema).map_err(Diagnostics)?;
    let mut warnings = Vec::new();
    let files = sources::validate_queries(&schema, queries, &mut warnings).map_err(Diagnostics)?;
    codegen::generate(&schema, &files, options, warnings)
}

/// Validates `queries` against `schema` exactly as [`generate`] does, without generating.
/// Returns the non-fatal findings (deprecated fields, unused fragments).
///
/// # Errors
/// Returns every diagnostic when the schema or any operation is invalid.
pub fn validate(schema: &SourceFile, queries: &[SourceFile]) -> Result<Vec<String>, Diagnostics> {
    let schema = sources::load_schema(schema).map_err(Diagnostics)?;
    let mut warnings = Vec::new();
    sources::validate_queries(&schema, queries, &mut warnings).map_err(Diagnostics)?;
    Ok(warnings)
}

/// Parses one GraphQL document (operations and fragments) without a schema.
///
/// # Errors
/// The syntax errors, each located as `file:line:column`.
pub fn parse_document(file: &SourceFile) -> Result<apollo_compiler::ast::Document, Diagnostics> {
    apollo_compiler::ast::Document::parse(file.text.as_str(), &file.path)
        .map_err(|e| Diagnostics(sources::diagnostics(&e.errors)))
}

/// The names of the fragments spread anywhere in `set` (through fields and inline fragments;
/// not into the spread fragments themselves), in document order.
pub fn fragment_spreads(set: &[apollo_compiler::ast::Selection], out: &mut Vec<String>) {
    sources::spreads(set, out)
}

/// The ION schema shipped with this crate (`schema/ion.graphql`), used when a build names no
/// schema of its own.
pub const SHIPPED_SCHEMA: &str = include_str!("../schema/ion.graphql");

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
    /// Generate inherent methods on `Client` (only inside ion-client itself).
    pub fn inherent_client_methods(mut self) -> Self {
        self.options.client_methods = ClientMethods::Inherent;
        self
    }
    /// The name of the generated extension trait holding one method per operation.
    pub fn client_trait(mut self, name: impl Into<String>) -> Self {
        self.options.client_methods = ClientMethods::Trait(name.into());
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

    /// Reads the inputs, generates, and writes `OUT_DIR/<output_file>`; prints
    /// `cargo:rerun-if-changed` for every input and `cargo:warning` for every warning.
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
        std::fs::write(out_dir.join(&self.output_file), &generated.code)?;
        for w in &generated.warnings {
            println!("cargo:warning={w}");
        }
        Ok(generated)
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
                let text = std::fs::read_to_string(&schema_path)
                    .map_err(|e| format!("cannot read schema {}: {e}", schema_path.display()))?;
                SourceFile::new(path, text)
            }
            None => SourceFile::new("ion-client-build/schema/ion.graphql", SHIPPED_SCHEMA),
        };
        let queries_dir = root.join(&self.queries);
        println!("cargo:rerun-if-changed={}", queries_dir.display());
        let mut queries = Vec::new();
        for path in sources::graphql_files(&queries_dir)
            .map_err(|e| format!("cannot read queries in {}: {e}", queries_dir.display()))?
        {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            queries.push(SourceFile::new(shown, text));
        }
        Ok(generate(&schema, &queries, &self.options)?)
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
