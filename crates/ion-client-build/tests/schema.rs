//! Checks `schema/ion.graphql` against the public facts it was written from.
//!
//! The facts live outside the repository, in a `shared/` folder next to the clone
//! (`<repo>/../shared`): First Resonance's published operations under `ion-evidence/` and a 2023
//! SDL of ION's API under `ion-reference/`. Where that folder is absent (a user's clone, a
//! packaged crate) every test that needs it (`shared` in its name) prints a notice and passes
//! without checking, unless `ION_REQUIRE_SHARED=1` (CI), which makes it fail.
//!
//! - [`shared_evidence_operations_validate`]: every evidence operation the manifest marks as valid against
//!   the 2023 SDL also validates against our schema, so our schema covers what real users send.
//! - [`shared_schema_agrees_with_reference`]: every definition we declare exists in the reference with the
//!   same facts (kind, types, nullability, arguments, defaults, enum values, deprecations), and our
//!   descriptions are our own words rather than copies of the reference's.
//! - [`schema_counts`]: prints what our schema declares, for the README and review.
//! - [`comparison_catches_each_disagreement`]: proves the comparison itself on a small made-up
//!   schema, one table row per kind of disagreement; it needs no reference data.
//!
//! Run `cargo test -p ion-client-build --test schema -- --nocapture` to see the printed counts.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use apollo_compiler::ast::{self, OperationType};
use apollo_compiler::schema::{Component, ExtendedType, FieldDefinition, InputValueDefinition};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node, Schema};
use xtask::{deprecation_reason, reachable_types, synced_schema};

/// Manifest marker for operations that validate against the 2023 SDL.
const VALID_MARKER: &str = "valid vs 2023 SDL";
/// Manifest marker for operations that do not (broken upstream, or newer than the SDL). Checked
/// first, so a row that says it is invalid is never selected whatever else its notes say.
const INVALID_MARKER: &str = "INVALID";
/// Descriptions of this many words or fewer ("The user.", "Unique id.") are allowed to match the
/// reference: there are only so many ways to say them.
const MAX_COINCIDENTAL_WORDS: usize = 3;

// ----- locating inputs -----

/// Paths of everything these tests read.
struct Inputs {
    /// `schema/ion.graphql` in this repository.
    our_schema: PathBuf,
    /// `<repo>/../shared`: the reference data, when present.
    shared: PathBuf,
}

impl Inputs {
    fn locate() -> Inputs {
        // This crate lives at `<repo>/crates/ion-client-build`; canonical so messages show a
        // plain path.
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let repo = repo.canonicalize().unwrap_or(repo);
        let shared = match repo.parent() {
            Some(parent) => parent.join("shared"),
            None => repo.join("../shared"),
        };
        Inputs {
            our_schema: repo.join("schema/ion.graphql"),
            shared,
        }
    }

    /// The shared reference folder, or `None` (after printing why the test is skipped); a
    /// failure instead when `ION_REQUIRE_SHARED=1`.
    fn shared_or_skip(&self, test: &str) -> Option<&Path> {
        if self.shared.is_dir() {
            Some(&self.shared)
        } else {
            assert!(
                std::env::var_os("ION_REQUIRE_SHARED").is_none_or(|v| v != "1"),
                "{test}: ION_REQUIRE_SHARED=1 but the reference data is not at {}",
                self.shared.display()
            );
            eprintln!(
                "{test}: skipped: reference data not found at {} \
                 (it sits beside the repository in CI and in the project's workspace)",
                self.shared.display()
            );
            None
        }
    }

    fn evidence_dir(shared: &Path) -> PathBuf {
        shared.join("ion-evidence/operations")
    }

