use super::*;
use apollo_compiler::ExecutableDocument;
use apollo_compiler::ast;
use apollo_compiler::schema::ExtendedType;
use serde_json::json;
use std::path::Path;

/// Small hand-written schema using every kind of definition and every feature introspection
/// carries: non-default root names (plus a `Query` type that is *not* the query root, which
/// only an explicit `schema` block keeps straight), a custom directive with defaults,
/// custom scalars, an interface implementing an interface, a union, enums with
/// deprecations (default and custom reasons), input objects with nested defaults, nested
/// list/non-null types, and multi-line descriptions. Descriptions a block string cannot
/// carry are in `printed_sdl_that_would_change_the_schema_is_refused` instead.
const HAND_WRITTEN: &str = r#"
schema {
  query: Root
  mutation: Change
  subscription: Events
}

"Audit trail marker, so custom directive definitions are exercised."
directive @audit(
  "Who asked."
  by: String = "nobody"
  level: Int! = 2
  tags: [String!] = ["a", "b\"c"]
) on FIELD_DEFINITION | OBJECT | ARGUMENT_DEFINITION

directive @plain on QUERY | FIELD

"Point in time, ISO 8601 (e.g. 2023-05-01T12:00:00+00:00)."
scalar DateTime

scalar Json

"""
Something with an id.

Indented line:
    four spaces, a backslash \ and a tab	here.
"""
interface Node {
  id: ID!
}

interface Named implements Node {
  id: ID!
  "The display name."
  name(upper: Boolean = false): String!
  oldName: String @deprecated
}

"A part with \"quotes\" and unicode é ✓."
type Part implements Named & Node @audit {
  id: ID!
  name(upper: Boolean = false): String!
  oldName: String @deprecated
  "Multi-line reason."
  legacyCode: String @deprecated(reason: "Use `code`.\nSecond line \"quoted\"")
  code: String @deprecated(reason: "No longer supported")
  tags(first: Int = 10, filter: PartFilter = {status: [ACTIVE], nameLike: "a\"b\\c"}): [[String!]]!
  matrix: [[[Int!]!]!]
  "Creation time."
  createdAt: DateTime
  data(default: Json = "{\"k\": 1}"): Json
  kind: PartKind!
}

"A kit of parts."
type Kit implements Node {
  id: ID!
  parts(
    "How many."
    first: Int = 20
    """
    After which cursor.
    (Opaque.)
    """
    after: String @audit
    plain: String
  ): [Part!]!
}

"Either one."
union Thing = Part | Kit

enum PartKind {
  "Made here."
  MADE
  BOUGHT @deprecated(reason: "Use MADE")
  "Old."
  OLD @deprecated
}

enum Status {
  ACTIVE
  ARCHIVED
}

"""Filter for parts."""
input PartFilter {
  status: [Status!] = [ACTIVE, ARCHIVED]
  "Substring."
  nameLike: String = "x"
  limits: Limits = {min: 1, max: 2.5}
  nested: [[Int]] = [[1], null]
}

input Limits {
  min: Int! = 0
  max: Float
}

type Root {
  node(id: ID!): Node
  things: [Thing!]!
  kit(id: ID! @audit): Kit
}

type Query {
  unused: Boolean
}

type Change {
  setName(id: ID!, name: String!): Part
}

type Events {
  partChanged: Part
}
"#;

/// Runs [`introspection_query`] against `sdl` with apollo-compiler's own introspection
/// executor, and returns the response as JSON, as a server would send it.
fn introspect(sdl: &str, path: &str) -> Value {
    let schema = Schema::parse_and_validate(sdl, path).unwrap_or_else(|e| panic!("{}", e.errors));
    let document = ExecutableDocument::parse_and_validate(
        &schema,
        introspection_query(),
        "introspection_query.graphql",
    )
    .unwrap_or_else(|e| panic!("{}", e.errors));
    let operation = document.operations.get(Some("IntrospectionQuery")).unwrap();
    apollo_compiler::introspection::check_max_depth(&document, operation).unwrap();
    let variables =
        apollo_compiler::request::coerce_variable_values(&schema, operation, &Default::default())
            .unwrap();
    let response = apollo_compiler::introspection::partial_execute(
        &schema,
        &schema.implementers_map(),
        &document,
        operation,
        &variables,
    )
    .unwrap();
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    serde_json::to_value(&response).unwrap()
}

