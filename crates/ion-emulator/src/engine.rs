//! Execution: one GraphQL request against an [`Executable`]. apollo-compiler validates the
//! operation, coerces its variables and arguments, and calls [`Object::resolve_field`] for
//! every field it selects; each call goes to the reads (`read.rs`) or the writes (`write.rs`)
//! over the store and comes back as an [`Out`]. Null propagation, error paths and
//! introspection are apollo-compiler's, as the GraphQL specification has them.
//!
//! Invariant: resolvers never hold the store lock across an `.await` (execution is
//! synchronous: they do not await at all), so a slow client cannot block writers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{GraphQLError, JsonMap, JsonValue};
use serde_json::{Map, Value, json};

use super::faults::CounterCells;
use super::handler::Handler;
use super::model::{Entity, Model};
use super::query::{self, Filter, PageInfo};
use super::rows::Rows;
use super::schema::{Executable, FieldInfo, Spec};
use super::storage::Storage;
use super::store::{RowRef, Store, Tables};

/// Who is calling: attached to every GraphQL request after authentication.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub client_id: String,
    pub user_id: i64,
}

/// One emulator's own state: its rows, its counters and its user's handlers. The executable
/// schema holds none of it, so one schema serves every emulator of a process.
pub(crate) struct Instance {
    pub store: Arc<Store>,
    pub counters: Arc<CounterCells>,
    /// Root field → the user's handler for it.
    pub handlers: HashMap<String, Handler>,
    /// The files stored through the signed URLs.
    pub storage: Arc<Storage>,
}

/// The schema, one instance's state and the caller, for the length of one request.
pub(crate) struct Engine<'a> {
    pub executable: &'a Executable,
    pub model: &'a Model,
    pub store: &'a Store,
    pub counters: &'a CounterCells,
    pub handlers: &'a HashMap<String, Handler>,
    pub caller: &'a Caller,
    pub storage: &'a Storage,
}

/// What a resolver hands to the fields below it.
pub(crate) enum Node {
    /// The root value of the operation.
    Root,
    Row(RowRef),
    Json(Value),
    Connection(Arc<query::Page>),
    Edge(RowRef, String),
    PageInfo(PageInfo),
    Payload(Arc<Payload>),
}

/// What a write answers its payload's fields from.
pub(crate) struct Payload {
    /// The rows the write made, changed or removed, first the one the mutation is named for.
    pub primary: Vec<RowRef>,
    /// Other rows it involved (the run a kit was made for, the team a user joined).
    pub related: Vec<RowRef>,
    /// The first input object, whose values echo in same-named scalar fields
    /// (`addLabelToItem { labelId entityId }`).
    pub input: Map<String, Value>,
}

/// What a resolver answers.
pub(crate) enum Out {
    Null,
    Leaf(Value),
    /// An object. Rows name their own type; other nodes are of the field's type unless a
    /// concrete type is given (JSON typed by an interface or union names it in `__typename`).
    Object(Node, Option<String>),
    List(Vec<Out>),
}

/// A resolver's result: an [`Out`] or a field error's message.
pub(crate) type Resolved = Result<Out, String>;

/// The arguments of the field being resolved, after coercion (defaults applied, variables
/// substituted), read as `serde_json` values.
pub(crate) struct Args<'a>(&'a JsonMap);

impl Args<'_> {
    /// The argument's value, or `Null` when absent.
    pub fn get(&self, name: &str) -> Value {
        self.0.get(name).map_or(Value::Null, to_serde)
    }

    /// Every argument given (or defaulted), in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), to_serde(v)))
    }
}

/// apollo-compiler's JSON (`serde_json_bytes`) as `serde_json`, which the store speaks.
fn to_serde(value: &JsonValue) -> Value {
    match value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Number(n) => Value::Number(n.clone()),
        JsonValue::String(s) => Value::String(s.as_str().to_owned()),
        JsonValue::Array(items) => Value::Array(items.iter().map(to_serde).collect()),
        JsonValue::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().to_owned(), to_serde(v)))
                .collect(),
        ),
    }
}

/// A value of an object type as execution sees it.
struct Object<'a> {
    engine: &'a Engine<'a>,
    node: Node,
    /// The object type, unless the node is a row (which names its own).
    ty: Cow<'a, str>,
}

impl ObjectValue for Object<'_> {
    fn type_name(&self) -> &str {
        match &self.node {
            Node::Row(row) => &row.entity,
            _ => &self.ty,
        }
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let engine = self.engine;
        let Some(field) = engine.executable.field(self.type_name(), info.field_name()) else {
            return Err(self.unknown_field_error(info));
        };
        let args = Args(info.arguments());
        let out = match (&self.node, &field.spec) {
            (Node::Root, spec) if engine.handlers.contains_key(&field.name) => {
                engine.resolve_handler(&args, matches!(spec, Spec::Mutation(_)), field)
            }
            (Node::Root, Spec::Query(plan)) => engine.resolve_query(&args, plan, field),
            (Node::Root, Spec::Mutation(plan)) => {
                engine.resolve_mutation(&args, plan.as_deref(), field)
            }
            (node, _) => engine.resolve_field(&args, node, field),
        };
        match out {
            Ok(out) => Ok(resolved(
                engine,
                info.field_definition().ty.inner_named_type().as_str(),
                out,
            )),
            Err(message) => Err(FieldError { message }),
        }
    }
}

