//! Reads: the root queries (connections, lists, lookups, `me`) and every field below them,
//! answered from the store by ION's conventions (columns, `xId` relations, counts, embedded
//! JSON), with filters, sorting, `distinctOn` and cursor paging from `query.rs`.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::engine::{Args, Engine, Node, Out, Payload, Resolved};
use super::model::{Entity, EntityField, Kind, QueryPlan, Ty};
use super::query::{self, PageArgs, as_id};
use super::schema::FieldInfo;
use super::store::{Row, RowRef, Tables, coerce};

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

/// A row as the value of a field (rows name their own type, which interfaces and unions need).
pub(crate) fn row(row: RowRef) -> Out {
    Out::Object(Node::Row(row), None)
}

/// A stored value as a built-in scalar's result: ION stores `1` where a `Float` is read and
/// `2.0` where an `Int` is, and GraphQL's result coercion wants the declared kind of number.
fn scalar(ty: &Ty, value: Value) -> Value {
    fn one(name: &str, value: Value) -> Value {
        match (name, &value) {
            ("Float", Value::Number(n)) if !n.is_f64() => n.as_f64().map_or(value, Value::from),
            ("Int", Value::Number(n)) if n.is_f64() => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= f64::from(i32::MAX) => {
                    Value::from(f as i64)
                }
                _ => value,
            },
            ("String", Value::Number(_) | Value::Bool(_)) => Value::String(value.to_string()),
            _ => value,
        }
    }
    match value {
        Value::Array(items) if ty.list => {
            Value::Array(items.into_iter().map(|v| one(&ty.name, v)).collect())
        }
        v => one(&ty.name, v),
    }
}

/// Which rows a field's `filters` and extra arguments keep.
struct Keep<'a> {
    filters: Option<Map<String, Value>>,
    filter_type: &'a str,
    extra: Map<String, Value>,
}

impl<'a> Keep<'a> {
    fn new(args: &Args<'_>, info: &'a FieldInfo) -> Keep<'a> {
        let mut extra = Map::new();
        for a in &info.extra_args {
            let v = args.get(a);
            if !v.is_null() {
                extra.insert(a.clone(), v);
            }
        }
        let filters = match args.get("filters") {
            Value::Object(f) => Some(f),
            _ => None,
        };
        Keep {
            filters,
            filter_type: info.filters_type.as_deref().unwrap_or(""),
            extra,
        }
    }

    /// Whether every row is kept.
    fn is_empty(&self) -> bool {
        self.filters.as_ref().is_none_or(Map::is_empty) && self.extra.is_empty()
    }

    /// The listing's name for the store's seek memory: the entity and what filters it.
    fn listing(&self, entity: &str) -> String {
        let filters = self.filters.as_ref().map(|f| Value::Object(f.clone()));
        format!(
            "{entity}\u{0}{}\u{0}{}",
            filters.unwrap_or(Value::Null),
            Value::Object(self.extra.clone())
        )
    }

    fn keeps(
        &self,
        filter: &query::Filter<'_>,
        entity: &Entity,
        row: &RowRef,
    ) -> Result<bool, String> {
        if let Some(f) = &self.filters
            && !filter.matches(entity, row, self.filter_type, f)?
        {
            return Ok(false);
        }
        if !self.extra.is_empty() && !filter.matches(entity, row, "", &self.extra)? {
            return Ok(false);
        }
        Ok(true)
    }
}

