//! Turning an introspection result into SDL, for `ion schema pull`.
//!
//! `ion schema pull` sends [`INTROSPECTION_QUERY`] to ION (or the emulator) and hands the JSON
//! response to [`sdl_from_introspection`], which writes the schema as SDL in the server's type
//! order. This module is the pure half of that: no I/O, no network, so it can be tested by
//! round-tripping schemas through apollo-compiler's own introspection executor.
//!
//! # What survives the trip
//! Introspection (as of the October 2021 spec, which graphene answers) carries names, kinds,
//! fields, arguments, input fields, types with their list and non-null wrappers, default values,
//! enum values, union members, implemented interfaces, descriptions, deprecations of fields and
//! enum values, and custom directive definitions. It does not carry applied directives other
//! than `@deprecated`, nor the description of the schema itself, so the SDL cannot contain them.
//! Newer-spec facts (`isRepeatable`, `specifiedByURL`, deprecated arguments and input fields)
//! are printed when a response happens to carry them, but [`INTROSPECTION_QUERY`] does not ask
//! for them, because older servers reject the whole query when it does.
//!
//! Invariant: [`sdl_from_introspection`] returns only SDL that
//! `apollo_compiler::Schema::parse_and_validate` accepts, because the generator parses the
//! schema file on every build and a pulled file that does not parse would break every build.

use std::fmt::Write as _;

use apollo_compiler::{Name, Schema};
use serde_json::{Map, Value};

/// The introspection query `ion schema pull` sends; operation name `IntrospectionQuery`.
///
/// It is the classic full query (the one GraphiQL and graphql-js sent for years), restricted to
/// the October 2021 introspection schema: it does not ask for `isRepeatable`, `specifiedByURL`,
/// `__schema.description`, or `args(includeDeprecated:)`/`inputFields(includeDeprecated:)`,
/// since ION is graphene (Python) and older graphql-core versions fail the whole query on any
/// field or argument they do not know. Type references nest nine `ofType` levels deep, enough
/// for any type up to `[[[[T!]!]!]!]` (the classic query's depth); a deeper type cannot be
/// read from the response and is reported as an error rather than guessed.
pub const INTROSPECTION_QUERY: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name
      description
      locations
      args { ...InputValue }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"#;

/// Why an introspection response could not be turned into SDL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionError {
    /// The response carries GraphQL `errors`.
    ///
    /// This is reported even when `data` is present: a schema read from a response that also
    /// reports errors may be missing parts, and silently writing a partial schema file would be
    /// worse than refusing.
    #[error("the server answered the introspection query with errors: {}", .messages.join("; "))]
    ServerErrors {
        /// The `message` of each error, in response order.
        messages: Vec<String>,
    },
    /// No `__schema` object where one was expected.
    #[error(
        "missing `__schema`: expected a response `{{\"data\": {{\"__schema\": …}}}}`, \
         `{{\"__schema\": …}}` or the `__schema` object itself, found {found}"
    )]
    MissingSchema {
        /// What was there instead.
        found: String,
    },
    /// A value inside `__schema` is absent or has the wrong shape.
    #[error(
        "at `{path}`{}: expected {expected}, found {found}",
        .coordinate.as_ref().map(|c| format!(" (in `{c}`)")).unwrap_or_default()
    )]
    Malformed {
        /// JSON path of the offending value, such as `__schema.types[12].name`.
        path: String,
        /// The schema coordinate being read, such as `Part.id(first:)`, once it is known.
        coordinate: Option<String>,
        /// What a well-formed introspection result has there.
        expected: String,
        /// What the response has there.
        found: String,
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

/// Converts an introspection response into SDL.
///
/// `response` may be the whole GraphQL response (`{"data": {"__schema": …}}`),
/// `{"__schema": …}`, or the `__schema` object itself. The SDL starts with an explicit
/// `schema { … }` block (always, so the root types never depend on naming conventions), then
/// the custom directive definitions, then the types in the order the server listed them.
/// Built-in scalars, introspection types (`__*`) and the built-in directives (`@skip`,
/// `@include`, `@deprecated`, `@specifiedBy`) are left out, since every GraphQL tool defines
/// them itself. Single-line descriptions print as `"…"`, multi-line ones as block strings when
/// a block string can reproduce them exactly; default values are printed verbatim as the
/// server wrote them.
///
/// # Errors
/// - [`IntrospectionError::ServerErrors`] when the response carries GraphQL `errors`;
/// - [`IntrospectionError::MissingSchema`] when there is no `__schema` object;
/// - [`IntrospectionError::Malformed`] naming the JSON path of the first value that is absent
///   or of the wrong shape;
/// - [`IntrospectionError::InvalidSchema`] when the result does not validate as a schema.
///
/// # Example
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ion_client_build::introspection::sdl_from_introspection;
///
/// let response = serde_json::json!({ "data": { "__schema": {
///     "queryType": { "name": "Query" },
///     "types": [{
///         "kind": "OBJECT", "name": "Query", "description": "Entry points.",
///         "fields": [{
///             "name": "hello", "args": [], "isDeprecated": false,
///             "type": { "kind": "SCALAR", "name": "String" }
///         }]
///     }],
///     "directives": []
/// }}});
/// let sdl = sdl_from_introspection(&response)?;
/// assert!(sdl.contains("\"Entry points.\"\ntype Query {\n  hello: String\n}\n"));
/// # Ok(())
/// # }
/// ```
pub fn sdl_from_introspection(response: &Value) -> Result<String, IntrospectionError> {
    let schema = read_schema(locate_schema(response)?)?;
    let sdl = print_schema(&schema);
    match Schema::parse_and_validate(sdl.as_str(), "introspection.graphql") {
        Ok(_) => Ok(sdl),
        Err(invalid) => Err(IntrospectionError::InvalidSchema {
            diagnostics: invalid.errors.to_string(),
            sdl,
        }),
    }
}

// ----- finding `__schema` -----

/// Finds the `__schema` object in any of the three accepted shapes.
fn locate_schema(response: &Value) -> Result<&Map<String, Value>, IntrospectionError> {
    let Value::Object(top) = response else {
        return Err(missing(describe(Some(response))));
    };
    if top.contains_key("data") || top.contains_key("errors") {
        let messages = server_error_messages(top.get("errors"))?;
        if !messages.is_empty() {
            return Err(IntrospectionError::ServerErrors { messages });
        }
        return match top.get("data") {
            Some(Value::Object(data)) => schema_object(data.get("__schema"), "`data.__schema`"),
            other => Err(missing(format!(
                "`data` is {} and there are no `errors`",
                describe(other)
            ))),
        };
    }
    if top.contains_key("__schema") {
        return schema_object(top.get("__schema"), "`__schema`");
    }
    // The `__schema` object itself is recognised by the one key every introspection result has.
    if top.contains_key("types") {
        return Ok(top);
    }
    Err(missing(describe(Some(response))))
}

fn schema_object<'v>(
    value: Option<&'v Value>,
    what: &str,
) -> Result<&'v Map<String, Value>, IntrospectionError> {
    match value {
        Some(Value::Object(schema)) => Ok(schema),
        other => Err(missing(format!("{what} is {}", describe(other)))),
    }
}

