//! The drift engine (`ion_client_build::drift`) on pairs of small schemas.
//!
//! [`BASE`] is a small schema in ION's style; each row of [`CASES`] edits it once into a "new"
//! schema and names every change [`drift::diff`] must report (as its one-line `Display`), and
//! every place in [`OPERATIONS`] that [`drift::impact`] must report. Each operation file uses
//! some parts of the schema and not others, so a row checks both that the operations using the
//! changed part are found and that the others are left alone.
//!
//! The last tests run the engine on the shipped schema (complete: every type of ION's API).

use apollo_compiler::ast;
use apollo_compiler::{Name, Schema};
use ion_client_build::SourceFile;
use ion_client_build::drift::{self, Consequence, Severity};

const BASE: &str = r#"
schema { query: Query mutation: Mutation }
type Query {
  run(id: ID!): Run
  runs(filters: RunFilter, first: Int = 10, sort: RunSort = NEWEST): [Run!]!
  things: [Thing]
  node(id: ID!): Node
}
type Mutation { updateRun(input: UpdateRunInput!): Run }
interface Node { id: ID! }
type Run implements Node {
  id: ID!
  title: String!
  status: RunStatus!
  tags: [String!]!
  notes: String
  owner: User
}
type User implements Node { id: ID! name: String }
type Step { id: ID! }
union Thing = Run | User
enum RunStatus { TODO DONE }
enum RunSort { NEWEST OLDEST }
input RunFilter { status: RunStatus title: String }
input UpdateRunInput { id: ID! title: String status: RunStatus }
scalar DateTime
"#;

/// Operation files, each using a different part of [`BASE`].
const OPERATIONS: &[(&str, &str)] = &[
    (
        "get_run.graphql",
        "query GetRun($id: ID!) {\n  run(id: $id) {\n    id\n    title\n    status\n    tags\n    notes\n    owner { name }\n  }\n}\n",
    ),
    (
        "list_runs.graphql",
        "query ListRuns($filters: RunFilter) {\n  runs(filters: $filters, first: 5) { id }\n}\n",
    ),
    (
        "things.graphql",
        "query Things {\n  things {\n    __typename\n    ... on Run { id }\n    ... on User { name }\n  }\n}\n",
    ),
    (
        "update_run.graphql",
        "mutation UpdateRun($input: UpdateRunInput!) {\n  updateRun(input: $input) { id }\n}\n",
    ),
    (
        "node.graphql",
        "query NodeById {\n  node(id: \"1\") { id }\n}\n",
    ),
    (
        "fragments.graphql",
        "query Done {\n  runs(filters: {status: DONE}) { ...RunTitle }\n}\nfragment RunTitle on Run { title }\n",
    ),
];

/// One edit of [`BASE`] (`from` occurs exactly once), the changes `diff` reports, and the
/// impacts on [`OPERATIONS`] as `file:line:column severity consequence coordinate` (see
/// [`summary`]).
struct Case {
    from: &'static str,
    to: &'static str,
    changes: &'static [&'static str],
    impacts: &'static [&'static str],
}

