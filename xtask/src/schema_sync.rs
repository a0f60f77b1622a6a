//! Regenerating `schema/ion.graphql` from the 2023 reference SDL kept beside the repository
//! (`<repo>/../shared`, never copied into it). [`synced_schema`] is the whole rule;
//! `cargo xtask sync-schema` writes its result, and `crates/ion-client-build/tests/schema.rs`
//! checks that the file equals it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use apollo_compiler::ast::{self, InputValueDefinition, OperationType};
use apollo_compiler::schema::{Component, ExtendedType, FieldDefinition};
use apollo_compiler::{Name, Node, Schema};

/// Where the reference SDL sits, relative to the directory that holds the repository.
pub const REFERENCE_SCHEMA: &str = "shared/ion-reference/ion-schema-2023.graphql";

/// Why [`synced_schema`] could not regenerate the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncError {
    /// The reference SDL does not parse or validate.
    Reference {
        /// apollo-compiler's diagnostics.
        diagnostics: String,
    },
    /// The current `schema/ion.graphql` (whose prose is kept) does not parse.
    Ours {
        /// apollo-compiler's diagnostics.
        diagnostics: String,
    },
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Reference { diagnostics } => {
                write!(f, "the reference is not a valid schema:\n{diagnostics}")
            }
            SyncError::Ours { diagnostics } => {
                write!(f, "schema/ion.graphql does not parse:\n{diagnostics}")
            }
        }
    }
}

impl std::error::Error for SyncError {}

/// The comment that opens `schema/ion.graphql`; [`synced_schema`] writes it.
pub const SCHEMA_HEADER: &str = "\
# ION Factory OS GraphQL API, as ion-client validates and generates against it.
#
# The facts here (every type, field, argument, default value, enum value, interface, union member
# and deprecation reachable from the query and mutation roots) are ION's API as of the 2023
# reference SDL, taken mechanically. Descriptions and deprecation reasons are the ion-client
# authors' own words, written for the types users meet first and absent elsewhere.
# See schema/README.md.
#
# To build against your own deployment instead, pull its schema (descriptions then come from your
# ION):
#
#     ion schema pull -o schema/ion.graphql
#
# The project regenerates this file from the reference, keeping its own descriptions, with
#
#     cargo xtask sync-schema
";

/// Our prose in a schema, by coordinate (`Type`, `Type.field`, `Type.field(arg:)`,
/// `Enum.VALUE`, `Input.field`).
#[derive(Default)]
struct Prose {
    descriptions: BTreeMap<String, Node<str>>,
    /// The `reason:` argument of `@deprecated`, where one is given.
    reasons: BTreeMap<String, Node<ast::Value>>,
}

/// Calls `visit(coordinate, description, directives)` for every described element of every
/// type definition in `doc`, in document order.
fn for_each_element(
    doc: &mut ast::Document,
    visit: &mut impl FnMut(&str, &mut Option<Node<str>>, &mut ast::DirectiveList),
) {
    fn fields(
        at: &str,
        fields: &mut [Node<ast::FieldDefinition>],
        visit: &mut impl FnMut(&str, &mut Option<Node<str>>, &mut ast::DirectiveList),
    ) {
        for field in fields {
            let field = field.make_mut();
            let here = format!("{at}.{}", field.name);
            visit(&here, &mut field.description, &mut field.directives);
            input_values(&format!("{here}("), ":)", &mut field.arguments, visit);
        }
    }
    fn input_values(
        prefix: &str,
        suffix: &str,
        values: &mut [Node<InputValueDefinition>],
        visit: &mut impl FnMut(&str, &mut Option<Node<str>>, &mut ast::DirectiveList),
    ) {
        for value in values {
            let value = value.make_mut();
            let here = format!("{prefix}{}{suffix}", value.name);
            visit(&here, &mut value.description, &mut value.directives);
        }
    }
    for definition in &mut doc.definitions {
        match definition {
            ast::Definition::ScalarTypeDefinition(def) => {
                let def = def.make_mut();
                visit(&def.name.clone(), &mut def.description, &mut def.directives);
            }
            ast::Definition::ObjectTypeDefinition(def) => {
                let def = def.make_mut();
                let name = def.name.clone();
                visit(&name, &mut def.description, &mut def.directives);
                fields(&name, &mut def.fields, visit);
            }
            ast::Definition::InterfaceTypeDefinition(def) => {
                let def = def.make_mut();
                let name = def.name.clone();
                visit(&name, &mut def.description, &mut def.directives);
                fields(&name, &mut def.fields, visit);
            }
            ast::Definition::UnionTypeDefinition(def) => {
                let def = def.make_mut();
                visit(&def.name.clone(), &mut def.description, &mut def.directives);
            }
            ast::Definition::EnumTypeDefinition(def) => {
                let def = def.make_mut();
                let name = def.name.clone();
                visit(&name, &mut def.description, &mut def.directives);
                for value in &mut def.values {
                    let value = value.make_mut();
                    let here = format!("{name}.{}", value.value);
                    visit(&here, &mut value.description, &mut value.directives);
                }
            }
            ast::Definition::InputObjectTypeDefinition(def) => {
                let def = def.make_mut();
                let name = def.name.clone();
                visit(&name, &mut def.description, &mut def.directives);
                input_values(&format!("{name}."), "", &mut def.fields, visit);
            }
            _ => {}
        }
    }
}