fn missing(found: String) -> IntrospectionError {
    IntrospectionError::MissingSchema { found }
}

/// The messages of a response's `errors` array (empty when there is none).
fn server_error_messages(errors: Option<&Value>) -> Result<Vec<String>, IntrospectionError> {
    match errors {
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
            coordinate: None,
            expected: "an array of errors".to_string(),
            found: describe(Some(other)),
        }),
    }
}

// ----- reading `__schema` into a model -----

/// The parts of an introspection result that SDL can express, borrowed from the JSON.
struct Introspected<'a> {
    query: &'a str,
    mutation: Option<&'a str>,
    subscription: Option<&'a str>,
    directives: Vec<DirectiveDef<'a>>,
    types: Vec<TypeDef<'a>>,
}

struct DirectiveDef<'a> {
    name: &'a str,
    description: Option<&'a str>,
    args: Vec<InputValueDef<'a>>,
    repeatable: bool,
    locations: Vec<&'a str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

struct TypeDef<'a> {
    kind: Kind,
    name: &'a str,
    description: Option<&'a str>,
    specified_by: Option<&'a str>,
    interfaces: Vec<&'a str>,
    fields: Vec<FieldDef<'a>>,
    possible_types: Vec<&'a str>,
    enum_values: Vec<EnumValueDef<'a>>,
    input_fields: Vec<InputValueDef<'a>>,
}

struct FieldDef<'a> {
    name: &'a str,
    description: Option<&'a str>,
    args: Vec<InputValueDef<'a>>,
    ty: String,
    deprecation: Option<Deprecation<'a>>,
}

struct InputValueDef<'a> {
    name: &'a str,
    description: Option<&'a str>,
    ty: String,
    default_value: Option<&'a str>,
    deprecation: Option<Deprecation<'a>>,
}

struct EnumValueDef<'a> {
    name: &'a str,
    description: Option<&'a str>,
    deprecation: Option<Deprecation<'a>>,
}

/// A `@deprecated` to print; `reason` is `None` when it is the default and can be omitted.
struct Deprecation<'a> {
    reason: Option<&'a str>,
}

/// The reason `@deprecated` implies when none is given; printing it would only add noise.
const DEFAULT_DEPRECATION_REASON: &str = "No longer supported";

/// Built-in scalars: defined by every GraphQL implementation, so SDL must not redefine them.
const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// Built-in directives, which apollo-compiler (like every GraphQL tool) defines itself.
const BUILT_IN_DIRECTIVES: [&str; 4] = ["skip", "include", "deprecated", "specifiedBy"];

/// Where the reader is in the JSON, for error messages. Only formatted when something is wrong,
/// except for list items, whose index has to be recorded as the reader walks past them.
#[derive(Clone)]
struct At {
    path: String,
    coordinate: Option<String>,
}

impl At {
    fn root() -> Self {
        At {
            path: "__schema".to_string(),
            coordinate: None,
        }
    }

    fn key(&self, key: &str) -> Self {
        At {
            path: format!("{}.{key}", self.path),
            coordinate: self.coordinate.clone(),
        }
    }

