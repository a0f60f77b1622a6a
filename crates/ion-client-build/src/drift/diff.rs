//! Comparing two schemas: every change, classified by the rules in the module docs.

use std::collections::BTreeSet;

use apollo_compiler::ast::{self, OperationType, Type};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::schema::{Component, ExtendedType, FieldDefinition, InputValueDefinition};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Node, Schema};

use super::types::{Change, ChangeKind, Severity};
use crate::{Diagnostics, SourceFile, sources};

/// Every change from `old` to `new`, most severe first, then by coordinate.
///
/// # Errors
/// The diagnostics of either schema when it does not parse or validate.
pub fn diff(old: &SourceFile, new: &SourceFile) -> Result<Vec<Change>, Diagnostics> {
    let (old, new) = load_both(old, new)?;
    Ok(diff_schemas(&old, &new))
}

pub(super) fn load_both(
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

pub(super) fn diff_schemas(old: &Schema, new: &Schema) -> Vec<Change> {
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
