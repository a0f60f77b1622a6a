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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use apollo_compiler::ast::{self, OperationType, Type};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::executable::{self, ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::parser::{LineColumn, SourceMap, SourceSpan};
use apollo_compiler::schema::{Component, ExtendedType, FieldDefinition, InputValueDefinition};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Node, Schema};

use crate::{Diagnostics, SourceFile, sources};

/// How much a change can hurt an existing client. Ordered from harmless to harmful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing an existing client does stops working.
    Safe,
    /// Existing clients keep working, but may meet a value they do not know or see the server
    /// behave differently.
    Dangerous,
    /// An existing client can fail (to validate, to decode, or at the server).
    Breaking,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Safe => "safe",
            Severity::Dangerous => "dangerous",
            Severity::Breaking => "breaking",
        })
    }
}

/// The exit status for a command reporting these severities: 1 when any is breaking, else 2
/// when any is dangerous, else 0 (nothing, or only safe changes).
pub fn exit_code(severities: impl IntoIterator<Item = Severity>) -> i32 {
    match severities.into_iter().max() {
        Some(Severity::Breaking) => 1,
        Some(Severity::Dangerous) => 2,
        Some(Severity::Safe) | None => 0,
    }
}

/// One difference between two schemas, at one schema coordinate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// How much it can hurt an existing client.
    pub severity: Severity,
    /// Where: `Type`, `Type.field`, `Type.field(argument:)`, `Enum.VALUE`, `Input.field`,
    /// `@directive`, or `schema` for the root operation types.
    pub coordinate: String,
    /// What changed.
    pub kind: ChangeKind,
}

impl fmt::Display for Change {
    /// One line: `severity: coordinate: what changed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.severity, self.coordinate, self.kind)
    }
}

/// What kind of change happened at a [`Change::coordinate`]. Types are printed in SDL
/// notation (`[Run!]!`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// The type is gone.
    TypeRemoved {
        /// `object`, `interface`, `union`, `enum`, `input object` or `scalar`.
        kind: &'static str,
    },
    /// A new type.
    TypeAdded {
        /// As in [`ChangeKind::TypeRemoved`].
        kind: &'static str,
    },
    /// Same name, another kind of type.
    TypeKindChanged {
        /// The old kind.
        from: &'static str,
        /// The new kind.
        to: &'static str,
    },
    /// The root type of an operation kind changed (or appeared, or went away).
    RootChanged {
        /// `query`, `mutation` or `subscription`.
        operation: &'static str,
        /// The old root type.
        from: Option<String>,
        /// The new root type.
        to: Option<String>,
    },
    /// A field of an object or interface type is gone.
    FieldRemoved,
    /// A new field of an object or interface type.
    FieldAdded,
    /// A field's type changed.
    FieldTypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// A field argument is gone.
    ArgumentRemoved,
    /// A new field argument.
    ArgumentAdded {
        /// Its type.
        ty: String,
        /// Non-null without a default: every existing use lacks it.
        required: bool,
    },
    /// An argument's type changed.
    ArgumentTypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// An input object field is gone.
    InputFieldRemoved,
    /// A new input object field.
    InputFieldAdded {
        /// Its type.
        ty: String,
        /// Non-null without a default: every existing value lacks it.
        required: bool,
    },
    /// An input object field's type changed.
    InputFieldTypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// The default value of an argument or input field changed (or appeared, or went away).
    DefaultChanged {
        /// The old default, in GraphQL syntax.
        from: Option<String>,
        /// The new default.
        to: Option<String>,
    },
    /// An enum value is gone.
    EnumValueRemoved,
    /// A new enum value.
    EnumValueAdded,
    /// A union lost a member.
    UnionMemberRemoved {
        /// The member.
        member: String,
    },
    /// A union gained a member.
    UnionMemberAdded {
        /// The member.
        member: String,
    },
    /// A type no longer implements an interface.
    InterfaceRemoved {
        /// The interface.
        interface: String,
    },
    /// A type now implements an interface.
    InterfaceAdded {
        /// The interface.
        interface: String,
    },
    /// A directive definition is gone.
    DirectiveRemoved,
    /// A new directive definition.
    DirectiveAdded,
    /// The element is now deprecated.
    DeprecationAdded {
        /// The server's reason, when it gives one.
        reason: Option<String>,
    },
    /// The element is no longer deprecated.
    DeprecationRemoved,
}

