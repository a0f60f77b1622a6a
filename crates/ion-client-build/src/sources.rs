//! Loading `.graphql` files, resolving shared fragments and validating every operation.
//!
//! Invariant: every diagnostic names `file:line:column`; all of them are collected before the
//! build fails, so a user sees every mistake at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apollo_compiler::ast;
use apollo_compiler::diagnostic::ToCliReport;
use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::validation::{DiagnosticList, Valid};
use apollo_compiler::{Node, Schema};

use crate::Diagnostic;

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
        .map_err(|with_errors| diagnostics(&with_errors.errors))
}

/// Converts apollo-compiler diagnostics into ours: `path:line:col: message` plus the rendered
/// report (which points at the schema definition involved).
pub(crate) fn diagnostics(list: &DiagnosticList) -> Vec<Diagnostic> {
    list.iter()
        .map(|d| {
            let location = d
                .error
                .location()
                .and_then(|loc| {
                    let range = d.line_column_range()?;
                    let file = d.sources.get(&loc.file_id())?;
                    Some(format!(
                        "{}:{}:{}",
                        file.path().display(),
                        range.start.line,
                        range.start.column
                    ))
                })
                .unwrap_or_else(|| "<unknown location>".to_string());
            Diagnostic {
                location,
                message: d.error.to_string(),
                report: d
                    .to_report(apollo_compiler::diagnostic::Color::Never)
                    .into_string(),
            }
        })
        .collect()
}

fn located(
    sources: &apollo_compiler::parser::SourceMap,
    node_loc: Option<apollo_compiler::parser::SourceSpan>,
    fallback: &Path,
) -> String {
    node_loc
        .and_then(|loc| {
            let range = loc.line_column_range(sources)?;
            let file = sources.get(&loc.file_id())?;
            Some(format!(
                "{}:{}:{}",
                file.path().display(),
                range.start.line,
                range.start.column
            ))
        })
        .unwrap_or_else(|| fallback.display().to_string())
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
            Err(with_errors) => errors.extend(diagnostics(&with_errors.errors)),
        }
    }

    // Global fragment index: name -> (document index, definition).
    let mut fragments: BTreeMap<String, (usize, Node<ast::FragmentDefinition>)> = BTreeMap::new();
    for (i, (file, doc)) in parsed.iter().enumerate() {
        for def in &doc.definitions {
            if let Some(frag) = def.as_fragment_definition() {
                if let Some((j, previous)) = fragments.get(frag.name.as_str()) {
                    errors.push(Diagnostic {
                        location: located(&doc.sources, frag.location(), &file.path),
                        message: format!(
                            "fragment `{}` is defined twice; the other definition is at {}",
                            frag.name,
                            located(
                                &parsed[*j].1.sources,
                                previous.location(),
                                &parsed[*j].0.path
                            )
                        ),
                        report: String::new(),
                    });
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
            Err(with_errors) => errors.extend(diagnostics(&with_errors.errors)),
        }
    }

    for (name, (i, frag)) in &fragments {
        if !used_fragments.contains(name) {
            warnings.push(format!(
                "{}: fragment `{name}` is not used by any operation",
                located(&parsed[*i].1.sources, frag.location(), &parsed[*i].0.path)
            ));
        }
    }

    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The fragments `set` reaches, through spreads inside fragments too: the one fragment walker
/// (validation, generation and the CLI's document helpers all use it). `fragment` looks a
/// definition's selection up by name; unknown names are kept (validation reports them).
pub(crate) fn reachable<'a>(
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

/// The fragment names spread directly anywhere in `set`.
pub(crate) fn spreads(set: &[ast::Selection], out: &mut Vec<String>) {
    for sel in set {
        match sel {
            ast::Selection::Field(f) => spreads(&f.selection_set, out),
            ast::Selection::FragmentSpread(s) => out.push(s.fragment_name.to_string()),
            ast::Selection::InlineFragment(i) => spreads(&i.selection_set, out),
        }
    }
}

/// `path:line:col` of a node in a validated document.
pub(crate) fn location_of(
    doc: &ExecutableDocument,
    loc: Option<apollo_compiler::parser::SourceSpan>,
    fallback: &Path,
) -> String {
    located(&doc.sources, loc, fallback)
}

/// Every `*.graphql` file below `dir`, sorted by path so output is deterministic.
pub(crate) fn graphql_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "graphql" || e == "gql")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
