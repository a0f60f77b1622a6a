//! The GraphQL engine: an async-graphql dynamic schema built from the SDL, whose every field
//! resolves through the same few generic resolvers over the store.
//!
//! Invariant: resolvers never hold the store lock across an `.await` (they do not await at
//! all), so a slow client cannot block writers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::Positioned;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface,
    InterfaceField, Object, ResolverContext, Scalar, Schema, TypeRef, Union,
};
use async_graphql::parser::types::{BaseType, ConstDirective, Type, TypeKind};
use serde_json::{Map, Value};

use super::faults::CounterCells;
use super::model::{Entity, EntityField, Kind, Model, QueryPlan, Ty, Verb, WritePlan};
use super::query::{self, Filter, PageArgs, PageInfo, as_id};
use super::store::{Row, RowRef, Store, Tables, coerce};

/// Who is calling: attached to every GraphQL request after authentication.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub client_id: String,
    pub user_id: i64,
}

/// One emulator's own state, attached to every request: its rows and its counters. The
/// executable schema holds none of it, so one schema serves every emulator of a process.
pub(crate) struct Instance {
    pub store: Arc<Store>,
    pub counters: Arc<CounterCells>,
}

/// The model and one instance's state, for the length of one resolver call.
struct Engine<'a> {
    model: &'a Model,
    store: &'a Store,
    counters: &'a CounterCells,
}

/// What a resolver hands to the fields below it.
enum Node {
    Row(RowRef),
    Json(Value),
    Connection(Arc<query::Page>),
    Edge(RowRef, String),
    PageInfo(PageInfo),
    Payload(HashMap<String, Slot>),
}

enum Slot {
    Row(RowRef),
    Rows(Vec<RowRef>),
    Value(Value),
}

/// A field as the resolver needs to know it.
struct FieldInfo {
    name: String,
    ty: Ty,
    kind: Kind,
    /// The input type of a `filters` argument.
    filters_type: Option<String>,
    /// Arguments that are neither paging, sorting nor filters (`procedures(title: ...)`):
    /// equality filters on same-named columns.
    extra_args: Vec<String>,
}

enum Spec {
    Query(QueryPlan),
    Mutation(Option<WritePlan>),
    Field,
}

const PAGING_ARGS: [&str; 7] = [
    "filters",
    "sort",
    "distinctOn",
    "first",
    "last",
    "after",
    "before",
];

type GqlResult<T> = Result<T, async_graphql::Error>;

fn err(msg: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(msg.into())
}

fn type_ref(ty: &Type) -> TypeRef {
    let inner = match &ty.base {
        BaseType::Named(n) => TypeRef::Named(n.to_string().into()),
        BaseType::List(t) => TypeRef::List(Box::new(type_ref(t))),
    };
    if ty.nullable {
        inner
    } else {
        TypeRef::NonNull(Box::new(inner))
    }
}

fn deprecation(directives: &[Positioned<ConstDirective>]) -> Option<Option<String>> {
    let d = directives
        .iter()
        .find(|d| d.node.name.node == "deprecated")?;
    let reason = d
        .node
        .arguments
        .iter()
        .find(|(n, _)| n.node == "reason")
        .and_then(|(_, v)| match &v.node {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        });
    Some(reason)
}