/// What a schema says that introspection can carry, one fact per line, in schema order.
/// Applied directives other than `@deprecated`, `repeatable` and the schema description
/// are left out because the October 2021 introspection query cannot ask for them.
/// Deprecation reasons are resolved through the directive definition, so `@deprecated`
/// and `@deprecated(reason: "No longer supported")` read the same, as they mean the same.
fn canonical(schema: &Schema) -> Vec<String> {
    fn deprecation(directives: &ast::DirectiveList, schema: &Schema) -> String {
        match directives.get("deprecated") {
            None => "not deprecated".to_string(),
            Some(d) => format!(
                "deprecated({:?})",
                d.argument_by_name("reason", schema)
                    .ok()
                    .and_then(|v| v.as_str())
            ),
        }
    }
    fn description(d: &Option<apollo_compiler::Node<str>>) -> String {
        format!("{:?}", d.as_deref())
    }
    fn input_value(
        owner: &str,
        v: &ast::InputValueDefinition,
        schema: &Schema,
        out: &mut Vec<String>,
    ) {
        out.push(format!(
            "  {owner} {}: {} = {:?} desc={} {}",
            v.name,
            v.ty,
            v.default_value
                .as_ref()
                .map(|d| d.serialize().no_indent().to_string()),
            description(&v.description),
            deprecation(&v.directives, schema),
        ));
    }
    fn fields<'a>(
        owner: &str,
        fields: impl Iterator<Item = &'a ast::FieldDefinition>,
        schema: &Schema,
        out: &mut Vec<String>,
    ) {
        for f in fields {
            out.push(format!(
                " field {owner}.{}: {} desc={} {}",
                f.name,
                f.ty,
                description(&f.description),
                deprecation(&f.directives, schema)
            ));
            for arg in &f.arguments {
                input_value(&format!("{owner}.{}(arg)", f.name), arg, schema, out);
            }
        }
    }

    let mut out = Vec::new();
    let root = &schema.schema_definition;
    out.push(format!(
        "schema query={:?} mutation={:?} subscription={:?}",
        root.query.as_ref().map(|n| n.as_str()),
        root.mutation.as_ref().map(|n| n.as_str()),
        root.subscription.as_ref().map(|n| n.as_str()),
    ));
    for (name, d) in &schema.directive_definitions {
        if d.is_built_in() {
            continue;
        }
        let locations: Vec<&str> = d.locations.iter().map(|l| l.name()).collect();
        out.push(format!(
            "directive @{name} desc={} on {locations:?}",
            description(&d.description)
        ));
        for arg in &d.arguments {
            input_value(&format!("@{name}(arg)"), arg, schema, &mut out);
        }
    }
    for (name, ty) in &schema.types {
        if ty.is_built_in() {
            continue;
        }
        let desc = description(&ty.description().cloned());
        match ty {
            ExtendedType::Scalar(_) => out.push(format!("scalar {name} desc={desc}")),
            ExtendedType::Object(t) => {
                let interfaces: Vec<&str> =
                    t.implements_interfaces.iter().map(|i| i.as_str()).collect();
                out.push(format!("type {name} desc={desc} implements {interfaces:?}"));
                fields(name, t.fields.values().map(|f| &***f), schema, &mut out);
            }
            ExtendedType::Interface(t) => {
                let interfaces: Vec<&str> =
                    t.implements_interfaces.iter().map(|i| i.as_str()).collect();
                out.push(format!(
                    "interface {name} desc={desc} implements {interfaces:?}"
                ));
                fields(name, t.fields.values().map(|f| &***f), schema, &mut out);
            }
            ExtendedType::Union(t) => {
                let members: Vec<&str> = t.members.iter().map(|m| m.as_str()).collect();
                out.push(format!("union {name} desc={desc} = {members:?}"));
            }
            ExtendedType::Enum(t) => {
                out.push(format!("enum {name} desc={desc}"));
                for v in t.values.values() {
                    out.push(format!(
                        "  value {name}.{} desc={} {}",
                        v.value,
                        description(&v.description),
                        deprecation(&v.directives, schema)
                    ));
                }
            }
            ExtendedType::InputObject(t) => {
                out.push(format!("input {name} desc={desc}"));
                for f in t.fields.values() {
                    input_value(name, f, schema, &mut out);
                }
            }
        }
    }
    out
}