fn is_type_definition(definition: &ast::Definition) -> bool {
    matches!(
        definition,
        ast::Definition::ScalarTypeDefinition(_)
            | ast::Definition::ObjectTypeDefinition(_)
            | ast::Definition::InterfaceTypeDefinition(_)
            | ast::Definition::UnionTypeDefinition(_)
            | ast::Definition::EnumTypeDefinition(_)
            | ast::Definition::InputObjectTypeDefinition(_)
    )
}

/// The `reason:` written on an element's `@deprecated`, if it is deprecated with one.
pub fn deprecation_reason(directives: &ast::DirectiveList) -> Option<&Node<ast::Value>> {
    directives
        .get("deprecated")?
        .specified_argument_by_name("reason")
}

/// Collects the descriptions and deprecation reasons of `sdl`.
fn prose_of(sdl: &str, path: &str) -> Result<Prose, SyncError> {
    let mut doc = ast::Document::parse(sdl, path).map_err(|e| SyncError::Ours {
        diagnostics: e.errors.to_string(),
    })?;
    let mut prose = Prose::default();
    for_each_element(&mut doc, &mut |at, description, directives| {
        if let Some(description) = description {
            prose
                .descriptions
                .insert(at.to_string(), description.clone());
        }
        if let Some(reason) = deprecation_reason(directives) {
            prose.reasons.insert(at.to_string(), reason.clone());
        }
    });
    Ok(prose)
}

/// Every type reachable from `schema`'s root operations: through field types and arguments,
/// input fields, implemented interfaces, union members, and the implementations of reachable
/// interfaces (introspection lists those too).
pub fn reachable_types(schema: &Schema) -> BTreeSet<Name> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Name> = [
        OperationType::Query,
        OperationType::Mutation,
        OperationType::Subscription,
    ]
    .into_iter()
    .filter_map(|operation| schema.root_operation(operation).cloned())
    .collect();
    let implementers = schema.implementers_map();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(ty) = schema.types.get(&name) else {
            continue;
        };
        let mut push_fields =
            |fields: &apollo_compiler::collections::IndexMap<Name, Component<FieldDefinition>>| {
                for field in fields.values() {
                    stack.push(field.ty.inner_named_type().clone());
                    stack.extend(
                        field
                            .arguments
                            .iter()
                            .map(|a| a.ty.inner_named_type().clone()),
                    );
                }
            };
        match ty {
            ExtendedType::Object(t) => {
                push_fields(&t.fields);
                stack.extend(t.implements_interfaces.iter().map(|i| i.name.clone()));
            }
            ExtendedType::Interface(t) => {
                push_fields(&t.fields);
                stack.extend(t.implements_interfaces.iter().map(|i| i.name.clone()));
                if let Some(implementers) = implementers.get(&name) {
                    stack.extend(implementers.objects.iter().cloned());
                    stack.extend(implementers.interfaces.iter().cloned());
                }
            }
            ExtendedType::Union(t) => stack.extend(t.members.iter().map(|m| m.name.clone())),
            ExtendedType::InputObject(t) => {
                stack.extend(t.fields.values().map(|f| f.ty.inner_named_type().clone()));
            }
            ExtendedType::Scalar(_) | ExtendedType::Enum(_) => {}
        }
    }
    seen
}

/// `schema/ion.graphql` as regenerated from `reference`: its facts (the types reachable from the
/// roots, in the reference's order, nothing of its prose) with the descriptions and deprecation
/// reasons `ours` has at the same coordinates. A deprecation we have no words for yet is written
/// without a reason.
///
/// # Errors
/// [`SyncError::Reference`] when the reference is not a valid schema; [`SyncError::Ours`] when
/// `ours` does not parse.
pub fn synced_schema(reference: &str, ours: &str) -> Result<String, SyncError> {
    let valid = Schema::parse_and_validate(reference, "reference.graphql").map_err(|e| {
        SyncError::Reference {
            diagnostics: e.errors.to_string(),
        }
    })?;
    let keep = reachable_types(&valid);
    let prose = prose_of(ours, "schema/ion.graphql")?;
    let mut doc =
        ast::Document::parse(reference, "reference.graphql").map_err(|e| SyncError::Reference {
            diagnostics: e.errors.to_string(),
        })?;
    doc.definitions.retain(|definition| {
        is_type_definition(definition) && definition.name().is_some_and(|name| keep.contains(name))
    });
    for_each_element(&mut doc, &mut |at, description, directives| {
        *description = prose.descriptions.get(at).cloned();
        for directive in directives.0.iter_mut() {
            if directive.name == "deprecated" {
                let directive = directive.make_mut();
                directive.arguments.clear();
                if let Some(reason) = prose.reasons.get(at) {
                    directive.arguments.push(Node::new(ast::Argument {
                        name: apollo_compiler::name!("reason"),
                        value: reason.clone(),
                    }));
                }
            }
        }
    });
    let root = |operation| valid.root_operation(operation).map(|name| name.to_string());
    let mut out = String::from(SCHEMA_HEADER);
    out.push_str("\nschema {\n");
    for (label, operation) in [
        ("query", OperationType::Query),
        ("mutation", OperationType::Mutation),
        ("subscription", OperationType::Subscription),
    ] {
        if let Some(name) = root(operation) {
            out.push_str(&format!("  {label}: {name}\n"));
        }
    }
    out.push_str("}\n");
    for definition in &doc.definitions {
        out.push('\n');
        out.push_str(&definition.to_string());
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}