fn show(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("none")
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeKind::TypeRemoved { kind } => write!(f, "{kind} type removed"),
            ChangeKind::TypeAdded { kind } => write!(f, "{kind} type added"),
            ChangeKind::TypeKindChanged { from, to } => {
                write!(f, "changed from {from} type to {to} type")
            }
            ChangeKind::RootChanged {
                operation,
                from,
                to,
            } => write!(
                f,
                "{operation} root type changed from {} to {}",
                show(from),
                show(to)
            ),
            ChangeKind::FieldRemoved => f.write_str("field removed"),
            ChangeKind::FieldAdded => f.write_str("field added"),
            ChangeKind::ArgumentRemoved => f.write_str("argument removed"),
            ChangeKind::InputFieldRemoved => f.write_str("input field removed"),
            ChangeKind::FieldTypeChanged { from, to }
            | ChangeKind::ArgumentTypeChanged { from, to }
            | ChangeKind::InputFieldTypeChanged { from, to } => {
                write!(f, "type changed from {from} to {to}")
            }
            ChangeKind::ArgumentAdded { ty, required } => {
                let required = if *required { "required" } else { "optional" };
                write!(f, "{required} argument added ({ty})")
            }
            ChangeKind::InputFieldAdded { ty, required } => {
                let required = if *required { "required" } else { "optional" };
                write!(f, "{required} input field added ({ty})")
            }
            ChangeKind::DefaultChanged { from, to } => {
                write!(
                    f,
                    "default value changed from {} to {}",
                    show(from),
                    show(to)
                )
            }
            ChangeKind::EnumValueRemoved => f.write_str("enum value removed"),
            ChangeKind::EnumValueAdded => f.write_str("enum value added"),
            ChangeKind::UnionMemberRemoved { member } => write!(f, "member {member} removed"),
            ChangeKind::UnionMemberAdded { member } => write!(f, "member {member} added"),
            ChangeKind::InterfaceRemoved { interface } => {
                write!(f, "no longer implements {interface}")
            }
            ChangeKind::InterfaceAdded { interface } => write!(f, "now implements {interface}"),
            ChangeKind::DirectiveRemoved => f.write_str("directive removed"),
            ChangeKind::DirectiveAdded => f.write_str("directive added"),
            ChangeKind::DeprecationAdded {
                reason: Some(reason),
            } => {
                write!(f, "deprecated ({reason})")
            }
            ChangeKind::DeprecationAdded { reason: None } => f.write_str("deprecated"),
            ChangeKind::DeprecationRemoved => f.write_str("no longer deprecated"),
        }
    }
}

/// Every change from `old` to `new`, most severe first, then by coordinate.
///
/// # Errors
/// The diagnostics of either schema when it does not parse or validate.
pub fn diff(old: &SourceFile, new: &SourceFile) -> Result<Vec<Change>, Diagnostics> {
    let (old, new) = load_both(old, new)?;
    Ok(diff_schemas(&old, &new))
}

fn load_both(
    old: &SourceFile,
    new: &SourceFile,
) -> Result<(Valid<Schema>, Valid<Schema>), Diagnostics> {
    let old_schema = sources::load_schema(old);
    let new_schema = sources::load_schema(new);
    match (old_schema, new_schema) {
        (Ok(old), Ok(new)) => Ok((old, new)),
        (old, new) => Err(Diagnostics(
            old.err().into_iter().chain(new.err()).flatten().collect(),
        )),
    }
}

/// Collects changes while comparing.
struct Changes(Vec<Change>);

impl Changes {
    fn add(&mut self, severity: Severity, coordinate: impl Into<String>, kind: ChangeKind) {
        self.0.push(Change {
            severity,
            coordinate: coordinate.into(),
            kind,
        });
    }

    fn deprecation(&mut self, at: &str, old: &ast::DirectiveList, new: &ast::DirectiveList) {
        match (old.get("deprecated"), new.get("deprecated")) {
            (None, Some(directive)) => self.add(
                Severity::Safe,
                at,
                ChangeKind::DeprecationAdded {
                    reason: directive
                        .specified_argument_by_name("reason")
                        .and_then(|value| value.as_str())
                        .map(str::to_string),
                },
            ),
            (Some(_), None) => self.add(Severity::Safe, at, ChangeKind::DeprecationRemoved),
            _ => {}
        }
    }
}

fn kind_name(ty: &ExtendedType) -> &'static str {
    match ty {
        ExtendedType::Scalar(_) => "scalar",
        ExtendedType::Object(_) => "object",
        ExtendedType::Interface(_) => "interface",
        ExtendedType::Union(_) => "union",
        ExtendedType::Enum(_) => "enum",
        ExtendedType::InputObject(_) => "input object",
    }
}

/// Whether an output position typed `old` may now be typed `new` without an existing reader
/// failing: only stricter (non-null added, at any list level).
fn safe_for_output(old: &Type, new: &Type) -> bool {
    if new.is_non_null() {
        return safe_for_output(&old.clone().nullable(), &new.clone().nullable());
    }
    match (old, new) {
        (Type::Named(a), Type::Named(b)) => a == b,
        (Type::List(a), Type::List(b)) => safe_for_output(a, b),
        _ => false,
    }
}

/// Whether an input position typed `old` may now be typed `new` without an existing writer
/// failing: only looser (non-null removed, at any list level).
fn safe_for_input(old: &Type, new: &Type) -> bool {
    if old.is_non_null() {
        return safe_for_input(&old.clone().nullable(), &new.clone().nullable());
    }
    match (old, new) {
        (Type::Named(a), Type::Named(b)) => a == b,
        (Type::List(a), Type::List(b)) => safe_for_input(a, b),
        _ => false,
    }
}

fn default_text(value: &InputValueDefinition) -> Option<String> {
    value.default_value.as_ref().map(|v| v.to_string())
}