fn specified_by(directives: &[Positioned<ConstDirective>]) -> Option<String> {
    let d = directives
        .iter()
        .find(|d| d.node.name.node == "specifiedBy")?;
    d.node
        .arguments
        .iter()
        .find(|(n, _)| n.node == "url")
        .and_then(|(_, v)| match &v.node {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
}

macro_rules! describe {
    ($item:expr, $desc:expr) => {
        match $desc {
            Some(d) => $item.description(d.node.clone()),
            None => $item,
        }
    };
}

macro_rules! deprecate {
    ($item:expr, $directives:expr) => {
        match deprecation($directives) {
            Some(reason) => $item.deprecation(reason.as_deref()),
            None => $item,
        }
    };
}

fn input_value(def: &async_graphql::parser::types::InputValueDefinition) -> InputValue {
    let mut v = InputValue::new(def.name.node.to_string(), type_ref(&def.ty.node));
    v = describe!(v, &def.description);
    v = deprecate!(v, &def.directives);
    if let Some(d) = &def.default_value {
        v = v.default_value(d.node.clone());
    }
    v
}

/// Builds the executable schema. Every type, field, argument, description, default and
/// deprecation of the SDL is registered, so introspection gives the SDL back.
///
/// The schema depends only on the SDL: resolvers find the emulator they serve in the request's
/// data (an `Arc<Instance>`), so [`schema_for`] builds it once per SDL and process.
fn build_schema(model: &Arc<Model>) -> Result<Schema, String> {
    let mut builder = Schema::build(&model.query, model.mutation.as_deref(), None);
    for def in model.types() {
        let name = def.name.node.as_str();
        match &def.kind {
            TypeKind::Scalar => {
                if ["Int", "Float", "String", "Boolean", "ID"].contains(&name) {
                    continue;
                }
                let mut s = describe!(Scalar::new(name), &def.description);
                if let Some(url) = specified_by(&def.directives) {
                    s = s.specified_by_url(url);
                }
                builder = builder.register(s);
            }
            TypeKind::Enum(e) => {
                let mut en = describe!(Enum::new(name), &def.description);
                for v in &e.values {
                    let item = EnumItem::new(v.node.value.node.to_string());
                    let item = describe!(item, &v.node.description);
                    en = en.item(deprecate!(item, &v.node.directives));
                }
                builder = builder.register(en);
            }
            TypeKind::InputObject(i) => {
                let mut io = describe!(InputObject::new(name), &def.description);
                for f in &i.fields {
                    io = io.field(input_value(&f.node));
                }
                builder = builder.register(io);
            }
            TypeKind::Union(u) => {
                let mut un = describe!(Union::new(name), &def.description);
                for m in &u.members {
                    un = un.possible_type(m.node.to_string());
                }
                builder = builder.register(un);
            }
            TypeKind::Interface(i) => {
                let mut it = describe!(Interface::new(name), &def.description);
                for f in &i.fields {
                    let mut field = InterfaceField::new(
                        f.node.name.node.to_string(),
                        type_ref(&f.node.ty.node),
                    );
                    field = describe!(field, &f.node.description);
                    field = deprecate!(field, &f.node.directives);
                    for a in &f.node.arguments {
                        field = field.argument(input_value(&a.node));
                    }
                    it = it.field(field);
                }
                for imp in &i.implements {
                    it = it.implement(imp.node.to_string());
                }
                builder = builder.register(it);
            }
            TypeKind::Object(o) => {
                let mut obj = describe!(Object::new(name), &def.description);
                for imp in &o.implements {
                    obj = obj.implement(imp.node.to_string());
                }
                for f in &o.fields {
                    let fname = f.node.name.node.to_string();
                    let ty = Ty::of(&f.node.ty.node);
                    let spec = if name == model.query {
                        Spec::Query(
                            model
                                .query_plans
                                .get(&fname)
                                .cloned()
                                .unwrap_or(QueryPlan::NotEmulated),
                        )
                    } else if Some(name) == model.mutation.as_deref() {
                        Spec::Mutation(model.mutation_plans.get(&fname).cloned())
                    } else {
                        Spec::Field
                    };
                    let filters_type = f
                        .node
                        .arguments
                        .iter()
                        .find(|a| a.node.name.node == "filters")
                        .map(|a| Ty::of(&a.node.ty.node).name);
                    let extra_args = f
                        .node
                        .arguments
                        .iter()
                        .map(|a| a.node.name.node.to_string())
                        .filter(|a| !PAGING_ARGS.contains(&a.as_str()) && a != "id")
                        .collect();
                    let info = FieldInfo {
                        kind: model.kinds.get(&ty.name).copied().unwrap_or(Kind::Scalar),
                        name: fname.clone(),
                        ty,
                        filters_type,
                        extra_args,
                    };
                    let resolver = Arc::new((spec, info));
                    let model_ref = model.clone();
                    let mut field = Field::new(fname, type_ref(&f.node.ty.node), move |ctx| {
                        let (spec, info) = &*resolver;
                        let instance = match ctx.data::<Arc<Instance>>() {
                            Ok(instance) => instance,
                            Err(e) => {
                                return FieldFuture::new(async move {
                                    Err::<Option<FieldValue<'_>>, _>(e)
                                });
                            }
                        };
                        let eng = Engine {
                            model: &model_ref,
                            store: &instance.store,
                            counters: &instance.counters,
                        };
                        let result = match spec {
                            Spec::Query(plan) => eng.resolve_query(&ctx, plan, info),
                            Spec::Mutation(plan) => eng.resolve_mutation(&ctx, plan.as_ref(), info),
                            Spec::Field => eng.resolve_field(&ctx, info),
                        };
                        match result {
                            Ok(v) => FieldFuture::Value(v),
                            // A nullable field records its error with the field's path, as
                            // graphene does, and answers null; async-graphql's dynamic schema
                            // would otherwise report it without a path.
                            Err(e) if !info.ty.non_null => {
                                let error = e.into_server_error(ctx.ctx.item.pos);
                                ctx.ctx.add_error(ctx.ctx.set_error_path(error));
                                FieldFuture::Value(None)
                            }
                            Err(e) => {
                                FieldFuture::new(async move { Err::<Option<FieldValue<'_>>, _>(e) })
                            }
                        }
                    });
                    field = describe!(field, &f.node.description);
                    field = deprecate!(field, &f.node.directives);
                    for a in &f.node.arguments {
                        field = field.argument(input_value(&a.node));
                    }
                    obj = obj.field(field);
                }
                builder = builder.register(obj);
            }
        }
    }
    builder
        .finish()
        .map_err(|e| format!("the schema is not executable: {e}"))
}

fn to_gql(v: Value) -> async_graphql::Value {
    async_graphql::Value::from_json(v).unwrap_or(async_graphql::Value::Null)
}

fn arg_json(ctx: &ResolverContext<'_>, name: &str) -> Value {
    ctx.args
        .get(name)
        .and_then(|v| v.as_value().clone().into_json().ok())
        .unwrap_or(Value::Null)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A row as the value of a field; fields typed by an interface or union also name the row's
/// concrete type, which async-graphql needs to pick the object type.
fn row_value(info: &FieldInfo, row: RowRef) -> FieldValue<'static> {
    match info.kind {
        Kind::Interface | Kind::Union => {
            let entity = row.entity.to_string();
            FieldValue::owned_any(Node::Row(row)).with_type(entity)
        }
        _ => FieldValue::owned_any(Node::Row(row)),
    }
}

impl Engine<'_> {
    fn entity(&self, name: &str) -> GqlResult<&Entity> {
        self.model
            .entities
            .get(name)
            .ok_or_else(|| err(format!("unknown entity {name}")))
    }

    fn filter<'a>(&'a self, tables: &'a Tables) -> Filter<'a> {
        Filter {
            model: self.model,
            tables,
        }
    }

    /// Filters and sorts rows by a field's `filters`, `sort`, `distinctOn` and extra arguments.
    fn select(
        &self,
        ctx: &ResolverContext<'_>,
        info: &FieldInfo,
        entity: &Entity,
        tables: &Tables,
        rows: impl Iterator<Item = RowRef>,
    ) -> GqlResult<Vec<RowRef>> {
        let filters = arg_json(ctx, "filters");
        let mut extra = Map::new();
        for a in &info.extra_args {
            let v = arg_json(ctx, a);
            if !v.is_null() {
                extra.insert(a.clone(), v);
            }
        }
        let filter = self.filter(tables);
        let filter_type = info.filters_type.as_deref().unwrap_or("");
        let mut out = Vec::new();
        for row in rows {
            if let Some(f) = filters.as_object()
                && !filter.matches(entity, &row, filter_type, f).map_err(err)?
            {
                continue;
            }
            if !extra.is_empty() && !filter.matches(entity, &row, "", &extra).map_err(err)? {
                continue;
            }
            out.push(row);
        }
        query::sort(entity, &mut out, &strings(&arg_json(ctx, "sort"))).map_err(err)?;
        query::distinct_on(entity, &mut out, &strings(&arg_json(ctx, "distinctOn")))
            .map_err(err)?;
        Ok(out)
    }

    fn connection(
        &self,
        ctx: &ResolverContext<'_>,
        rows: Vec<RowRef>,
    ) -> GqlResult<FieldValue<'static>> {
        let int = |n: &str| arg_json(ctx, n).as_i64();
        let string = |n: &str| arg_json(ctx, n).as_str().map(str::to_owned);
        let args = PageArgs {
            first: int("first"),
            last: int("last"),
            after: string("after"),
            before: string("before"),
        };
        let page = query::page(rows, &args).map_err(err)?;
        Ok(FieldValue::owned_any(Node::Connection(Arc::new(page))))
    }

    fn resolve_query(
        &self,
        ctx: &ResolverContext<'_>,
        plan: &QueryPlan,
        info: &FieldInfo,
    ) -> GqlResult<Option<FieldValue<'static>>> {
        match plan {
            QueryPlan::Connection { entity } => {
                let e = self.entity(entity)?;
                let tables = self.store.read();
                let rows = self.select(ctx, info, e, &tables, tables.rows(entity).cloned())?;
                drop(tables);
                self.connection(ctx, rows).map(Some)
            }
            QueryPlan::List { entity } => {
                let e = self.entity(entity)?;
                let tables = self.store.read();
                let rows = self.select(ctx, info, e, &tables, tables.rows(entity).cloned())?;
                Ok(Some(FieldValue::list(
                    rows.into_iter().map(|r| row_value(info, r)),
                )))
            }
            QueryPlan::Lookup { entity } => {
                let Some(id) = as_id(&arg_json(ctx, "id")) else {
                    return Ok(None);
                };
                Ok(self
                    .store
                    .read()
                    .get(entity, id)
                    .cloned()
                    .map(|r| row_value(info, r)))
            }
            QueryPlan::Me { entity } => {
                let caller = ctx.data::<Caller>()?;
                if let Some(row) = self.store.read().get(entity, caller.user_id) {
                    return Ok(Some(row_value(info, row.clone())));
                }
                // A store without the caller's user (the `empty` seed) still answers `me`.
                let e = self.entity(entity)?;
                let mut data = Map::new();
                data.insert("id".into(), Value::from(caller.user_id));
                for (k, v) in [
                    ("name", caller.client_id.clone()),
                    ("email", format!("{}@emulator.invalid", caller.client_id)),
                ] {
                    if e.column(k).is_some() {
                        data.insert(k.into(), Value::from(v));
                    }
                }
                self.store
                    .fill_defaults(self.model, e, &mut data, &self.store.clock.now_iso());
                let row = Arc::new(Row {
                    entity: self.store.name(entity),
                    id: caller.user_id,
                    data,
                });
                Ok(Some(row_value(info, row)))
            }
            QueryPlan::NotEmulated => Err(err(format!(
                "not emulated: {} (the ION emulator serves connections and lookups by convention; \
                 this query is neither)",
                info.name
            ))),
        }
    }

    fn resolve_field(
        &self,
        ctx: &ResolverContext<'_>,
        info: &FieldInfo,
    ) -> GqlResult<Option<FieldValue<'static>>> {
        let Some(parent) = ctx.parent_value.downcast_ref::<Node>() else {
            return Ok(None);
        };
        let name = info.name.as_str();
        match parent {
            Node::Row(row) => self.row_field(ctx, info, row),
            Node::Json(v) => Ok(v.get(name).cloned().and_then(|v| self.json_value(info, v))),
            Node::Connection(page) => Ok(match name {
                "edges" => {
                    Some(FieldValue::list(page.edges.iter().map(|(r, c)| {
                        FieldValue::owned_any(Node::Edge(r.clone(), c.clone()))
                    })))
                }
                "pageInfo" => Some(FieldValue::owned_any(Node::PageInfo(page.info.clone()))),
                _ => None,
            }),
            Node::Edge(row, cursor) => Ok(match name {
                "node" => Some(row_value(info, row.clone())),
                "cursor" => Some(FieldValue::value(cursor.clone())),
                _ => None,
            }),
            Node::PageInfo(p) => Ok(match name {
                "hasNextPage" => Some(FieldValue::value(p.has_next_page)),
                "hasPreviousPage" => Some(FieldValue::value(p.has_previous_page)),
                "startCursor" => p.start_cursor.clone().map(FieldValue::value),
                "endCursor" => p.end_cursor.clone().map(FieldValue::value),
                "count" => Some(FieldValue::value(p.count as i64)),
                "totalCount" => Some(FieldValue::value(p.total_count as i64)),
                _ => None,
            }),
            Node::Payload(map) => Ok(match map.get(name) {
                Some(Slot::Row(r)) => Some(row_value(info, r.clone())),
                Some(Slot::Rows(rs)) => Some(FieldValue::list(
                    rs.iter().cloned().map(|r| row_value(info, r)),
                )),
                Some(Slot::Value(v)) => self.json_value(info, v.clone()),
                None => None,
            }),
        }
    }

    /// A JSON value as the field's type: scalars as they are, objects as nested JSON nodes,
    /// integers where an entity is expected as references to rows (a seed's
    /// `"assignees": [3, 4]`).
    fn json_value(&self, info: &FieldInfo, v: Value) -> Option<FieldValue<'static>> {
        if v.is_null() {
            return None;
        }
        match info.kind {
            Kind::Scalar | Kind::Enum | Kind::Input => Some(FieldValue::value(to_gql(v))),
            Kind::Object | Kind::Interface | Kind::Union => {
                let one = |item: Value| -> Option<FieldValue<'static>> {
                    if let (Some(id), true) = (
                        as_id(&item),
                        self.model.entities.contains_key(&info.ty.name),
                    ) {
                        return self
                            .store
                            .read()
                            .get(&info.ty.name, id)
                            .cloned()
                            .map(|r| row_value(info, r));
                    }
                    let ty = match info.kind {
                        Kind::Object => info.ty.name.clone(),
                        _ => item.get("__typename").and_then(Value::as_str)?.to_owned(),
                    };
                    item.is_object()
                        .then(|| FieldValue::owned_any(Node::Json(item)).with_type(ty))
                };
                match v {
                    Value::Array(items) if info.ty.list => {
                        Some(FieldValue::list(items.into_iter().filter_map(one)))
                    }
                    v => one(v),
                }
            }
        }
    }

    fn row_field(
        &self,
        ctx: &ResolverContext<'_>,
        info: &FieldInfo,
        row: &RowRef,
    ) -> GqlResult<Option<FieldValue<'static>>> {
        let Some(entity) = self.model.entities.get(&*row.entity) else {
            return Ok(row
                .data
                .get(&info.name)
                .cloned()
                .and_then(|v| self.json_value(info, v)));
        };
        let plan = entity
            .fields
            .get(&info.name)
            .unwrap_or(&EntityField::Embedded);
        match plan {
            EntityField::Column | EntityField::Embedded => Ok(row
                .data
                .get(&info.name)
                .cloned()
                .and_then(|v| self.json_value(info, v))),
            EntityField::ToOne { target, fk } => {
                let target_entity = self.entity(target)?;
                let tables = self.store.read();
                let Some(parent) = self.filter(&tables).parent(row, target, fk) else {
                    return Ok(None);
                };
                let kept =
                    self.select(ctx, info, target_entity, &tables, std::iter::once(parent))?;
                Ok(kept.into_iter().next().map(|r| row_value(info, r)))
            }
            EntityField::ToMany {
                target,
                fk,
                connection,
            } => {
                let target_entity = self.entity(target)?;
                let tables = self.store.read();
                let children = self.filter(&tables).children(target, fk, row.id);
                let rows = self.select(ctx, info, target_entity, &tables, children.into_iter())?;
                drop(tables);
                if *connection {
                    self.connection(ctx, rows).map(Some)
                } else {
                    Ok(Some(FieldValue::list(
                        rows.into_iter().map(|r| row_value(info, r)),
                    )))
                }
            }
            EntityField::Count { relation } => {
                let Some(EntityField::ToMany { target, fk, .. }) = entity.fields.get(relation)
                else {
                    return Ok(None);
                };
                let tables = self.store.read();
                let n = self.filter(&tables).children(target, fk, row.id).len();
                Ok(Some(FieldValue::value(n as i64)))
            }
        }
    }

    /// The objects a write mutation was given: each element of a list `input`, or the single
    /// `input`, with the other arguments merged in (`createProcedure(title: ..., input: ...)`,
    /// `deleteRun(id: ..., etag: ...)`).
    fn write_inputs(&self, ctx: &ResolverContext<'_>, plan: &WritePlan) -> Vec<Map<String, Value>> {
        let mut base = Map::new();
        for (name, value) in ctx.args.iter() {
            if plan
                .input_arg
                .as_ref()
                .is_some_and(|(i, _)| i == name.as_str())
            {
                continue;
            }
            if let Ok(v) = value.as_value().clone().into_json()
                && !v.is_null()
            {
                base.insert(name.to_string(), v);
            }
        }
        let inputs: Vec<Map<String, Value>> = match &plan.input_arg {
            Some((name, _)) => match arg_json(ctx, name) {
                Value::Array(items) => items
                    .into_iter()
                    .filter_map(|i| i.as_object().cloned())
                    .collect(),
                Value::Object(o) => vec![o],
                _ => vec![Map::new()],
            },
            None => vec![Map::new()],
        };
        inputs
            .into_iter()
            .map(|mut i| {
                for (k, v) in &base {
                    i.entry(k.clone()).or_insert_with(|| v.clone());
                }
                i
            })
            .collect()
    }

    /// ION creates a run's steps from its procedure's steps. Generically: when a new row
    /// points at a template (`Run.procedureId` → `Procedure`) and both have a to-many relation
    /// of the same name (`Run.steps` → `RunStep`, `Procedure.steps` → `Step`), each template
    /// child is copied into a new child of the row, same-named columns carried over, the
    /// child's `origin<Type>Id` set to the template child when that column exists, and a
    /// `status` starting at its first value.
    fn instantiate(
        &self,
        tables: &mut Tables,
        entity: &Entity,
        row: &RowRef,
        caller: &Caller,
        now: &str,
    ) {
        let mut copies = Vec::new();
        for (relation, plan) in &entity.fields {
            let EntityField::ToMany {
                target: child_type,
                fk: child_fk,
                connection: false,
            } = plan
            else {
                continue;
            };
            for to_one in entity.fields.values() {
                let EntityField::ToOne {
                    target: template_type,
                    fk,
                } = to_one
                else {
                    continue;
                };
                let Some(template_id) = row.data.get(fk).and_then(as_id) else {
                    continue;
                };
                let Some(template) = self.model.entities.get(template_type) else {
                    continue;
                };
                let Some(EntityField::ToMany {
                    target: source_type,
                    fk: source_fk,
                    ..
                }) = template.fields.get(relation)
                else {
                    continue;
                };
                if source_type == child_type {
                    continue;
                }
                let sources = self
                    .filter(tables)
                    .children(source_type, source_fk, template_id);
                copies.push((
                    child_type.clone(),
                    child_fk.clone(),
                    source_type.clone(),
                    sources,
                ));
            }
        }
        for (child_type, child_fk, source_type, sources) in copies {
            let Some(child) = self.model.entities.get(&child_type) else {
                continue;
            };
            let origin = format!("origin{source_type}Id");
            let mut sources = sources;
            query::sort(child, &mut sources, &["POSITION_ASC".to_owned()]).ok();
            for source in sources {
                let mut data = Map::new();
                for (name, ty) in &child.columns {
                    let Some(v) = source.data.get(name) else {
                        continue;
                    };
                    let fits_enum = self.model.enums.get(&ty.name).is_none_or(|values| {
                        v.as_str().is_some_and(|s| values.iter().any(|x| x == s))
                    });
                    if !name.starts_with('_') && name != "id" && name != "entityId" && fits_enum {
                        data.insert(name.clone(), v.clone());
                    }
                }
                let id = tables.next_id(&child_type);
                data.insert("id".into(), Value::from(id));
                data.insert(child_fk.clone(), Value::from(row.id));
                let mut set = |k: &str, v: Value| {
                    if child.column(k).is_some() {
                        data.insert(k.to_owned(), v);
                    }
                };
                set(&origin, Value::from(source.id));
                set("_etag", Value::from(self.store.new_etag()));
                set("_created", Value::from(now));
                set("_updated", Value::from(now));
                set("createdById", Value::from(caller.user_id));
                set("updatedById", Value::from(caller.user_id));
                let entity_id = tables.next_entity_id();
                set("entityId", Value::from(entity_id));
                if let Some(first) = child
                    .column("status")
                    .and_then(|ty| self.model.enums.get(&ty.name))
                    .and_then(|v| v.first())
                {
                    set("status", Value::from(first.as_str()));
                }
                self.store.fill_defaults(self.model, child, &mut data, now);
                tables.put(Row {
                    entity: self.store.name(&child_type),
                    id,
                    data,
                });
            }
        }
    }

    fn resolve_mutation(
        &self,
        ctx: &ResolverContext<'_>,
        plan: Option<&WritePlan>,
        info: &FieldInfo,
    ) -> GqlResult<Option<FieldValue<'static>>> {
        self.counters.mutation();
        let Some(plan) = plan else {
            return Err(err(format!(
                "not emulated: {} (the ION emulator writes only createX, updateX and deleteX by \
                 convention)",
                info.name
            )));
        };
        let caller = ctx.data::<Caller>()?.clone();
        let entity = self.entity(&plan.entity)?;
        let inputs = self.write_inputs(ctx, plan);
        let now = self.store.clock.now_iso();
        let mut tables = self.store.write();
        // Check every input before writing any, so a batch is all or nothing.
        let mut prepared = Vec::with_capacity(inputs.len());
        for input in &inputs {
            let existing = if plan.verb == Verb::Create {
                None
            } else {
                let id = input
                    .get("id")
                    .and_then(as_id)
                    .ok_or_else(|| err("an `id` is required"))?;
                let row = tables.get(&plan.entity, id).cloned().ok_or_else(|| {
                    err(format!("{} matching id {id} does not exist.", plan.entity))
                })?;
                if let (Some(sent), Some(current)) = (
                    input.get("etag").and_then(Value::as_str),
                    row.data.get("_etag").and_then(Value::as_str),
                ) && entity.has_etag()
                    && sent != current
                {
                    return Err(err(format!(
                        "Etag mismatch: {} {id} has been modified since it was read. \
                         Provided etag {sent} does not match current etag {current}.",
                        plan.entity
                    )));
                }
                Some(row)
            };
            prepared.push((input, existing));
        }
        let mut written = Vec::with_capacity(prepared.len());
        for (input, existing) in prepared {
            let row = match (plan.verb, existing) {
                (Verb::Delete, Some(row)) => {
                    tables.remove(&plan.entity, row.id);
                    row
                }
                (verb, existing) => {
                    let (id, mut data) = match existing {
                        Some(row) => (row.id, row.data.clone()),
                        None => (tables.next_id(&plan.entity), Map::new()),
                    };
                    for (k, v) in input {
                        if k == "id" || k == "etag" || !entity.keeps(k) {
                            continue;
                        }
                        let v = match entity.column(k) {
                            Some(ty) => coerce(ty, v.clone()),
                            None if k.ends_with("Id") => coerce(
                                &Ty {
                                    name: "Int".into(),
                                    list: false,
                                    non_null: false,
                                },
                                v.clone(),
                            ),
                            None => v.clone(),
                        };
                        data.insert(k.clone(), v);
                    }
                    data.insert("id".into(), Value::from(id));
                    let user = Value::from(caller.user_id);
                    let mut stamp = |k: &str, v: Value, only_if_missing: bool| {
                        if entity.column(k).is_some()
                            && (!only_if_missing || data.get(k).is_none_or(Value::is_null))
                        {
                            data.insert(k.into(), v);
                        }
                    };
                    stamp("_etag", Value::from(self.store.new_etag()), false);
                    stamp("_updated", Value::from(now.as_str()), false);
                    stamp("updatedById", user.clone(), false);
                    if verb == Verb::Create {
                        stamp("_created", Value::from(now.as_str()), false);
                        stamp("createdById", user, true);
                        let entity_id = tables.next_entity_id();
                        stamp("entityId", Value::from(entity_id), true);
                        // A new object starts in the first state of its `status` enum (TODO,
                        // DRAFT, ...), as ION's do.
                        if let Some(ty) = entity.column("status")
                            && let Some(first) =
                                self.model.enums.get(&ty.name).and_then(|v| v.first())
                        {
                            stamp("status", Value::from(first.as_str()), true);
                        }
                    }
                    self.store
                        .fill_defaults(self.model, entity, &mut data, &now);
                    let row = tables.put(Row {
                        entity: self.store.name(&plan.entity),
                        id,
                        data,
                    });
                    if verb == Verb::Create {
                        self.instantiate(&mut tables, entity, &row, &caller, &now);
                    }
                    row
                }
            };
            written.push(row);
        }
        drop(tables);
        if plan.returns_entity {
            return Ok(written.into_iter().next().map(|r| row_value(info, r)));
        }
        let Some(first) = written.first().cloned() else {
            return Ok(None);
        };
        let mut payload = HashMap::new();
        if let Some((field, list)) = &plan.row_field {
            let slot = if *list {
                Slot::Rows(written.clone())
            } else {
                Slot::Row(first.clone())
            };
            payload.insert(field.clone(), slot);
        }
        if let Some(field) = &plan.id_field {
            payload.insert(field.clone(), Slot::Value(Value::from(first.id)));
        }
        Ok(Some(FieldValue::owned_any(Node::Payload(payload))))
    }
}

/// The executable schema and model of an SDL, built on first use and shared by every emulator
/// of the process that serves the same SDL: a test suite that starts an emulator per test pays
/// for the schema once.
///
/// The flag says whether the schema came from the cache.
pub(crate) fn schema_for(sdl: &str) -> Result<(Arc<Model>, Schema, bool), String> {
    type Cache = Mutex<HashMap<String, (Arc<Model>, Schema)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(sdl)
    {
        return Ok((hit.0.clone(), hit.1.clone(), true));
    }
    // Built outside the lock: two first starts at once may both build; one result is kept.
    let model = Arc::new(Model::parse(sdl)?);
    let schema = build_schema(&model)?;
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (model, schema) = cache
        .entry(sdl.to_owned())
        .or_insert((model, schema))
        .clone();
    Ok((model, schema, false))
}