/// SDL → introspection JSON → [`sdl_from_introspection`] → SDL, asserting the two schemas
/// say the same thing, and that converting the output again gives identical text (the
/// printer is a fixed point, so a second `ion schema pull` never shows a diff).
fn assert_round_trip(sdl: &str, path: &str) -> String {
    let printed = sdl_from_introspection(&introspect(sdl, path)).unwrap_or_else(|e| panic!("{e}"));
    let original = Schema::parse_and_validate(sdl, path).unwrap_or_else(|e| panic!("{}", e.errors));
    let back = Schema::parse_and_validate(printed.as_str(), "printed.graphql")
        .unwrap_or_else(|e| panic!("{}", e.errors));
    let (expected, found) = (canonical(&original), canonical(&back));
    if let Some(i) = (0..expected.len().max(found.len())).find(|&i| expected.get(i) != found.get(i))
    {
        panic!(
            "{path}: schemas differ at fact {i}\n  original: {:?}\n  printed:  {:?}\n--- printed SDL ---\n{printed}",
            expected.get(i),
            found.get(i)
        );
    }
    let again = sdl_from_introspection(&introspect(&printed, "printed.graphql")).unwrap();
    assert_eq!(again, printed, "{path}: printing is not a fixed point");
    printed
}

#[test]
fn hand_written_schema_round_trips() {
    let printed = assert_round_trip(HAND_WRITTEN, "hand_written.graphql");
    // Non-default root names need the explicit block, since `Query` is not the root here.
    assert!(
        printed.starts_with(
            "schema {\n  query: Root\n  mutation: Change\n  subscription: Events\n}\n"
        ),
        "{printed}"
    );
    // Built-ins are left to the tools that read the file.
    for absent in [
        "scalar String",
        "__Type",
        "directive @deprecated",
        "directive @skip",
    ] {
        assert!(
            !printed.contains(absent),
            "{absent:?} printed in\n{printed}"
        );
    }
}

#[test]
fn repository_schema_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/ion.graphql");
    let sdl = std::fs::read_to_string(&path).unwrap();
    assert_round_trip(&sdl, "schema/ion.graphql");
}

/// The reference SDL kept beside the repository (`../shared`, not part of it) round-trips.
/// Without it the test passes after saying so, unless `ION_REQUIRE_SHARED=1` (CI) demands it.
#[test]
fn shared_reference_schema_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/ion-reference/ion-schema-2023.graphql");
    let Ok(sdl) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var_os("ION_REQUIRE_SHARED").is_none_or(|v| v != "1"),
            "ION_REQUIRE_SHARED=1 but the reference schema is missing at {}",
            path.display()
        );
        eprintln!(
            "skipping: reference schema not found at {} (it lives outside the repository)",
            path.display()
        );
        return;
    };
    assert_round_trip(&sdl, "ion-schema-2023.graphql");
}

/// Descriptions a block string cannot carry (a `"""`, indentation on every line, a carriage
/// return, a trailing newline) are printed as quoted strings and read back as sent.
#[test]
fn descriptions_a_block_string_cannot_carry_read_back_as_sent() {
    for text in [
        "a \"\"\" triple quote",
        "  every line indented\n  so a block string would lose it",
        "carriage\rreturn",
        "ends with a newline\n",
        "\nstarts with a newline",
        "",
    ] {
        let mut response = hand_written_schema_json();
        let kit = type_index(&response, "Kit");
        response["data"]["__schema"]["types"][kit]["description"] = json!(text);
        let printed = convert(&response).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let back = Schema::parse_and_validate(printed.text.as_str(), "printed.graphql").unwrap();
        assert_eq!(
            back.types["Kit"].description().map(|d| d.as_str()),
            Some(text),
            "{text:?} printed as\n{}",
            printed.text
        );
    }
}

/// A name that would change the structure of the SDL if printed as is is refused, named by
/// its path.
#[test]
fn names_that_are_not_graphql_names_are_refused() {
    let mut injected = hand_written_schema_json();
    let part = type_index(&injected, "Part");
    injected["data"]["__schema"]["types"][part]["fields"][0]["name"] =
        json!("id: ID } type Evil { id");
    assert_eq!(
        convert(&injected),
        Err(IntrospectionError::Malformed {
            path: format!("data.__schema.types[{part}].fields[0].name"),
            problem: "\"id: ID } type Evil { id\" is not a GraphQL name".to_string(),
        })
    );
}

