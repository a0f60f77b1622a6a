//! The generator's behaviour: diagnostics, naming, decoding shapes, snapshots of the code
//! generated for this repository's `queries/`, and the full reference schema when present.

use std::path::{Path, PathBuf};

use ion_client_build::{DeprecationPolicy, Options, SourceFile, generate};

mod shared;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Code as generated inside ion-client itself (runtime path `crate`).
fn in_crate() -> Options {
    Options {
        runtime_path: "crate".into(),
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
        &in_crate(),
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
        "pub cost_2: Nullable<i64>",
        "pub cost: Nullable<i64>",
        "OtherValue",
        "Other(String)",
        "pub and: Nullable<Vec<Option<ThingFilters>>>",
        "pub nested: Nullable<Box<ThingFilters>>",
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
    // @include makes the field optional, and an absent key decodes as `None`.
    assert!(
        code.contains("pub status: Option<types::Status>,"),
        "{code}"
    );
    assert!(code.contains("1 => status = \"status\","), "{code}");
    // Unions decode by __typename, which the generator adds to the query.
    assert!(code.contains("subject(id: 1) {\\n    __typename"), "{code}");
    // The root field's struct would be named like the operation: `Payload` (crate docs, "Names").
    assert!(code.contains("pub enum SubjectPayload"), "{code}");
    assert!(code.contains("Other(SubjectPayloadOther)"), "{code}");
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
            ..in_crate()
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
    // The streams are the runtime's named types, never a private path.
    assert!(
        out.code.contains(
            "fn page_pages(&self, variables: page::Variables) -> crate::Pages<page::Page>;"
        ),
        "{}",
        out.code
    );
    assert!(
        out.code.contains(
            "fn page_nodes(&self, variables: page::Variables) -> crate::Nodes<page::Page>;"
        )
    );
    assert!(!out.code.contains("__private::Stream"));
    assert!(!out.code.contains("impl crate::Paginated for NoPage"));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("NoPage") && w.contains("the connection selects no `pageInfo`")),
        "{:?}",
        out.warnings
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
        .runtime_path("crate");
    let started = std::time::Instant::now();
    let out = builder.generate_from(&root).expect("queries/ generate");
    let elapsed = started.elapsed();
    let lines = out.code.lines().count();
    eprintln!(
        "queries/: {} operations, {lines} generated lines, generated in {elapsed:.2?}",
        out.operations.len()
    );
    // Names relative to their module stay short (crate docs, "Names").
    let longest = out
        .code
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(3)
        .filter(|w| w[0] == "pub" && ["struct", "enum", "type"].contains(&w[1]))
        .map(|w| w[2].trim_end_matches(|c: char| !c.is_alphanumeric()))
        .max_by_key(|n| n.len())
        .unwrap_or_default()
        .to_string();
    assert!(longest.len() < 40, "longest generated type name: {longest}");
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

/// The naming rule's collision cases (see the crate docs, "Names"), one snapshot each: the
/// module generated for one operation (and the shared fragments when there are any).
#[test]
fn name_collisions_snapshot() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            // The root field's struct would be the operation's own struct: `Payload`.
            "collision_root_field_named_like_the_operation",
            &[(
                "queries/set.graphql",
                "mutation SetThing($input: SetThingInput!) { setThing(input: $input) { id } }",
            )],
        ),
        (
            // Root fields aliased to reserved names (`Node`, `Variables`, `ResponseData`).
            "collision_root_field_named_like_a_reserved_type",
            &[(
                "queries/reserved.graphql",
                "query Reserved { node: things { pageInfo { hasNextPage } } variables: thing(id: 1) { id } responseData: thing(id: 2) { id } }",
            )],
        ),
        (
            // The same path below two root fields: the second takes its root key as prefix.
            "collision_same_path_below_two_root_fields",
            &[(
                "queries/two.graphql",
                "query Two { a: things { edges { node { id } } } b: things { edges { node { id } } } }",
            )],
        ),
        (
            // A local fragment's type keeps the fragment's name; the root field steps aside.
            "collision_root_field_named_like_a_local_fragment",
            &[(
                "queries/frag.graphql",
                "query WithFragment { thing(id: 1) { ...Thing status } }\nfragment Thing on Thing { id etag }",
            )],
        ),
        (
            // A spread whose keys another selection shares is inlined, not held.
            "collision_spread_sharing_a_key_is_inlined",
            &[(
                "queries/overlap.graphql",
                "query Overlap { thing(id: 1) { ...Ids id status } }\nfragment Ids on Thing { id etag }",
            )],
        ),
    ];
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/names");
    settings.bind(|| {
        for (name, files) in cases {
            let out = small(files).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mods = modules(&out.code);
            let body: String = mods
                .iter()
                .filter(|(m, _)| m != "types")
                .map(|(_, b)| b.as_str())
                .collect();
            insta::assert_snapshot!(*name, body);
        }
    });
}

