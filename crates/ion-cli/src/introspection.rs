//! Turning an introspection result into SDL, for `ion schema pull`.
//!
//! `ion schema pull` sends [`introspection_query`] to ION (or the emulator) and hands the JSON
//! response to [`sdl_from_introspection`]. The work is done by `cynic-introspection`, a crate
//! made for it: its `IntrospectionQuery` is the query (asked for with the June 2018
//! capabilities, since ION is graphene and older graphql-core fails the whole query on any
//! field or argument it does not know: no `isRepeatable`, `specifiedByURL` or
//! `includeDeprecated` on arguments and input fields), its serde model reads the response, and
//! `Schema::to_sdl` prints it. This module only adds what a command needs around that:
//! GraphQL `errors` are reported (also beside `data`, since a schema read from a response that
//! reports errors may be partial), a malformed response is a typed error naming the JSON path
//! that failed, and the SDL is checked before anyone writes it to a file.
//!
//! # What the library cannot do, and what we check instead
//! `Schema::to_sdl` prints names and default values verbatim and every description as a block
//! string without escaping. For ION's schema and ours that round-trips (the tests below show it
//! definition by definition). For a description a block string cannot carry (one containing
//! `"""`, a carriage return, leading indentation on every line, or leading or trailing blank
//! lines) or a name that is not a GraphQL name, the printed SDL would mean something else.
//! Rather than print by hand, [`sdl_from_introspection`] parses the SDL back with
//! apollo-compiler and compares every name and description with the introspection result;
//! a difference is [`IntrospectionError::NotRoundTripped`], naming the definition, so a wrong
//! file is never written (`printed_sdl_that_would_change_the_schema_is_refused` shows it).
//!
//! Invariant: [`sdl_from_introspection`] returns only SDL that
//! `apollo_compiler::Schema::parse_and_validate` accepts, because the generator parses the
//! schema file on every build and a pulled file that does not parse would break every build.

use apollo_compiler::Schema;
use apollo_compiler::schema::ExtendedType;
use cynic_introspection::{IntrospectionQuery, SpecificationVersion, Type};
use serde_json::Value;

/// The operation name of [`introspection_query`].
pub const OPERATION_NAME: &str = "IntrospectionQuery";

/// The introspection query `ion schema pull` sends: cynic-introspection's, restricted to the
/// June 2018 introspection schema that graphene answers.
pub fn introspection_query() -> String {
    IntrospectionQuery::with_capabilities(SpecificationVersion::June2018.capabilities()).query
}

/// Why an introspection response could not be turned into SDL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionError {
    /// The response carries GraphQL `errors`, with or without `data`.
    #[error("the server answered the introspection query with errors: {}", .messages.join("; "))]
    ServerErrors {
        /// The `message` of each error, in response order.
        messages: Vec<String>,
    },
    /// The response is not an introspection result: `path` is the JSON path that failed.
    #[error("at `{path}`: {problem}")]
    Malformed {
        /// JSON path of the offending value, such as `data.__schema.types[12].name`.
        path: String,
        /// What was wrong there.
        problem: String,
    },
    /// The SDL printed from the response does not say what the response says (see the
    /// module docs).
    #[error("the SDL printed for `{definition}` would not read back as the server sent it")]
    NotRoundTripped {
        /// The type (or `@directive`) whose printed form differs.
        definition: String,
        /// The SDL, so a caller can save it for inspection.
        sdl: String,
    },
    /// The SDL built from the response is not a valid schema (for example a field whose type
    /// is not among the response's types, or a default value that is not GraphQL syntax).
    #[error("the schema built from the introspection result does not validate:\n{diagnostics}")]
    InvalidSchema {
        /// apollo-compiler's diagnostics, rendered with source excerpts.
        diagnostics: String,
        /// The SDL that failed, so a caller can save it for inspection.
        sdl: String,
    },
}

