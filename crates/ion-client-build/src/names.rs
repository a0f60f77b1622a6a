//! Turning GraphQL names into Rust names, deterministically.
//!
//! Rules (documented in the crate docs, relied on by users):
//! - fields and variables become snake_case; types and enum values PascalCase;
//! - leading underscores are dropped (`_etag` → `etag`, `_created` → `created`);
//! - a Rust keyword gets a trailing underscore (`type` → `type_`);
//! - when two names in one scope convert to the same Rust name (`_cost` and `cost`, `Attributes`
//!   and `attributes`), the name that is already in Rust's case keeps it and the others get a
//!   numeric suffix in declaration order (`cost`, `cost_2`). The GraphQL name stays on the wire
//!   (a response struct's `decode_struct!` call lists each field's key; an input's field has an
//!   explicit `#[serde(rename)]`), so the rename never changes behaviour.

use std::collections::{BTreeMap, HashSet};

use heck::{ToPascalCase, ToSnakeCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "union",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield", "abstract", "become",
];

fn unkeyword(name: String) -> String {
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else if name.is_empty() {
        "field".to_string()
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// snake_case for a field, variable or module name.
pub fn snake(name: &str) -> String {
    unkeyword(name.trim_start_matches('_').to_snake_case())
}

/// PascalCase for a type or enum variant name.
pub fn pascal(name: &str) -> String {
    let converted = name.trim_start_matches('_').to_pascal_case();
    if converted.is_empty() {
        return "Underscore".to_string();
    }
    unkeyword(converted)
}

/// The wire name serde's `rename_all = "camelCase"` gives a snake_case Rust field name (the same
/// algorithm as serde's: an underscore upper-cases the next character and is dropped). The
/// generator writes a per-field `rename` exactly where this differs from the GraphQL name.
pub fn serde_camel(rust_field: &str) -> String {
    let mut out = String::with_capacity(rust_field.len());
    let mut upper = false;
    for c in rust_field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Assigns unique Rust names to the GraphQL names of one scope (a struct's fields, an enum's
/// values), in the order given, following the module's collision rule.
pub fn unique(
    graphql_names: &[&str],
    convert: fn(&str) -> String,
    reserved: &[&str],
) -> Vec<String> {
    let converted: Vec<String> = graphql_names.iter().map(|n| convert(n)).collect();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in converted.iter().enumerate() {
        by_name.entry(c.as_str()).or_default().push(i);
    }
    let mut out = converted.clone();
    let mut taken: HashSet<String> = reserved.iter().map(|s| s.to_string()).collect();
    // The name whose GraphQL spelling already is the Rust spelling keeps it.
    let mut keeper = vec![false; graphql_names.len()];
    for (name, idxs) in &by_name {
        if reserved.contains(name) {
            continue;
        }
        let k = idxs
            .iter()
            .copied()
            .find(|&i| graphql_names[i] == *name)
            .unwrap_or(idxs[0]);
        keeper[k] = true;
        taken.insert(name.to_string());
    }
    for i in 0..graphql_names.len() {
        if keeper[i] {
            continue;
        }
        let base = &converted[i];
        let mut n = 2;
        loop {
            let candidate = if reserved.contains(&base.as_str()) && n == 2 {
                format!("{base}Value")
            } else {
                format!("{base}_{n}")
            };
            n += 1;
            if taken.insert(candidate.clone()) {
                out[i] = candidate;
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_and_keywords() {
        assert_eq!(snake("partNumber"), "part_number");
        assert_eq!(snake("_etag"), "etag");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("Attributes"), "attributes");
        assert_eq!(snake("_IssuesCount"), "issues_count");
        assert_eq!(pascal("IN_PROGRESS"), "InProgress");
        assert_eq!(pascal("_CREATED_ASC"), "CreatedAsc");
        assert_eq!(pascal("Self"), "Self_");
    }

    #[test]
    fn serde_camel_matches_graphql_names_where_no_rename_is_needed() {
        for same in [
            "partNumber",
            "id",
            "unitOfMeasureId",
            "mBomItems",
            "type",
            "address2",
        ] {
            assert_eq!(serde_camel(&snake(same)), same);
        }
        for differs in ["_etag", "Etag", "ID", "__typename", "and_"] {
            assert_ne!(serde_camel(&snake(differs)), differs);
        }
    }

    #[test]
    fn collisions_are_deterministic() {
        assert_eq!(unique(&["_cost", "cost"], snake, &[]), ["cost_2", "cost"]);
        assert_eq!(unique(&["_etag", "etag"], snake, &[]), ["etag_2", "etag"]);
        assert_eq!(
            unique(&["attributes", "Attributes"], snake, &[]),
            ["attributes", "attributes_2"]
        );
        assert_eq!(
            unique(&["OTHER", "DONE"], pascal, &["Other"]),
            ["OtherValue", "Done"]
        );
    }
}