/// What surrounds the modules: the `@generated` header, and the client methods as a trait (the
/// default for application crates) with its pagination methods.
#[test]
fn whole_file_header_and_client_trait_snapshot() {
    let out = generate(
        &SourceFile::new("schema.graphql", SMALL_SCHEMA),
        &[
            SourceFile::new(
                "queries/page.graphql",
                "query Page($after: String) { things(after: $after, first: 2) { pageInfo { hasNextPage endCursor } edges { node { id } } } }",
            ),
            SourceFile::new("queries/one.graphql", "query One($id: ID!) { thing(id: $id) { id status } }"),
        ],
        &Options::default(),
    )
    .unwrap();
    let header: String = out.code.lines().take(2).map(|l| format!("{l}\n")).collect();
    let trait_at = out
        .code
        .find("/// One typed method per operation")
        .expect("client trait");
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/names");
    settings.bind(|| {
        insta::assert_snapshot!("whole_file_header", header);
        insta::assert_snapshot!("whole_file_client_trait", &out.code[trait_at..]);
        let page = modules(&out.code)
            .into_iter()
            .find(|(m, _)| m == "page")
            .expect("page");
        insta::assert_snapshot!("whole_file_paginated_operation", page.1);
    });
}

/// `queries/` against ION's complete 2023 reference schema (when `../shared` is present): the
/// input filter families stay proportional to what the operations use, not to the schema's
/// 500-odd input objects (crate docs, "Lean shared types").
#[test]
fn shared_queries_against_the_reference_schema_stay_lean() {
    let Some(shared) = shared::dir("shared_queries_against_the_reference_schema_stay_lean") else {
        return;
    };
    let reference = shared.join("ion-reference/ion-schema-2023.graphql");
    let text = std::fs::read_to_string(&reference).expect("the reference schema");
    let queries: Vec<SourceFile> =
        ion_client_build::files::graphql_files(&repo_root().join("queries"))
            .expect("queries/")
            .into_iter()
            .map(|path| {
                let mut file = ion_client_build::files::read_source(&path).expect("read");
                file.path = path
                    .strip_prefix(repo_root())
                    .unwrap_or(&path)
                    .to_path_buf();
                file
            })
            .collect();
    let out = generate(
        &SourceFile::new("ion-schema-2023.graphql", text),
        &queries,
        &in_crate(),
    )
    .expect("queries/ generate against the reference schema");
    let lines = out.code.lines().count();
    let families = out
        .code
        .lines()
        .filter(|l| l.starts_with("    pub struct ") && l.contains("InputFilters "))
        .count();
    let named: std::collections::BTreeSet<&str> = queries
        .iter()
        .flat_map(|q| q.text.split(|c: char| !c.is_alphanumeric() && c != '_'))
        .filter(|w| w.ends_with("InputFilters"))
        .collect();
    eprintln!(
        "queries/ against the reference schema: {lines} generated lines, {families} *InputFilters families for {} named by the operations",
        named.len()
    );
    assert!(
        families <= 2 * named.len(),
        "{families} filter families for {} named",
        named.len()
    );
    assert!(lines <= 14_000, "{lines} lines");
}
