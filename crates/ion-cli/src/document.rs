//! Documents as sent at run time (for `ion run`): an operation file plus the shared fragments it
//! uses.

use std::collections::{BTreeMap, BTreeSet};

use apollo_compiler::ast;

use ion_client_build::{Diagnostics, SourceFile, fragment_spreads as spreads};

/// Appends to `file`'s text the fragment definitions it uses (transitively) that it does not
/// define itself, taken from `library` (typically `queries/fragments/**`). Unused fragments
/// are not added, so the server sees a valid document.
///
/// # Errors
/// Syntax errors in `file` or in a library file, with their locations.
pub fn with_fragments(file: &SourceFile, library: &[SourceFile]) -> Result<String, Diagnostics> {
    let doc = parse(file)?;
    let mut available: BTreeMap<String, String> = BTreeMap::new();
    for lib in library {
        let parsed = parse(lib)?;
        for def in &parsed.definitions {
            if let Some(frag) = def.as_fragment_definition()
                && let Some(text) = def
                    .location()
                    .and_then(|loc| lib.text.get(loc.offset()..loc.end_offset()))
            {
                available
                    .entry(frag.name.to_string())
                    .or_insert_with(|| text.to_string());
            }
        }
    }
    let defined: BTreeSet<String> = doc
        .definitions
        .iter()
        .filter_map(|d| d.as_fragment_definition().map(|f| f.name.to_string()))
        .collect();
    let mut needed = BTreeSet::new();
    let mut stack = Vec::new();
    for def in &doc.definitions {
        match def {
            ast::Definition::OperationDefinition(op) => spreads(&op.selection_set, &mut stack),
            ast::Definition::FragmentDefinition(f) => spreads(&f.selection_set, &mut stack),
            _ => {}
        }
    }
    let mut out = file.text.clone();
    while let Some(name) = stack.pop() {
        if defined.contains(&name) || !needed.insert(name.clone()) {
            continue;
        }
        if let Some(text) = available.get(&name) {
            let frag = SourceFile::new(format!("fragment {name}"), text.clone());
            if let Ok(parsed) = parse(&frag) {
                for def in &parsed.definitions {
                    if let Some(f) = def.as_fragment_definition() {
                        spreads(&f.selection_set, &mut stack);
                    }
                }
            }
            out.push_str("\n\n");
            out.push_str(text);
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn parse(file: &SourceFile) -> Result<ast::Document, Diagnostics> {
    ion_client_build::parse_document(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_only_the_fragments_used() {
        let file = SourceFile::new(
            "q.graphql",
            "query Q($after: String) { runs(after: $after) { pageInfo { ...P } edges { node { ...R } } } }",
        );
        let lib = [SourceFile::new(
            "fragments/f.graphql",
            "fragment P on IonPageInfo { hasNextPage endCursor }\nfragment R on Run { id ...U }\nfragment U on Run { title }\nfragment Unused on Run { id }",
        )];
        let doc = with_fragments(&file, &lib).unwrap();
        assert!(
            doc.contains("fragment P on")
                && doc.contains("fragment R on")
                && doc.contains("fragment U on")
        );
        assert!(!doc.contains("Unused"));
        assert_eq!(
            ion_client_build::pagination::connection_path(&doc, None),
            Some(vec!["runs".to_string()])
        );
        assert_eq!(
            ion_client_build::pagination::connection_path("query { me { id } }", None),
            None
        );
    }
}
