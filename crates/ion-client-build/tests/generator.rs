//! The generator's behaviour: diagnostics, naming, decoding shapes, snapshots of the code
//! generated for this repository's `queries/`, and the full reference schema when present.

use std::path::{Path, PathBuf};

use ion_client_build::{DeprecationPolicy, Options, SourceFile, generate};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn inherent() -> Options {
    Options {
        runtime_path: "crate".into(),
        client_methods: ion_client_build::ClientMethods::Inherent,
        ..Options::default()
    }
}

const SMALL_SCHEMA: &str = r#"
schema { query: Query mutation: Mutation }
scalar Decimal
scalar DateTime
type Query {
  thing(id: ID!): Thing
  things(filters: ThingFilters, after: String, first: Int): ThingsConnection
  subject(id: ID!): Subject
  old: Int @deprecated(reason: "use thing")
}
type Mutation { setThing(input: SetThingInput!): Thing }
enum Status { TODO DONE OTHER }
type Thing {
  id: Int!
  _etag: String
  etag: String
  type: String
  Attributes: [String]
  attributes: [String]
  status: Status
  price: Decimal
  when: DateTime
}
type Other { id: Int! name: String }
union Subject = Thing | Other
type PageInfo { hasNextPage: Boolean! endCursor: String }
type ThingsEdge { node: Thing cursor: String! }
type ThingsConnection { edges: [ThingsEdge]! pageInfo: PageInfo! }
input ThingFilters { and_: [ThingFilters] _cost: Int cost: Int status: Status nested: ThingFilters }
input SetThingInput { id: Int! etag: String! status: Status note: String }
"#;

fn small(
    queries: &[(&str, &str)],
) -> Result<ion_client_build::Generated, ion_client_build::Diagnostics> {
    let files: Vec<SourceFile> = queries
        .iter()
        .map(|(p, t)| SourceFile::new(*p, *t))
        .collect();
    generate(
        &SourceFile::new("schema.graphql", SMALL_SCHEMA),
        &files,
        &inherent(),
    )
}

#[test]
fn every_error_is_reported_at_once_with_its_location() {
    let err = small(&[
        (
            "queries/a.graphql",
            "query A($unused: Int) {\n  thing(id: 1) { id nope }\n}\n",
        ),
        (
            "queries/b.graphql",
            "query B {\n  thing(id: {x: 1}) { id }\n}\n",
        ),
    ])
    .unwrap_err();
    let text = err.to_string();
    // Unknown field, unused variable, wrong argument type: three errors, two files.
    assert!(text.contains("queries/a.graphql:2:21"), "{text}");
    assert!(text.contains("nope"), "{text}");
    assert!(text.contains("unused"), "{text}");
    assert!(text.contains("queries/b.graphql:2:13"), "{text}");
    assert!(err.0.len() >= 3, "{text}");
    // The report points at the schema definition involved.
    assert!(text.contains("schema.graphql"), "{text}");
}

#[test]
fn syntax_errors_and_duplicate_operations_are_located() {
    let err = small(&[("queries/bad.graphql", "query Bad {\n  thing(id: 1) { id \n")]).unwrap_err();
    assert!(err.to_string().contains("queries/bad.graphql:"), "{err}");

    let err = small(&[
        ("queries/one.graphql", "query Same { thing(id: 1) { id } }"),
        ("queries/two.graphql", "query Same { thing(id: 2) { id } }"),
    ])
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("queries/two.graphql:1:1") && text.contains("queries/one.graphql:1:1"),
        "{text}"
    );
}

#[test]
fn colliding_names_and_keywords_get_deterministic_renames() {
    let out = small(&[(
        "queries/thing.graphql",
        "query GetThing($f: ThingFilters) { things(filters: $f) { edges { node { id _etag etag type Attributes attributes status } } } }",
    )])
    .unwrap();
    let code = &out.code;
    for expected in [
        "pub etag_2: Option<String>",
        "pub etag: Option<String>",
        "pub type_: Option<String>",
        "pub attributes_2: Option<Vec<Option<String>>>",
        "pub cost_2: crate::Nullable<i64>",
        "pub cost: crate::Nullable<i64>",
        "OtherValue",
        "Other(String)",
        "pub and: crate::Nullable<Vec<Option<ThingFilters>>>",
        "pub nested: crate::Nullable<Box<ThingFilters>>",
    ] {
        assert!(code.contains(expected), "missing `{expected}` in:\n{code}");
    }
    assert!(code.starts_with("// @generated"));
    // Same input, same output.
    let again = small(&[(
        "queries/thing.graphql",
        "query GetThing($f: ThingFilters) { things(filters: $f) { edges { node { id _etag etag type Attributes attributes status } } } }",
    )])
    .unwrap();
    assert_eq!(out.code, again.code);
}

