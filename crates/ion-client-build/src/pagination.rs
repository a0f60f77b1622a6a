//! Whether an operation pages, and where: the one rule the generator (for `impl Paginated` and
//! the `_pages`/`_nodes` methods) and `ion run --all-pages` apply.
//!
//! An operation pages when it declares `$after`, passes it as `after: $after` to a field (the
//! connection) reached from `data` through fields that are not lists, and the connection
//! selects `pageInfo { hasNextPage endCursor }` and `edges { node }`, with `edges` a list and
//! `node` not. Selections are found by response key (aliases included), looking through
//! fragment spreads and inline fragments. The rule reads apollo-compiler's
//! `ExecutableDocument` (selections with their schema definitions), never the document's text.

use std::collections::HashSet;
use std::fmt;

use apollo_compiler::executable::{ExecutableDocument, Field, Operation, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Node, Schema};

use crate::SourceFile;

/// Where an operation's pages are: the connection field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The response keys from `data` down to the connection field (the one taking
    /// `after: $after`).
    pub path: Vec<String>,
}

/// Why an operation does not page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotPaginated {
    /// No `$after` variable.
    NoAfterVariable,
    /// No field takes `after: $after`.
    NoAfterArgument,
    /// The connection, or a field above it (the response key given), is a list, so there is no
    /// one cursor to follow.
    ThroughList(String),
    /// The connection selects no `pageInfo`.
    NoPageInfo,
    /// `pageInfo` lacks `hasNextPage` or `endCursor` (the one named).
    PageInfoLacks(&'static str),
    /// The connection selects no `edges`, or `edges` is not a list.
    NoEdges,
    /// `edges` selects no `node`, or `node` is a list.
    NoNode,
    /// The document does not define the operation asked for (its name, if one was given).
    NoSuchOperation(Option<String>),
}

impl fmt::Display for NotPaginated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotPaginated::NoAfterVariable => f.write_str("it declares no `$after` variable"),
            NotPaginated::NoAfterArgument => f.write_str("no field takes `after: $after`"),
            NotPaginated::ThroughList(key) => write!(
                f,
                "`{key}` is a list on the way to the connection, so there is no one cursor to follow"
            ),
            NotPaginated::NoPageInfo => f.write_str("the connection selects no `pageInfo`"),
            NotPaginated::PageInfoLacks(what) => write!(f, "its `pageInfo` lacks `{what}`"),
            NotPaginated::NoEdges => f.write_str("the connection selects no list of `edges`"),
            NotPaginated::NoNode => f.write_str("its `edges` select no single `node`"),
            NotPaginated::NoSuchOperation(Some(name)) => {
                write!(f, "the document defines no operation `{name}`")
            }
            NotPaginated::NoSuchOperation(None) => f.write_str("the document defines no operation"),
        }
    }
}

impl std::error::Error for NotPaginated {}

/// What an operation must select to page, for messages that say how to fix one that does not.
pub const REQUIREMENT: &str = "an `$after` variable passed as `after:` to a connection selecting \
                               `pageInfo { hasNextPage endCursor }` and `edges { node { ... } }`";

/// The connection `operation` pages through, or why it does not page.
///
/// # Errors
/// Why the operation does not page.
pub fn connection(
    document: &ExecutableDocument,
    operation: &Operation,
) -> Result<Connection, NotPaginated> {
    if !operation.variables.iter().any(|v| v.name == "after") {
        return Err(NotPaginated::NoAfterVariable);
    }
    let mut trail = Vec::new();
    let mut entered = HashSet::new();
    if !find_after(document, &operation.selection_set, &mut trail, &mut entered) {
        return Err(NotPaginated::NoAfterArgument);
    }
    // Every field down to the connection, merged by response key at each level.
    let mut sets: Vec<&SelectionSet> = vec![&operation.selection_set];
    for key in &trail {
        let fields = by_key(document, &sets, key);
        if fields.iter().any(|f| f.definition.ty.is_list()) {
            return Err(NotPaginated::ThroughList(key.clone()));
        }
        sets = fields.iter().map(|f| &f.selection_set).collect();
    }
    let page_info = by_key(document, &sets, "pageInfo");
    if page_info.is_empty() {
        return Err(NotPaginated::NoPageInfo);
    }
    let page_info: Vec<&SelectionSet> = page_info.iter().map(|f| &f.selection_set).collect();
    for wanted in ["hasNextPage", "endCursor"] {
        if by_key(document, &page_info, wanted).is_empty() {
            return Err(NotPaginated::PageInfoLacks(wanted));
        }
    }
    let edges = by_key(document, &sets, "edges");
    if edges.is_empty() || edges.iter().any(|f| !f.definition.ty.is_list()) {
        return Err(NotPaginated::NoEdges);
    }
    let edges: Vec<&SelectionSet> = edges.iter().map(|f| &f.selection_set).collect();
    let node = by_key(document, &edges, "node");
    if node.is_empty() || node.iter().any(|f| f.definition.ty.is_list()) {
        return Err(NotPaginated::NoNode);
    }
    Ok(Connection { path: trail })
}