/// Converts a GraphQL response to [`introspection_query`] into SDL.
///
/// The SDL is cynic-introspection's: a `schema { … }` block only when the root types are not
/// named `Query`, `Mutation` and `Subscription`, then the types in the server's order, then
/// the custom directives; built-in scalars, directives and `__*` types are left out.
///
/// # Errors
/// - [`IntrospectionError::ServerErrors`] when the response carries GraphQL `errors`;
/// - [`IntrospectionError::Malformed`] when `data.__schema` is absent or a value in it has the
///   wrong shape;
/// - [`IntrospectionError::NotRoundTripped`] when the printed SDL would change a name or a
///   description;
/// - [`IntrospectionError::InvalidSchema`] when the result does not validate as a schema.
pub fn sdl_from_introspection(response: &Value) -> Result<String, IntrospectionError> {
    let messages = server_error_messages(response)?;
    if !messages.is_empty() {
        return Err(IntrospectionError::ServerErrors { messages });
    }
    let data = match response {
        Value::Object(top) => top.get("data").cloned().unwrap_or(Value::Null),
        // Not even an object: say what it is rather than what serde expected.
        _ => {
            return Err(IntrospectionError::Malformed {
                path: ".".to_string(),
                problem: format!("expected a GraphQL response object, found {response}"),
            });
        }
    };
    let query: IntrospectionQuery =
        serde_path_to_error::deserialize(data).map_err(|e| IntrospectionError::Malformed {
            path: format!("data.{}", e.path()),
            problem: e.inner().to_string(),
        })?;
    let schema = query
        .into_schema()
        .map_err(|e| IntrospectionError::Malformed {
            path: "data.__schema".to_string(),
            problem: e.to_string().to_lowercase(),
        })?;
    let sdl = schema.to_sdl();
    let parsed = match Schema::parse_and_validate(sdl.as_str(), "introspection.graphql") {
        Ok(parsed) => parsed,
        Err(invalid) => {
            return Err(IntrospectionError::InvalidSchema {
                diagnostics: invalid.errors.to_string(),
                sdl,
            });
        }
    };
    match first_difference(&schema, &parsed) {
        Some(definition) => Err(IntrospectionError::NotRoundTripped { definition, sdl }),
        None => Ok(sdl),
    }
}

/// The messages of a response's `errors` array (empty when there is none).
fn server_error_messages(response: &Value) -> Result<Vec<String>, IntrospectionError> {
    match response.get("errors") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(errors)) => Ok(errors
            .iter()
            .map(|error| match error.get("message") {
                Some(Value::String(message)) => message.clone(),
                // An error without a message is still an error; show what it holds instead.
                _ => error.to_string(),
            })
            .collect()),
        Some(other) => Err(IntrospectionError::Malformed {
            path: "errors".to_string(),
            problem: format!("expected an array of errors, found {other}"),
        }),
    }
}

/// The first definition whose names or descriptions differ between what the server sent and
/// the SDL as apollo-compiler reads it back, if any.
///
/// Only what `to_sdl` prints without checking is compared: names and descriptions (types,
/// fields, arguments, input fields, enum values, directives). Types, defaults and the rest go
/// through GraphQL syntax that validation already checks.
fn first_difference(sent: &cynic_introspection::Schema, read: &Schema) -> Option<String> {
    fn same(a: Option<&str>, b: Option<&str>) -> bool {
        a == b
    }
    fn inputs<'a>(
        sent: &[cynic_introspection::InputValue],
        read: impl ExactSizeIterator<Item = &'a apollo_compiler::ast::InputValueDefinition>,
    ) -> bool {
        sent.len() == read.len()
            && sent.iter().zip(read).all(|(s, r)| {
                s.name == r.name.as_str()
                    && same(s.description.as_deref(), r.description.as_deref())
            })
    }
    fn fields(
        sent: &[cynic_introspection::Field],
        read: &apollo_compiler::collections::IndexMap<
            apollo_compiler::Name,
            apollo_compiler::schema::Component<apollo_compiler::ast::FieldDefinition>,
        >,
    ) -> bool {
        sent.len() == read.len()
            && sent.iter().zip(read.values()).all(|(s, r)| {
                s.name == r.name.as_str()
                    && same(s.description.as_deref(), r.description.as_deref())
                    && inputs(&s.args, r.arguments.iter().map(|a| &**a))
            })
    }

    let user_types = sent
        .types
        .iter()
        .filter(|t| !t.name().starts_with("__"))
        .filter(|t| !matches!(t, Type::Scalar(s) if s.is_builtin()));
    let read_types = read.types.iter().filter(|(_, t)| !t.is_built_in());
    if user_types.clone().count() != read_types.clone().count() {
        return Some("the schema's types".to_string());
    }
    for ty in user_types {
        let name = ty.name();
        let Some(found) = read.types.get(name) else {
            return Some(name.to_string());
        };
        let matches = match (ty, found) {
            (Type::Scalar(s), ExtendedType::Scalar(r)) => {
                same(s.description.as_deref(), r.description.as_deref())
            }
            (Type::Object(s), ExtendedType::Object(r)) => {
                same(s.description.as_deref(), r.description.as_deref())
                    && fields(&s.fields, &r.fields)
            }
            (Type::Interface(s), ExtendedType::Interface(r)) => {
                same(s.description.as_deref(), r.description.as_deref())
                    && fields(&s.fields, &r.fields)
            }
            (Type::Union(s), ExtendedType::Union(r)) => {
                same(s.description.as_deref(), r.description.as_deref())
            }
            (Type::Enum(s), ExtendedType::Enum(r)) => {
                same(s.description.as_deref(), r.description.as_deref())
                    && s.values.len() == r.values.len()
                    && s.values.iter().zip(r.values.values()).all(|(s, r)| {
                        s.name == r.value.as_str()
                            && same(s.description.as_deref(), r.description.as_deref())
                    })
            }
            (Type::InputObject(s), ExtendedType::InputObject(r)) => {
                same(s.description.as_deref(), r.description.as_deref())
                    && inputs(&s.fields, r.fields.values().map(|f| &***f))
            }
            _ => false,
        };
        if !matches {
            return Some(name.to_string());
        }
    }
    for directive in &sent.directives {
        if ["skip", "include", "deprecated", "specifiedBy"].contains(&directive.name.as_str()) {
            continue;
        }
        let matches = read
            .directive_definitions
            .get(directive.name.as_str())
            .is_some_and(|r| {
                same(directive.description.as_deref(), r.description.as_deref())
                    && inputs(&directive.args, r.arguments.iter().map(|a| &**a))
            });
        if !matches {
            return Some(format!("@{}", directive.name));
        }
    }
    None
}

