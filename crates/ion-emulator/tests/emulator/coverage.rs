//! Coverage: every root field of the shipped schema is answered by a named convention or is
//! listed in `CONVENTIONS.md` as needing a handler, the README states the counts, and a
//! generated operation for each field gets data or a GraphQL error that is not "not emulated"
//! (the handler-only fields answer exactly that).

use std::collections::BTreeSet;

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::schema::ExtendedType;
use ion_emulator::{EmulatorOptions, SHIPPED_SCHEMA, Seed};
use serde_json::json;

use super::support::*;

/// `CONVENTIONS.md`, the crate's convention docs.
const CONVENTIONS: &str = include_str!("../../CONVENTIONS.md");

/// The heading of the handler-only list in `CONVENTIONS.md`.
const HANDLER_ONLY_HEADING: &str = "## Fields that need a handler";

/// The fields `CONVENTIONS.md` lists as needing a handler: the `- \`name\`` items of its
/// section.
fn documented_handler_only() -> BTreeSet<String> {
    let section = CONVENTIONS
        .split(HANDLER_ONLY_HEADING)
        .nth(1)
        .expect("CONVENTIONS.md has the handler-only section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_root_field_is_served_by_a_convention_or_documented_as_needing_a_handler() {
    let e = demo().await;
    let roots = &e.stats().roots;
    assert_eq!(roots.len(), 502, "the shipped schema's root fields");
    let handler_only: BTreeSet<String> = roots
        .iter()
        .filter(|r| r.answered_by.is_none())
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(
        handler_only,
        documented_handler_only(),
        "the handler-only fields and CONVENTIONS.md's list differ"
    );
    let (queries, mutations): (Vec<_>, Vec<_>) = roots.iter().partition(|r| !r.mutation);
    let served =
        |list: &[&ion_emulator::RootField]| list.iter().filter(|r| r.answered_by.is_some()).count();
    let line = format!(
        "{} of its {} queries and {} of its {} mutations",
        served(&queries),
        queries.len(),
        served(&mutations),
        mutations.len()
    );
    // Prose wraps anywhere: compare with every run of whitespace as one space.
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let readme = flat(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
            .expect("README.md"),
    );
    assert!(readme.contains(&line), "README.md does not say \"{line}\"");
    assert!(
        flat(CONVENTIONS).contains(&line),
        "CONVENTIONS.md does not say \"{line}\""
    );
    assert!(
        readme.contains(&format!("{} need a handler", handler_only.len())),
        "README.md does not count the {} handler-only fields",
        handler_only.len()
    );
    let mut by_convention = std::collections::BTreeMap::<String, usize>::new();
    for r in roots {
        if let Some(c) = r.answered_by {
            *by_convention.entry(c.to_string()).or_default() += 1;
        }
    }
    eprintln!("root fields by convention: {by_convention:?}; need a handler: {handler_only:?}");
}

/// A literal of a type for a generated operation: the first enum value, a number, a string,
/// an input object with its required fields.
fn placeholder(schema: &Schema, ty: &Type, depth: usize) -> String {
    if ty.is_list() {
        let item = match ty {
            Type::List(t) | Type::NonNullList(t) => t,
            _ => ty,
        };
        return format!("[{}]", placeholder(schema, item, depth));
    }
    let name = ty.inner_named_type().as_str();
    match (name, schema.types.get(name)) {
        ("ID", _) => "\"1\"".into(),
        ("Int", _) => "1".into(),
        ("Float", _) => "1.5".into(),
        ("Boolean", _) => "true".into(),
        ("String", _) => "\"x\"".into(),
        ("DateTime", _) => "\"2024-01-01T00:00:00+00:00\"".into(),
        ("JSONString", _) => "\"{}\"".into(),
        (_, Some(ExtendedType::Enum(e))) => e
            .values
            .keys()
            .next()
            .map(ToString::to_string)
            .unwrap_or_default(),
        (_, Some(ExtendedType::InputObject(i))) if depth < 4 => {
            let fields: Vec<String> = i
                .fields
                .iter()
                .filter(|(_, f)| f.ty.is_non_null() && f.default_value.is_none())
                .map(|(n, f)| format!("{n}: {}", placeholder(schema, &f.ty, depth + 1)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        _ => "\"1\"".into(),
    }
}

/// The selection of a field's type: its scalar fields that need no arguments, else
/// `__typename`.
fn selection(schema: &Schema, ty: &Type) -> String {
    let name = ty.inner_named_type().as_str();
    match schema.types.get(name) {
        Some(ExtendedType::Object(o)) => {
            let scalars: Vec<&str> = o
                .fields
                .iter()
                .filter(|(_, f)| {
                    matches!(
                        schema.types.get(f.ty.inner_named_type().as_str()),
                        Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_))
                    ) && f.arguments.iter().all(|a| !a.ty.is_non_null())
                })
                .map(|(n, _)| n.as_str())
                .collect();
            if scalars.is_empty() {
                " { __typename }".into()
            } else {
                format!(" {{ __typename {} }}", scalars.join(" "))
            }
        }
        Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => " { __typename }".into(),
        _ => String::new(),
    }
}

/// One operation per root field of the shipped schema, generated from it (required arguments
/// as placeholders, the payload's scalar fields selected), run against the demo seed.
#[tokio::test]
async fn every_root_field_answers_a_generated_operation() {
    let schema = Schema::parse_and_validate(SHIPPED_SCHEMA, "ion.graphql").expect("schema");
    let e = start(EmulatorOptions::new().seed(Seed::Demo)).await;
    let token = token(&e).await;
    let handler_only: BTreeSet<String> = documented_handler_only();
    let mut failures = Vec::new();
    let (mut data, mut refused, mut not_emulated) = (0, 0, 0);
    for (kind, root) in [("query", "Query"), ("mutation", "Mutation")] {
        let Some(ExtendedType::Object(object)) = schema.types.get(root) else {
            panic!("no {root} type");
        };
        for (name, field) in &object.fields {
            let args: Vec<String> = field
                .arguments
                .iter()
                .filter(|a| a.ty.is_non_null() && a.default_value.is_none())
                .map(|a| format!("{}: {}", a.name, placeholder(&schema, &a.ty, 0)))
                .collect();
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            let operation = format!("{kind} {{ {name}{args}{} }}", selection(&schema, &field.ty));
            let body = gql_with(&e, &token, &operation, json!({})).await;
            let messages: Vec<&str> = body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["message"].as_str())
                .collect();
            let says_not_emulated = messages.iter().any(|m| m.starts_with("not emulated"));
            if !body["data"].is_object() {
                failures.push(format!("{operation}: did not execute: {body}"));
            } else if says_not_emulated != handler_only.contains(name.as_str())
                || messages
                    .iter()
                    .any(|m| m.contains("internal") || m.contains("panicked"))
            {
                failures.push(format!("{operation}: {messages:?}"));
            }
            if std::env::var_os("ION_EMULATOR_SHOW_REFUSALS").is_some() && !messages.is_empty() {
                eprintln!("{name}: {messages:?}");
            }
            match (messages.is_empty(), says_not_emulated) {
                (true, _) => data += 1,
                (false, true) => not_emulated += 1,
                (false, false) => refused += 1,
            }
        }
    }
    eprintln!(
        "generated operations: {data} answered data, {refused} a GraphQL error for placeholder \
         input, {not_emulated} not emulated (the handler-only list)"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(data + refused + not_emulated, 502);
}