/// An [`Out`] as apollo-compiler's value, objects typed `declared` unless they say otherwise.
fn resolved<'a>(engine: &'a Engine<'a>, declared: &'a str, out: Out) -> ResolvedValue<'a> {
    match out {
        Out::Null => ResolvedValue::null(),
        Out::Leaf(value) => ResolvedValue::leaf(value),
        Out::Object(node, concrete) => ResolvedValue::object(Object {
            engine,
            node,
            ty: concrete.map_or(Cow::Borrowed(declared), Cow::Owned),
        }),
        Out::List(items) => ResolvedValue::List(Box::new(
            items
                .into_iter()
                .map(move |item| Ok(resolved(engine, declared, item))),
        )),
    }
}

impl Engine<'_> {
    pub fn entity(&self, name: &str) -> Result<&Entity, String> {
        self.model
            .entities
            .get(name)
            .ok_or_else(|| format!("unknown entity {name}"))
    }

    pub fn filter<'t>(&'t self, tables: &'t Tables) -> Filter<'t> {
        Filter {
            model: self.model,
            tables,
        }
    }

    /// Runs one mutation's writes under the store's lock: all of them, or, when `f` fails,
    /// none.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&mut Rows<'_>) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut tables = self.store.write();
        let mut rows = Rows::new(
            self.model,
            self.store,
            &mut tables,
            &self.executable.generated,
            self.caller.user_id,
        );
        let result = f(&mut rows);
        if result.is_err() {
            rows.rollback();
        }
        result
    }

    /// A root field the user serves with a handler. A panicking handler fails the field, not
    /// the request.
    fn resolve_handler(&self, args: &Args<'_>, mutation: bool, info: &FieldInfo) -> Resolved {
        if mutation {
            self.counters.mutation();
        }
        let Some(handler) = self.handlers.get(&info.name) else {
            return Ok(Out::Null);
        };
        let arguments = Value::Object(args.iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let value = self.transaction(|rows| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler.call(&arguments, rows)
            }))
            .unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(format!("the handler for {} panicked: {why}", info.name).into())
            })
            .map_err(|e| e.message().to_owned())
        })?;
        Ok(self.json_value(info, value))
    }
}

/// Runs one GraphQL request (`{"query", "operationName", "variables"}`) and answers the
/// response as JSON: `data` and `errors`, or `data: null` and the errors that stopped it
/// before execution (a document that does not parse or validate, an unknown operation,
/// variables of the wrong type).
pub(crate) fn execute(
    executable: &Executable,
    instance: &Instance,
    caller: &Caller,
    request: &Value,
) -> Value {
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return json!({ "errors": [{ "message": "Must provide query string." }] });
    };
    let schema = &executable.model.schema;
    let document = match ExecutableDocument::parse_and_validate(schema, query, "request.graphql") {
        Ok(document) => document,
        Err(invalid) => {
            return failed(invalid.errors.iter().map(|d| d.to_json()));
        }
    };
    let operation_name = request.get("operationName").and_then(Value::as_str);
    let operation = match document.operations.get(operation_name) {
        Ok(operation) => operation,
        Err(e) => return failed([e.to_graphql_error(&document.sources)]),
    };
    let variables: JsonMap = match request.get("variables") {
        Some(Value::Object(map)) => variable_map(map.clone()),
        // graphene also accepts variables as a JSON-encoded string.
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => variable_map(map),
            _ => JsonMap::new(),
        },
        _ => JsonMap::new(),
    };
    let engine = Engine {
        executable,
        model: &executable.model,
        store: &instance.store,
        counters: &instance.counters,
        handlers: &instance.handlers,
        caller,
        storage: &instance.storage,
    };
    let root = Object {
        engine: &engine,
        node: Node::Root,
        ty: Cow::Borrowed(operation.object_type().as_str()),
    };
    let response = Execution::new(schema, &document)
        .operation(operation)
        .raw_variable_values(&variables)
        .enable_schema_introspection(true)
        .execute_sync(&root);
    match response {
        Ok(mut response) => {
            for error in &mut response.errors {
                if let Some(message) = error.message.strip_prefix(RESOLVER_ERROR_PREFIX) {
                    error.message = message.to_owned();
                }
            }
            serde_json::to_value(&response).unwrap_or(Value::Null)
        }
        Err(e) => failed([e.to_graphql_error(&document.sources)]),
    }
}

/// What apollo-compiler puts before the message of a resolver's error. ION answers the message
/// alone (`Etag mismatch: ...`), and clients match on its start, so it is taken off again.
const RESOLVER_ERROR_PREFIX: &str = "resolver error: ";

fn variable_map(map: Map<String, Value>) -> JsonMap {
    map.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
}

/// A response for a request stopped before execution.
fn failed(errors: impl IntoIterator<Item = GraphQLError>) -> Value {
    let errors: Vec<GraphQLError> = errors.into_iter().collect();
    json!({
        "data": null,
        "errors": serde_json::to_value(&errors).unwrap_or(Value::Null),
    })
}