    fn reference_schema(shared: &Path) -> PathBuf {
        shared.join("ion-reference/ion-schema-2023.graphql")
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn load_schema(path: &Path) -> Valid<Schema> {
    Schema::parse_and_validate(read(path), path)
        .unwrap_or_else(|e| panic!("{} is not a valid schema:\n{}", path.display(), e.errors))
}

// ----- a. evidence operations -----

/// What the manifest says about one evidence file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    ValidVs2023,
    InvalidVs2023,
}

/// `MANIFEST.tsv` rows (`file, source, kind, root_fields, notes`) keyed by file path relative to
/// the operations folder.
fn read_manifest(evidence: &Path) -> BTreeMap<String, Verdict> {
    let path = evidence.join("MANIFEST.tsv");
    let text = read(&path);
    let mut rows = BTreeMap::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let [file, _source, _kind, _root_fields, notes] = columns[..] else {
            panic!(
                "{}:{}: expected 5 tab-separated columns, found {}",
                path.display(),
                index + 1,
                columns.len()
            );
        };
        let verdict = if notes.contains(INVALID_MARKER) {
            Verdict::InvalidVs2023
        } else if notes.contains(VALID_MARKER) {
            Verdict::ValidVs2023
        } else {
            // A silent third state would let the test pass while checking nothing.
            panic!(
                "{}:{}: notes for {file} say neither {VALID_MARKER:?} nor {INVALID_MARKER:?}",
                path.display(),
                index + 1
            );
        };
        rows.insert(file.to_string(), verdict);
    }
    rows
}

/// Every `*.graphql` file below `dir`, as sorted paths relative to `dir` with `/` separators.
fn graphql_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries =
            fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|ext| ext == "graphql") {
                let relative = path
                    .strip_prefix(root)
                    .expect("walked path is below its root");
                let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}

#[test]
fn shared_evidence_operations_validate() {
    let inputs = Inputs::locate();
    let Some(shared) = inputs.shared_or_skip("shared_evidence_operations_validate") else {
        return;
    };
    let evidence = Inputs::evidence_dir(shared);
    let schema = load_schema(&inputs.our_schema);
    let manifest = read_manifest(&evidence);
    let files = graphql_files(&evidence);

    let mut validated = 0;
    let mut excluded = 0;
    let mut unlisted = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        match manifest.get(file) {
            Some(Verdict::ValidVs2023) => {}
            Some(Verdict::InvalidVs2023) => {
                excluded += 1;
                continue;
            }
            None => {
                unlisted.push(file.as_str());
                continue;
            }
        }
        let path = evidence.join(file);
        match ExecutableDocument::parse_and_validate(&schema, read(&path), &path) {
            Ok(_) => validated += 1,
            Err(e) => failures.push(format!("{file}:\n{}", e.errors)),
        }
    }
    let missing: Vec<&str> = manifest
        .iter()
        .filter(|(file, verdict)| {
            **verdict == Verdict::ValidVs2023 && !files.iter().any(|f| f == *file)
        })
        .map(|(file, _)| file.as_str())
        .collect();

    eprintln!(
        "evidence operations: {} files, {validated} validated against schema/ion.graphql, \
         {excluded} skipped (manifest: invalid vs 2023 SDL), {} not in the manifest, \
         {} failed",
        files.len(),
        unlisted.len(),
        failures.len()
    );
    for file in &unlisted {
        eprintln!("  not in MANIFEST.tsv, not checked: {file}");
    }
    assert!(
        missing.is_empty(),
        "manifest rows marked valid have no file: {missing:?}"
    );
    assert!(
        failures.is_empty(),
        "{} evidence operation(s) valid against the 2023 SDL do not validate against \
         schema/ion.graphql:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(validated > 0, "no evidence operation was checked");
}

// ----- b. agreement with the reference -----

/// Collects every disagreement between our schema and the reference, each prefixed by the
/// coordinate it concerns (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`).
#[derive(Default)]
struct Disagreements(Vec<String>);

impl Disagreements {
    fn add(&mut self, at: impl std::fmt::Display, what: impl std::fmt::Display) {
        self.0.push(format!("{at}: {what}"));
    }

    /// Ours is a verbatim copy of the reference's description (whitespace aside).
    fn description(&mut self, at: &str, ours: Option<&str>, reference: Option<&str>) {
        let (Some(ours), Some(reference)) = (ours, reference) else {
            return;
        };
        let ours: Vec<&str> = ours.split_whitespace().collect();
        let reference: Vec<&str> = reference.split_whitespace().collect();
        if ours.len() > MAX_COINCIDENTAL_WORDS && ours == reference {
            self.add(
                at,
                format!(
                    "description copied from the reference: {:?}",
                    ours.join(" ")
                ),
            );
        }
    }

