//! Operation sources: the schema and the operation files parsed, fragments indexed across all
//! files, each operation file validated with exactly the fragments it reaches, and the one
//! transitive fragment closure ([`reachable`], which visits each fragment once, so a fragment
//! that spreads itself ends the walk) that validation, generation and `ion run`'s documents
//! ([`with_fragments`]) share.
//!
//! Invariant: all diagnostics are collected before anything fails, so a user sees every
//! mistake at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use apollo_compiler::ast;
use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Node, Schema};

use crate::diagnostic::{Diagnostic, Diagnostics, Place, from_apollo};

/// A source file: a display path (relative, as users see it) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown in diagnostics.
    pub path: PathBuf,
    /// The file's contents.
    pub text: String,
}

impl SourceFile {
    /// A source file from a display path and its text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// One validated document per operation file: the file's operations plus the fragments they use.
#[cfg_attr(not(feature = "codegen"), allow(dead_code))]
pub(crate) struct ValidatedFile {
    pub path: PathBuf,
    pub doc: Valid<ExecutableDocument>,
    /// The fragments each operation reaches, transitively, by operation name (`None`: the
    /// anonymous operation).
    pub fragments: BTreeMap<Option<String>, BTreeSet<String>>,
    /// The fragments each fragment of the document reaches, transitively.
    pub fragment_deps: BTreeMap<String, BTreeSet<String>>,
}

/// Parses and validates the schema, reporting diagnostics with locations.
pub(crate) fn load_schema(schema: &SourceFile) -> Result<Valid<Schema>, Vec<Diagnostic>> {
    Schema::parse_and_validate(schema.text.as_str(), &schema.path)
        .map_err(|with_errors| from_apollo(&with_errors.errors))
}

/// Parses every file, indexes fragments globally, and validates each file's operations together
/// with exactly the fragments they reach (so a fragment file may hold fragments other files use).
pub(crate) fn validate_queries(
    schema: &Valid<Schema>,
    files: &[SourceFile],
    warnings: &mut Vec<String>,
) -> Result<Vec<ValidatedFile>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for file in files {
        match ast::Document::parse(file.text.as_str(), &file.path) {
            Ok(doc) => parsed.push((file, doc)),
            Err(with_errors) => errors.extend(from_apollo(&with_errors.errors)),
        }
    }

    // Global fragment index: name -> (document index, definition).
    let mut fragments: BTreeMap<String, (usize, Node<ast::FragmentDefinition>)> = BTreeMap::new();
    for (i, (file, doc)) in parsed.iter().enumerate() {
        for def in &doc.definitions {
            if let Some(frag) = def.as_fragment_definition() {
                if let Some((j, previous)) = fragments.get(frag.name.as_str()) {
                    errors.push(Diagnostic::new(
                        Place::of(&doc.sources, frag.location(), &file.path),
                        format!(
                            "fragment `{}` is defined twice; the other definition is at {}",
                            frag.name,
                            Place::of(
                                &parsed[*j].1.sources,
                                previous.location(),
                                &parsed[*j].0.path
                            )
                        ),
                    ));
                } else {
                    fragments.insert(frag.name.to_string(), (i, frag.clone()));
                }
            }
        }
    }

    let mut used_fragments = BTreeSet::new();
    let mut out = Vec::new();
    for (file, doc) in &parsed {
        let operations: Vec<&Node<ast::OperationDefinition>> = doc
            .definitions
            .iter()
            .filter_map(|d| d.as_operation_definition())
            .collect();
        if operations.is_empty() {
            continue;
        }
        // Fragments reached from each of this file's operations, transitively.
        let lookup = |name: &str| fragments.get(name).map(|(_, f)| &f.selection_set[..]);
        let per_operation: BTreeMap<Option<String>, BTreeSet<String>> = operations
            .iter()
            .map(|op| {
                let name = op.name.as_ref().map(|n| n.to_string());
                (name, reachable(&op.selection_set, lookup))
            })
            .collect();
        let needed: BTreeSet<String> = per_operation.values().flatten().cloned().collect();
        let fragment_deps: BTreeMap<String, BTreeSet<String>> = needed
            .iter()
            .filter_map(|name| {
                let (_, frag) = fragments.get(name)?;
                Some((name.clone(), reachable(&frag.selection_set, lookup)))
            })
            .collect();
        let mut combined = ast::Document::new();
        combined.sources = doc.sources.clone();
        // The schema's sources let reports point at the definition involved.
        Arc::make_mut(&mut combined.sources)
            .extend(schema.sources.iter().map(|(k, v)| (*k, v.clone())));
        for op in &operations {
            combined
                .definitions
                .push(ast::Definition::OperationDefinition((*op).clone()));
        }
        for name in &needed {
            if let Some((j, frag)) = fragments.get(name) {
                let sources = Arc::make_mut(&mut combined.sources);
                for (id, source) in parsed[*j].1.sources.iter() {
                    sources.insert(*id, source.clone());
                }
                combined
                    .definitions
                    .push(ast::Definition::FragmentDefinition(frag.clone()));
                used_fragments.insert(name.clone());
            }
        }
        match combined.to_executable_validate(schema) {
            Ok(valid) => out.push(ValidatedFile {
                path: file.path.clone(),
                doc: valid,
                fragments: per_operation,
                fragment_deps,
            }),
            Err(with_errors) => errors.extend(from_apollo(&with_errors.errors)),
        }
    }