fn is_required(value: &InputValueDefinition) -> bool {
    value.ty.is_non_null() && value.default_value.is_none()
}

fn diff_schemas(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Changes(Vec::new());
    for (label, operation) in [
        ("query", OperationType::Query),
        ("mutation", OperationType::Mutation),
        ("subscription", OperationType::Subscription),
    ] {
        let (from, to) = (old.root_operation(operation), new.root_operation(operation));
        if from != to {
            // Gaining a root (say, mutations) is an addition; losing or swapping one breaks
            // every operation of that kind.
            let severity = if from.is_none() {
                Severity::Safe
            } else {
                Severity::Breaking
            };
            out.add(
                severity,
                "schema",
                ChangeKind::RootChanged {
                    operation: label,
                    from: from.map(|n| n.to_string()),
                    to: to.map(|n| n.to_string()),
                },
            );
        }
    }
    for (name, directive) in &old.directive_definitions {
        if !directive.is_built_in() && !new.directive_definitions.contains_key(name) {
            out.add(
                Severity::Breaking,
                format!("@{name}"),
                ChangeKind::DirectiveRemoved,
            );
        }
    }
    for (name, directive) in &new.directive_definitions {
        if !directive.is_built_in() && !old.directive_definitions.contains_key(name) {
            out.add(
                Severity::Safe,
                format!("@{name}"),
                ChangeKind::DirectiveAdded,
            );
        }
    }
    for (name, old_ty) in old.types.iter().filter(|(_, ty)| !ty.is_built_in()) {
        match new.types.get(name) {
            None => out.add(
                Severity::Breaking,
                name.as_str(),
                ChangeKind::TypeRemoved {
                    kind: kind_name(old_ty),
                },
            ),
            Some(new_ty) => diff_type(&mut out, name, old_ty, new_ty),
        }
    }
    for (name, new_ty) in new.types.iter().filter(|(_, ty)| !ty.is_built_in()) {
        if !old.types.contains_key(name) {
            out.add(
                Severity::Safe,
                name.as_str(),
                ChangeKind::TypeAdded {
                    kind: kind_name(new_ty),
                },
            );
        }
    }
    let mut changes = out.0;
    changes.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.coordinate.cmp(&b.coordinate))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    changes
}

fn diff_type(out: &mut Changes, name: &str, old: &ExtendedType, new: &ExtendedType) {
    match (old, new) {
        (ExtendedType::Scalar(_), ExtendedType::Scalar(_)) => {}
        (ExtendedType::Object(o), ExtendedType::Object(n)) => {
            diff_fields(out, name, &o.fields, &n.fields);
            diff_interfaces(
                out,
                name,
                &o.implements_interfaces,
                &n.implements_interfaces,
            );
        }
        (ExtendedType::Interface(o), ExtendedType::Interface(n)) => {
            diff_fields(out, name, &o.fields, &n.fields);
            diff_interfaces(
                out,
                name,
                &o.implements_interfaces,
                &n.implements_interfaces,
            );
        }
        (ExtendedType::Union(o), ExtendedType::Union(n)) => {
            let old_members: BTreeSet<&str> = o.members.iter().map(|m| m.name.as_str()).collect();
            let new_members: BTreeSet<&str> = n.members.iter().map(|m| m.name.as_str()).collect();
            for member in old_members.difference(&new_members) {
                out.add(
                    Severity::Breaking,
                    name,
                    ChangeKind::UnionMemberRemoved {
                        member: member.to_string(),
                    },
                );
            }
            for member in new_members.difference(&old_members) {
                out.add(
                    Severity::Dangerous,
                    name,
                    ChangeKind::UnionMemberAdded {
                        member: member.to_string(),
                    },
                );
            }
        }
        (ExtendedType::Enum(o), ExtendedType::Enum(n)) => {
            for (value, old_value) in &o.values {
                let at = format!("{name}.{value}");
                match n.values.get(value) {
                    None => out.add(Severity::Breaking, at, ChangeKind::EnumValueRemoved),
                    Some(new_value) => {
                        out.deprecation(&at, &old_value.directives, &new_value.directives)
                    }
                }
            }
            for value in n.values.keys() {
                if !o.values.contains_key(value) {
                    out.add(
                        Severity::Dangerous,
                        format!("{name}.{value}"),
                        ChangeKind::EnumValueAdded,
                    );
                }
            }
        }
        (ExtendedType::InputObject(o), ExtendedType::InputObject(n)) => {
            diff_input_values(
                out,
                &format!("{name}."),
                "",
                o.fields.values().map(|f| &f.node),
                n.fields.values().map(|f| &f.node),
                InputKind::InputField,
            );
        }
        _ => out.add(
            Severity::Breaking,
            name,
            ChangeKind::TypeKindChanged {
                from: kind_name(old),
                to: kind_name(new),
            },
        ),
    }
}