    fn item(&self, key: &str, index: usize) -> Self {
        At {
            path: format!("{}.{key}[{index}]", self.path),
            coordinate: self.coordinate.clone(),
        }
    }

    fn in_coordinate(mut self, coordinate: String) -> Self {
        self.coordinate = Some(coordinate);
        self
    }

    fn error(&self, expected: &str, found: Option<&Value>) -> IntrospectionError {
        IntrospectionError::Malformed {
            path: self.path.clone(),
            coordinate: self.coordinate.clone(),
            expected: expected.to_string(),
            found: describe(found),
        }
    }
}

fn as_object<'v>(
    value: Option<&'v Value>,
    at: &At,
    expected: &str,
) -> Result<&'v Map<String, Value>, IntrospectionError> {
    match value {
        Some(Value::Object(object)) => Ok(object),
        other => Err(at.error(expected, other)),
    }
}

fn optional_str<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    at: &At,
) -> Result<Option<&'v str>, IntrospectionError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        other => Err(at.key(key).error("a string or null", other)),
    }
}

fn optional_bool(
    object: &Map<String, Value>,
    key: &str,
    at: &At,
) -> Result<Option<bool>, IntrospectionError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        other => Err(at.key(key).error("a boolean or null", other)),
    }
}

/// A name, checked against GraphQL's name syntax so that nothing a server sends can change the
/// structure of the printed SDL.
fn name<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    at: &At,
) -> Result<&'v str, IntrospectionError> {
    match object.get(key) {
        Some(Value::String(s)) if Name::is_valid_syntax(s) => Ok(s),
        other => Err(at.key(key).error("a GraphQL name", other)),
    }
}

/// A list; `null` and absence both read as empty because servers use either for "not
/// applicable" (such as `fields` of an enum).
fn list<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    at: &At,
) -> Result<&'v [Value], IntrospectionError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        other => Err(at.key(key).error("an array or null", other)),
    }
}

/// `{ "name": … }` of a root operation type.
fn root_name<'v>(
    schema: &'v Map<String, Value>,
    key: &str,
    at: &At,
) -> Result<Option<&'v str>, IntrospectionError> {
    match schema.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(root)) => name(root, "name", &at.key(key)).map(Some),
        other => Err(at.key(key).error("an object with a `name`, or null", other)),
    }
}

fn read_schema(schema: &Map<String, Value>) -> Result<Introspected<'_>, IntrospectionError> {
    let at = At::root();
    let query = match root_name(schema, "queryType", &at)? {
        Some(query) => query,
        None => {
            return Err(at.key("queryType").error(
                "an object with a `name` (every schema has a query type)",
                schema.get("queryType"),
            ));
        }
    };
    let mutation = root_name(schema, "mutationType", &at)?;
    let subscription = root_name(schema, "subscriptionType", &at)?;

    let types = match schema.get("types") {
        Some(Value::Array(types)) => types,
        other => return Err(at.key("types").error("an array of types", other)),
    };
    let mut type_defs = Vec::with_capacity(types.len());
    for (index, value) in types.iter().enumerate() {
        let at = at.item("types", index);
        let object = as_object(Some(value), &at, "a type object")?;
        let type_name = name(object, "name", &at)?;
        if type_name.starts_with("__") || BUILT_IN_SCALARS.contains(&type_name) {
            continue;
        }
        let at = at.in_coordinate(type_name.to_string());
        type_defs.push(read_type(object, type_name, &at)?);
    }

    let mut directives = Vec::new();
    for (index, value) in list(schema, "directives", &at)?.iter().enumerate() {
        let at = at.item("directives", index);
        let object = as_object(Some(value), &at, "a directive object")?;
        let directive_name = name(object, "name", &at)?;
        if BUILT_IN_DIRECTIVES.contains(&directive_name) {
            continue;
        }
        let coordinate = format!("@{directive_name}");
        let at = at.in_coordinate(coordinate.clone());
        let mut locations = Vec::new();
        for (index, location) in list(object, "locations", &at)?.iter().enumerate() {
            match location {
                Value::String(l) if Name::is_valid_syntax(l) => locations.push(l.as_str()),
                other => {
                    return Err(at
                        .item("locations", index)
                        .error("a directive location name", Some(other)));
                }
            }
        }
        directives.push(DirectiveDef {
            name: directive_name,
            description: optional_str(object, "description", &at)?,
            args: read_input_values(object, "args", &coordinate, &at)?,
            repeatable: optional_bool(object, "isRepeatable", &at)?.unwrap_or(false),
            locations,
        });
    }

    Ok(Introspected {
        query,
        mutation,
        subscription,
        directives,
        types: type_defs,
    })
}