    for (name, (i, frag)) in &fragments {
        if !used_fragments.contains(name) {
            warnings.push(format!(
                "{}: fragment `{name}` is not used by any operation",
                Place::of(&parsed[*i].1.sources, frag.location(), &parsed[*i].0.path)
            ));
        }
    }

    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The fragments `set` reaches, through spreads inside fragments too: the one fragment closure
/// (validation, generation and [`with_fragments`] use it). `fragment` looks a definition's
/// selection up by name; unknown names are kept (validation reports them).
pub fn reachable<'a>(
    set: &[ast::Selection],
    fragment: impl Fn(&str) -> Option<&'a [ast::Selection]>,
) -> BTreeSet<String> {
    let mut needed = BTreeSet::new();
    let mut stack = Vec::new();
    spreads(set, &mut stack);
    while let Some(name) = stack.pop() {
        if needed.insert(name.clone())
            && let Some(inner) = fragment(&name)
        {
            spreads(inner, &mut stack);
        }
    }
    needed
}

/// The fragment names spread directly anywhere in `set` (through fields and inline fragments;
/// not into the spread fragments themselves), in document order.
pub fn spreads(set: &[ast::Selection], out: &mut Vec<String>) {
    for sel in set {
        match sel {
            ast::Selection::Field(f) => spreads(&f.selection_set, out),
            ast::Selection::FragmentSpread(s) => out.push(s.fragment_name.to_string()),
            ast::Selection::InlineFragment(i) => spreads(&i.selection_set, out),
        }
    }
}

/// The document `ion run` sends for a file, from [`with_fragments`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Assembled {
    /// The file's text, then the definitions of the fragments it reaches from the library.
    pub text: String,
    /// Fragments the file reaches that neither it nor any library file that parses defines,
    /// sorted (validation, or the server, reports them as unknown).
    pub missing: Vec<String>,
    /// The library files left out because they do not parse, each with its syntax errors.
    pub skipped: Vec<Diagnostics>,
}