const CASES: &[Case] = &[
    // Fields of output types.
    Case {
        from: "  notes: String\n",
        to: "",
        changes: &["breaking: Run.notes: field removed"],
        impacts: &["get_run.graphql:7:5 breaking fails-to-validate Run.notes"],
    },
    Case {
        from: "  notes: String\n",
        to: "  notes: String\n  extra: Int\n",
        changes: &["safe: Run.extra: field added"],
        impacts: &[],
    },
    Case {
        from: "  status: RunStatus!\n",
        to: "  status: RunStatus\n",
        changes: &["breaking: Run.status: type changed from RunStatus! to RunStatus"],
        impacts: &["get_run.graphql:5:5 breaking fails-to-decode Run.status"],
    },
    Case {
        from: "  notes: String\n",
        to: "  notes: String!\n",
        changes: &["safe: Run.notes: type changed from String to String!"],
        impacts: &["get_run.graphql:7:5 safe keeps-working Run.notes"],
    },
    Case {
        from: "tags: [String!]!",
        to: "tags: [String]!",
        changes: &["breaking: Run.tags: type changed from [String!]! to [String]!"],
        impacts: &["get_run.graphql:6:5 breaking fails-to-decode Run.tags"],
    },
    Case {
        from: "  title: String!\n",
        to: "  title: Int!\n",
        changes: &["breaking: Run.title: type changed from String! to Int!"],
        impacts: &[
            "fragments.graphql:4:28 breaking fails-to-decode Run.title",
            "get_run.graphql:4:5 breaking fails-to-decode Run.title",
        ],
    },
    Case {
        from: "  owner: User\n",
        to: "  owner: String\n",
        changes: &["breaking: Run.owner: type changed from User to String"],
        impacts: &["get_run.graphql:8:5 breaking fails-to-validate Run.owner"],
    },
    Case {
        from: "  notes: String\n",
        to: "  notes: String @deprecated(reason: \"Use title.\")\n",
        changes: &["safe: Run.notes: deprecated (Use title.)"],
        impacts: &["get_run.graphql:7:5 safe keeps-working Run.notes"],
    },
    // Types.
    Case {
        from: "type Step { id: ID! }\n",
        to: "",
        changes: &["breaking: Step: object type removed"],
        impacts: &[],
    },
    Case {
        from: "scalar DateTime\n",
        to: "scalar DateTime\ntype Batch { id: ID! }\n",
        changes: &["safe: Batch: object type added"],
        impacts: &[],
    },
    Case {
        from: "type Step { id: ID! }",
        to: "input Step { id: ID! }",
        changes: &["breaking: Step: changed from object type to input object type"],
        impacts: &[],
    },
    // Arguments.
    Case {
        from: ", first: Int = 10,",
        to: ",",
        changes: &["breaking: Query.runs(first:): argument removed"],
        impacts: &["list_runs.graphql:2:27 breaking fails-to-validate Query.runs(first:)"],
    },
    Case {
        from: "run(id: ID!)",
        to: "run(id: ID!, org: ID!)",
        changes: &["breaking: Query.run(org:): required argument added (ID!)"],
        impacts: &["get_run.graphql:2:3 breaking fails-to-validate Query.run(org:)"],
    },
    Case {
        from: "run(id: ID!)",
        to: "run(id: ID!, org: ID)",
        changes: &["safe: Query.run(org:): optional argument added (ID)"],
        impacts: &[],
    },
    Case {
        from: "runs(filters: RunFilter,",
        to: "runs(filters: RunFilter!,",
        changes: &["breaking: Query.runs(filters:): type changed from RunFilter to RunFilter!"],
        impacts: &[
            "fragments.graphql:2:8 dangerous keeps-working Query.runs(filters:)",
            "list_runs.graphql:2:8 breaking fails-to-validate Query.runs(filters:)",
        ],
    },
    Case {
        from: "run(id: ID!)",
        to: "run(id: ID)",
        changes: &["safe: Query.run(id:): type changed from ID! to ID"],
        impacts: &["get_run.graphql:2:7 safe keeps-working Query.run(id:)"],
    },
    Case {
        from: "Int = 10",
        to: "Int = 20",
        changes: &["dangerous: Query.runs(first:): default value changed from 10 to 20"],
        // Both operations that call `runs` give `first`... except `Done`.
        impacts: &["fragments.graphql:2:3 dangerous keeps-working Query.runs(first:)"],
    },
    Case {
        from: "RunSort = NEWEST",
        to: "RunSort",
        changes: &["dangerous: Query.runs(sort:): default value changed from NEWEST to none"],
        impacts: &[
            "fragments.graphql:2:3 dangerous keeps-working Query.runs(sort:)",
            "list_runs.graphql:2:3 dangerous keeps-working Query.runs(sort:)",
        ],
    },
    // Enums.
    Case {
        from: "enum RunStatus { TODO DONE }",
        to: "enum RunStatus { TODO DONE HELD }",
        changes: &["dangerous: RunStatus.HELD: enum value added"],
        impacts: &["get_run.graphql:5:5 dangerous keeps-working RunStatus.HELD"],
    },
    Case {
        from: "enum RunStatus { TODO DONE }",
        to: "enum RunStatus { TODO }",
        changes: &["breaking: RunStatus.DONE: enum value removed"],
        impacts: &[
            "fragments.graphql:2:26 breaking fails-to-validate RunStatus.DONE",
            "list_runs.graphql:1:16 breaking rejected RunStatus.DONE",
            "update_run.graphql:1:20 breaking rejected RunStatus.DONE",
        ],
    },
    // Unions and interfaces.
    Case {
        from: "union Thing = Run | User",
        to: "union Thing = Run | User | Step",
        changes: &["dangerous: Thing: member Step added"],
        impacts: &["things.graphql:2:3 dangerous keeps-working Thing"],
    },
    Case {
        from: "union Thing = Run | User",
        to: "union Thing = Run",
        changes: &["breaking: Thing: member User removed"],
        impacts: &["things.graphql:5:5 breaking fails-to-validate Thing"],
    },
    Case {
        from: "type Step {",
        to: "type Step implements Node {",
        changes: &["dangerous: Step: now implements Node"],
        impacts: &["node.graphql:2:3 dangerous keeps-working Step"],
    },
    Case {
        from: "type User implements Node {",
        to: "type User {",
        changes: &["breaking: User: no longer implements Node"],
        impacts: &[],
    },
    // Input objects.
    Case {
        from: "input UpdateRunInput { id: ID!",
        to: "input UpdateRunInput { id: ID! reason: String!",
        changes: &["breaking: UpdateRunInput.reason: required input field added (String!)"],
        impacts: &["update_run.graphql:1:20 breaking rejected UpdateRunInput.reason"],
    },
    Case {
        from: "input UpdateRunInput { id: ID!",
        to: "input UpdateRunInput { id: ID! reason: String",
        changes: &["safe: UpdateRunInput.reason: optional input field added (String)"],
        impacts: &[],
    },
    Case {
        from: " title: String }",
        to: " }",
        changes: &["breaking: RunFilter.title: input field removed"],
        impacts: &["list_runs.graphql:1:16 breaking rejected RunFilter.title"],
    },
    Case {
        from: "input RunFilter { status: RunStatus",
        to: "input RunFilter { status: RunStatus!",
        changes: &["breaking: RunFilter.status: type changed from RunStatus to RunStatus!"],
        impacts: &[
            "fragments.graphql:2:17 dangerous keeps-working RunFilter.status",
            "list_runs.graphql:1:16 breaking rejected RunFilter.status",
        ],
    },
    // Roots.
    Case {
        from: " mutation: Mutation }",
        to: " }",
        changes: &["breaking: schema: mutation root type changed from Mutation to none"],
        impacts: &["update_run.graphql:1:1 breaking fails-to-validate schema"],
    },
    // Nothing.
    Case {
        from: "scalar DateTime",
        to: "scalar DateTime",
        changes: &[],
        impacts: &[],
    },
];

