//! Where an operation pages: the one rule both the generator (for `impl Paginated` and the
//! `_pages`/`_nodes` methods) and the `ion` command line (for `ion run --all-pages`) use.
//!
//! An operation is paginated when a field takes `after: $after`; the connection is that field,
//! reached through the response keys (aliases included) from `data`, looking through fragment
//! spreads and inline fragments. Whether the connection selects `pageInfo` and `edges { node }`
//! is for the caller to check against what it generated or received.

use std::collections::BTreeMap;

use apollo_compiler::ast;

/// The response keys from `data` down to the field that takes `after: $after` in the named
/// operation of `document` (or its first operation when `operation` is `None`); `None` when the
/// document does not parse, the operation is not found, or nothing takes `$after`.
///
/// ```
/// let path = ion_client_build::pagination::connection_path(
///     "query Q($after: String) { all: runs(after: $after) { pageInfo { endCursor } } }",
///     None,
/// );
/// assert_eq!(path, Some(vec!["all".to_string()]));
/// ```
pub fn connection_path(document: &str, operation: Option<&str>) -> Option<Vec<String>> {
    let doc = ast::Document::parse(document, "document.graphql").ok()?;
    let fragments: BTreeMap<&str, &ast::FragmentDefinition> = doc
        .definitions
        .iter()
        .filter_map(|d| d.as_fragment_definition().map(|f| (f.name.as_str(), &**f)))
        .collect();
    let op = doc
        .definitions
        .iter()
        .filter_map(|d| d.as_operation_definition())
        .find(|op| operation.is_none() || op.name.as_ref().map(|n| n.as_str()) == operation)?;
    let mut path = Vec::new();
    find(&op.selection_set, &fragments, &mut path).then_some(path)
}

fn find(
    set: &[ast::Selection],
    fragments: &BTreeMap<&str, &ast::FragmentDefinition>,
    path: &mut Vec<String>,
) -> bool {
    for sel in set {
        match sel {
            ast::Selection::Field(f) => {
                path.push(f.alias.as_ref().unwrap_or(&f.name).to_string());
                let uses_after = f.arguments.iter().any(|a| {
                    a.name == "after" && a.value.as_variable().is_some_and(|v| v == "after")
                });
                if uses_after || find(&f.selection_set, fragments, path) {
                    return true;
                }
                path.pop();
            }
            ast::Selection::FragmentSpread(s) => {
                if let Some(f) = fragments.get(s.fragment_name.as_str())
                    && find(&f.selection_set, fragments, path)
                {
                    return true;
                }
            }
            ast::Selection::InlineFragment(i) => {
                if find(&i.selection_set, fragments, path) {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_connection_through_aliases_and_fragments() {
        let doc = "query A($after: String) { me { id } }\n\
                   query B($after: String) { x: runs(after: $after) { ...C } }\n\
                   query D($after: String) { ...E }\n\
                   fragment C on RunsConnection { pageInfo { endCursor } }\n\
                   fragment E on Query { parts(after: $after) { pageInfo { endCursor } } }";
        assert_eq!(connection_path(doc, Some("A")), None);
        assert_eq!(connection_path(doc, Some("B")), Some(vec!["x".to_string()]));
        assert_eq!(
            connection_path(doc, Some("D")),
            Some(vec!["parts".to_string()])
        );
        assert_eq!(connection_path(doc, Some("Missing")), None);
        assert_eq!(connection_path("not graphql {", None), None);
    }
}