#[test]
fn unions_anonymous_operations_directives_and_deprecations() {
    let out = small(&[(
        "queries/029_set_thing.graphql",
        "mutation($input: SetThingInput!, $with: Boolean!) {\n  setThing(input: $input) { id status @include(if: $with) }\n}\n",
    ), (
        "queries/subject.graphql",
        "query Subject {\n  subject(id: 1) { ... on Thing { id } ... on Other { name } }\n  old\n}\n",
    )])
    .unwrap();
    let code = &out.code;
    // Anonymous operation named after its file, and the name is sent.
    assert!(code.contains("pub mod set_thing"), "{code}");
    assert!(code.contains("mutation SetThing("), "{code}");
    // @include makes the field optional with a default.
    assert!(
        code.contains("#[serde(rename = \"status\", default)]"),
        "{code}"
    );
    // Unions decode by __typename, which the generator adds to the query.
    assert!(code.contains("subject(id: 1) {\\n    __typename"), "{code}");
    assert!(code.contains("pub enum SubjectSubject"), "{code}");
    assert!(code.contains("Other(SubjectSubjectOther)"), "{code}");
    // Deprecated field: a warning naming file:line:column.
    assert!(
        out.warnings
            .iter()
            .any(|w| w.starts_with("queries/subject.graphql:3:3") && w.contains("deprecated")),
        "{:?}",
        out.warnings
    );
    let denied = generate(
        &SourceFile::new("schema.graphql", SMALL_SCHEMA),
        &[SourceFile::new("queries/old.graphql", "query Old { old }")],
        &Options {
            deprecations: DeprecationPolicy::Deny,
            ..inherent()
        },
    );
    assert!(
        denied
            .unwrap_err()
            .to_string()
            .contains("queries/old.graphql:1:13")
    );
}

#[test]
fn pagination_is_detected_from_after_and_page_info() {
    let out = small(&[(
        "queries/page.graphql",
        "query Page($after: String) { things(after: $after, first: 2) { pageInfo { hasNextPage endCursor } edges { node { id } } } }",
    ), (
        "queries/nopage.graphql",
        "query NoPage($after: String) { things(after: $after) { edges { node { id } } } }",
    )])
    .unwrap();
    assert!(
        out.code.contains("impl crate::Paginated for Page"),
        "{}",
        out.code
    );
    assert!(out.code.contains("pub fn page_pages("));
    assert!(out.code.contains("pub fn page_nodes("));
    assert!(!out.code.contains("impl crate::Paginated for NoPage"));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("NoPage") && w.contains("pageInfo"))
    );
}

/// Splits generated code into its top-level modules, for one snapshot per operation.
fn modules(code: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut pending_doc = String::new();
    for line in code.lines() {
        if let Some(rest) = line.strip_prefix("pub mod ") {
            let name = rest.trim_end_matches(" {").to_string();
            let mut body = std::mem::take(&mut pending_doc);
            body.push_str(line);
            body.push('\n');
            current = Some((name, body));
        } else if line.starts_with("///") && current.is_none() {
            pending_doc.push_str(line);
            pending_doc.push('\n');
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
            if line == "}" {
                out.push(current.take().unwrap_or_default());
            }
        } else {
            pending_doc.clear();
        }
    }
    out
}

#[test]
fn generated_code_for_queries_snapshot() {
    let root = repo_root();
    let builder = ion_client_build::Builder::new()
        .schema("schema/ion.graphql")
        .queries("queries")
        .runtime_path("crate")
        .inherent_client_methods();
    let started = std::time::Instant::now();
    let out = builder.generate_from(&root).expect("queries/ generate");
    let elapsed = started.elapsed();
    let lines = out.code.lines().count();
    eprintln!(
        "queries/: {} operations, {lines} generated lines, generated in {elapsed:.2?}",
        out.operations.len()
    );
    let mods = modules(&out.code);
    assert!(
        mods.len() > 25,
        "expected the types module and the operations"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/queries");
    settings.bind(|| {
        for (name, body) in &mods {
            insta::assert_snapshot!(name.as_str(), body);
        }
    });
}

#[test]
fn diagnostics_render_with_source_excerpts() {
    let err = small(&[(
        "queries/a.graphql",
        "query A {\n  thing(id: 1) { id nope }\n}\n",
    )])
    .unwrap_err();
    let text = err.to_string();
    eprintln!("{text}");
    assert!(text.contains("nope"), "{text}");
    assert!(
        text.contains("schema.graphql"),
        "the report names the schema definition: {text}"
    );
}