/// [`connection`] for the operation named `operation` (or the only one) in `document`, read
/// against `schema` without requiring the document to be valid: selections the schema does not
/// know are left out, as `ion run --no-validate` needs.
///
/// # Errors
/// Why the operation does not page; [`NotPaginated::NoSuchOperation`] when it is not found or
/// the schema does not parse.
pub fn check(
    schema: &SourceFile,
    document: &SourceFile,
    operation: Option<&str>,
) -> Result<Connection, NotPaginated> {
    let missing = || NotPaginated::NoSuchOperation(operation.map(str::to_string));
    let schema = Schema::parse_and_validate(schema.text.as_str(), &schema.path)
        .or_else(|with_errors| Ok::<_, ()>(Valid::assume_valid(with_errors.partial)))
        .map_err(|()| missing())?;
    let doc = ExecutableDocument::parse(&schema, document.text.as_str(), &document.path)
        .unwrap_or_else(|with_errors| with_errors.partial);
    let op = doc.operations.get(operation).map_err(|_| missing())?;
    connection(&doc, op)
}

/// Records in `trail` the response keys down to the first field taking `after: $after`.
/// `entered` holds the fragments already searched: a fragment that did not hold the argument
/// once does not hold it the next time, and a fragment that spreads itself (an unvalidated
/// document) ends the search instead of recursing until the stack overflows.
fn find_after<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    trail: &mut Vec<String>,
    entered: &mut HashSet<&'d Name>,
) -> bool {
    for sel in &set.selections {
        let found = match sel {
            Selection::Field(f) => {
                trail.push(f.response_key().to_string());
                let takes_after = f.arguments.iter().any(|a| {
                    a.name == "after" && a.value.as_variable().is_some_and(|v| v == "after")
                });
                if takes_after || find_after(doc, &f.selection_set, trail, entered) {
                    return true;
                }
                trail.pop();
                false
            }
            Selection::FragmentSpread(s) => {
                entered.insert(&s.fragment_name)
                    && doc
                        .fragments
                        .get(&s.fragment_name)
                        .is_some_and(|f| find_after(doc, &f.selection_set, trail, entered))
            }
            Selection::InlineFragment(i) => find_after(doc, &i.selection_set, trail, entered),
        };
        if found {
            return true;
        }
    }
    false
}

