//! Turning an introspection result into SDL, for `ion schema pull`.
//!
//! `ion schema pull` sends [`introspection_query`] to ION (or the emulator) and hands the JSON
//! response to [`sdl_from_introspection`]. The query asks only for the June 2018 introspection
//! schema, since ION is graphene and older graphql-core fails the whole query on any field or
//! argument it does not know (no `isRepeatable`, `specifiedByURL`, `isOneOf` or
//! `includeDeprecated` on arguments and input fields).
//!
//! The response is read into plain serde types of this module, which ignore fields they do
//! not know and keep kinds and directive locations as strings, so a result from a newer server
//! or another library (graphql-js 16/17, async-graphql, graphql-core 3.3) still reads: where it
//! carries `isRepeatable`, `specifiedByURL`, `isOneOf` or deprecated arguments and input
//! fields, they are printed. What has no SDL form here (a `__TypeKind` or a directive location
//! newer than this printer) is left out with a [`Warning`], never a failure of the whole pull.
//!
//! The result becomes an apollo-compiler AST and is printed by apollo-compiler, which escapes
//! descriptions and strings so they read back as sent; names are checked as GraphQL names and
//! default values parsed as GraphQL values, so a hostile result cannot change the structure of
//! the SDL. GraphQL `errors` are reported (also beside `data`, since a schema read from a
//! response that reports errors may be partial), and a malformed response is a typed error
//! naming the JSON path that failed.
//!
//! Invariant: [`sdl_from_introspection`] returns only SDL that
//! `apollo_compiler::Schema::parse_and_validate` accepts, because the generator parses the
//! schema file on every build and a pulled file that does not parse would break every build.

use std::collections::BTreeSet;
use std::fmt;

use apollo_compiler::ast::{self, DirectiveLocation, OperationType};
use apollo_compiler::{Name, Node, Schema};
use serde_json::Value;

use crate::output::excerpt;

/// The operation name of [`introspection_query`].
pub const OPERATION_NAME: &str = "IntrospectionQuery";

/// How many `ofType` levels the query reads below a field's, argument's or input field's type:
/// enough for `[[[T!]!]!]!`, the deepest wrapping the June 2018 reference query reads.
const OF_TYPE_DEPTH: usize = 6;

/// Scalars every GraphQL schema has; never printed.
const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

/// Directives apollo-compiler defines itself; printing them again would be a redefinition.
const BUILT_IN_DIRECTIVES: [&str; 4] = ["skip", "include", "deprecated", "specifiedBy"];

/// The introspection query `ion schema pull` sends: the June 2018 introspection schema, which
/// graphene answers.
pub fn introspection_query() -> String {
    fn type_ref(depth: usize, indent: &str) -> String {
        let mut out = format!("{indent}kind\n{indent}name\n");
        if depth > 0 {
            let inner = format!("{indent}  ");
            out.push_str(&format!(
                "{indent}ofType {{\n{}{indent}}}\n",
                type_ref(depth - 1, &inner)
            ));
        }
        out
    }
    fn input_value(indent: &str) -> String {
        let inner = format!("{indent}  ");
        format!(
            "{indent}name\n{indent}description\n{indent}type {{\n{}{indent}}}\n{indent}defaultValue\n",
            type_ref(OF_TYPE_DEPTH, &inner)
        )
    }
    let field_type = type_ref(OF_TYPE_DEPTH, "          ");
    format!(
        "query {OPERATION_NAME} {{
  __schema {{
    queryType {{
      name
    }}
    mutationType {{
      name
    }}
    subscriptionType {{
      name
    }}
    types {{
      kind
      name
      description
      fields(includeDeprecated: true) {{
        name
        description
        args {{
{args}        }}
        type {{
{field_type}        }}
        isDeprecated
        deprecationReason
      }}
      inputFields {{
{input_fields}      }}
      interfaces {{
        name
      }}
      enumValues(includeDeprecated: true) {{
        name
        description
        isDeprecated
        deprecationReason
      }}
      possibleTypes {{
        name
      }}
    }}
    directives {{
      name
      description
      args {{
{directive_args}      }}
      locations
    }}
  }}
}}
",
        args = input_value("          "),
        input_fields = input_value("        "),
        directive_args = input_value("        "),
    )
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
    /// The SDL built from the response is not a valid schema (for example a field whose type
    /// is not among the response's types).
    #[error("the schema built from the introspection result does not validate:\n{diagnostics}")]
    InvalidSchema {
        /// apollo-compiler's diagnostics, rendered with source excerpts.
        diagnostics: String,
        /// The SDL that failed, so a caller can save it for inspection.
        sdl: String,
    },
}

