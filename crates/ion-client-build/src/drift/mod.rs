//! Schema drift: what changed between two versions of a schema, and what that means for a set of
//! operations.
//!
//! ION changes its API; an operation that validated and decoded yesterday may not today. This
//! module answers two questions, for `ion schema diff` and `ion schema check --live`:
//!
//! - [`diff`]: every change between an old and a new schema, each classified in the style of
//!   graphql-inspector as [`Severity::Breaking`] (an existing client can fail), [`Severity::Dangerous`]
//!   (an existing client keeps working but may see something new or behave differently) or
//!   [`Severity::Safe`].
//! - [`impact`]: only the changes that touch given operations, each located at the selection,
//!   argument or variable that uses the changed part (`file:line:column`), with its
//!   [`Consequence`] for the code generated from the old schema.
//!
//! # The rules
//! - Removed: a type, field, argument, input field, enum value, union member, interface
//!   implementation, directive or root type is breaking.
//! - Types of output positions (fields) may only get stricter: `T` → `T!` and `[T]` → `[T!]`
//!   are safe; `T!` → `T`, a list item becoming nullable, or another named type is breaking.
//!   Input positions (arguments, input fields) are the mirror image: they may only get looser.
//! - Added: a required argument or input field (non-null, no default) is breaking; an enum
//!   value, a union member or an interface implementation is dangerous (a client that switches
//!   over them meets a case it does not know); any other addition is safe.
//! - A changed default value of an argument or input field is dangerous; a deprecation added
//!   or removed is safe.
//! - Descriptions are not compared: a schema pulled from ION carries ION's descriptions, ours
//!   carries our own, and neither changes what a client can do.
//!
//! # Consequences for generated code
//! [`impact`] validates the operations against the new schema (an operation that no longer
//! validates fails the build: [`Consequence::FailsToValidate`]), and otherwise judges by the
//! rules: an output that may now be null, or a leaf whose type changed, fails to decode
//! ([`Consequence::FailsToDecode`]); an input the server no longer accepts is rejected at run
//! time ([`Consequence::Rejected`]); a new enum value or possible type decodes into the generated
//! `Other` case ([`Consequence::KeepsWorking`]).
//!
//! # Example
//! ```
//! use ion_client_build::SourceFile;
//! use ion_client_build::drift::{self, Severity};
//!
//! let old = SourceFile::new("old.graphql", "type Query { run(id: ID!): Run } type Run { id: ID! status: String! }");
//! let new = SourceFile::new("new.graphql", "type Query { run(id: ID!): Run } type Run { id: ID! status: String }");
//! let changes = drift::diff(&old, &new)?;
//! assert_eq!(changes[0].severity, Severity::Breaking);
//! assert_eq!(changes[0].to_string(), "breaking: Run.status: type changed from String! to String");
//!
//! let query = SourceFile::new("queries/run.graphql", "query Run($id: ID!) {\n  run(id: $id) { status }\n}\n");
//! let impacts = drift::impact(&old, &new, &[query])?;
//! assert_eq!(
//!     impacts[0].to_string(),
//!     "queries/run.graphql:2:18: breaking: field `status`: Run.status: type changed from String! \
//!      to String; the generated code fails to decode a response where it is null or of the new type"
//! );
//! assert_eq!(drift::exit_code(impacts.iter().map(|i| i.severity)), 1);
//! # Ok::<(), ion_client_build::Diagnostics>(())
//! ```

mod diff;
mod impact;
mod types;

pub use diff::diff;
pub use impact::impact;
pub use types::{Change, ChangeKind, Consequence, Impact, Severity};

/// The exit status for a command reporting these severities: 1 when any is breaking, else 2
/// when any is dangerous, else 0 (nothing, or only safe changes).
pub fn exit_code(severities: impl IntoIterator<Item = Severity>) -> i32 {
    match severities.into_iter().max() {
        Some(Severity::Breaking) => 1,
        Some(Severity::Dangerous) => 2,
        Some(Severity::Safe) | None => 0,
    }
}