/// The fields of `sets` with response key `key`, looking through spreads (each fragment once)
/// and inline fragments.
fn by_key<'d>(
    doc: &'d ExecutableDocument,
    sets: &[&'d SelectionSet],
    key: &str,
) -> Vec<&'d Node<Field>> {
    let mut out = Vec::new();
    let mut entered = HashSet::new();
    let mut stack: Vec<&SelectionSet> = sets.to_vec();
    while let Some(set) = stack.pop() {
        for sel in &set.selections {
            match sel {
                Selection::Field(f) if f.response_key() == key => out.push(f),
                Selection::Field(_) => {}
                Selection::FragmentSpread(s) => {
                    if entered.insert(&s.fragment_name)
                        && let Some(f) = doc.fragments.get(&s.fragment_name)
                    {
                        stack.push(&f.selection_set);
                    }
                }
                Selection::InlineFragment(i) => stack.push(&i.selection_set),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "
        type Query { runs(after: String, first: Int): RunsConnection lists(after: String): [RunsConnection] me: Run }
        type RunsConnection { pageInfo: PageInfo! edges: [RunsEdge]! nodes: [Run] }
        type PageInfo { hasNextPage: Boolean! endCursor: String }
        type RunsEdge { node: Run cursor: String }
        type Run { id: ID! }";

    fn check_text(doc: &str, operation: Option<&str>) -> Result<Vec<String>, NotPaginated> {
        check(
            &SourceFile::new("schema.graphql", SCHEMA),
            &SourceFile::new("q.graphql", doc),
            operation,
        )
        .map(|c| c.path)
    }

    #[test]
    fn pages_through_aliases_and_fragments() {
        let doc = "query B($after: String) { x: runs(after: $after) { ...C edges { node { id } } } }\n\
                   query D($after: String) { ...E }\n\
                   fragment C on RunsConnection { pageInfo { hasNextPage endCursor } }\n\
                   fragment E on Query { runs(after: $after) { ... on RunsConnection { pageInfo { hasNextPage endCursor } } edges { node { id } } } }";
        assert_eq!(check_text(doc, Some("B")), Ok(vec!["x".to_string()]));
        assert_eq!(check_text(doc, Some("D")), Ok(vec!["runs".to_string()]));
    }

    #[test]
    fn every_half_of_the_rule_is_checked() {
        let cases = [
            ("query Q { me { id } }", NotPaginated::NoAfterVariable),
            (
                "query Q($after: String) { runs { edges { node { id } } } }",
                NotPaginated::NoAfterArgument,
            ),
            (
                "query Q($after: String) { lists(after: $after) { edges { node { id } } } }",
                NotPaginated::ThroughList("lists".into()),
            ),
            (
                "query Q($after: String) { runs(after: $after) { edges { node { id } } } }",
                NotPaginated::NoPageInfo,
            ),
            (
                "query Q($after: String) { runs(after: $after) { pageInfo { endCursor } edges { node { id } } } }",
                NotPaginated::PageInfoLacks("hasNextPage"),
            ),
            (
                "query Q($after: String) { runs(after: $after) { pageInfo { hasNextPage endCursor } } }",
                NotPaginated::NoEdges,
            ),
            (
                "query Q($after: String) { runs(after: $after) { pageInfo { hasNextPage endCursor } edges: pageInfo { hasNextPage } } }",
                NotPaginated::NoEdges,
            ),
            (
                "query Q($after: String) { runs(after: $after) { pageInfo { hasNextPage endCursor } edges { cursor } } }",
                NotPaginated::NoNode,
            ),
        ];
        for (doc, why) in cases {
            assert_eq!(check_text(doc, None), Err(why), "{doc}");
        }
        assert_eq!(
            check_text("query Q { me { id } }", Some("Other")),
            Err(NotPaginated::NoSuchOperation(Some("Other".into())))
        );
    }

    /// Fragments that spread themselves or each other are invalid, but `check` reads
    /// unvalidated documents: every walk ends.
    #[test]
    fn fragment_cycles_end_the_walks() {
        let cycle = "query Q($after: String) { ...F runs(after: $after) { ...C } }\n\
                     fragment F on Query { ...F ...G }\n\
                     fragment G on Query { ...F }\n\
                     fragment C on RunsConnection { ...C pageInfo { hasNextPage endCursor } edges { node { id } } }";
        assert_eq!(check_text(cycle, None), Ok(vec!["runs".to_string()]));
        let no_after = "query Q($after: String) { ...F }\nfragment F on Query { ...F }";
        assert_eq!(
            check_text(no_after, None),
            Err(NotPaginated::NoAfterArgument)
        );
        let no_page_info = "query Q($after: String) { runs(after: $after) { ...C } }\n\
                            fragment C on RunsConnection { ...C edges { node { id } } }";
        assert_eq!(
            check_text(no_page_info, None),
            Err(NotPaginated::NoPageInfo)
        );
    }

    #[test]
    fn the_connection_is_never_reached_through_a_list() {
        let schema = "type Query { all: [Holder] } type Holder { runs(after: String): C } \
                      type C { pageInfo: P edges: [E] } type P { hasNextPage: Boolean endCursor: String } \
                      type E { node: Holder }";
        let doc = "query Q($after: String) { all { runs(after: $after) { pageInfo { hasNextPage endCursor } edges { node { __typename } } } } }";
        assert_eq!(
            check(
                &SourceFile::new("s.graphql", schema),
                &SourceFile::new("q.graphql", doc),
                None
            ),
            Err(NotPaginated::ThroughList("all".into()))
        );
    }
}