/// Something in an introspection result that the SDL leaves out, so the rest can be printed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A type whose `kind` this printer does not know (a `__TypeKind` newer than it).
    UnknownTypeKind {
        /// The type's name.
        name: String,
        /// The kind the server sent.
        kind: String,
    },
    /// A field, argument, input field, interface or union member that refers to a type left
    /// out by an [`Warning::UnknownTypeKind`].
    RefersToLeftOutType {
        /// Where it was: `Type.field`, `Type.field(arg:)`, `Input.field`, `Union = Member`.
        coordinate: String,
        /// The type left out.
        ty: String,
    },
    /// A directive location this printer does not know, left off the directive's locations.
    UnknownDirectiveLocation {
        /// The directive's name, without `@`.
        directive: String,
        /// The location the server sent.
        location: String,
    },
    /// A directive none of whose locations are known, left out.
    DirectiveWithoutLocations {
        /// The directive's name, without `@`.
        directive: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnknownTypeKind { name, kind } => {
                write!(f, "left out type `{name}`: unknown kind `{kind}`")
            }
            Warning::RefersToLeftOutType { coordinate, ty } => {
                write!(f, "left out `{coordinate}`: its type `{ty}` was left out")
            }
            Warning::UnknownDirectiveLocation {
                directive,
                location,
            } => write!(
                f,
                "left location `{location}` off directive `@{directive}`: unknown location"
            ),
            Warning::DirectiveWithoutLocations { directive } => write!(
                f,
                "left out directive `@{directive}`: none of its locations is known"
            ),
        }
    }
}

/// The SDL of an introspection result and what it had to leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdl {
    /// The schema as SDL, valid for apollo-compiler.
    pub text: String,
    /// What the SDL leaves out, in response order.
    pub warnings: Vec<Warning>,
}

/// Converts a GraphQL response to [`introspection_query`] into SDL, printing each
/// [`Warning`] to stderr.
///
/// # Errors
/// As [`convert`].
pub fn sdl_from_introspection(response: &Value) -> Result<String, IntrospectionError> {
    let sdl = convert(response)?;
    for warning in &sdl.warnings {
        let text = warning.to_string();
        eprintln!(
            "warning: {}",
            crate::output::escape_controls(&crate::output::excerpt(&text))
        );
    }
    Ok(sdl.text)
}

/// Converts a GraphQL response to [`introspection_query`] into SDL.
///
/// The SDL holds a `schema { … }` block only when the root types are not named `Query`,
/// `Mutation` and `Subscription` (or the schema has a description), then the types in the
/// server's order, then the custom directives; built-in scalars, directives and `__*` types
/// are left out.
///
/// # Errors
/// - [`IntrospectionError::ServerErrors`] when the response carries GraphQL `errors`;
/// - [`IntrospectionError::Malformed`] when `data.__schema` is absent or a value in it has the
///   wrong shape (a name that is not a GraphQL name, a default that is not a GraphQL value, a
///   wrapping type without its `ofType`);
/// - [`IntrospectionError::InvalidSchema`] when the result does not validate as a schema.
pub fn convert(response: &Value) -> Result<Sdl, IntrospectionError> {
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
                problem: format!(
                    "expected a GraphQL response object, found {}",
                    excerpt(&response.to_string())
                ),
            });
        }
    };
    let data: wire::Data =
        serde_path_to_error::deserialize(data).map_err(|e| IntrospectionError::Malformed {
            path: format!("data.{}", e.path()),
            problem: excerpt(&e.inner().to_string()).into_owned(),
        })?;
    let mut printer = Printer::default();
    let document = printer.document(&data.schema)?;
    let text = document.to_string();
    if let Err(invalid) = Schema::parse_and_validate(text.as_str(), "introspection.graphql") {
        return Err(IntrospectionError::InvalidSchema {
            diagnostics: invalid.errors.to_string(),
            sdl: text,
        });
    }
    Ok(Sdl {
        text,
        warnings: printer.warnings,
    })
}