fn diff_interfaces(
    out: &mut Changes,
    name: &str,
    old: &apollo_compiler::collections::IndexSet<apollo_compiler::schema::ComponentName>,
    new: &apollo_compiler::collections::IndexSet<apollo_compiler::schema::ComponentName>,
) {
    let old: BTreeSet<&str> = old.iter().map(|i| i.name.as_str()).collect();
    let new: BTreeSet<&str> = new.iter().map(|i| i.name.as_str()).collect();
    for interface in old.difference(&new) {
        out.add(
            Severity::Breaking,
            name,
            ChangeKind::InterfaceRemoved {
                interface: interface.to_string(),
            },
        );
    }
    for interface in new.difference(&old) {
        out.add(
            Severity::Dangerous,
            name,
            ChangeKind::InterfaceAdded {
                interface: interface.to_string(),
            },
        );
    }
}

fn diff_fields(
    out: &mut Changes,
    name: &str,
    old: &IndexMap<Name, Component<FieldDefinition>>,
    new: &IndexMap<Name, Component<FieldDefinition>>,
) {
    for (field_name, old_field) in old {
        let at = format!("{name}.{field_name}");
        let Some(new_field) = new.get(field_name) else {
            out.add(Severity::Breaking, at, ChangeKind::FieldRemoved);
            continue;
        };
        if old_field.ty != new_field.ty {
            let severity = if safe_for_output(&old_field.ty, &new_field.ty) {
                Severity::Safe
            } else {
                Severity::Breaking
            };
            out.add(
                severity,
                at.clone(),
                ChangeKind::FieldTypeChanged {
                    from: old_field.ty.to_string(),
                    to: new_field.ty.to_string(),
                },
            );
        }
        diff_input_values(
            out,
            &format!("{at}("),
            ":)",
            &old_field.arguments,
            &new_field.arguments,
            InputKind::Argument,
        );
        out.deprecation(&at, &old_field.directives, &new_field.directives);
    }
    for field_name in new.keys() {
        if !old.contains_key(field_name) {
            out.add(
                Severity::Safe,
                format!("{name}.{field_name}"),
                ChangeKind::FieldAdded,
            );
        }
    }
}

#[derive(Clone, Copy)]
enum InputKind {
    Argument,
    InputField,
}

fn diff_input_values<'a>(
    out: &mut Changes,
    prefix: &str,
    suffix: &str,
    old: impl IntoIterator<Item = &'a Node<InputValueDefinition>>,
    new: impl IntoIterator<Item = &'a Node<InputValueDefinition>>,
    kind: InputKind,
) {
    let old: IndexMap<&str, &InputValueDefinition> =
        old.into_iter().map(|v| (v.name.as_str(), &**v)).collect();
    let new: IndexMap<&str, &InputValueDefinition> =
        new.into_iter().map(|v| (v.name.as_str(), &**v)).collect();
    for (name, old_value) in &old {
        let at = format!("{prefix}{name}{suffix}");
        let Some(new_value) = new.get(name) else {
            let removed = match kind {
                InputKind::Argument => ChangeKind::ArgumentRemoved,
                InputKind::InputField => ChangeKind::InputFieldRemoved,
            };
            out.add(Severity::Breaking, at, removed);
            continue;
        };
        if old_value.ty != new_value.ty {
            let severity = if safe_for_input(&old_value.ty, &new_value.ty) {
                Severity::Safe
            } else {
                Severity::Breaking
            };
            let (from, to) = (old_value.ty.to_string(), new_value.ty.to_string());
            let changed = match kind {
                InputKind::Argument => ChangeKind::ArgumentTypeChanged { from, to },
                InputKind::InputField => ChangeKind::InputFieldTypeChanged { from, to },
            };
            out.add(severity, at.clone(), changed);
        }
        let (from, to) = (default_text(old_value), default_text(new_value));
        if from != to {
            out.add(
                Severity::Dangerous,
                at.clone(),
                ChangeKind::DefaultChanged { from, to },
            );
        }
        out.deprecation(&at, &old_value.directives, &new_value.directives);
    }
    for (name, new_value) in &new {
        if old.contains_key(name) {
            continue;
        }
        let required = is_required(new_value);
        let severity = if required {
            Severity::Breaking
        } else {
            Severity::Safe
        };
        let ty = new_value.ty.to_string();
        let added = match kind {
            InputKind::Argument => ChangeKind::ArgumentAdded { ty, required },
            InputKind::InputField => ChangeKind::InputFieldAdded { ty, required },
        };
        out.add(severity, format!("{prefix}{name}{suffix}"), added);
    }
}

// ----- impact on operations -----

/// What a change does to code generated from the old schema for an operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Consequence {
    /// The operation no longer validates against the new schema, so regenerating (the build)
    /// fails with this message.
    FailsToValidate {
        /// The validation message.
        message: String,
    },
    /// The operation validates, but a response can now hold what the generated types cannot
    /// decode (a null where they expect a value, a value of another type).
    FailsToDecode,
    /// The operation validates and decodes, but the server rejects requests that send the
    /// changed input (or, for a new required input field, every request that sends the
    /// input object).
    Rejected,
    /// The generated code keeps working: a new enum value or possible type decodes into the
    /// generated `Other` case; a changed default or a deprecation changes nothing in the code.
    KeepsWorking,
}