fn read_type<'v>(
    object: &'v Map<String, Value>,
    type_name: &'v str,
    at: &At,
) -> Result<TypeDef<'v>, IntrospectionError> {
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => match kind.as_str() {
            "SCALAR" => Some(Kind::Scalar),
            "OBJECT" => Some(Kind::Object),
            "INTERFACE" => Some(Kind::Interface),
            "UNION" => Some(Kind::Union),
            "ENUM" => Some(Kind::Enum),
            "INPUT_OBJECT" => Some(Kind::InputObject),
            _ => None,
        },
        _ => None,
    };
    let Some(kind) = kind else {
        return Err(at.key("kind").error(
            "one of SCALAR, OBJECT, INTERFACE, UNION, ENUM, INPUT_OBJECT",
            object.get("kind"),
        ));
    };
    let mut def = TypeDef {
        kind,
        name: type_name,
        description: optional_str(object, "description", at)?,
        specified_by: None,
        interfaces: Vec::new(),
        fields: Vec::new(),
        possible_types: Vec::new(),
        enum_values: Vec::new(),
        input_fields: Vec::new(),
    };
    // Each kind reads only its own keys: servers fill the others with null, empty lists, or
    // (in some versions) leave them out, and none of that should matter.
    match kind {
        Kind::Scalar => def.specified_by = optional_str(object, "specifiedByURL", at)?,
        Kind::Object | Kind::Interface => {
            def.interfaces = read_named_refs(object, "interfaces", at)?;
            for (index, value) in list(object, "fields", at)?.iter().enumerate() {
                let at = at.item("fields", index);
                let field = as_object(Some(value), &at, "a field object")?;
                let field_name = name(field, "name", &at)?;
                let coordinate = format!("{type_name}.{field_name}");
                let at = at.in_coordinate(coordinate.clone());
                def.fields.push(FieldDef {
                    name: field_name,
                    description: optional_str(field, "description", &at)?,
                    args: read_input_values(field, "args", &coordinate, &at)?,
                    ty: read_type_ref(field.get("type"), &at.key("type"))?,
                    deprecation: read_deprecation(field, &at)?,
                });
            }
        }
        Kind::Union => def.possible_types = read_named_refs(object, "possibleTypes", at)?,
        Kind::Enum => {
            for (index, value) in list(object, "enumValues", at)?.iter().enumerate() {
                let at = at.item("enumValues", index);
                let enum_value = as_object(Some(value), &at, "an enum value object")?;
                let value_name = name(enum_value, "name", &at)?;
                let at = at.in_coordinate(format!("{type_name}.{value_name}"));
                def.enum_values.push(EnumValueDef {
                    name: value_name,
                    description: optional_str(enum_value, "description", &at)?,
                    deprecation: read_deprecation(enum_value, &at)?,
                });
            }
        }
        Kind::InputObject => {
            def.input_fields = read_input_values(object, "inputFields", type_name, at)?;
        }
    }
    Ok(def)
}

/// Arguments or input fields; `owner` is the coordinate they belong to (`Type.field`,
/// `@directive` or an input type name).
fn read_input_values<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    owner: &str,
    at: &At,
) -> Result<Vec<InputValueDef<'v>>, IntrospectionError> {
    let mut values = Vec::new();
    for (index, value) in list(object, key, at)?.iter().enumerate() {
        let at = at.item(key, index);
        let input = as_object(Some(value), &at, "an input value object")?;
        let value_name = name(input, "name", &at)?;
        let coordinate = if key == "args" {
            format!("{owner}({value_name}:)")
        } else {
            format!("{owner}.{value_name}")
        };
        let at = at.in_coordinate(coordinate);
        values.push(InputValueDef {
            name: value_name,
            description: optional_str(input, "description", &at)?,
            ty: read_type_ref(input.get("type"), &at.key("type"))?,
            default_value: optional_str(input, "defaultValue", &at)?,
            deprecation: read_deprecation(input, &at)?,
        });
    }
    Ok(values)
}

/// Names from a list of type references (`interfaces`, `possibleTypes`).
fn read_named_refs<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    at: &At,
) -> Result<Vec<&'v str>, IntrospectionError> {
    let mut names = Vec::new();
    for (index, value) in list(object, key, at)?.iter().enumerate() {
        let at = at.item(key, index);
        names.push(name(
            as_object(Some(value), &at, "a type reference")?,
            "name",
            &at,
        )?);
    }
    Ok(names)
}

/// Deprecation as introspection reports it. Either signal is enough: graphql-js itself only
/// looks at `deprecationReason`, while a server may report `isDeprecated: true` with a null
/// reason, meaning the default one.
fn read_deprecation<'v>(
    object: &'v Map<String, Value>,
    at: &At,
) -> Result<Option<Deprecation<'v>>, IntrospectionError> {
    let is_deprecated = optional_bool(object, "isDeprecated", at)?.unwrap_or(false);
    let reason = optional_str(object, "deprecationReason", at)?;
    if !is_deprecated && reason.is_none() {
        return Ok(None);
    }
    Ok(Some(Deprecation {
        reason: reason.filter(|r| *r != DEFAULT_DEPRECATION_REASON),
    }))
}