impl Engine<'_> {
    /// Filters and sorts rows by a field's `filters`, `sort`, `distinctOn` and extra arguments.
    fn select(
        &self,
        args: &Args<'_>,
        info: &FieldInfo,
        entity: &Entity,
        tables: &Tables,
        rows: impl Iterator<Item = RowRef>,
    ) -> Result<Vec<RowRef>, String> {
        let keep = Keep::new(args, info);
        let filter = self.filter(tables);
        let mut out = Vec::new();
        for row in rows {
            if keep.keeps(&filter, entity, &row)? {
                out.push(row);
            }
        }
        query::sort(entity, &mut out, &strings(&args.get("sort")))?;
        query::distinct_on(entity, &mut out, &strings(&args.get("distinctOn")))?;
        Ok(out)
    }

    /// A page of a root connection in id order, read from where the previous page of the
    /// same listing ended: it costs the page, not the table. `None` when the connection is
    /// sorted otherwise, uses `distinctOn`, or pages backwards (`last`, `before`); those take
    /// the whole listing.
    ///
    /// Offsets stay graphql-relay's (an `after` cursor counts the rows before it): the row a
    /// page ended on is remembered by the store until the next write, and without it the
    /// page counts its way from the first row, filtering lazily, which is what the whole
    /// listing would have said.
    fn seek_page(
        &self,
        args: &Args<'_>,
        info: &FieldInfo,
        entity: &Entity,
    ) -> Result<Option<query::Page>, String> {
        let nonempty = |n: &str| args.get(n).as_str().is_some_and(|c| !c.is_empty());
        if !args.get("last").is_null()
            || nonempty("before")
            || !strings(&args.get("distinctOn")).is_empty()
            || !query::in_id_order(entity, &strings(&args.get("sort")))?
        {
            return Ok(None);
        }
        let first = args.get("first").as_i64();
        if first.is_some_and(|f| f < 0) {
            return Err("Argument 'first' must be a non-negative integer.".into());
        }
        let after = args
            .get("after")
            .as_str()
            .filter(|c| !c.is_empty())
            .and_then(query::cursor_offset)
            .unwrap_or(-1);
        let start = (after + 1).max(0);
        let keep = Keep::new(args, info);
        let key = keep.listing(&entity.name);
        let tables = self.store.read();
        let filter = self.filter(&tables);
        let known = (start > 0)
            .then(|| self.store.seek(&key, start - 1))
            .flatten();
        let (rows, mut skip): (Box<dyn Iterator<Item = &RowRef>>, i64) = match known {
            Some(id) => (Box::new(tables.rows_after(&entity.name, id)), 0),
            None => (Box::new(tables.rows(&entity.name)), start),
        };
        let mut edges: Vec<(RowRef, String)> = Vec::new();
        let mut more = false;
        for row in rows {
            if !keep.keeps(&filter, entity, row)? {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if first.is_some_and(|f| edges.len() as i64 >= f) {
                more = true;
                break;
            }
            let offset = usize::try_from(start).unwrap_or(0) + edges.len();
            edges.push((row.clone(), query::cursor(offset)));
        }
        if let Some((last, _)) = edges.last() {
            self.store
                .remember(&key, start + edges.len() as i64 - 1, last.id);
        }
        let total_count = if keep.is_empty() {
            tables.len(&entity.name)
        } else {
            self.store.total(&key, || {
                let mut n = 0;
                for row in tables.rows(&entity.name) {
                    n += usize::from(keep.keeps(&filter, entity, row)?);
                }
                Ok(n)
            })?
        };
        let info = query::PageInfo {
            has_next_page: first.is_some() && more,
            has_previous_page: false,
            start_cursor: edges.first().map(|(_, c)| c.clone()),
            end_cursor: edges.last().map(|(_, c)| c.clone()),
            count: edges.len(),
            total_count,
        };
        Ok(Some(query::Page { edges, info }))
    }

    fn connection(&self, args: &Args<'_>, rows: Vec<RowRef>) -> Resolved {
        let int = |n: &str| args.get(n).as_i64();
        let string = |n: &str| args.get(n).as_str().map(str::to_owned);
        let page_args = PageArgs {
            first: int("first"),
            last: int("last"),
            after: string("after"),
            before: string("before"),
        };
        let page = query::page(rows, &page_args)?;
        Ok(Out::Object(Node::Connection(Arc::new(page)), None))
    }

    pub fn resolve_query(&self, args: &Args<'_>, plan: &QueryPlan, info: &FieldInfo) -> Resolved {
        match plan {
            QueryPlan::Connection { entity } => {
                let e = self.entity(entity)?;
                if let Some(page) = self.seek_page(args, info, e)? {
                    return Ok(Out::Object(Node::Connection(Arc::new(page)), None));
                }
                let tables = self.store.read();
                let rows = self.select(args, info, e, &tables, tables.rows(entity).cloned())?;
                drop(tables);
                self.connection(args, rows)
            }
            QueryPlan::List { entity } => {
                let e = self.entity(entity)?;
                let tables = self.store.read();
                let rows = self.select(args, info, e, &tables, tables.rows(entity).cloned())?;
                Ok(Out::List(rows.into_iter().map(row).collect()))
            }
            QueryPlan::Lookup { entity } => {
                let Some(id) = as_id(&args.get("id")) else {
                    return Ok(Out::Null);
                };
                Ok(self
                    .store
                    .read()
                    .get(entity, id)
                    .cloned()
                    .map_or(Out::Null, row))
            }
            QueryPlan::KeyLookup { entity, keys } => {
                let e = self.entity(entity)?;
                let tables = self.store.read();
                let found = tables.rows(entity).find(|r| {
                    keys.iter().all(|(arg, column)| {
                        let want = e
                            .column(column)
                            .map_or_else(|| args.get(arg), |t| coerce(t, args.get(arg)));
                        let stored = r.data.get(column).unwrap_or(&Value::Null);
                        query::compare(stored, &want) == Some(std::cmp::Ordering::Equal)
                    })
                });
                Ok(found.cloned().map_or(Out::Null, row))
            }
            QueryPlan::Me { entity } => {
                let caller = self.caller;
                if let Some(found) = self.store.read().get(entity, caller.user_id) {
                    return Ok(row(found.clone()));
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
                Ok(row(Arc::new(Row {
                    entity: self.store.name(entity),
                    id: caller.user_id,
                    data,
                })))
            }
            QueryPlan::NotEmulated => Err(format!(
                "not emulated: {} (no convention of the ION emulator answers this query; serve \
                 it with a handler)",
                info.name
            )),
        }
    }

    /// A field of a value a resolver answered: a row, JSON, a connection, an edge, page info
    /// or a write's payload.
    pub fn resolve_field(&self, args: &Args<'_>, parent: &Node, info: &FieldInfo) -> Resolved {
        let name = info.name.as_str();
        match parent {
            // Root fields of a type that is neither the query nor the mutation type
            // (subscriptions) have nothing to answer from.
            Node::Root => Ok(Out::Null),
            Node::Row(r) => self.row_field(args, info, r),
            Node::Json(v) => Ok(v
                .get(name)
                .cloned()
                .map_or(Out::Null, |v| self.json_value(info, v))),
            Node::Connection(page) => Ok(match name {
                "edges" => Out::List(
                    page.edges
                        .iter()
                        .map(|(r, c)| Out::Object(Node::Edge(r.clone(), c.clone()), None))
                        .collect(),
                ),
                "pageInfo" => Out::Object(Node::PageInfo(page.info.clone()), None),
                _ => Out::Null,
            }),
            Node::Edge(r, cursor) => Ok(match name {
                "node" => row(r.clone()),
                "cursor" => Out::Leaf(Value::from(cursor.as_str())),
                _ => Out::Null,
            }),
            Node::PageInfo(p) => Ok(match name {
                "hasNextPage" => Out::Leaf(Value::from(p.has_next_page)),
                "hasPreviousPage" => Out::Leaf(Value::from(p.has_previous_page)),
                "startCursor" => p
                    .start_cursor
                    .clone()
                    .map_or(Out::Null, |c| Out::Leaf(c.into())),
                "endCursor" => p
                    .end_cursor
                    .clone()
                    .map_or(Out::Null, |c| Out::Leaf(c.into())),
                "count" => Out::Leaf(Value::from(p.count as i64)),
                "totalCount" => Out::Leaf(Value::from(p.total_count as i64)),
                _ => Out::Null,
            }),
            Node::Payload(p) => Ok(self.payload_field(p, info)),
        }
    }

    /// A field of a write's payload: rows of the field's type among those the write involved
    /// (the ones it wrote first), scalars from the first written row's column of that name or
    /// else from the input field of that name.
    fn payload_field(&self, p: &Payload, info: &FieldInfo) -> Out {
        if self.model.entities.contains_key(&info.ty.name) {
            let mut seen = std::collections::HashSet::new();
            let rows: Vec<RowRef> = p
                .primary
                .iter()
                .chain(&p.related)
                .filter(|r| *r.entity == *info.ty.name && seen.insert(r.id))
                .cloned()
                .collect();
            return if info.ty.list {
                Out::List(rows.into_iter().map(row).collect())
            } else {
                rows.into_iter().next().map_or(Out::Null, row)
            };
        }
        if !matches!(info.kind, Kind::Scalar | Kind::Enum) {
            return Out::Null;
        }
        // A new stored file's payload: where to `PUT` its bytes.
        if info.name == "uploadUrl"
            && let Some(url) = p.primary.first().and_then(|r| self.storage.upload_url(r))
        {
            return Out::Leaf(Value::from(url));
        }
        if let Some(first) = p.primary.first() {
            let is_column = self
                .model
                .entities
                .get(&*first.entity)
                .is_some_and(|e| e.column(&info.name).is_some());
            if let Some(v) = first.data.get(&info.name).filter(|_| is_column) {
                return self.json_value(info, v.clone());
            }
        }
        p.input.get(&info.name).map_or(Out::Null, |v| {
            self.json_value(info, coerce(&info.ty, v.clone()))
        })
    }

    /// A JSON value as the field's type: scalars as they are, objects as nested JSON nodes,
    /// integers where an entity is expected as references to rows (a seed's
    /// `"assignees": [3, 4]`), objects naming a stored row by `id` as that row, and integers
    /// where an interface or union is expected as the row with that global `entityId` (a
    /// plan item's `results`).
    pub(crate) fn json_value(&self, info: &FieldInfo, v: Value) -> Out {
        if v.is_null() {
            return Out::Null;
        }
        match info.kind {
            Kind::Scalar | Kind::Enum | Kind::Input => Out::Leaf(scalar(&info.ty, v)),
            Kind::Object | Kind::Interface | Kind::Union => {
                let is_entity = self.model.entities.contains_key(&info.ty.name);
                let one = |item: Value| -> Option<Out> {
                    if let (Some(id), true) = (as_id(&item), is_entity) {
                        return self.store.read().get(&info.ty.name, id).cloned().map(row);
                    }
                    if let (Some(entity_id), false) = (as_id(&item), info.kind == Kind::Object) {
                        return self.store.read().by_entity_id(entity_id).cloned().map(row);
                    }
                    if !item.is_object() {
                        return None;
                    }
                    if is_entity
                        && let Some(stored) = item
                            .get("id")
                            .and_then(as_id)
                            .and_then(|id| self.store.read().get(&info.ty.name, id).cloned())
                    {
                        return Some(row(stored));
                    }
                    let concrete = match info.kind {
                        Kind::Object => None,
                        _ => Some(item.get("__typename").and_then(Value::as_str)?.to_owned()),
                    };
                    Some(Out::Object(Node::Json(item), concrete))
                };
                match v {
                    Value::Array(items) if info.ty.list => {
                        Out::List(items.into_iter().filter_map(one).collect())
                    }
                    v => one(v).unwrap_or(Out::Null),
                }
            }
        }
    }

    fn row_field(&self, args: &Args<'_>, info: &FieldInfo, r: &RowRef) -> Resolved {
        let stored = || {
            r.data
                .get(&info.name)
                .cloned()
                .map_or(Out::Null, |v| self.json_value(info, v))
        };
        let Some(entity) = self.model.entities.get(&*r.entity) else {
            return Ok(stored());
        };
        let plan = entity
            .fields
            .get(&info.name)
            .unwrap_or(&EntityField::Embedded);
        // A stored file's bytes, once uploaded: a signed URL to read them.
        if info.name == "downloadUrl"
            && let Some(url) = self.storage.download_url(r)
        {
            return Ok(Out::Leaf(Value::from(url)));
        }
        match plan {
            EntityField::Column | EntityField::Embedded => Ok(stored()),
            EntityField::ToOne { target, fk } => {
                let target_entity = self.entity(target)?;
                let tables = self.store.read();
                let Some(parent) = self.filter(&tables).parent(r, target, fk) else {
                    return Ok(Out::Null);
                };
                let kept =
                    self.select(args, info, target_entity, &tables, std::iter::once(parent))?;
                Ok(kept.into_iter().next().map_or(Out::Null, row))
            }
            EntityField::ToMany {
                target,
                fk,
                connection,
            } => {
                let target_entity = self.entity(target)?;
                let tables = self.store.read();
                let children = self.filter(&tables).children(target, fk, r.id);
                let rows = self.select(args, info, target_entity, &tables, children.into_iter())?;
                drop(tables);
                if *connection {
                    self.connection(args, rows)
                } else {
                    Ok(Out::List(rows.into_iter().map(row).collect()))
                }
            }
            EntityField::Through { target, .. } => {
                let target_entity = self.entity(target)?;
                let tables = self.store.read();
                let related = self.filter(&tables).through(plan, r);
                let rows = self.select(args, info, target_entity, &tables, related.into_iter())?;
                Ok(Out::List(rows.into_iter().map(row).collect()))
            }
            EntityField::Count { relation } => {
                let tables = self.store.read();
                let n = match entity.fields.get(relation) {
                    Some(EntityField::ToMany { target, fk, .. }) => {
                        self.filter(&tables).children(target, fk, r.id).len()
                    }
                    Some(through @ EntityField::Through { .. }) => {
                        self.filter(&tables).through(through, r).len()
                    }
                    _ => return Ok(Out::Null),
                };
                Ok(Out::Leaf(Value::from(n as i64)))
            }
        }
    }
}