impl fmt::Display for Consequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Consequence::FailsToValidate { message } => {
                write!(f, "the operation no longer validates: {message}")
            }
            Consequence::FailsToDecode => f.write_str(
                "the generated code fails to decode a response where it is null or of the new type",
            ),
            Consequence::Rejected => f.write_str("the server rejects requests that send it"),
            Consequence::KeepsWorking => f.write_str("the generated code keeps working"),
        }
    }
}

/// One place in an operation touched by a schema change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Impact {
    /// The operation file, as given in its [`SourceFile::path`].
    pub file: PathBuf,
    /// 1-based line of the selection, argument or variable.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is used there: ``field `status` ``, ``argument `filters` ``, ``variable `$id` ``,
    /// ``fragment `RunFields` ``.
    pub usage: String,
    /// The schema change, or `None` when only the validation against the new schema explains
    /// it (the message is then in [`Consequence::FailsToValidate`]).
    pub change: Option<Change>,
    /// What it does to the generated code.
    pub consequence: Consequence,
    /// Breaking when the generated code fails (to validate, to decode, or at the server);
    /// otherwise the change's own severity.
    pub severity: Severity,
}

impl fmt::Display for Impact {
    /// One line: `file:line:column: severity: usage: coordinate: change; consequence`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.severity,
            self.usage
        )?;
        if let Some(change) = &self.change {
            write!(f, ": {}: {}", change.coordinate, change.kind)?;
        }
        write!(f, "; {}", self.consequence)
    }
}

/// What in `operations` the changes from `old` to `new` touch, in file and line order.
///
/// Each operation file is validated against `old` first, together with the fragments it
/// spreads from any of the files (as the generator does). Then each field selection,
/// argument and variable is matched against the changes at its coordinate, and the
/// operations are validated against `new` to confirm what no longer validates.
///
/// # Errors
/// The diagnostics of either schema, or of an operation that does not validate against `old`
/// (its generated code could not exist).
pub fn impact(
    old: &SourceFile,
    new: &SourceFile,
    operations: &[SourceFile],
) -> Result<Vec<Impact>, Diagnostics> {
    let (old, new) = load_both(old, new)?;
    let changes = diff_schemas(&old, &new);
    let mut ignored = Vec::new();
    let files = sources::validate_queries(&old, operations, &mut ignored).map_err(Diagnostics)?;
    let index = ChangeIndex::new(&changes, &old);

    let mut found = Vec::new();
    for file in &files {
        let mut walker = Walker {
            old: &old,
            new: &new,
            index: &index,
            sources: &file.doc.sources,
            out: &mut found,
        };
        walker.document(&file.doc);
    }

    // What the new schema rejects: confirm the candidates the rules flagged, and report the
    // rest on their own.
    let rejected = match sources::validate_queries(&new, operations, &mut ignored) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics,
    };
    let mut impacts: Vec<Impact> = Vec::new();
    let mut explained = vec![false; rejected.len()];
    for candidate in &found {
        let mut consequence = candidate.consequence.clone();
        if candidate.change.severity == Severity::Breaking {
            // The innermost candidate containing a diagnostic takes its message.
            for (i, diagnostic) in rejected.iter().enumerate() {
                let Some(at) = Position::parse(&diagnostic.location) else {
                    continue;
                };
                if candidate.contains(&at)
                    && !found.iter().any(|other| {
                        other.change.severity == Severity::Breaking
                            && other.contains(&at)
                            && candidate.strictly_contains(other)
                    })
                {
                    explained[i] = true;
                    consequence = Consequence::FailsToValidate {
                        message: diagnostic.message.clone(),
                    };
                }
            }
        }
        impacts.push(candidate.to_impact(consequence));
    }
    for (diagnostic, explained) in rejected.iter().zip(explained) {
        if explained {
            continue;
        }
        let at = Position::parse(&diagnostic.location).unwrap_or(Position {
            file: PathBuf::from(&diagnostic.location),
            line: 0,
            column: 0,
        });
        impacts.push(Impact {
            file: at.file,
            line: at.line,
            column: at.column,
            usage: "operation".to_string(),
            change: None,
            consequence: Consequence::FailsToValidate {
                message: diagnostic.message.clone(),
            },
            severity: Severity::Breaking,
        });
    }
    // By place, the most severe first at each place.
    impacts.sort_by(|a, b| {
        (&a.file, a.line, a.column, b.severity)
            .cmp(&(&b.file, b.line, b.column, a.severity))
            .then_with(|| a.cmp(b))
    });
    impacts.dedup();
    Ok(impacts)
}

/// A `file:line:column` position, as [`crate::Diagnostic::location`] prints it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    file: PathBuf,
    line: usize,
    column: usize,
}

impl Position {
    fn parse(location: &str) -> Option<Position> {
        let mut parts = location.rsplitn(3, ':');
        let column = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        let file = PathBuf::from(parts.next()?);
        Some(Position { file, line, column })
    }
}

/// A change at a place in an operation, before validation against the new schema confirms
/// what fails.
struct Candidate {
    file: PathBuf,
    start: LineColumn,
    end: LineColumn,
    usage: String,
    change: Change,
    consequence: Consequence,
}