    /// Deprecated in one and not the other, or deprecated with the reference's reason copied
    /// (a reason is prose, like a description).
    fn deprecation(&mut self, at: &str, ours: &ast::DirectiveList, reference: &ast::DirectiveList) {
        let (deprecated, theirs) = (is_deprecated(ours), is_deprecated(reference));
        if deprecated != theirs {
            self.add(
                at,
                format!("deprecated: ours {deprecated}, reference {theirs}"),
            );
        }
        let reason = |directives| {
            deprecation_reason(directives)
                .and_then(|value| value.as_str())
                .map(str::to_string)
        };
        let (our_reason, their_reason) = (reason(ours), reason(reference));
        let words = |text: &Option<String>| -> Vec<String> {
            text.iter()
                .flat_map(|t| t.split_whitespace().map(str::to_string))
                .collect()
        };
        let (ours, theirs) = (words(&our_reason), words(&their_reason));
        if ours.len() > MAX_COINCIDENTAL_WORDS && ours == theirs {
            self.add(
                at,
                format!(
                    "deprecation reason copied from the reference: {:?}",
                    ours.join(" ")
                ),
            );
        }
    }
}

fn is_deprecated(directives: &ast::DirectiveList) -> bool {
    directives.get("deprecated").is_some()
}

/// Type kinds as [`kind`] names them, in the order counts are printed.
const KINDS: [&str; 6] = [
    "object",
    "interface",
    "union",
    "enum",
    "input object",
    "scalar",
];

fn kind(ty: &ExtendedType) -> &'static str {
    match ty {
        ExtendedType::Scalar(_) => "scalar",
        ExtendedType::Object(_) => "object",
        ExtendedType::Interface(_) => "interface",
        ExtendedType::Union(_) => "union",
        ExtendedType::Enum(_) => "enum",
        ExtendedType::InputObject(_) => "input object",
    }
}

fn names<'a>(set: impl IntoIterator<Item = &'a Name>) -> BTreeSet<&'a str> {
    set.into_iter().map(|n| n.as_str()).collect()
}

fn default_text(value: &InputValueDefinition) -> Option<String> {
    value.default_value.as_ref().map(|v| v.to_string())
}

/// How completely a list of input values must match the reference's.
#[derive(Clone, Copy)]
enum Completeness {
    /// Field arguments: the exact same set (a missing optional argument is still a lie about the
    /// field's signature).
    AllOfThem,
    /// Input object fields: a subset is fine, but never without a field the server requires.
    RequiredOnes,
}

fn compare_input_values<'a>(
    out: &mut Disagreements,
    at: &str,
    separator: &str,
    ours: impl IntoIterator<Item = &'a Node<InputValueDefinition>>,
    reference: impl IntoIterator<Item = &'a Node<InputValueDefinition>>,
    completeness: Completeness,
) {
    let ours: BTreeMap<&str, &InputValueDefinition> =
        ours.into_iter().map(|v| (v.name.as_str(), &**v)).collect();
    let reference: BTreeMap<&str, &InputValueDefinition> = reference
        .into_iter()
        .map(|v| (v.name.as_str(), &**v))
        .collect();
    for (name, our) in &ours {
        let here = format!("{at}{separator}{name}");
        let Some(theirs) = reference.get(name) else {
            out.add(&here, "not in the reference");
            continue;
        };
        if our.ty != theirs.ty {
            out.add(
                &here,
                format!("type {} but the reference has {}", our.ty, theirs.ty),
            );
        }
        let (our_default, their_default) = (default_text(our), default_text(theirs));
        if our_default != their_default {
            out.add(
                &here,
                format!("default {our_default:?} but the reference has {their_default:?}"),
            );
        }
        out.deprecation(&here, &our.directives, &theirs.directives);
        out.description(
            &here,
            our.description.as_deref(),
            theirs.description.as_deref(),
        );
    }
    for (name, theirs) in &reference {
        if ours.contains_key(name) {
            continue;
        }
        let required = theirs.ty.is_non_null() && theirs.default_value.is_none();
        match completeness {
            Completeness::AllOfThem => out.add(
                format!("{at}{separator}{name}"),
                "missing (the reference has it)",
            ),
            Completeness::RequiredOnes if required => out.add(
                format!("{at}{separator}{name}"),
                format!("missing, and the reference requires it ({})", theirs.ty),
            ),
            Completeness::RequiredOnes => {}
        }
    }
}