/// The query reads six `ofType` levels, so `[[[T!]!]!]` is the deepest type it can read; a
/// deeper one is an error, not a guess.
#[test]
fn types_deeper_than_the_query_reads_are_an_error() {
    let sdl = "type Query { matrix: [[[Int!]!]!]! }";
    assert!(matches!(
        sdl_from_introspection(&introspect(sdl, "deep.graphql")),
        Err(IntrospectionError::Malformed { .. })
    ));
}

fn hand_written_schema_json() -> Value {
    introspect(HAND_WRITTEN, "hand_written.graphql")
}

fn error_message(response: &Value) -> String {
    sdl_from_introspection(response).unwrap_err().to_string()
}

#[test]
fn null_data_reports_the_server_errors() {
    let response = json!({
        "data": null,
        "errors": [{ "message": "Not authorized" }, { "message": "Introspection is disabled" }]
    });
    assert_eq!(
        sdl_from_introspection(&response),
        Err(IntrospectionError::ServerErrors {
            messages: vec![
                "Not authorized".to_string(),
                "Introspection is disabled".to_string()
            ]
        })
    );
    assert_eq!(
        error_message(&response),
        "the server answered the introspection query with errors: Not authorized; \
         Introspection is disabled"
    );
}

#[test]
fn errors_beside_data_are_not_ignored() {
    let mut response = hand_written_schema_json();
    response["errors"] = json!([{ "message": "partial failure", "path": ["__schema"] }]);
    assert!(matches!(
        sdl_from_introspection(&response),
        Err(IntrospectionError::ServerErrors { messages }) if messages == ["partial failure"]
    ));
}

#[test]
fn garbage_is_rejected_without_panicking() {
    for garbage in [
        json!(null),
        json!(42),
        json!("<html>502 Bad Gateway</html>"),
        json!([1, 2, 3]),
        json!({}),
        json!({ "errors": "boom" }),
        json!({ "data": null }),
        json!({ "data": { "me": { "id": "1" } } }),
        json!({ "data": { "__schema": null } }),
        json!({ "data": { "__schema": { "types": 7 } } }),
        json!({ "data": { "__schema": { "types": [], "queryType": null } } }),
        json!({ "data": { "__schema": { "types": [null], "queryType": { "name": "Query" } } } }),
        json!({ "data": { "__schema": { "types": [], "queryType": { "name": "Query" }, "directives": {} } } }),
    ] {
        assert!(sdl_from_introspection(&garbage).is_err(), "{garbage}");
    }
    assert_eq!(
        error_message(&json!("<html>502 Bad Gateway</html>")),
        "at `.`: expected a GraphQL response object, found \"<html>502 Bad Gateway</html>\""
    );
    assert!(matches!(
        sdl_from_introspection(&json!({ "data": { "__schema": null } })),
        Err(IntrospectionError::Malformed { path, .. }) if path == "data.__schema"
    ));
}