impl Candidate {
    fn contains(&self, at: &Position) -> bool {
        let (file, at) = (&at.file, (at.line, at.column));
        *file == self.file
            && at.0 != 0
            && (self.start.line, self.start.column) <= at
            && at <= (self.end.line, self.end.column)
    }

    fn strictly_contains(&self, other: &Candidate) -> bool {
        let (start, end) = (
            (self.start.line, self.start.column),
            (self.end.line, self.end.column),
        );
        let (other_start, other_end) = (
            (other.start.line, other.start.column),
            (other.end.line, other.end.column),
        );
        self.file == other.file
            && start <= other_start
            && other_end <= end
            && (start, end) != (other_start, other_end)
    }

    fn to_impact(&self, consequence: Consequence) -> Impact {
        let severity = match consequence {
            Consequence::KeepsWorking => self.change.severity.min(Severity::Dangerous),
            _ => Severity::Breaking,
        };
        Impact {
            file: self.file.clone(),
            line: self.start.line,
            column: self.start.column,
            usage: self.usage.clone(),
            change: Some(self.change.clone()),
            consequence,
            severity,
        }
    }
}

/// The changes by coordinate, plus the changes that concern every reader of a type (new enum
/// values, new possible types of a union or interface) by type name.
struct ChangeIndex<'c> {
    at: BTreeMap<&'c str, Vec<&'c Change>>,
    /// Changes that make a type's values more varied, by the type read (`Enum`, `Union`,
    /// `Interface`).
    widening: BTreeMap<String, Vec<&'c Change>>,
    /// Enum values removed, by enum: they matter where the enum is sent.
    narrowing: BTreeMap<String, Vec<&'c Change>>,
}

impl<'c> ChangeIndex<'c> {
    fn new(changes: &'c [Change], old: &Schema) -> Self {
        let mut at: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
        let mut widening: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
        let mut narrowing: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
        for change in changes {
            at.entry(change.coordinate.as_str())
                .or_default()
                .push(change);
            let owner = change
                .coordinate
                .split(['.', '('])
                .next()
                .unwrap_or_default()
                .to_string();
            match &change.kind {
                ChangeKind::EnumValueAdded | ChangeKind::UnionMemberAdded { .. } => {
                    widening.entry(owner).or_default().push(change);
                }
                // Readers of the interface may now meet this type; readers of the type itself
                // are unaffected. Only interfaces that existed before matter.
                ChangeKind::InterfaceAdded { interface }
                    if old.types.contains_key(interface.as_str()) =>
                {
                    widening.entry(interface.clone()).or_default().push(change);
                }
                ChangeKind::EnumValueRemoved => {
                    narrowing.entry(owner).or_default().push(change);
                }
                _ => {}
            }
        }
        ChangeIndex {
            at,
            widening,
            narrowing,
        }
    }

    fn at(&self, coordinate: &str) -> &[&'c Change] {
        self.at.get(coordinate).map_or(&[], Vec::as_slice)
    }

    /// The changes at coordinates starting with `prefix` (`Type.field(`, `Input.`).
    fn below<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = &'c Change> + 's {
        self.at
            .range(prefix..)
            .take_while(move |(key, _)| key.starts_with(prefix))
            .flat_map(|(_, changes)| changes.iter().copied())
    }
}

struct Walker<'a, 'c> {
    old: &'a Schema,
    new: &'a Schema,
    index: &'a ChangeIndex<'c>,
    sources: &'a SourceMap,
    out: &'a mut Vec<Candidate>,
}