/// A type reference printed as SDL (`[Part!]!`), read from nested `ofType` objects.
fn read_type_ref(value: Option<&Value>, at: &At) -> Result<String, IntrospectionError> {
    #[derive(PartialEq)]
    enum Wrapper {
        List,
        NonNull,
    }
    let mut wrappers = Vec::new();
    let mut value = value;
    let mut at = at.clone();
    let named = loop {
        let expected = if wrappers.is_empty() {
            "a type reference"
        } else {
            // The likely cause of a missing `ofType` is a type nested deeper than the query
            // asked for, so say so.
            "a type reference (the wrapped type, within the query's nine `ofType` levels)"
        };
        let object = as_object(value, &at, expected)?;
        match object.get("kind").and_then(Value::as_str) {
            Some("NON_NULL") => {
                // `T!!` cannot be written, and non-null of non-null is invalid introspection.
                if wrappers.last() == Some(&Wrapper::NonNull) {
                    return Err(at
                        .key("kind")
                        .error("a nullable type inside NON_NULL", object.get("kind")));
                }
                wrappers.push(Wrapper::NonNull);
            }
            Some("LIST") => wrappers.push(Wrapper::List),
            Some("SCALAR" | "OBJECT" | "INTERFACE" | "UNION" | "ENUM" | "INPUT_OBJECT") => {
                break name(object, "name", &at)?;
            }
            _ => {
                return Err(at.key("kind").error(
                    "one of SCALAR, OBJECT, INTERFACE, UNION, ENUM, INPUT_OBJECT, LIST, NON_NULL",
                    object.get("kind"),
                ));
            }
        }
        value = object.get("ofType");
        at = at.key("ofType");
    };
    let mut printed = named.to_string();
    for wrapper in wrappers.iter().rev() {
        match wrapper {
            Wrapper::NonNull => printed.push('!'),
            Wrapper::List => printed = format!("[{printed}]"),
        }
    }
    Ok(printed)
}

/// A short account of a JSON value for error messages: its kind, plus the value itself when
/// it is small enough to help.
fn describe(value: Option<&Value>) -> String {
    const SHOWN_CHARS: usize = 40;
    const SHOWN_KEYS: usize = 5;
    match value {
        None => "nothing (the key is absent)".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::Bool(b)) => format!("the boolean {b}"),
        Some(Value::Number(n)) => format!("the number {n}"),
        Some(Value::String(s)) if s.chars().count() > SHOWN_CHARS => {
            let shown: String = s.chars().take(SHOWN_CHARS).collect();
            format!("the string {shown:?}…")
        }
        Some(Value::String(s)) => format!("the string {s:?}"),
        Some(Value::Array(items)) => format!("an array of {} item(s)", items.len()),
        Some(Value::Object(object)) if object.is_empty() => "an empty object".to_string(),
        Some(Value::Object(object)) => {
            let mut keys: Vec<String> = object
                .keys()
                .take(SHOWN_KEYS)
                .map(|k| format!("`{k}`"))
                .collect();
            if object.len() > SHOWN_KEYS {
                keys.push("…".to_string());
            }
            format!("an object with keys {}", keys.join(", "))
        }
    }
}

// ----- printing -----

fn print_schema(schema: &Introspected<'_>) -> String {
    let mut out = String::new();
    out.push_str("schema {\n");
    let _ = writeln!(out, "  query: {}", schema.query);
    if let Some(mutation) = schema.mutation {
        let _ = writeln!(out, "  mutation: {mutation}");
    }
    if let Some(subscription) = schema.subscription {
        let _ = writeln!(out, "  subscription: {subscription}");
    }
    out.push_str("}\n");

    for directive in &schema.directives {
        out.push('\n');
        print_description(&mut out, directive.description, "");
        let _ = write!(out, "directive @{}", directive.name);
        print_arguments(&mut out, &directive.args, "");
        if directive.repeatable {
            out.push_str(" repeatable");
        }
        let _ = writeln!(out, " on {}", directive.locations.join(" | "));
    }

    for ty in &schema.types {
        out.push('\n');
        print_type(&mut out, ty);
    }
    out
}

fn print_type(out: &mut String, ty: &TypeDef<'_>) {
    print_description(out, ty.description, "");
    match ty.kind {
        Kind::Scalar => {
            let _ = write!(out, "scalar {}", ty.name);
            if let Some(url) = ty.specified_by {
                out.push_str(" @specifiedBy(url: ");
                print_quoted(out, url);
                out.push(')');
            }
            out.push('\n');
        }
        Kind::Object | Kind::Interface => {
            let keyword = if ty.kind == Kind::Object {
                "type"
            } else {
                "interface"
            };
            let _ = write!(out, "{keyword} {}", ty.name);
            if !ty.interfaces.is_empty() {
                let _ = write!(out, " implements {}", ty.interfaces.join(" & "));
            }
            print_block(out, &ty.fields, |out, field| {
                print_description(out, field.description, "  ");
                let _ = write!(out, "  {}", field.name);
                print_arguments(out, &field.args, "  ");
                let _ = write!(out, ": {}", field.ty);
                print_deprecation(out, field.deprecation.as_ref());
                out.push('\n');
            });
        }
        Kind::Union => {
            let _ = write!(out, "union {}", ty.name);
            if !ty.possible_types.is_empty() {
                let _ = write!(out, " = {}", ty.possible_types.join(" | "));
            }
            out.push('\n');
        }
        Kind::Enum => {
            let _ = write!(out, "enum {}", ty.name);
            print_block(out, &ty.enum_values, |out, value| {
                print_description(out, value.description, "  ");
                let _ = write!(out, "  {}", value.name);
                print_deprecation(out, value.deprecation.as_ref());
                out.push('\n');
            });
        }
        Kind::InputObject => {
            let _ = write!(out, "input {}", ty.name);
            print_block(out, &ty.input_fields, |out, field| {
                print_input_value(out, field, "  ");
                out.push('\n');
            });
        }
    }
}