fn compare_fields<'a>(
    out: &mut Disagreements,
    type_name: &str,
    ours: impl IntoIterator<Item = (&'a Name, &'a Component<FieldDefinition>)>,
    reference: &apollo_compiler::collections::IndexMap<Name, Component<FieldDefinition>>,
) {
    for (name, our) in ours {
        let at = format!("{type_name}.{name}");
        let Some(theirs) = reference.get(name) else {
            out.add(&at, "field not in the reference");
            continue;
        };
        if our.ty != theirs.ty {
            out.add(
                &at,
                format!("type {} but the reference has {}", our.ty, theirs.ty),
            );
        }
        compare_input_values(
            out,
            &format!("{at}("),
            "",
            &our.arguments,
            &theirs.arguments,
            Completeness::AllOfThem,
        );
        out.deprecation(&at, &our.directives, &theirs.directives);
        out.description(
            &at,
            our.description.as_deref(),
            theirs.description.as_deref(),
        );
    }
}

fn compare_type(out: &mut Disagreements, name: &str, ours: &ExtendedType, theirs: &ExtendedType) {
    out.description(
        name,
        ours.description().map(|d| &**d),
        theirs.description().map(|d| &**d),
    );
    match (ours, theirs) {
        (ExtendedType::Scalar(_), ExtendedType::Scalar(_)) => {}
        (ExtendedType::Object(our), ExtendedType::Object(their)) => {
            compare_fields(out, name, &our.fields, &their.fields);
            compare_interfaces(
                out,
                name,
                &our.implements_interfaces,
                &their.implements_interfaces,
            );
        }
        (ExtendedType::Interface(our), ExtendedType::Interface(their)) => {
            compare_fields(out, name, &our.fields, &their.fields);
            compare_interfaces(
                out,
                name,
                &our.implements_interfaces,
                &their.implements_interfaces,
            );
        }
        (ExtendedType::Union(our), ExtendedType::Union(their)) => {
            let (our_members, their_members) = (
                names(our.members.iter().map(|m| &m.name)),
                names(their.members.iter().map(|m| &m.name)),
            );
            for extra in our_members.difference(&their_members) {
                out.add(
                    name,
                    format!("member {extra} is not a member in the reference"),
                );
            }
        }
        (ExtendedType::Enum(our), ExtendedType::Enum(their)) => {
            let (our_values, their_values) = (names(our.values.keys()), names(their.values.keys()));
            for extra in our_values.difference(&their_values) {
                out.add(format!("{name}.{extra}"), "enum value not in the reference");
            }
            for missing in their_values.difference(&our_values) {
                out.add(
                    format!("{name}.{missing}"),
                    "enum value missing (the reference has it)",
                );
            }
            for (value, our_value) in &our.values {
                if let Some(their_value) = their.values.get(value) {
                    let at = format!("{name}.{value}");
                    out.deprecation(&at, &our_value.directives, &their_value.directives);
                    out.description(
                        &at,
                        our_value.description.as_deref(),
                        their_value.description.as_deref(),
                    );
                }
            }
        }
        (ExtendedType::InputObject(our), ExtendedType::InputObject(their)) => {
            compare_input_values(
                out,
                name,
                ".",
                our.fields.values().map(|f| &f.node),
                their.fields.values().map(|f| &f.node),
                Completeness::RequiredOnes,
            );
        }
        _ => out.add(
            name,
            format!(
                "declared as {} but the reference has {}",
                kind(ours),
                kind(theirs)
            ),
        ),
    }
}

fn compare_interfaces(
    out: &mut Disagreements,
    name: &str,
    ours: &apollo_compiler::collections::IndexSet<apollo_compiler::schema::ComponentName>,
    reference: &apollo_compiler::collections::IndexSet<apollo_compiler::schema::ComponentName>,
) {
    let theirs = names(reference.iter().map(|i| &i.name));
    for interface in ours {
        if !theirs.contains(interface.name.as_str()) {
            out.add(
                name,
                format!(
                    "implements {} but the reference type does not",
                    interface.name
                ),
            );
        }
    }
}

fn compare_schemas(ours: &Schema, reference: &Schema) -> Disagreements {
    let mut out = Disagreements::default();
    for operation in [
        OperationType::Query,
        OperationType::Mutation,
        OperationType::Subscription,
    ] {
        let (our_root, their_root) = (
            ours.root_operation(operation),
            reference.root_operation(operation),
        );
        if our_root != their_root {
            let show = |root: Option<&Name>| root.map_or("none".to_string(), |n| n.to_string());
            out.add(
                "schema",
                format!(
                    "{operation} root is {} but the reference has {}",
                    show(our_root),
                    show(their_root)
                ),
            );
        }
    }
    for (name, directive) in &ours.directive_definitions {
        if !directive.is_built_in() && !reference.directive_definitions.contains_key(name) {
            out.add(format!("@{name}"), "directive not in the reference");
        }
    }
    for (name, ty) in ours.types.iter().filter(|(_, ty)| !ty.is_built_in()) {
        match reference.types.get(name) {
            Some(theirs) => compare_type(&mut out, name, ty, theirs),
            None => out.add(name, format!("{} not in the reference", kind(ty))),
        }
    }
    out
}