impl Walker<'_, '_> {
    fn document(&mut self, doc: &ExecutableDocument) {
        let index = self.index;
        for operation in doc.operations.iter() {
            let label = match operation.operation_type {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            for change in index.at("schema") {
                if matches!(change.kind, ChangeKind::RootChanged { operation, .. } if operation == label)
                {
                    let usage = match &operation.name {
                        Some(name) => format!("{label} `{name}`"),
                        None => label.to_string(),
                    };
                    self.push(operation.location(), &usage, change, removed());
                }
            }
            for variable in &operation.variables {
                self.variable(variable);
            }
            self.selection_set(&operation.selection_set);
        }
        for fragment in doc.fragments.values() {
            self.selection_set(&fragment.selection_set);
        }
    }

    fn push(
        &mut self,
        span: Option<SourceSpan>,
        usage: &str,
        change: &Change,
        consequence: Consequence,
    ) {
        let Some(span) = span else {
            return;
        };
        let (Some(range), Some(file)) = (
            span.line_column_range(self.sources),
            self.sources.get(&span.file_id()),
        ) else {
            return;
        };
        self.out.push(Candidate {
            file: file.path().to_path_buf(),
            start: range.start,
            end: range.end,
            usage: usage.to_string(),
            change: change.clone(),
            consequence,
        });
    }

    fn selection_set(&mut self, set: &SelectionSet) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => self.field(&set.ty, field),
                Selection::InlineFragment(inline) => {
                    if let Some(condition) = &inline.type_condition {
                        self.type_condition(inline.location(), &set.ty, condition);
                    }
                    self.selection_set(&inline.selection_set)
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }

    /// `... on Condition` inside a selection on `parent`: the condition may no longer be a
    /// possible type there.
    fn type_condition(&mut self, span: Option<SourceSpan>, parent: &Name, condition: &Name) {
        let index = self.index;
        let usage = format!("fragment on `{condition}`");
        let gone = |change: &&&Change| match &change.kind {
            ChangeKind::UnionMemberRemoved { member } => {
                change.coordinate == parent.as_str() && member == condition.as_str()
            }
            ChangeKind::InterfaceRemoved { interface } => {
                change.coordinate == condition.as_str() && interface == parent.as_str()
            }
            ChangeKind::TypeRemoved { .. } | ChangeKind::TypeKindChanged { .. } => {
                change.coordinate == condition.as_str()
            }
            _ => false,
        };
        let changes: Vec<&Change> = self
            .index
            .at(parent)
            .iter()
            .chain(index.at(condition))
            .filter(gone)
            .copied()
            .collect();
        for change in changes {
            self.push(span, &usage, change, removed());
        }
    }

    fn field(&mut self, parent: &Name, field: &Node<executable::Field>) {
        let index = self.index;
        if field.name.starts_with("__") {
            return;
        }
        let span = field.location();
        let usage = format!("field `{}`", field.response_key());
        let coordinate = format!("{parent}.{}", field.name);
        for change in index.at(&coordinate) {
            let consequence = match &change.kind {
                ChangeKind::FieldRemoved => removed(),
                ChangeKind::FieldTypeChanged { .. } if change.severity == Severity::Breaking => {
                    self.output_type_consequence(&field.definition.ty, &coordinate)
                }
                ChangeKind::DeprecationAdded { .. } | ChangeKind::FieldTypeChanged { .. } => {
                    Consequence::KeepsWorking
                }
                _ => continue,
            };
            self.push(span, &usage, change, consequence);
        }
        // The parent type itself changed kind or went away.
        for change in index.at(parent) {
            if matches!(
                change.kind,
                ChangeKind::TypeRemoved { .. } | ChangeKind::TypeKindChanged { .. }
            ) {
                self.push(span, &usage, change, removed());
            }
        }
        // Arguments: the ones given, and new required ones.
        for definition in &field.definition.arguments {
            let at = format!("{coordinate}({}:)", definition.name);
            let given = field.arguments.iter().find(|a| a.name == definition.name);
            for change in index.at(&at) {
                let consequence = match (&change.kind, given) {
                    (ChangeKind::ArgumentRemoved, Some(_)) => removed(),
                    // Validation against the new schema tells whether the value given still
                    // fits (a variable of the old type does not; a literal may).
                    (ChangeKind::ArgumentTypeChanged { .. }, Some(_))
                    | (ChangeKind::DefaultChanged { .. }, None)
                    | (ChangeKind::DeprecationAdded { .. }, Some(_)) => Consequence::KeepsWorking,
                    _ => continue,
                };
                let span = given.and_then(|a| a.location()).or(span);
                let usage = format!("argument `{}`", definition.name);
                self.push(span, &usage, change, consequence);
            }
            if let Some(given) = given {
                self.value(
                    given.location().or(span),
                    &format!("argument `{}`", definition.name),
                    &given.value,
                    &definition.ty,
                );
            }
        }
        let new_required: Vec<&Change> = self
            .index
            .below(&format!("{coordinate}("))
            .filter(|c| matches!(c.kind, ChangeKind::ArgumentAdded { required: true, .. }))
            .collect();
        for change in new_required {
            self.push(span, &usage, change, removed());
        }
        // What the field returns may now hold values the generated code has no name for.
        let returned = field.definition.ty.inner_named_type();
        for change in index.widening.get(returned.as_str()).into_iter().flatten() {
            self.push(span, &usage, change, Consequence::KeepsWorking);
        }
        self.selection_set(&field.selection_set);
    }

    /// A breaking change of a selected field's type: decoding fails, unless the new type is
    /// a composite one whose selections are checked by validation.
    fn output_type_consequence(&self, old: &Type, coordinate: &str) -> Consequence {
        let (parent, field) = coordinate.split_once('.').unwrap_or((coordinate, ""));
        let new_ty = self.new.types.get(parent).and_then(|ty| match ty {
            ExtendedType::Object(t) => t.fields.get(field).map(|f| f.ty.clone()),
            ExtendedType::Interface(t) => t.fields.get(field).map(|f| f.ty.clone()),
            _ => None,
        });
        let is_leaf = |schema: &Schema, ty: &Type| {
            matches!(
                schema.types.get(ty.inner_named_type()),
                Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_)) | None
            )
        };
        match new_ty {
            Some(new_ty)
                if old.inner_named_type() != new_ty.inner_named_type()
                    && !is_leaf(self.old, old)
                    && !is_leaf(self.new, &new_ty)
                    && same_shape(old, &new_ty) =>
            {
                // An object read as another object: the selections are validated against the
                // new type, and decoding follows the selections.
                Consequence::KeepsWorking
            }
            _ => Consequence::FailsToDecode,
        }
    }

    /// Input values given as literals: object fields and enum values inside them.
    fn value(
        &mut self,
        span: Option<SourceSpan>,
        usage: &str,
        value: &Node<ast::Value>,
        ty: &Type,
    ) {
        let index = self.index;
        let span = value.location().or(span);
        match &**value {
            ast::Value::List(items) => {
                for item in items {
                    self.value(span, usage, item, ty.item_type());
                }
            }
            ast::Value::Object(fields) => {
                let input = ty.inner_named_type();
                for (name, field_value) in fields {
                    let at = format!("{input}.{name}");
                    for change in index.at(&at) {
                        let consequence = match &change.kind {
                            ChangeKind::InputFieldRemoved => removed(),
                            // As for arguments, validation tells whether the literal fits.
                            ChangeKind::InputFieldTypeChanged { .. }
                            | ChangeKind::DeprecationAdded { .. } => Consequence::KeepsWorking,
                            _ => continue,
                        };
                        self.push(span, usage, change, consequence);
                    }
                    let field_ty = match self.old.types.get(input) {
                        Some(ExtendedType::InputObject(t)) => {
                            t.fields.get(name).map(|f| f.ty.clone())
                        }
                        _ => None,
                    };
                    if let Some(field_ty) = field_ty {
                        self.value(span, usage, field_value, &field_ty);
                    }
                }
                self.required_input_fields(span, usage, input, fields.iter().map(|(n, _)| n));
            }
            ast::Value::Enum(value) => {
                let at = format!("{}.{value}", ty.inner_named_type());
                for change in index.at(&at) {
                    if change.kind == ChangeKind::EnumValueRemoved {
                        self.push(span, usage, change, removed());
                    }
                }
            }
            _ => {}
        }
    }

    /// New required fields of an input object given as a literal with `given` fields.
    fn required_input_fields<'n>(
        &mut self,
        span: Option<SourceSpan>,
        usage: &str,
        input: &Name,
        given: impl Iterator<Item = &'n Name>,
    ) {
        let given: BTreeSet<&str> = given.map(|n| n.as_str()).collect();
        let prefix = format!("{input}.");
        let missing: Vec<&Change> = self
            .index
            .below(&prefix)
            .filter(|c| matches!(c.kind, ChangeKind::InputFieldAdded { required: true, .. }))
            .filter(|c| !given.contains(&c.coordinate[prefix.len()..]))
            .collect();
        for change in missing {
            self.push(span, usage, change, removed());
        }
    }

    /// A variable: its type, and every input object and enum it can carry (the generated
    /// `Variables` can set any of their fields).
    fn variable(&mut self, variable: &Node<ast::VariableDefinition>) {
        let index = self.index;
        let span = variable.location();
        let usage = format!("variable `${}`", variable.name);
        let mut seen = BTreeSet::new();
        let declared = variable.ty.inner_named_type();
        for change in index.at(declared) {
            if matches!(
                change.kind,
                ChangeKind::TypeRemoved { .. } | ChangeKind::TypeKindChanged { .. }
            ) {
                self.push(span, &usage, change, removed());
            }
        }
        let mut stack = vec![declared.clone()];
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            for change in index.narrowing.get(name.as_str()).into_iter().flatten() {
                self.push(span, &usage, change, Consequence::Rejected);
            }
            let Some(ExtendedType::InputObject(input)) = self.old.types.get(&name) else {
                continue;
            };
            for (field_name, field) in &input.fields {
                let at = format!("{name}.{field_name}");
                for change in index.at(&at) {
                    let consequence = match &change.kind {
                        ChangeKind::InputFieldRemoved => Consequence::Rejected,
                        ChangeKind::InputFieldTypeChanged { .. }
                            if change.severity == Severity::Breaking =>
                        {
                            Consequence::Rejected
                        }
                        ChangeKind::DefaultChanged { .. } | ChangeKind::DeprecationAdded { .. } => {
                            Consequence::KeepsWorking
                        }
                        _ => continue,
                    };
                    self.push(span, &usage, change, consequence);
                }
                stack.push(field.ty.inner_named_type().clone());
            }
            let added: Vec<&Change> = self
                .index
                .below(&format!("{name}."))
                .filter(|c| matches!(c.kind, ChangeKind::InputFieldAdded { required: true, .. }))
                .collect();
            for change in added {
                self.push(span, &usage, change, Consequence::Rejected);
            }
        }
    }
}

/// The consequence of using something that is gone; validation against the new schema
/// replaces it with the validator's own message.
fn removed() -> Consequence {
    Consequence::FailsToValidate {
        message: "it is no longer in the schema".to_string(),
    }
}

/// Same list and non-null wrapping.
fn same_shape(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Named(_), Type::Named(_)) | (Type::NonNullNamed(_), Type::NonNullNamed(_)) => true,
        (Type::List(a), Type::List(b)) | (Type::NonNullList(a), Type::NonNullList(b)) => {
            same_shape(a, b)
        }
        _ => false,
    }
}