/// The document `ion run` sends for `file`: its text, then the definitions of the fragments it
/// reaches ([`reachable`]) that it does not define itself, taken from `library` (typically
/// `queries/fragments/**` and the files beside it, in the library's order: the first
/// definition of a name wins). Fragments it does not use are not added, so the server sees a
/// valid document.
///
/// A library file that does not parse is left out and listed in [`Assembled::skipped`]: it
/// matters only when a fragment the file needs is [`Assembled::missing`], since it may be
/// defined there; the caller decides what to say then.
///
/// # Errors
/// Syntax errors in `file`, with their locations.
pub fn with_fragments(file: &SourceFile, library: &[SourceFile]) -> Result<Assembled, Diagnostics> {
    let doc = parse(file)?;
    let mut available: BTreeMap<String, (String, Node<ast::FragmentDefinition>)> = BTreeMap::new();
    let mut skipped = Vec::new();
    for lib in library {
        let lib_doc = match parse(lib) {
            Ok(lib_doc) => lib_doc,
            Err(errors) => {
                skipped.push(errors);
                continue;
            }
        };
        for def in &lib_doc.definitions {
            if let Some(frag) = def.as_fragment_definition()
                && let Some(text) = def
                    .location()
                    .and_then(|loc| lib.text.get(loc.offset()..loc.end_offset()))
            {
                available
                    .entry(frag.name.to_string())
                    .or_insert_with(|| (text.to_string(), frag.clone()));
            }
        }
    }
    let defined: BTreeMap<&str, &[ast::Selection]> = doc
        .definitions
        .iter()
        .filter_map(|d| d.as_fragment_definition())
        .map(|f| (f.name.as_str(), &f.selection_set[..]))
        .collect();
    let lookup = |name: &str| {
        defined
            .get(name)
            .copied()
            .or_else(|| available.get(name).map(|(_, f)| &f.selection_set[..]))
    };
    let mut needed = BTreeSet::new();
    for def in &doc.definitions {
        let set = match def {
            ast::Definition::OperationDefinition(op) => &op.selection_set,
            ast::Definition::FragmentDefinition(f) => &f.selection_set,
            _ => continue,
        };
        needed.extend(reachable(set, lookup));
    }
    let mut text = file.text.clone();
    let mut missing = Vec::new();
    for name in needed {
        if defined.contains_key(name.as_str()) {
            continue;
        }
        match available.get(&name) {
            Some((definition, _)) => {
                text.push_str("\n\n");
                text.push_str(definition);
            }
            None => missing.push(name),
        }
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(Assembled {
        text,
        missing,
        skipped,
    })
}

/// Parses one GraphQL document (operations and fragments) without a schema.
///
/// # Errors
/// The syntax errors, each located.
pub fn parse(file: &SourceFile) -> Result<ast::Document, Diagnostics> {
    ast::Document::parse(file.text.as_str(), &file.path)
        .map_err(|e| Diagnostics(from_apollo(&e.errors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_fragments_adds_only_the_fragments_reached() {
        let file = SourceFile::new(
            "q.graphql",
            "query Q($after: String) { runs(after: $after) { pageInfo { ...P } edges { node { ...R } } } }",
        );
        let lib = [SourceFile::new(
            "fragments/f.graphql",
            "fragment P on IonPageInfo { hasNextPage endCursor }\nfragment R on Run { id ...U }\nfragment U on Run { title }\nfragment Unused on Run { id }",
        )];
        let doc = with_fragments(&file, &lib).expect("parses").text;
        for name in ["fragment P on", "fragment R on", "fragment U on"] {
            assert!(doc.contains(name), "{name} missing from {doc}");
        }
        assert!(!doc.contains("Unused"), "{doc}");
        // A fragment the file defines itself is not added again.
        let own = SourceFile::new(
            "q.graphql",
            "query Q { me { ...U } }\nfragment U on User { id }",
        );
        let doc = with_fragments(
            &own,
            &[SourceFile::new("f.graphql", "fragment U on User { name }")],
        )
        .expect("parses")
        .text;
        assert_eq!(doc.matches("fragment U").count(), 1, "{doc}");
    }

    /// A library file that does not parse is left out and reported; only a fragment no file
    /// that parses defines makes it matter.
    #[test]
    fn broken_library_files_are_skipped_and_listed() {
        let file = SourceFile::new("q.graphql", "query Q { me { ...U } }");
        let library = [
            SourceFile::new("broken.graphql", "query Broken { me { id }"),
            SourceFile::new("f.graphql", "fragment U on User { id }"),
        ];
        let assembled = with_fragments(&file, &library).expect("the file parses");
        assert!(assembled.text.contains("fragment U on User"));
        assert!(assembled.missing.is_empty());
        assert_eq!(assembled.skipped.len(), 1);
        assert!(
            assembled.skipped[0]
                .to_string()
                .contains("broken.graphql:1:"),
            "{}",
            assembled.skipped[0]
        );

        let needs_v = SourceFile::new("q.graphql", "query Q { me { ...U ...V } }");
        let assembled = with_fragments(&needs_v, &library).expect("the file parses");
        assert_eq!(assembled.missing, ["V"]);
    }

    /// A fragment that spreads itself (invalid, but `ion run --no-validate` reads what it is
    /// given) is visited once.
    #[test]
    fn self_spreading_fragments_end() {
        let file = SourceFile::new(
            "q.graphql",
            "query Q { me { ...F } }\nfragment F on User { id ...F ...G }",
        );
        let library = [SourceFile::new(
            "g.graphql",
            "fragment G on User { ...F ...G }",
        )];
        let assembled = with_fragments(&file, &library).expect("parses");
        assert_eq!(assembled.text.matches("fragment G").count(), 1);
        assert!(assembled.missing.is_empty());
    }
}