#[cfg(test)]
mod tests {
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
        let schema =
            Schema::parse_and_validate(sdl, path).unwrap_or_else(|e| panic!("{}", e.errors));
        let document = ExecutableDocument::parse_and_validate(
            &schema,
            introspection_query(),
            "introspection_query.graphql",
        )
        .unwrap_or_else(|e| panic!("{}", e.errors));
        let operation = document.operations.get(Some("IntrospectionQuery")).unwrap();
        apollo_compiler::introspection::check_max_depth(&document, operation).unwrap();
        let variables = apollo_compiler::request::coerce_variable_values(
            &schema,
            operation,
            &Default::default(),
        )
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
        let printed =
            sdl_from_introspection(&introspect(sdl, path)).unwrap_or_else(|e| panic!("{e}"));
        let original =
            Schema::parse_and_validate(sdl, path).unwrap_or_else(|e| panic!("{}", e.errors));
        let back = Schema::parse_and_validate(printed.as_str(), "printed.graphql")
            .unwrap_or_else(|e| panic!("{}", e.errors));
        let (expected, found) = (canonical(&original), canonical(&back));
        if let Some(i) =
            (0..expected.len().max(found.len())).find(|&i| expected.get(i) != found.get(i))
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

    #[test]
    fn reference_schema_round_trips_when_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/ion-reference/ion-schema-2023.graphql");
        let Ok(sdl) = std::fs::read_to_string(&path) else {
            eprintln!(
                "skipping: reference schema not found at {} (it lives outside the repository)",
                path.display()
            );
            return;
        };
        assert_round_trip(&sdl, "ion-schema-2023.graphql");
    }

    /// What cynic-introspection's printer cannot carry (see the module docs): each case is
    /// refused, naming the definition, instead of written as a schema that says something else.
    #[test]
    fn printed_sdl_that_would_change_the_schema_is_refused() {
        for (description, definition) in [
            ("a \"\"\" triple quote", "Kit"),
            (
                "  every line indented\n  so a block string would lose it",
                "Kit",
            ),
            ("carriage\rreturn", "Kit"),
            ("ends with a newline\n", "Kit"),
        ] {
            let mut response = hand_written_schema_json();
            let kit = type_index(&response, "Kit");
            response["data"]["__schema"]["types"][kit]["description"] = json!(description);
            match sdl_from_introspection(&response) {
                Err(IntrospectionError::NotRoundTripped { definition: d, .. }) => {
                    assert_eq!(d, definition, "{description:?}")
                }
                // A triple quote can also end the block string early and leave invalid SDL.
                Err(IntrospectionError::InvalidSchema { .. }) => {}
                other => panic!("{description:?}: expected a refusal, got {other:?}"),
            }
        }

        // A name that would change the structure of the SDL if printed as is.
        let mut injected = hand_written_schema_json();
        let part = type_index(&injected, "Part");
        injected["data"]["__schema"]["types"][part]["fields"][0]["name"] =
            json!("id: ID } type Evil { id");
        assert!(matches!(
            sdl_from_introspection(&injected),
            Err(IntrospectionError::NotRoundTripped { .. }
                | IntrospectionError::InvalidSchema { .. })
        ),);
    }

    /// cynic-introspection's query reads six `ofType` levels, so `[[[T!]!]!]` is the deepest
    /// type it can read; a deeper one is an error, not a guess.
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
        let status = type_index(&response, "Status");

        let mut bad_kind = response.clone();
        bad_kind["data"]["__schema"]["types"][status]["kind"] = json!("ENUMERATION");
        assert!(matches!(
            sdl_from_introspection(&bad_kind),
            Err(IntrospectionError::Malformed { path, .. })
                if path == format!("data.__schema.types[{status}].kind")
        ));

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

        // Shapes serde accepts but that are not types: named by the library's message.
        let mut double_list = response.clone();
        double_list["data"]["__schema"]["types"][part]["fields"][0]["type"] =
            json!({ "kind": "LIST", "name": null, "ofType": null });
        assert!(matches!(
            sdl_from_introspection(&double_list),
            Err(IntrospectionError::Malformed { path, .. }) if path == "data.__schema"
        ));
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
        assert!(matches!(
            sdl_from_introspection(&bad_default),
            Err(IntrospectionError::InvalidSchema { .. })
        ));
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
}