/// A small made-up reference for [`comparison_catches_each_disagreement`]: not ION's schema, so
/// that test runs everywhere and proves the checker itself.
const TOY_REFERENCE: &str = r#"
schema { query: Query mutation: Mutation }
type Query {
  thing(id: ID!, first: Int = 10): Thing
  things(filters: ThingFilter): [Thing!]!
}
type Mutation { make(input: MakeInput!): Thing }
interface Node { id: Int! }
type Thing implements Node {
  "The id."
  id: Int!
  name: String
  old: String @deprecated(reason: "Replaced by the name field long ago.")
  "A long enough description written for this field."
  summary: String
  kind: Kind
}
type Other { id: Int! }
type Loose { id: Int }
union Any = Thing | Other
enum Kind { A B }
input MakeInput { title: String! kind: Kind = A note: String }
input ThingFilter { and_: [ThingFilter] name: String }
scalar DateTime
"#;

/// The description of `Thing.summary` in [`TOY_REFERENCE`], and ours for it.
const TOY_THEIR_WORDS: &str = "\"A long enough description written for this field.\"";
const TOY_OUR_WORDS: &str = "\"Our own words about the summary.\"";
/// The deprecation reason of `Thing.old` in [`TOY_REFERENCE`] (ours is `"gone"`).
const TOY_THEIR_REASON: &str = "\"Replaced by the name field long ago.\"";

/// "Our" toy schema: the toy reference in our own words. (It still shares the short description
/// `"The id."` with the reference, which every case below thereby proves is allowed.)
fn toy_ours() -> String {
    TOY_REFERENCE
        .replacen(TOY_THEIR_WORDS, TOY_OUR_WORDS, 1)
        .replacen(TOY_THEIR_REASON, "\"gone\"", 1)
}

/// Each row edits [`toy_ours`] once (`from` must occur exactly once) and names the one
/// disagreement the comparison must then report with the toy reference (`None`: nothing).
const COMPARISON_CASES: &[(&str, &str, Option<&str>)] = &[
    // Declaring less than the reference is the point of our schema.
    ("  old: String @deprecated(reason: \"gone\")\n", "", None),
    ("type Loose { id: Int }", "", None),
    (" note: String }", " }", None),
    // Field types, including nullability and list wrapping.
    (
        "  name: String\n",
        "  name: String!\n",
        Some("Thing.name: type String! but the reference has String"),
    ),
    (
        "[Thing!]!",
        "[Thing]!",
        Some("Query.things: type [Thing]! but the reference has [Thing!]!"),
    ),
    (
        "  kind: Kind\n",
        "  kind: Kind\n  extra: String\n",
        Some("Thing.extra: field not in the reference"),
    ),
    // Arguments: complete, same types, same defaults.
    (
        ", first: Int = 10)",
        ")",
        Some("Query.thing(first: missing (the reference has it)"),
    ),
    (
        "thing(id: ID!,",
        "thing(id: ID,",
        Some("Query.thing(id: type ID but the reference has ID!"),
    ),
    (
        "Int = 10",
        "Int = 20",
        Some("Query.thing(first: default Some(\"20\") but the reference has Some(\"10\")"),
    ),
    (
        "(filters: ThingFilter)",
        "(filters: ThingFilter, page: Int)",
        Some("Query.things(page: not in the reference"),
    ),
    // Deprecation and descriptions.
    (
        "@deprecated(reason: \"gone\")",
        "@deprecated(reason: \"No longer served here.\")",
        None,
    ),
    (
        "\"gone\"",
        TOY_THEIR_REASON,
        Some("Thing.old: deprecation reason copied from the reference"),
    ),
    (
        " @deprecated(reason: \"gone\")",
        "",
        Some("Thing.old: deprecated: ours false, reference true"),
    ),
    (
        "  name: String\n",
        "  \"The name of this thing, as shown to people.\"\n  name: String\n",
        None,
    ),
    (
        TOY_OUR_WORDS,
        "\"\"\"A long  enough description written\n  for this field.\"\"\"",
        Some("Thing.summary: description copied from the reference"),
    ),
    // Kinds, interfaces, unions, enums, scalars, roots.
    (
        "type Loose { id: Int }",
        "input Loose { id: Int }",
        Some("Loose: declared as input object but the reference has object"),
    ),
    (
        "type Other {",
        "type Other implements Node {",
        Some("Other: implements Node but the reference type does not"),
    ),
    (
        "Thing | Other",
        "Thing | Other | Loose",
        Some("Any: member Loose is not a member in the reference"),
    ),
    (
        "enum Kind { A B }",
        "enum Kind { A B C }",
        Some("Kind.C: enum value not in the reference"),
    ),
    (
        "enum Kind { A B }",
        "enum Kind { A }",
        Some("Kind.B: enum value missing (the reference has it)"),
    ),
    (
        "scalar DateTime",
        "scalar DateTime scalar Money",
        Some("Money: scalar not in the reference"),
    ),
    (
        " mutation: Mutation }",
        " }",
        Some("schema: mutation root is none but the reference has Mutation"),
    ),
    // Input objects: same field types and defaults, never without a required field.
    (
        " note: String }",
        " note: Int }",
        Some("MakeInput.note: type Int but the reference has String"),
    ),
    (
        "kind: Kind = A",
        "kind: Kind = B",
        Some("MakeInput.kind: default Some(\"B\") but the reference has Some(\"A\")"),
    ),
    (
        "{ title: String! kind",
        "{ kind",
        Some("MakeInput.title: missing, and the reference requires it (String!)"),
    ),
];