/// ` {\n…}\n`, or just a newline for no members: `{}` is not valid SDL, while a type without
/// members at least parses and gets a precise validation error.
fn print_block<T>(out: &mut String, members: &[T], mut print_member: impl FnMut(&mut String, &T)) {
    if members.is_empty() {
        out.push('\n');
        return;
    }
    out.push_str(" {\n");
    for member in members {
        print_member(out, member);
    }
    out.push_str("}\n");
}

/// `(a: Int, b: String)` on one line, or one argument per line when any has a description
/// (a description cannot share a line readably).
fn print_arguments(out: &mut String, args: &[InputValueDef<'_>], indent: &str) {
    if args.is_empty() {
        return;
    }
    if args.iter().all(|arg| arg.description.is_none()) {
        out.push('(');
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            print_input_value(out, arg, "");
        }
        out.push(')');
    } else {
        let inner = format!("{indent}  ");
        out.push_str("(\n");
        for arg in args {
            print_input_value(out, arg, &inner);
            out.push('\n');
        }
        let _ = write!(out, "{indent})");
    }
}

/// `name: Type = default @deprecated`, preceded by its description on lines of its own.
fn print_input_value(out: &mut String, value: &InputValueDef<'_>, indent: &str) {
    print_description(out, value.description, indent);
    let _ = write!(out, "{indent}{}: {}", value.name, value.ty);
    if let Some(default) = value.default_value {
        // Verbatim: the server printed it as a GraphQL literal already, and re-printing it
        // would need a parser here for no gain; validation below catches a broken one.
        let _ = write!(out, " = {default}");
    }
    print_deprecation(out, value.deprecation.as_ref());
}

fn print_deprecation(out: &mut String, deprecation: Option<&Deprecation<'_>>) {
    match deprecation {
        None => {}
        Some(Deprecation { reason: None }) => out.push_str(" @deprecated"),
        Some(Deprecation {
            reason: Some(reason),
        }) => {
            out.push_str(" @deprecated(reason: ");
            print_quoted(out, reason);
            out.push(')');
        }
    }
}

/// A description on the lines before what it describes: `"…"` for one line, a block string
/// for several when a block string reproduces the text exactly, `"…"` with escapes otherwise.
fn print_description(out: &mut String, description: Option<&str>, indent: &str) {
    let Some(description) = description else {
        return;
    };
    out.push_str(indent);
    if description.contains('\n') && can_be_block_string(description) {
        out.push_str("\"\"\"\n");
        for line in description.split('\n') {
            // An empty line gets no indentation, which would only be trailing whitespace; a
            // whitespace-only line must keep it, because the parser strips the common
            // indentation from every line, blank or not.
            if !line.is_empty() {
                out.push_str(indent);
                out.push_str(&line.replace("\"\"\"", "\\\"\"\""));
            }
            out.push('\n');
        }
        out.push_str(indent);
        out.push_str("\"\"\"\n");
    } else {
        print_quoted(out, description);
        out.push('\n');
    }
}

/// Whether printing `text` one line per line inside `"""` (each line after the same
/// indentation) gives back exactly `text` through the spec's `BlockStringValue`, which turns
/// `\r` into `\n`, drops leading and trailing blank lines and removes the indentation common
/// to all non-blank lines. Other control characters are kept out of block strings because
/// they cannot be escaped there and older parsers reject them raw.
fn can_be_block_string(text: &str) -> bool {
    fn is_blank(line: &str) -> bool {
        line.chars().all(|c| c == ' ' || c == '\t')
    }
    if text.chars().any(|c| c < ' ' && c != '\n' && c != '\t') {
        return false;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return false;
    };
    if is_blank(first) || is_blank(last) {
        return false;
    }
    // At least one non-blank line must start at the margin, or the parser would remove the
    // shared indentation from the text itself.
    lines
        .iter()
        .any(|line| !is_blank(line) && !line.starts_with([' ', '\t']))
}