fn operations() -> Vec<SourceFile> {
    OPERATIONS
        .iter()
        .map(|(path, text)| SourceFile::new(*path, *text))
        .collect()
}

/// `file:line:column severity consequence coordinate`, the parts of an impact a case checks
/// (the full `Display` is checked once, in [`impact_display_is_one_located_line`]).
fn summary(impact: &drift::Impact) -> String {
    let consequence = match impact.consequence {
        Consequence::FailsToValidate { .. } => "fails-to-validate",
        Consequence::FailsToDecode => "fails-to-decode",
        Consequence::Rejected => "rejected",
        Consequence::KeepsWorking => "keeps-working",
        _ => "other",
    };
    let coordinate = impact
        .change
        .as_ref()
        .map_or("(validation)", |change| change.coordinate.as_str());
    format!(
        "{}:{}:{} {} {consequence} {coordinate}",
        impact.file.display(),
        impact.line,
        impact.column,
        impact.severity
    )
}

#[test]
fn each_kind_of_change_is_classified_and_located() {
    let old = SourceFile::new("old.graphql", BASE);
    let mut wrong = Vec::new();
    for case in CASES {
        assert_eq!(
            BASE.matches(case.from).count(),
            1,
            "case {:?} must occur exactly once in BASE",
            case.from
        );
        let new = SourceFile::new("new.graphql", BASE.replacen(case.from, case.to, 1));
        let changes: Vec<String> = match drift::diff(&old, &new) {
            Ok(changes) => changes.iter().map(ToString::to_string).collect(),
            Err(e) => panic!("case {:?} -> {:?}: {e}", case.from, case.to),
        };
        if changes != case.changes {
            wrong.push(format!(
                "{:?} -> {:?}: diff expected {:#?}, found {changes:#?}",
                case.from, case.to, case.changes
            ));
        }
        let impacts: Vec<String> = match drift::impact(&old, &new, &operations()) {
            Ok(impacts) => impacts.iter().map(summary).collect(),
            Err(e) => panic!("case {:?} -> {:?}: {e}", case.from, case.to),
        };
        if impacts != case.impacts {
            wrong.push(format!(
                "{:?} -> {:?}: impact expected {:#?}, found {impacts:#?}",
                case.from, case.to, case.impacts
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn impact_display_is_one_located_line() {
    let old = SourceFile::new("old.graphql", BASE);
    let new = SourceFile::new(
        "new.graphql",
        BASE.replacen("  status: RunStatus!\n", "  status: RunStatus\n", 1)
            .replacen("  notes: String\n", "", 1)
            .replacen("{ TODO DONE }", "{ TODO DONE HELD }", 1),
    );
    let impacts = drift::impact(&old, &new, &operations()).expect("impact");
    let lines: Vec<String> = impacts.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "get_run.graphql:5:5: breaking: field `status`: Run.status: type changed from \
             RunStatus! to RunStatus; the generated code fails to decode a response where it is \
             null or of the new type",
            "get_run.graphql:5:5: dangerous: field `status`: RunStatus.HELD: enum value added; \
             the generated code keeps working",
            "get_run.graphql:7:5: breaking: field `notes`: Run.notes: field removed; the \
             operation no longer validates: type `Run` does not have a field `notes`",
        ]
    );
    assert_eq!(drift::exit_code(impacts.iter().map(|i| i.severity)), 1);
}

#[test]
fn exit_codes_follow_the_worst_severity() {
    assert_eq!(drift::exit_code([]), 0);
    assert_eq!(drift::exit_code([Severity::Safe]), 0);
    assert_eq!(drift::exit_code([Severity::Safe, Severity::Dangerous]), 2);
    assert_eq!(
        drift::exit_code([Severity::Dangerous, Severity::Breaking, Severity::Safe]),
        1
    );
}

#[test]
fn invalid_inputs_are_diagnostics_not_panics() {
    let good = SourceFile::new("old.graphql", BASE);
    let bad = SourceFile::new("new.graphql", "type Query { run: Nope }");
    let err = drift::diff(&good, &bad).expect_err("invalid new schema");
    assert!(err.to_string().contains("new.graphql:1:"), "{err}");
    assert!(err.to_string().contains("Nope"), "{err}");

    let broken = SourceFile::new("broken.graphql", "query B { run(id: 1) { nope } }");
    let err = drift::impact(&good, &good, &[broken]).expect_err("invalid operation");
    assert!(err.to_string().contains("broken.graphql:1:"), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
}

// ----- the shipped (complete) schema -----

fn shipped() -> SourceFile {
    SourceFile::new("schema/ion.graphql", ion_client_build::SHIPPED_SCHEMA)
}

/// The shipped schema with `edit` applied to its parsed document, printed back as SDL.
fn edited(edit: impl FnOnce(&mut ast::Document)) -> SourceFile {
    let mut doc = ast::Document::parse(ion_client_build::SHIPPED_SCHEMA, "schema/ion.graphql")
        .expect("the shipped schema parses");
    edit(&mut doc);
    SourceFile::new("edited.graphql", doc.to_string())
}

fn object_mut<'d>(doc: &'d mut ast::Document, name: &str) -> &'d mut ast::ObjectTypeDefinition {
    doc.definitions
        .iter_mut()
        .find_map(|definition| match definition {
            ast::Definition::ObjectTypeDefinition(def) if def.name == name => Some(def.make_mut()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no type {name} in the shipped schema"))
}

#[test]
fn the_shipped_schema_against_itself_has_no_changes() {
    let changes = drift::diff(&shipped(), &shipped()).expect("diff");
    assert_eq!(changes, []);
}

#[test]
fn one_field_removed_from_the_shipped_schema_is_one_breaking_change() {
    let without = edited(|doc| object_mut(doc, "Run").fields.retain(|f| f.name != "title"));
    let lines = |changes: Vec<drift::Change>| -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    };
    assert_eq!(
        lines(drift::diff(&shipped(), &without).expect("diff")),
        ["breaking: Run.title: field removed"]
    );
    assert_eq!(
        lines(drift::diff(&without, &shipped()).expect("diff")),
        ["safe: Run.title: field added"]
    );
}

/// A subset of the complete schema in the way the old shipped schema was one (fewer root
/// fields, only the types they reach, fewer optional input fields) grows into the complete
/// schema by safe additions only: what the old 342-type schema was to the complete one.
#[test]
fn a_subset_of_the_shipped_schema_grows_into_it_by_additions() {
    const KEPT_QUERIES: [&str; 4] = ["run", "runs", "part", "parts"];
    const KEPT_MUTATIONS: [&str; 1] = ["updateRun"];
    let subset = edited(|doc| {
        object_mut(doc, "Query")
            .fields
            .retain(|f| KEPT_QUERIES.contains(&f.name.as_str()));
        object_mut(doc, "Mutation")
            .fields
            .retain(|f| KEPT_MUTATIONS.contains(&f.name.as_str()));
        // Optional input fields may be left out too.
        for definition in &mut doc.definitions {
            if let ast::Definition::InputObjectTypeDefinition(def) = definition
                && def.name == "RunsInputFilters"
            {
                def.make_mut()
                    .fields
                    .retain(|f| f.ty.is_non_null() || f.name == "id");
            }
        }
        let schema = Schema::parse(doc.to_string(), "subset.graphql").expect("subset parses");
        let reachable = reachable(&schema);
        // Type definitions have names; the `schema` block has none and stays.
        doc.definitions.retain(|definition| {
            definition
                .name()
                .is_none_or(|name| reachable.contains(name))
        });
    });
    let changes = drift::diff(&subset, &shipped()).expect("diff");
    let added = changes.len();
    let not_safe: Vec<String> = changes
        .iter()
        .filter(|c| c.severity != Severity::Safe)
        .map(ToString::to_string)
        .collect();
    eprintln!(
        "subset -> shipped schema: {added} changes, {} not safe",
        not_safe.len()
    );
    assert!(added > 1000, "expected many additions, found {added}");
    assert!(not_safe.is_empty(), "{not_safe:#?}");
}

/// The types reachable from `schema`'s roots (fields, arguments, input fields, interfaces,
/// union members, and implementations of reachable interfaces).
fn reachable(schema: &Schema) -> std::collections::BTreeSet<Name> {
    use apollo_compiler::schema::ExtendedType;
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<Name> = schema
        .schema_definition
        .iter_root_operations()
        .map(|(_, name)| name.name.clone())
        .collect();
    let implementers = schema.implementers_map();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        match schema.types.get(&name) {
            Some(ExtendedType::Object(t)) => {
                for field in t.fields.values() {
                    stack.push(field.ty.inner_named_type().clone());
                    stack.extend(
                        field
                            .arguments
                            .iter()
                            .map(|a| a.ty.inner_named_type().clone()),
                    );
                }
                stack.extend(t.implements_interfaces.iter().map(|i| i.name.clone()));
            }
            Some(ExtendedType::Interface(t)) => {
                for field in t.fields.values() {
                    stack.push(field.ty.inner_named_type().clone());
                    stack.extend(
                        field
                            .arguments
                            .iter()
                            .map(|a| a.ty.inner_named_type().clone()),
                    );
                }
                if let Some(objects) = implementers.get(&name) {
                    stack.extend(objects.objects.iter().cloned());
                }
            }
            Some(ExtendedType::Union(t)) => stack.extend(t.members.iter().map(|m| m.name.clone())),
            Some(ExtendedType::InputObject(t)) => {
                stack.extend(t.fields.values().map(|f| f.ty.inner_named_type().clone()));
            }
            _ => {}
        }
    }
    seen
}