#[test]
fn comparison_catches_each_disagreement() {
    let reference = Schema::parse_and_validate(TOY_REFERENCE, "toy-reference.graphql")
        .unwrap_or_else(|e| panic!("toy reference is invalid:\n{}", e.errors));
    let mut wrong = Vec::new();
    let base = toy_ours();
    for &(from, to, expected) in COMPARISON_CASES {
        assert_eq!(
            base.matches(from).count(),
            1,
            "case {from:?} must occur exactly once in the toy schema"
        );
        let ours = Schema::parse_and_validate(base.replacen(from, to, 1), "ours.graphql")
            .unwrap_or_else(|e| {
                panic!(
                    "case {from:?} -> {to:?} is not a valid schema:\n{}",
                    e.errors
                )
            });
        let Disagreements(found) = compare_schemas(&ours, &reference);
        let ok = match expected {
            None => found.is_empty(),
            Some(expected) => found.len() == 1 && found[0].starts_with(expected),
        };
        if !ok {
            wrong.push(format!(
                "{from:?} -> {to:?}: expected {expected:?}, found {found:#?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the comparison misjudged:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn shared_schema_agrees_with_reference() {
    let inputs = Inputs::locate();
    let Some(shared) = inputs.shared_or_skip("shared_schema_agrees_with_reference") else {
        return;
    };
    let ours = load_schema(&inputs.our_schema);
    let reference = load_schema(&Inputs::reference_schema(shared));
    let Disagreements(found) = compare_schemas(&ours, &reference);
    let checked = ours.types.values().filter(|ty| !ty.is_built_in()).count();
    eprintln!(
        "reference agreement: {checked} definitions checked, {} disagreement(s)",
        found.len()
    );
    assert!(
        found.is_empty(),
        "schema/ion.graphql disagrees with the 2023 reference SDL in {} place(s):\n  {}",
        found.len(),
        found.join("\n  ")
    );
}

// ----- c. counts -----

/// What a schema declares, excluding built-in scalars and introspection types.
#[derive(Default)]
struct Counts {
    types_by_kind: BTreeMap<&'static str, usize>,
    /// Fields of object and interface types, root types included.
    fields: usize,
    /// Arguments of those fields.
    arguments: usize,
    input_fields: usize,
    enum_values: usize,
    query_fields: usize,
    mutation_fields: usize,
}

impl Counts {
    fn of(schema: &Schema) -> Counts {
        let mut counts = Counts::default();
        let mut add_fields =
            |fields: &apollo_compiler::collections::IndexMap<Name, Component<FieldDefinition>>| {
                counts.fields += fields.len();
                counts.arguments += fields.values().map(|f| f.arguments.len()).sum::<usize>();
            };
        let mut input_fields = 0;
        let mut enum_values = 0;
        let mut types_by_kind = BTreeMap::new();
        for ty in schema.types.values().filter(|ty| !ty.is_built_in()) {
            *types_by_kind.entry(kind(ty)).or_default() += 1;
            match ty {
                ExtendedType::Object(t) => add_fields(&t.fields),
                ExtendedType::Interface(t) => add_fields(&t.fields),
                ExtendedType::Enum(t) => enum_values += t.values.len(),
                ExtendedType::InputObject(t) => input_fields += t.fields.len(),
                ExtendedType::Scalar(_) | ExtendedType::Union(_) => {}
            }
        }
        let root_fields = |operation| {
            schema
                .root_operation(operation)
                .and_then(|name| schema.get_object(name))
                .map_or(0, |root| root.fields.len())
        };
        Counts {
            types_by_kind,
            input_fields,
            enum_values,
            query_fields: root_fields(OperationType::Query),
            mutation_fields: root_fields(OperationType::Mutation),
            ..counts
        }
    }

    fn types(&self) -> usize {
        self.types_by_kind.values().sum()
    }

    /// `(label, value)` rows, in print order.
    fn rows(&self) -> Vec<(String, usize)> {
        let mut rows = vec![("types".to_string(), self.types())];
        rows.extend(KINDS.iter().map(|kind| {
            let n = self.types_by_kind.get(kind).copied().unwrap_or(0);
            (format!("  {kind} types"), n)
        }));
        rows.extend([
            ("object/interface fields".to_string(), self.fields),
            ("field arguments".to_string(), self.arguments),
            ("input object fields".to_string(), self.input_fields),
            ("enum values".to_string(), self.enum_values),
            ("query root fields".to_string(), self.query_fields),
            ("mutation root fields".to_string(), self.mutation_fields),
        ]);
        rows
    }
}

/// Prints what `schema/ion.graphql` declares (and, beside it, the reference's totals when the
/// reference is present). Needs only our schema, so it runs everywhere.
#[test]
fn schema_counts() {
    let inputs = Inputs::locate();
    let ours = Counts::of(&load_schema(&inputs.our_schema));
    let reference = inputs
        .shared
        .is_dir()
        .then(|| Counts::of(&load_schema(&Inputs::reference_schema(&inputs.shared))));

    let their_rows: BTreeMap<String, usize> = reference
        .as_ref()
        .map(|r| r.rows().into_iter().collect())
        .unwrap_or_default();
    eprintln!("schema/ion.graphql declares:");
    for (label, n) in ours.rows() {
        match their_rows.get(&label) {
            Some(total) => eprintln!("  {label:<26} {n:>6}   (reference: {total})"),
            None => eprintln!("  {label:<26} {n:>6}"),
        }
    }
    assert!(
        ours.query_fields > 0,
        "schema/ion.graphql declares no query root fields"
    );
}

// ----- d. regeneration from the reference -----

/// `schema/ion.graphql` is exactly what `cargo xtask sync-schema` makes of the reference and
/// of the file's own prose ([`synced_schema`]), so its facts are mechanical and a refresh is
/// one command. This test only checks; the command writes.
#[test]
fn schema_file_is_regenerated() {
    let inputs = Inputs::locate();
    let Some(shared) = inputs.shared_or_skip("schema_file_is_regenerated") else {
        return;
    };
    let current = read(&inputs.our_schema);
    let synced = synced_schema(&read(&Inputs::reference_schema(shared)), &current)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        current == synced,
        "schema/ion.graphql is not what regeneration from the reference gives; run \
         `cargo xtask sync-schema` and review the diff"
    );
}

// ----- e. coverage of the reference -----

/// Kinds of schema element, in the order coverage is printed.
const ELEMENTS: [&str; 9] = [
    "query root fields",
    "mutation root fields",
    "types",
    "fields",
    "arguments",
    "input fields",
    "enum values",
    "union members",
    "interface implementations",
];

/// Every element of `schema` among the types in `only`, by kind ([`ELEMENTS`]), each as its
/// coordinate (`Type.field(arg:)`, `Union.Member`, `Type implements Interface`).
fn elements(schema: &Schema, only: &BTreeSet<Name>) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = ELEMENTS
        .iter()
        .map(|kind| (*kind, BTreeSet::new()))
        .collect();
    let mut add = |kind: &'static str, coordinate: String| {
        out.entry(kind).or_default().insert(coordinate);
    };
    for (label, operation) in [
        ("query root fields", OperationType::Query),
        ("mutation root fields", OperationType::Mutation),
    ] {
        if let Some(root) = schema
            .root_operation(operation)
            .and_then(|name| schema.get_object(name))
        {
            for field in root.fields.keys() {
                add(label, format!("{}.{field}", root.name));
            }
        }
    }
    for (name, ty) in schema.types.iter().filter(|(name, _)| only.contains(*name)) {
        add("types", name.to_string());
        let mut fields =
            |fields: &apollo_compiler::collections::IndexMap<Name, Component<FieldDefinition>>| {
                for (field_name, field) in fields {
                    add("fields", format!("{name}.{field_name}"));
                    for argument in &field.arguments {
                        add(
                            "arguments",
                            format!("{name}.{field_name}({}:)", argument.name),
                        );
                    }
                }
            };
        match ty {
            ExtendedType::Object(t) => {
                fields(&t.fields);
                for interface in &t.implements_interfaces {
                    add(
                        "interface implementations",
                        format!("{name} implements {}", interface.name),
                    );
                }
            }
            ExtendedType::Interface(t) => {
                fields(&t.fields);
                for interface in &t.implements_interfaces {
                    add(
                        "interface implementations",
                        format!("{name} implements {}", interface.name),
                    );
                }
            }
            ExtendedType::Union(t) => {
                for member in &t.members {
                    add("union members", format!("{name}.{}", member.name));
                }
            }
            ExtendedType::Enum(t) => {
                for value in t.values.keys() {
                    add("enum values", format!("{name}.{value}"));
                }
            }
            ExtendedType::InputObject(t) => {
                for field in t.fields.keys() {
                    add("input fields", format!("{name}.{field}"));
                }
            }
            ExtendedType::Scalar(_) => {}
        }
    }
    out
}

/// What the reference has (every type reachable from its roots, and everything in those types)
/// that `ours` lacks, as `(kind, covered, total, missing coordinates)` rows in [`ELEMENTS`] order.
fn coverage(ours: &Schema, reference: &Schema) -> Vec<(&'static str, usize, usize, Vec<String>)> {
    let reachable: BTreeSet<Name> = reachable_types(reference)
        .into_iter()
        .filter(|name| {
            reference
                .types
                .get(name)
                .is_some_and(|ty| !ty.is_built_in())
        })
        .collect();
    let declared: BTreeSet<Name> = ours
        .types
        .iter()
        .filter(|(_, ty)| !ty.is_built_in())
        .map(|(name, _)| name.clone())
        .collect();
    let (ours, theirs) = (elements(ours, &declared), elements(reference, &reachable));
    ELEMENTS
        .iter()
        .map(|kind| {
            let total = &theirs[kind];
            let missing: Vec<String> = total.difference(&ours[kind]).cloned().collect();
            (*kind, total.len() - missing.len(), total.len(), missing)
        })
        .collect()
}

/// Everything ION's API offers from its roots is declared: 100 % of its root fields, types,
/// fields, arguments, input fields, enum values, union members and interface implementations.
/// Together with [`shared_schema_agrees_with_reference`] this makes our schema the reference's facts,
/// all of them and nothing else.
#[test]
fn shared_schema_covers_reference() {
    let inputs = Inputs::locate();
    let Some(shared) = inputs.shared_or_skip("shared_schema_covers_reference") else {
        return;
    };
    let ours = load_schema(&inputs.our_schema);
    let reference = load_schema(&Inputs::reference_schema(shared));
    let rows = coverage(&ours, &reference);
    eprintln!("coverage of the reference (reachable from its roots):");
    let mut missing = Vec::new();
    for (kind, covered, total, absent) in &rows {
        let percent = if *total == 0 {
            100.0
        } else {
            100.0 * *covered as f64 / *total as f64
        };
        eprintln!("  {kind:<26} {covered:>6} of {total:>6}  {percent:>6.2} %");
        missing.extend(absent.iter().map(|at| format!("{kind}: {at}")));
    }
    let reachable = reachable_types(&reference);
    let unreachable = reference
        .types
        .iter()
        .filter(|(name, ty)| !ty.is_built_in() && !reachable.contains(*name))
        .count();
    eprintln!("  (reference types not reachable from its roots, left out: {unreachable})");
    assert!(
        missing.is_empty(),
        "schema/ion.graphql lacks {} element(s) of the reference; first ones:\n  {}",
        missing.len(),
        missing
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}