/// Index of a type in the hand-written schema's introspection result.
fn type_index(response: &Value, name: &str) -> usize {
    response["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["name"] == name)
        .unwrap()
}

#[test]
fn malformed_values_are_named_by_path() {
    let response = hand_written_schema_json();
    let part = type_index(&response, "Part");

    let mut nested = response.clone();
    let fields = nested["data"]["__schema"]["types"][part]["fields"]
        .as_array_mut()
        .unwrap();
    let tags = fields.iter().position(|f| f["name"] == "tags").unwrap();
    fields[tags]["args"][0]["type"]["name"] = json!(17);
    assert!(matches!(
        sdl_from_introspection(&nested),
        Err(IntrospectionError::Malformed { path, .. })
            if path == format!("data.__schema.types[{part}].fields[{tags}].args[0].type.name")
    ));

    // Shapes serde accepts but that are not types.
    let mut bare_list = response.clone();
    bare_list["data"]["__schema"]["types"][part]["fields"][0]["type"] =
        json!({ "kind": "LIST", "name": null, "ofType": null });
    assert_eq!(
        error_message(&bare_list),
        format!(
            "at `data.__schema.types[{part}].fields[0].type.ofType`: a LIST type without the \
             type it wraps (types wrapped more than 6 times are deeper than the introspection \
             query reads)"
        )
    );
    let mut double_non_null = response.clone();
    double_non_null["data"]["__schema"]["types"][part]["fields"][0]["type"] = json!({
        "kind": "NON_NULL", "name": null,
        "ofType": { "kind": "NON_NULL", "name": null, "ofType": { "kind": "SCALAR", "name": "ID" } }
    });
    assert!(matches!(
        sdl_from_introspection(&double_non_null),
        Err(IntrospectionError::Malformed { path, .. })
            if path == format!("data.__schema.types[{part}].fields[0].type.ofType")
    ));
    let mut wrapping_kind = response.clone();
    wrapping_kind["data"]["__schema"]["types"][part]["kind"] = json!("LIST");
    assert!(matches!(
        sdl_from_introspection(&wrapping_kind),
        Err(IntrospectionError::Malformed { path, .. })
            if path == format!("data.__schema.types[{part}].kind")
    ));
    let mut missing_root = response;
    missing_root["data"]["__schema"]["queryType"]["name"] = json!("Nowhere");
    assert_eq!(
        error_message(&missing_root),
        "at `data.__schema.queryType.name`: the query root `Nowhere` is not among the types"
    );
}

/// A `__TypeKind` newer than the printer: the type is left out with a warning, and so is
/// everything that refers to it; the rest of the schema is printed.
#[test]
fn unknown_type_kinds_are_left_out_with_a_warning() {
    let mut response = hand_written_schema_json();
    let status = type_index(&response, "Status");
    response["data"]["__schema"]["types"][status]["kind"] = json!("ENUMERATION");
    let sdl = convert(&response).unwrap();
    assert_eq!(
        sdl.warnings,
        [
            Warning::UnknownTypeKind {
                name: "Status".to_string(),
                kind: "ENUMERATION".to_string()
            },
            Warning::RefersToLeftOutType {
                coordinate: "PartFilter.status".to_string(),
                ty: "Status".to_string()
            },
        ]
    );
    assert_eq!(
        sdl.warnings[0].to_string(),
        "left out type `Status`: unknown kind `ENUMERATION`"
    );
    assert_eq!(
        sdl.warnings[1].to_string(),
        "left out `PartFilter.status`: its type `Status` was left out"
    );
    assert!(!sdl.text.contains("Status"), "{}", sdl.text);
    assert!(sdl.text.contains("nameLike"), "{}", sdl.text);
}

#[test]
fn results_that_do_not_validate_are_refused_with_the_sdl() {
    let mut response = hand_written_schema_json();
    let part = type_index(&response, "Part");
    response["data"]["__schema"]["types"][part]["fields"][0]["type"] =
        json!({ "kind": "OBJECT", "name": "Missing", "ofType": null });
    match sdl_from_introspection(&response) {
        Err(IntrospectionError::InvalidSchema { diagnostics, sdl }) => {
            assert!(diagnostics.contains("Missing"), "{diagnostics}");
            assert!(sdl.contains("  id: Missing\n"), "{sdl}");
        }
        other => panic!("expected InvalidSchema, got {other:?}"),
    }

    let mut bad_default = hand_written_schema_json();
    let limits = type_index(&bad_default, "Limits");
    bad_default["data"]["__schema"]["types"][limits]["inputFields"][0]["defaultValue"] =
        json!("{{{");
    assert_eq!(
        error_message(&bad_default),
        format!(
            "at `data.__schema.types[{limits}].inputFields[0].defaultValue`: \"{{{{{{\" is not a \
             GraphQL value"
        )
    );
    for not_one_value in ["1\n}\ninput E {\n  v: Int", "$variable", ""] {
        bad_default["data"]["__schema"]["types"][limits]["inputFields"][0]["defaultValue"] =
            json!(not_one_value);
        assert!(
            matches!(
                sdl_from_introspection(&bad_default),
                Err(IntrospectionError::Malformed { .. } | IntrospectionError::InvalidSchema { .. })
            ),
            "{not_one_value:?}"
        );
    }
}

#[test]
fn query_stays_within_what_graphene_accepts() {
    let query = introspection_query();
    // Fields and arguments added to the introspection schema after June 2018.
    for newer in [
        "isRepeatable",
        "specifiedByURL",
        "isOneOf",
        "args(includeDeprecated",
        "inputFields(includeDeprecated",
        "description\n    queryType",
    ] {
        assert!(!query.contains(newer), "{newer}");
    }
    // Deprecation is asked of fields and enum values only, as June 2018 has it.
    assert_eq!(query.matches("isDeprecated").count(), 2, "{query}");
    assert!(query.starts_with("query IntrospectionQuery {"), "{query}");
}

/// A recorded introspection result from `fixtures/`, written by hand in the shape each
/// server library answers.
fn fixture(name: &str) -> Value {
    let text = match name {
        "graphene" => include_str!("fixtures/graphene.json"),
        "async_graphql" => include_str!("fixtures/async_graphql.json"),
        "graphql_js_16" => include_str!("fixtures/graphql_js_16.json"),
        "graphql_js_17" => include_str!("fixtures/graphql_js_17.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// graphene on graphql-core 3.3: `DIRECTIVE_DEFINITION` among `@deprecated`'s locations (a
/// built-in, so never printed) and among a custom directive's (left off it, with a warning; a
/// directive with no other location is left out).
#[test]
fn graphene_result_prints_with_unknown_locations_left_out() {
    let sdl = convert(&fixture("graphene")).unwrap();
    assert_eq!(sdl.text, GRAPHENE_SDL, "{}", sdl.text);
    assert_eq!(
        sdl.warnings,
        [
            Warning::UnknownDirectiveLocation {
                directive: "audited".to_string(),
                location: "DIRECTIVE_DEFINITION".to_string()
            },
            Warning::UnknownDirectiveLocation {
                directive: "meta".to_string(),
                location: "DIRECTIVE_DEFINITION".to_string()
            },
            Warning::DirectiveWithoutLocations {
                directive: "meta".to_string()
            },
        ]
    );
    assert_eq!(
        sdl.warnings[0].to_string(),
        "left location `DIRECTIVE_DEFINITION` off directive `@audited`: unknown location"
    );
    assert_eq!(
        sdl.warnings[2].to_string(),
        "left out directive `@meta`: none of its locations is known"
    );
}

const GRAPHENE_SDL: &str = r#"type Query {
  """Runs, newest first."""
  runs(first: Int = 20, status: [RunStatus!] = [TODO, IN_PROGRESS]): [Run]!
}

"""A run of a procedure."""
type Run {
  id: Int!
  title: String
  startedAt: DateTime @deprecated(reason: "Use `_created`.")
  status: RunStatus
}

"""An enumeration."""
enum RunStatus {
  TODO
  IN_PROGRESS
  FAILED @deprecated
}

"""
The `DateTime` scalar type represents a DateTime value as specified by
[iso8601](https://en.wikipedia.org/wiki/ISO_8601).
"""
scalar DateTime

type Mutation {
  createRun(input: CreateRunInput!): Run
}

input CreateRunInput {
  title: String!
  procedureId: Int
}

"""Who may read the field."""
directive @audited(role: String = "operator") on FIELD_DEFINITION
"#;

/// async-graphql: root types named `QueryRoot`/`MutationRoot` (so a `schema` block),
/// `specifiedByURL`, a `@oneOf` input object, deprecation fields on arguments and input fields.
#[test]
fn async_graphql_result_prints() {
    let sdl = convert(&fixture("async_graphql")).unwrap();
    assert_eq!(sdl.text, ASYNC_GRAPHQL_SDL, "{}", sdl.text);
    assert_eq!(sdl.warnings, []);
}

const ASYNC_GRAPHQL_SDL: &str = r#"schema {
  query: QueryRoot
  mutation: MutationRoot
}

interface Node {
  id: ID!
}

"""A part."""
type Part implements Node {
  id: ID!
  url: Url
}

"""
URL is a String implementing the [URL Standard](http://url.spec.whatwg.org/)
"""
scalar Url @specifiedBy(url: "https://url.spec.whatwg.org/")

"""Exactly one way to find a part."""
input PartBy @oneOf {
  id: ID
  partNumber: String
}

type QueryRoot {
  part(by: PartBy!): Part
}

type MutationRoot {
  archivePart(id: ID!): Boolean!
}

"""
Indicates that an Input Object is a OneOf Input Object (and thus requires exactly one of its field be provided)
"""
directive @oneOf on INPUT_OBJECT
"#;

/// graphql-js 16 with every option of `getIntrospectionQuery`: a schema description, a
/// repeatable directive, `specifiedByURL`, deprecated arguments and input fields, an
/// interface implementing an interface, a subscription root.
#[test]
fn graphql_js_16_result_prints() {
    let sdl = convert(&fixture("graphql_js_16")).unwrap();
    assert_eq!(sdl.text, GRAPHQL_JS_16_SDL, "{}", sdl.text);
    assert_eq!(sdl.warnings, []);
}

const GRAPHQL_JS_16_SDL: &str = r#""""The factory's API."""
schema {
  query: Query
  subscription: Subscription
}

type Query {
  node(id: ID!): Node
  parts(
    first: Int = 20,
    """Use `first`."""
    limit: Int @deprecated(reason: "Use `first`."),
    filter: PartFilter,
  ): [Part!]!
}

interface Node {
  id: ID!
}

interface Named implements Node {
  id: ID!
  name: String
}

"""A part."""
type Part implements Named & Node {
  id: ID!
  name: String
  revision: String @deprecated
  measuredAt: Instant
}

"""An instant on the UTC time-line."""
scalar Instant @specifiedBy(url: "https://scalars.graphql.org/andimarek/date-time")

input PartFilter {
  nameLike: String
  revision: String @deprecated(reason: "Revisions are not tracked.")
}

type Subscription {
  partChanged: Part
}

"""A label for tooling."""
directive @tag(name: String!) repeatable on OBJECT | FIELD_DEFINITION
"#;

/// graphql-js 17: `isOneOf` and the `@oneOf` directive, and the experimental
/// `FRAGMENT_VARIABLE_DEFINITION` location left off a directive that has another.
#[test]
fn graphql_js_17_result_prints() {
    let sdl = convert(&fixture("graphql_js_17")).unwrap();
    assert_eq!(sdl.text, GRAPHQL_JS_17_SDL, "{}", sdl.text);
    assert_eq!(
        sdl.warnings,
        [Warning::UnknownDirectiveLocation {
            directive: "experimental".to_string(),
            location: "FRAGMENT_VARIABLE_DEFINITION".to_string()
        }]
    );
}

const GRAPHQL_JS_17_SDL: &str = r#"type Query {
  part(by: PartBy!): Part
}

type Part {
  id: ID!
  partNumber: String
}

"""Exactly one way to find a part."""
input PartBy @oneOf {
  id: ID
  partNumber: String
}

input Page {
  first: Int = 10
}

"""
Indicates exactly one field must be supplied and this field must not be `null`.
"""
directive @oneOf on INPUT_OBJECT

directive @experimental on FIELD
"#;

/// `isOneOf` without `@oneOf` among the directives (apollo-compiler does not define it) still
/// gives a schema that validates.
#[test]
fn one_of_without_its_directive_is_defined() {
    let mut response = fixture("graphql_js_17");
    let directives = response["data"]["__schema"]["directives"]
        .as_array_mut()
        .unwrap();
    directives.retain(|d| d["name"] != "oneOf");
    let sdl = convert(&response).unwrap();
    assert!(
        sdl.text.contains("input PartBy @oneOf {")
            && sdl.text.contains("directive @oneOf on INPUT_OBJECT"),
        "{}",
        sdl.text
    );
}

/// The older spelling of graphql-js 15 and graphql-core 3.1, `specifiedByUrl`, reads too.
#[test]
fn specified_by_url_reads_in_either_spelling() {
    let mut response = fixture("async_graphql");
    let url = type_index(&response, "Url");
    let ty = response["data"]["__schema"]["types"][url]
        .as_object_mut()
        .unwrap();
    let value = ty.remove("specifiedByURL").unwrap();
    ty.insert("specifiedByUrl".to_string(), value);
    let sdl = convert(&response).unwrap();
    assert!(
        sdl.text
            .contains("scalar Url @specifiedBy(url: \"https://url.spec.whatwg.org/\")"),
        "{}",
        sdl.text
    );
}
