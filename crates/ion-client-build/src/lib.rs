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
//! One module per operation and two shared modules, each a module file of its own under
//! `OUT_DIR` declared by the main file (`ion_operations.rs`), so editing one operation leaves
//! the other files, and rustc's incremental results for them, untouched (`GENERATED.md` beside
//! this crate's manifest shows one operation whole, beside graphql_client's output for it):
//! - a `types` module with the enums and input objects the operations use, generated once and
//!   shared by all operations;
//! - a `fragments` module with one type per fragment that several operations use;
//! - one module per operation: `QUERY`, `OPERATION_NAME`, `Variables`, `ResponseData`, the
//!   nested response types, the fragments only this operation uses, and a unit struct
//!   implementing `graphql_client::GraphQLQuery` and `ion_client::Operation` (plus
//!   `ion_client::Paginated` when the operation pages);
//! - one async method per operation on `ion_client::Client`, as a trait (`Operations` by
//!   default), with `_pages` and `_nodes` returning `ion_client::Pages<Op>` and
//!   `ion_client::Nodes<Op>` for an operation that pages ([`pagination`] has the rule).
//!
//! Fields are snake_case. Response structs refuse unknown fields: a response holds exactly what
//! was selected, so anything else means the JSON answers another operation (a stale fixture, a
//! wrong endpoint).
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
//! cannot refuse an unknown one. A struct that holds fragments reads its keys flat, as any
//! other struct does, and builds the fragments' structs from them; it serializes flat too.
//!
//! # What each type derives, and how responses decode
//! - Response structs: `Debug, Clone, PartialEq`, and `Serialize` and `Deserialize` through
//!   one `ion_client::__private::decode_struct!` call per struct, which lists each field with
//!   its response key: the one list of wire names, so encoding and decoding cannot disagree
//!   (no serde `rename` attributes on response structs). It decodes as `#[derive(Deserialize)]`
//!   would (a key the struct does not have is an error, as is a key given twice; an absent key
//!   is `None` for a nullable or `@include`/`@skip` field, else an error) but refuses a JSON
//!   array, and serializes as `#[derive(Serialize)]` would (every field, under its key), at a
//!   fraction of the derives' compile time (`BENCHMARKS.md`).
//! - Input objects and `Variables`: `Debug, Clone, PartialEq, Serialize` (they are only sent;
//!   fields under `rename_all = "camelCase"`, with a `rename` where that does not give the
//!   GraphQL name), plus `Default` when every field may be omitted and otherwise a `new` that
//!   takes the required fields and omits the rest:
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
//! `assignedTo: UserInputFilters`, ...) which reach almost every other filter family. So a
//! relation filter is typed only when its family is generated anyway (an operation's variables
//! reach it without going through a relation); otherwise the field is `Nullable<Json>` and takes
//! the filter as JSON. `and_`/`or_` refer to their own family and are always typed. The families
//! generated grow with the operations, not with the schema (the generator test
//! `shared_queries_against_the_reference_schema_stay_lean` checks it).
//!
//! # IDs
//! GraphQL `ID` is `ion_client::Id`: built from an integer or a string, compared with the
//! integer ids ION returns (`Run.id: Int!`), read from a JSON number or string, and sent as a
//! number when it is an integer (as ION's documentation writes variables).

//! # Features
//! `codegen` (default): `generate` and `Builder`. Without it the crate validates, reports
//! diagnostics, compares schemas ([`drift`]) and applies the pagination rule, with no syn,
//! quote or prettyplease in its build (what the `ion` command line uses).

#![warn(missing_docs)]

#[cfg(feature = "codegen")]
mod builder;
#[cfg(feature = "codegen")]
mod codegen;
mod diagnostic;
pub mod drift;
pub mod files;
pub mod names;
pub mod pagination;
mod sources;

#[cfg(feature = "codegen")]
pub use builder::Builder;
pub use diagnostic::{Diagnostic, Diagnostics, Location, Place};
pub use sources::{
    Assembled, SourceFile, parse as parse_document, reachable, spreads, with_fragments,
};

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
    /// The name of the trait holding one method per operation, implemented for
    /// `ion_client::Client` (never inherent methods: an application's operations and
    /// ion-client's starter ones each live in their own trait).
    pub client_trait: String,
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
            client_trait: "Operations".to_string(),
            scalars: Vec::new(),
            deprecations: DeprecationPolicy::Warn,
        }
    }
}

/// The output of a generation run.
#[cfg(feature = "codegen")]
#[derive(Debug, Clone)]
pub struct Generated {
    /// The whole output as one file, every module inline: what tests read and what a caller
    /// that writes one file includes.
    pub code: String,
    /// The same output split for incremental compilation: the main file first (named
    /// `main`), then one module file per module, which the main file declares with the
    /// relative path that is its name (`#[path = "ion_operations/get_run.rs"] pub mod
    /// get_run;` for the main file `ion_operations.rs`). [`Builder::run`] writes these.
    pub files: Vec<(String, String)>,
    /// Non-fatal findings (deprecated fields, unused fragments, pagination hints).
    pub warnings: Vec<String>,
    /// The operations generated, by name, in output order.
    pub operations: Vec<String>,
}

/// Validates `queries` against `schema` and generates Rust, splitting the output under
/// `split_dir` (see [`Generated::files`]).
///
/// # Errors
/// Returns every diagnostic when the schema or any operation is invalid.
#[cfg(feature = "codegen")]
pub fn generate(
    schema: &SourceFile,
    queries: &[SourceFile],
    options: &Options,
) -> Result<Generated, Diagnostics> {
    generate_split(schema, queries, options, "ion_operations")
}

/// [`generate`], naming the folder of the split files (the main file's name without `.rs`).
#[cfg(feature = "codegen")]
pub(crate) fn generate_split(
    schema: &SourceFile,
    queries: &[SourceFile],
    options: &Options,
    split_dir: &str,
) -> Result<Generated, Diagnostics> {
    let schema = sources::load_schema(schema).map_err(Diagnostics)?;
    let mut warnings = Vec::new();
    let files = sources::validate_queries(&schema, queries, &mut warnings).map_err(Diagnostics)?;
    codegen::generate(&schema, &files, options, warnings, split_dir)
}

/// Validates `queries` against `schema` exactly as `generate` does, without generating.
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

/// Parses and validates `schema` as [`generate`] and [`validate`] do, for tools that need its
/// types (the `ion` command line checks each value of an import against its variable's type
/// with it).
///
/// # Errors
/// Returns every diagnostic, located, when the schema is invalid.
pub fn load_schema(
    schema: &SourceFile,
) -> Result<apollo_compiler::validation::Valid<apollo_compiler::Schema>, Diagnostics> {
    sources::load_schema(schema).map_err(Diagnostics)
}

/// The ION schema shipped with this crate (`schema/ion.graphql`), used when a build names no
/// schema of its own.
pub const SHIPPED_SCHEMA: &str = include_str!("../schema/ion.graphql");