/// The messages of a response's `errors` array (empty when there is none).
fn server_error_messages(response: &Value) -> Result<Vec<String>, IntrospectionError> {
    match response.get("errors") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(errors)) => Ok(errors
            .iter()
            .map(|error| match error.get("message") {
                Some(Value::String(message)) => excerpt(message).into_owned(),
                // An error without a message is still an error; show what it holds instead.
                _ => excerpt(&error.to_string()).into_owned(),
            })
            .take(crate::output::MAX_LISTED_ERRORS)
            .collect()),
        Some(other) => Err(IntrospectionError::Malformed {
            path: "errors".to_string(),
            problem: format!(
                "expected an array of errors, found {}",
                excerpt(&other.to_string())
            ),
        }),
    }
}

/// The introspection result as servers send it. Unknown fields are ignored and kinds and
/// locations stay strings, so what a newer server adds reads as well as what it omits.
mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Data {
        #[serde(rename = "__schema")]
        pub schema: Schema,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Schema {
        #[serde(default)]
        pub description: Option<String>,
        pub query_type: Named,
        #[serde(default)]
        pub mutation_type: Option<Named>,
        #[serde(default)]
        pub subscription_type: Option<Named>,
        pub types: Vec<FullType>,
        #[serde(default)]
        pub directives: Vec<Directive>,
    }

    #[derive(Deserialize)]
    pub struct Named {
        pub name: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct FullType {
        pub kind: String,
        pub name: String,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub fields: Option<Vec<Field>>,
        #[serde(default)]
        pub input_fields: Option<Vec<InputValue>>,
        #[serde(default)]
        pub interfaces: Option<Vec<Named>>,
        #[serde(default)]
        pub enum_values: Option<Vec<EnumValue>>,
        #[serde(default)]
        pub possible_types: Option<Vec<Named>>,
        /// October 2021; graphql-js 15 and graphql-core 3.1 spelled it `specifiedByUrl`.
        #[serde(default, rename = "specifiedByURL", alias = "specifiedByUrl")]
        pub specified_by_url: Option<String>,
        /// graphql-js 16.9 / 17 and async-graphql: a `@oneOf` input object.
        #[serde(default)]
        pub is_one_of: Option<bool>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Field {
        pub name: String,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub args: Vec<InputValue>,
        #[serde(rename = "type")]
        pub ty: TypeRef,
        #[serde(default)]
        pub is_deprecated: bool,
        #[serde(default)]
        pub deprecation_reason: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct InputValue {
        pub name: String,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(rename = "type")]
        pub ty: TypeRef,
        #[serde(default)]
        pub default_value: Option<String>,
        /// Deprecated arguments and input fields: October 2021 servers, when asked.
        #[serde(default)]
        pub is_deprecated: bool,
        #[serde(default)]
        pub deprecation_reason: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EnumValue {
        pub name: String,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub is_deprecated: bool,
        #[serde(default)]
        pub deprecation_reason: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TypeRef {
        pub kind: String,
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub of_type: Option<Box<TypeRef>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Directive {
        pub name: String,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub args: Vec<InputValue>,
        pub locations: Vec<String>,
        #[serde(default)]
        pub is_repeatable: bool,
    }
}

/// Builds the AST of a [`wire::Schema`], collecting [`Warning`]s.
#[derive(Default)]
struct Printer {
    warnings: Vec<Warning>,
    /// Types left out for an unknown kind; what refers to them is left out too.
    left_out: BTreeSet<String>,
}

fn malformed(path: &str, problem: impl Into<String>) -> IntrospectionError {
    IntrospectionError::Malformed {
        path: path.to_string(),
        problem: problem.into(),
    }
}

/// `text` as a GraphQL name, or a [`IntrospectionError::Malformed`] at `path`.
fn name(text: &str, path: &str) -> Result<Name, IntrospectionError> {
    Name::new(text).map_err(|_| {
        malformed(
            path,
            format!("{:?} is not a GraphQL name", excerpt(text).as_ref()),
        )
    })
}

fn description(text: &Option<String>) -> Option<Node<str>> {
    text.as_deref().map(Node::new_str)
}

/// `@deprecated`, with the reason when the server gave one.
fn deprecated(is_deprecated: bool, reason: &Option<String>) -> ast::DirectiveList {
    let mut list = ast::DirectiveList::new();
    if is_deprecated {
        let mut directive = ast::Directive::new(apollo_compiler::name!("deprecated"));
        if let Some(reason) = reason {
            directive.arguments.push(Node::new(ast::Argument {
                name: apollo_compiler::name!("reason"),
                value: Node::new(ast::Value::String(reason.clone())),
            }));
        }
        list.push(directive);
    }
    list
}

/// A default value as the server wrote it (GraphQL syntax), parsed as a constant value.
fn default_value(text: &str, path: &str) -> Result<Node<ast::Value>, IntrospectionError> {
    // The value alone on its line of a one-field input type: anything that is not exactly one
    // value (a second field, a closing brace, a variable) fails to parse or to match below.
    let wrapped = format!("input D {{\n  v: Int =\n{text}\n}}\n");
    let not_a_value = || malformed(path, format!("{text:?} is not a GraphQL value"));
    let document =
        ast::Document::parse(wrapped, "defaultValue.graphql").map_err(|_| not_a_value())?;
    match document.definitions.as_slice() {
        [ast::Definition::InputObjectTypeDefinition(input)] => match input.fields.as_slice() {
            [field] => field.default_value.clone().ok_or_else(not_a_value),
            _ => Err(not_a_value()),
        },
        _ => Err(not_a_value()),
    }
}

fn directive_location(text: &str) -> Option<DirectiveLocation> {
    Some(match text {
        "QUERY" => DirectiveLocation::Query,
        "MUTATION" => DirectiveLocation::Mutation,
        "SUBSCRIPTION" => DirectiveLocation::Subscription,
        "FIELD" => DirectiveLocation::Field,
        "FRAGMENT_DEFINITION" => DirectiveLocation::FragmentDefinition,
        "FRAGMENT_SPREAD" => DirectiveLocation::FragmentSpread,
        "INLINE_FRAGMENT" => DirectiveLocation::InlineFragment,
        "VARIABLE_DEFINITION" => DirectiveLocation::VariableDefinition,
        "SCHEMA" => DirectiveLocation::Schema,
        "SCALAR" => DirectiveLocation::Scalar,
        "OBJECT" => DirectiveLocation::Object,
        "FIELD_DEFINITION" => DirectiveLocation::FieldDefinition,
        "ARGUMENT_DEFINITION" => DirectiveLocation::ArgumentDefinition,
        "INTERFACE" => DirectiveLocation::Interface,
        "UNION" => DirectiveLocation::Union,
        "ENUM" => DirectiveLocation::Enum,
        "ENUM_VALUE" => DirectiveLocation::EnumValue,
        "INPUT_OBJECT" => DirectiveLocation::InputObject,
        "INPUT_FIELD_DEFINITION" => DirectiveLocation::InputFieldDefinition,
        _ => return None,
    })
}

/// The kinds of type the SDL can print.
const PRINTABLE_KINDS: [&str; 6] = [
    "SCALAR",
    "OBJECT",
    "INTERFACE",
    "UNION",
    "ENUM",
    "INPUT_OBJECT",
];

impl Printer {
    fn document(&mut self, schema: &wire::Schema) -> Result<ast::Document, IntrospectionError> {
        if !schema
            .types
            .iter()
            .any(|t| t.name == schema.query_type.name)
        {
            return Err(malformed(
                "data.__schema.queryType.name",
                format!(
                    "the query root `{}` is not among the types",
                    schema.query_type.name
                ),
            ));
        }
        for (i, ty) in schema.types.iter().enumerate() {
            if !PRINTABLE_KINDS.contains(&ty.kind.as_str()) {
                if ty.kind == "LIST" || ty.kind == "NON_NULL" {
                    return Err(malformed(
                        &format!("data.__schema.types[{i}].kind"),
                        format!("a wrapping kind `{}` where a named type belongs", ty.kind),
                    ));
                }
                self.warnings.push(Warning::UnknownTypeKind {
                    name: ty.name.clone(),
                    kind: ty.kind.clone(),
                });
                self.left_out.insert(ty.name.clone());
            }
        }
        let mut document = ast::Document::new();
        let roots = [
            (
                OperationType::Query,
                Some(&schema.query_type),
                "Query",
                "queryType",
            ),
            (
                OperationType::Mutation,
                schema.mutation_type.as_ref(),
                "Mutation",
                "mutationType",
            ),
            (
                OperationType::Subscription,
                schema.subscription_type.as_ref(),
                "Subscription",
                "subscriptionType",
            ),
        ];
        let mut root_operations = Vec::new();
        let mut default_names = true;
        for (operation, root, default, key) in roots {
            if let Some(root) = root {
                default_names &= root.name == default;
                let root = name(&root.name, &format!("data.__schema.{key}.name"))?;
                root_operations.push(Node::new((operation, root)));
            }
        }
        if !default_names || schema.description.is_some() {
            document
                .definitions
                .push(ast::Definition::SchemaDefinition(Node::new(
                    ast::SchemaDefinition {
                        description: description(&schema.description),
                        directives: ast::DirectiveList::new(),
                        root_operations,
                    },
                )));
        }
        let mut uses_one_of = false;
        for (i, ty) in schema.types.iter().enumerate() {
            if ty.name.starts_with("__")
                || self.left_out.contains(&ty.name)
                || (ty.kind == "SCALAR" && BUILT_IN_SCALARS.contains(&ty.name.as_str()))
            {
                continue;
            }
            let at = format!("data.__schema.types[{i}]");
            uses_one_of |= ty.is_one_of == Some(true);
            document.definitions.push(self.definition(ty, &at)?);
        }
        let mut has_one_of = false;
        for (i, directive) in schema.directives.iter().enumerate() {
            if BUILT_IN_DIRECTIVES.contains(&directive.name.as_str()) {
                continue;
            }
            has_one_of |= directive.name == "oneOf";
            let at = format!("data.__schema.directives[{i}]");
            if let Some(definition) = self.directive(directive, &at)? {
                document.definitions.push(definition);
            }
        }
        // `@oneOf` is not built into apollo-compiler: a server that marks input objects
        // `isOneOf` without listing the directive still gets a schema that validates.
        if uses_one_of && !has_one_of {
            document
                .definitions
                .push(ast::Definition::DirectiveDefinition(Node::new(
                    ast::DirectiveDefinition {
                        description: None,
                        name: apollo_compiler::name!("oneOf"),
                        arguments: Vec::new(),
                        repeatable: false,
                        locations: vec![DirectiveLocation::InputObject],
                    },
                )));
        }
        Ok(document)
    }

    fn definition(
        &mut self,
        ty: &wire::FullType,
        at: &str,
    ) -> Result<ast::Definition, IntrospectionError> {
        let type_name = name(&ty.name, &format!("{at}.name"))?;
        let desc = description(&ty.description);
        Ok(match ty.kind.as_str() {
            "SCALAR" => {
                let mut directives = ast::DirectiveList::new();
                if let Some(url) = &ty.specified_by_url {
                    let mut directive = ast::Directive::new(apollo_compiler::name!("specifiedBy"));
                    directive.arguments.push(Node::new(ast::Argument {
                        name: apollo_compiler::name!("url"),
                        value: Node::new(ast::Value::String(url.clone())),
                    }));
                    directives.push(directive);
                }
                ast::Definition::ScalarTypeDefinition(Node::new(ast::ScalarTypeDefinition {
                    description: desc,
                    name: type_name,
                    directives,
                }))
            }
            "OBJECT" => {
                ast::Definition::ObjectTypeDefinition(Node::new(ast::ObjectTypeDefinition {
                    description: desc,
                    implements_interfaces: self.names(
                        &ty.name,
                        &ty.interfaces,
                        at,
                        "interfaces",
                    )?,
                    fields: self.fields(&ty.name, ty.fields.as_deref().unwrap_or_default(), at)?,
                    name: type_name,
                    directives: ast::DirectiveList::new(),
                }))
            }
            "INTERFACE" => {
                ast::Definition::InterfaceTypeDefinition(Node::new(ast::InterfaceTypeDefinition {
                    description: desc,
                    implements_interfaces: self.names(
                        &ty.name,
                        &ty.interfaces,
                        at,
                        "interfaces",
                    )?,
                    fields: self.fields(&ty.name, ty.fields.as_deref().unwrap_or_default(), at)?,
                    name: type_name,
                    directives: ast::DirectiveList::new(),
                }))
            }
            "UNION" => ast::Definition::UnionTypeDefinition(Node::new(ast::UnionTypeDefinition {
                description: desc,
                members: self.names(&ty.name, &ty.possible_types, at, "possibleTypes")?,
                name: type_name,
                directives: ast::DirectiveList::new(),
            })),
            "ENUM" => {
                let mut values = Vec::new();
                for (j, value) in ty.enum_values.iter().flatten().enumerate() {
                    values.push(Node::new(ast::EnumValueDefinition {
                        description: description(&value.description),
                        value: name(&value.name, &format!("{at}.enumValues[{j}].name"))?,
                        directives: deprecated(value.is_deprecated, &value.deprecation_reason),
                    }));
                }
                ast::Definition::EnumTypeDefinition(Node::new(ast::EnumTypeDefinition {
                    description: desc,
                    name: type_name,
                    directives: ast::DirectiveList::new(),
                    values,
                }))
            }
            // "INPUT_OBJECT": the kinds were checked before any definition is built.
            _ => {
                let mut directives = ast::DirectiveList::new();
                if ty.is_one_of == Some(true) {
                    directives.push(ast::Directive::new(apollo_compiler::name!("oneOf")));
                }
                let fields = self.input_values(
                    &format!("{}.", ty.name),
                    "",
                    ty.input_fields.as_deref().unwrap_or_default(),
                    &format!("{at}.inputFields"),
                )?;
                ast::Definition::InputObjectTypeDefinition(Node::new(
                    ast::InputObjectTypeDefinition {
                        description: desc,
                        name: type_name,
                        directives,
                        fields,
                    },
                ))
            }
        })
    }

    /// Interfaces or union members, without those left out.
    fn names(
        &mut self,
        owner: &str,
        list: &Option<Vec<wire::Named>>,
        at: &str,
        key: &str,
    ) -> Result<Vec<Name>, IntrospectionError> {
        let mut out = Vec::new();
        for (j, named) in list.iter().flatten().enumerate() {
            if self.left_out.contains(&named.name) {
                self.warnings.push(Warning::RefersToLeftOutType {
                    coordinate: format!("{owner} {key} {}", named.name),
                    ty: named.name.clone(),
                });
                continue;
            }
            out.push(name(&named.name, &format!("{at}.{key}[{j}].name"))?);
        }
        Ok(out)
    }

    fn fields(
        &mut self,
        owner: &str,
        fields: &[wire::Field],
        at: &str,
    ) -> Result<Vec<Node<ast::FieldDefinition>>, IntrospectionError> {
        let mut out = Vec::new();
        for (j, field) in fields.iter().enumerate() {
            let at = format!("{at}.fields[{j}]");
            let coordinate = format!("{owner}.{}", field.name);
            let Some(ty) = self.type_of(&field.ty, &format!("{at}.type"), &coordinate)? else {
                continue;
            };
            out.push(Node::new(ast::FieldDefinition {
                description: description(&field.description),
                name: name(&field.name, &format!("{at}.name"))?,
                arguments: self.input_values(
                    &format!("{coordinate}("),
                    ":)",
                    &field.args,
                    &format!("{at}.args"),
                )?,
                ty,
                directives: deprecated(field.is_deprecated, &field.deprecation_reason),
            }));
        }
        Ok(out)
    }

    /// Arguments or input fields; `prefix` and `suffix` frame each name into its coordinate.
    fn input_values(
        &mut self,
        prefix: &str,
        suffix: &str,
        values: &[wire::InputValue],
        at: &str,
    ) -> Result<Vec<Node<ast::InputValueDefinition>>, IntrospectionError> {
        let mut out = Vec::new();
        for (k, value) in values.iter().enumerate() {
            let at = format!("{at}[{k}]");
            let coordinate = format!("{prefix}{}{suffix}", value.name);
            let Some(ty) = self.type_of(&value.ty, &format!("{at}.type"), &coordinate)? else {
                continue;
            };
            let default_value = match &value.default_value {
                Some(text) => Some(default_value(text, &format!("{at}.defaultValue"))?),
                None => None,
            };
            out.push(Node::new(ast::InputValueDefinition {
                description: description(&value.description),
                name: name(&value.name, &format!("{at}.name"))?,
                ty: Node::new(ty),
                default_value,
                directives: deprecated(value.is_deprecated, &value.deprecation_reason),
            }));
        }
        Ok(out)
    }

    /// A type reference, or `None` (with a warning) when its named type was left out.
    fn type_of(
        &mut self,
        reference: &wire::TypeRef,
        at: &str,
        coordinate: &str,
    ) -> Result<Option<ast::Type>, IntrospectionError> {
        fn read(reference: &wire::TypeRef, at: &str) -> Result<ast::Type, IntrospectionError> {
            let inner = |kind: &str| {
                let inner_at = format!("{at}.ofType");
                match reference.of_type.as_deref() {
                    Some(inner) => read(inner, &inner_at).map(|ty| (ty, inner_at)),
                    None => Err(malformed(
                        &inner_at,
                        format!(
                            "a {kind} type without the type it wraps (types wrapped more than \
                             {} times are deeper than the introspection query reads)",
                            OF_TYPE_DEPTH
                        ),
                    )),
                }
            };
            match reference.kind.as_str() {
                "NON_NULL" => match inner("NON_NULL")? {
                    (ast::Type::NonNullNamed(_) | ast::Type::NonNullList(_), inner_at) => Err(
                        malformed(&inner_at, "a NON_NULL type directly inside a NON_NULL type"),
                    ),
                    (ty, _) => Ok(ty.non_null()),
                },
                "LIST" => Ok(inner("LIST")?.0.list()),
                _ => match &reference.name {
                    Some(text) => Ok(ast::Type::Named(name(text, &format!("{at}.name"))?)),
                    None => Err(malformed(
                        &format!("{at}.name"),
                        format!("a type of kind `{}` without a name", reference.kind),
                    )),
                },
            }
        }
        let ty = read(reference, at)?;
        let named = ty.inner_named_type();
        if self.left_out.contains(named.as_str()) {
            self.warnings.push(Warning::RefersToLeftOutType {
                coordinate: coordinate.to_string(),
                ty: named.to_string(),
            });
            return Ok(None);
        }
        Ok(Some(ty))
    }

    fn directive(
        &mut self,
        directive: &wire::Directive,
        at: &str,
    ) -> Result<Option<ast::Definition>, IntrospectionError> {
        let mut locations = Vec::new();
        for location in &directive.locations {
            match directive_location(location) {
                Some(known) => locations.push(known),
                None => self.warnings.push(Warning::UnknownDirectiveLocation {
                    directive: directive.name.clone(),
                    location: location.clone(),
                }),
            }
        }
        if locations.is_empty() {
            self.warnings.push(Warning::DirectiveWithoutLocations {
                directive: directive.name.clone(),
            });
            return Ok(None);
        }
        Ok(Some(ast::Definition::DirectiveDefinition(Node::new(
            ast::DirectiveDefinition {
                description: description(&directive.description),
                name: name(&directive.name, &format!("{at}.name"))?,
                arguments: self.input_values(
                    &format!("@{}(", directive.name),
                    ":)",
                    &directive.args,
                    &format!("{at}.args"),
                )?,
                repeatable: directive.is_repeatable,
                locations,
            },
        ))))
    }
}

#[cfg(test)]
mod tests;