/// `"…"` with GraphQL string escapes.
fn print_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    /// list/non-null types, and descriptions that need block strings, escapes, or a quoted form
    /// because a block string would change them.
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
    four spaces, a \""" triple quote, a backslash \ and a tab	here.
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

"A part. Tab\tand \"quotes\" and unicode é ✓ and a bell \u0007."
type Part implements Named & Node @audit {
  id: ID!
  name(upper: Boolean = false): String!
  oldName: String @deprecated
  "Multi-line reason."
  legacyCode: String @deprecated(reason: "Use `code`.\nSecond line \"quoted\"")
  code: String @deprecated(reason: "No longer supported")
  tags(first: Int = 10, filter: PartFilter = {status: [ACTIVE], nameLike: "a\"b\\c"}): [[String!]]!
  matrix: [[[Int!]!]!]!
  "carriage\rreturn"
  createdAt: DateTime
  data(default: Json = "{\"k\": 1}"): Json
  kind: PartKind!
}

"  every line indented\n  so a block string would lose it"
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
  "ends with a newline\n"
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

    /// Runs [`INTROSPECTION_QUERY`] against `sdl` with apollo-compiler's own introspection
    /// executor, and returns the response as JSON, as a server would send it.
    fn introspect(sdl: &str, path: &str) -> Value {
        let schema =
            Schema::parse_and_validate(sdl, path).unwrap_or_else(|e| panic!("{}", e.errors));
        let document = ExecutableDocument::parse_and_validate(
            &schema,
            INTROSPECTION_QUERY,
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
        // The facts above are compared semantically; these pin the printed forms chosen.
        for expected in [
            "schema {\n  query: Root\n  mutation: Change\n  subscription: Events\n}\n",
            "\n\"Audit trail marker, so custom directive definitions are exercised.\"\ndirective @audit(\n  \"Who asked.\"\n  by: String = \"nobody\"\n  level: Int! = 2\n  tags: [String!] = [\"a\", \"b\\\"c\"]\n) on FIELD_DEFINITION | OBJECT | ARGUMENT_DEFINITION\n",
            "\"\"\"\nSomething with an id.\n\nIndented line:\n    four spaces, a \\\"\"\" triple quote, a backslash \\ and a tab\there.\n\"\"\"\ninterface Node {\n",
            "interface Named implements Node {\n",
            "type Part implements Named & Node {\n",
            "  oldName: String @deprecated\n",
            "  legacyCode: String @deprecated(reason: \"Use `code`.\\nSecond line \\\"quoted\\\"\")\n",
            "  code: String @deprecated\n",
            "  matrix: [[[Int!]!]!]!\n",
            "  \"carriage\\rreturn\"\n  createdAt: DateTime\n",
            "\"A part. Tab\\tand \\\"quotes\\\" and unicode é ✓ and a bell \\u0007.\"\n",
            "\"  every line indented\\n  so a block string would lose it\"\ntype Kit implements Node {\n",
            "  parts(\n    \"How many.\"\n    first: Int = 20\n    \"\"\"\n    After which cursor.\n    (Opaque.)\n    \"\"\"\n    after: String\n    plain: String\n  ): [Part!]!\n",
            "\"Either one.\"\nunion Thing = Part | Kit\n",
            "  BOUGHT @deprecated(reason: \"Use MADE\")\n  \"ends with a newline\\n\"\n  OLD @deprecated\n",
            "  limits: Limits = {min: 1, max: 2.5}\n",
            "  nested: [[Int]] = [[1], null]\n",
            "type Query {\n  unused: Boolean\n}\n",
        ] {
            assert!(
                printed.contains(expected),
                "missing {expected:?} in\n{printed}"
            );
        }
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

    #[test]
    fn accepts_the_three_shapes() {
        let response = introspect(HAND_WRITTEN, "hand_written.graphql");
        let schema = &response["data"]["__schema"];
        let from_response = sdl_from_introspection(&response).unwrap();
        assert_eq!(
            sdl_from_introspection(&response["data"]).unwrap(),
            from_response
        );
        assert_eq!(sdl_from_introspection(schema).unwrap(), from_response);
    }

    /// Facts the standard query does not ask for (older servers reject the fields), printed when
    /// a response carries them anyway; and nulls where the spec allows them.
    #[test]
    fn prints_newer_spec_facts_when_present() {
        let string = json!({ "kind": "SCALAR", "name": "String", "ofType": null });
        let response = json!({ "__schema": {
            "queryType": { "name": "Query" },
            "mutationType": null,
            "types": [
                { "kind": "SCALAR", "name": "Url", "description": null,
                  "specifiedByURL": "https://url.spec.whatwg.org/" },
                { "kind": "OBJECT", "name": "Query", "description": null,
                  "interfaces": null, "possibleTypes": null, "enumValues": null, "inputFields": null,
                  "fields": [{
                      "name": "find", "description": null, "isDeprecated": false,
                      "deprecationReason": null, "type": string,
                      "args": [
                          { "name": "old", "description": null, "type": string,
                            "defaultValue": null, "isDeprecated": true,
                            "deprecationReason": "Use `new`." },
                          { "name": "new", "description": null, "type": string,
                            "defaultValue": "\"x\"", "isDeprecated": false,
                            "deprecationReason": null }
                      ]
                  }] },
                { "kind": "INPUT_OBJECT", "name": "In", "description": null,
                  "inputFields": [
                      { "name": "a", "description": null, "type": string, "defaultValue": null,
                        "isDeprecated": true, "deprecationReason": "No longer supported" }
                  ] }
            ],
            "directives": [
                { "name": "tag", "description": null, "isRepeatable": true,
                  "locations": ["FIELD_DEFINITION", "OBJECT"], "args": [] },
                { "name": "deprecated", "description": null, "locations": ["FIELD_DEFINITION"],
                  "args": [] }
            ]
        }});
        assert_eq!(
            sdl_from_introspection(&response).unwrap(),
            "schema {\n  query: Query\n}\n\
             \ndirective @tag repeatable on FIELD_DEFINITION | OBJECT\n\
             \nscalar Url @specifiedBy(url: \"https://url.spec.whatwg.org/\")\n\
             \ntype Query {\n  find(old: String @deprecated(reason: \"Use `new`.\"), new: String = \"x\"): String\n}\n\
             \ninput In {\n  a: String @deprecated\n}\n"
        );
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
    fn missing_schema_says_what_was_found() {
        let cases = [
            (
                json!({ "data": { "me": { "id": "1" } } }),
                "`data.__schema` is nothing (the key is absent)",
            ),
            (
                json!({ "data": { "__schema": null } }),
                "`data.__schema` is null",
            ),
            (
                json!({ "data": null }),
                "`data` is null and there are no `errors`",
            ),
            (
                json!({ "__schema": [] }),
                "`__schema` is an array of 0 item(s)",
            ),
            (
                json!({ "message": "Bad gateway" }),
                "an object with keys `message`",
            ),
            (json!({}), "an empty object"),
        ];
        for (response, found) in cases {
            assert_eq!(
                sdl_from_introspection(&response),
                Err(IntrospectionError::MissingSchema {
                    found: found.to_string()
                }),
                "{response}"
            );
        }
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        for garbage in [
            json!(null),
            json!(42),
            json!("<html>502 Bad Gateway</html>"),
            json!([1, 2, 3]),
            json!({ "errors": "boom" }),
            json!({ "__schema": { "types": 7 } }),
            json!({ "__schema": { "types": [], "queryType": null } }),
            json!({ "__schema": { "types": [null], "queryType": { "name": "Query" } } }),
            json!({ "__schema": { "types": [], "queryType": { "name": "Query" }, "directives": {} } }),
        ] {
            assert!(sdl_from_introspection(&garbage).is_err(), "{garbage}");
        }
        assert_eq!(
            error_message(&json!("<html>502 Bad Gateway</html>")),
            "missing `__schema`: expected a response `{\"data\": {\"__schema\": …}}`, \
             `{\"__schema\": …}` or the `__schema` object itself, found the string \
             \"<html>502 Bad Gateway</html>\""
        );
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

        let mut nameless = response.clone();
        nameless["data"]["__schema"]["types"][part]
            .as_object_mut()
            .unwrap()
            .remove("name");
        assert_eq!(
            error_message(&nameless),
            format!(
                "at `__schema.types[{part}].name`: expected a GraphQL name, found nothing \
                 (the key is absent)"
            )
        );

        let mut bad_kind = response.clone();
        bad_kind["data"]["__schema"]["types"][status]["kind"] = json!("ENUMERATION");
        assert_eq!(
            error_message(&bad_kind),
            format!(
                "at `__schema.types[{status}].kind` (in `Status`): expected one of SCALAR, \
                 OBJECT, INTERFACE, UNION, ENUM, INPUT_OBJECT, found the string \"ENUMERATION\""
            )
        );

        // A name that would change the structure of the SDL if printed as is.
        let mut injected = response.clone();
        injected["data"]["__schema"]["types"][part]["fields"][0]["name"] =
            json!("id: ID } type Evil {");
        assert!(matches!(
            sdl_from_introspection(&injected),
            Err(IntrospectionError::Malformed { path, expected, .. })
                if path == format!("__schema.types[{part}].fields[0].name")
                    && expected == "a GraphQL name"
        ));

        // A list whose element type is missing, deep inside an argument.
        let mut nested = response.clone();
        let fields = nested["data"]["__schema"]["types"][part]["fields"]
            .as_array_mut()
            .unwrap();
        let tags = fields.iter().position(|f| f["name"] == "tags").unwrap();
        fields[tags]["args"][0]["type"] = json!({ "kind": "LIST", "name": null });
        assert_eq!(
            error_message(&nested),
            format!(
                "at `__schema.types[{part}].fields[{tags}].args[0].type.ofType` (in \
                 `Part.tags(first:)`): expected a type reference (the wrapped type, within the \
                 query's nine `ofType` levels), found nothing (the key is absent)"
            )
        );

        let mut double_non_null = response.clone();
        double_non_null["data"]["__schema"]["types"][part]["fields"][0]["type"] = json!({
            "kind": "NON_NULL", "name": null,
            "ofType": { "kind": "NON_NULL", "name": null,
                        "ofType": { "kind": "SCALAR", "name": "ID", "ofType": null } }
        });
        assert!(matches!(
            sdl_from_introspection(&double_non_null),
            Err(IntrospectionError::Malformed { expected, coordinate: Some(c), .. })
                if expected == "a nullable type inside NON_NULL" && c == "Part.id"
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
        // Fields and arguments added to the introspection schema after October 2021; the
        // schema's own `description` is newer too, and would sit right after `__schema {`.
        for newer in [
            "isRepeatable",
            "specifiedByURL",
            "isOneOf",
            "args(includeDeprecated",
            "inputFields(includeDeprecated",
            "__schema {\n    description",
        ] {
            assert!(!INTROSPECTION_QUERY.contains(newer), "{newer}");
        }
        assert!(INTROSPECTION_QUERY.starts_with("query IntrospectionQuery {"));
        assert_eq!(INTROSPECTION_QUERY.matches("ofType").count(), 9);
    }
}
