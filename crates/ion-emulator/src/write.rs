//! Writes: every root mutation goes through here. A mutation with a plan runs it as one
//! transaction over the store ([`Rows`]): the plain `createX` / `updateX` / `deleteX` /
//! `setX` writes (and their `createXForY`, `createMultipleXs` and event forms) here, links in
//! `link.rs`, reorders, copies, state changes and resets in `verbs.rs`. The answer is the
//! written row itself or a payload read off the rows the write involved.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::engine::{Args, Engine, Node, Out, Payload, Resolved};
use super::model::Entity;
use super::plan::{Inputs, MutationPlan, RowKey, Verb, WritePlan};
use super::query::as_id;
use super::read;
use super::rows::Rows;
use super::schema::FieldInfo;
use super::storage::Storage;
use super::store::RowRef;

/// The rows a mutation involved, for its answer.
#[derive(Default)]
pub(crate) struct Written {
    pub primary: Vec<RowRef>,
    pub related: Vec<RowRef>,
}

/// The error for an input that lacks a field: ION's `an \`id\` is required` for ids.
pub(crate) fn required(field: &str) -> String {
    if field == "id" {
        "an `id` is required".to_owned()
    } else {
        format!("`{field}` is required")
    }
}

/// An input's etag, under `etag` or `_etag`.
pub(crate) fn sent_etag<'i>(inputs: &Inputs, input: &'i Map<String, Value>) -> Option<&'i str> {
    inputs
        .etag_field()
        .and_then(|f| input.get(f))
        .and_then(Value::as_str)
}

/// The row a key finds, or ION's "does not exist" error. `Ok(None)` only when `missing_ok`.
pub(crate) fn find_row(
    rows: &Rows<'_>,
    entity: &Entity,
    key: &RowKey,
    input: &Map<String, Value>,
    missing_ok: bool,
) -> Result<Option<RowRef>, String> {
    match key {
        RowKey::Id(field) => {
            let id = input
                .get(field)
                .and_then(as_id)
                .ok_or_else(|| required(field))?;
            match rows.row(&entity.name, id) {
                Some(row) => Ok(Some(row)),
                None if missing_ok => Ok(None),
                None => Err(format!("{} matching id {id} does not exist.", entity.name)),
            }
        }
        RowKey::Columns(pairs) => {
            let mut values = Vec::with_capacity(pairs.len());
            for (field, column) in pairs {
                let v = input
                    .get(field)
                    .filter(|v| !v.is_null())
                    .ok_or_else(|| format!("`{field}` is required"))?;
                values.push((column.clone(), v.clone()));
            }
            match rows.matching(entity, &values).into_iter().next() {
                Some(row) => Ok(Some(row)),
                None if missing_ok => Ok(None),
                None => {
                    let described: Vec<String> =
                        values.iter().map(|(c, v)| format!("{c} {v}")).collect();
                    Err(format!(
                        "{} matching {} does not exist.",
                        entity.name,
                        described.join(", ")
                    ))
                }
            }
        }
    }
}

impl Engine<'_> {
    /// The objects a mutation was given: each element of a list input, or the single input,
    /// or the items of its nested list, with the other arguments merged in
    /// (`createProcedure(title: ..., input: ...)`, `deleteRun(id: ..., etag: ...)`).
    fn write_inputs(&self, args: &Args<'_>, inputs: &Inputs) -> Vec<Map<String, Value>> {
        let mut base = Map::new();
        for (name, value) in args.iter() {
            if inputs.arg.as_ref().is_some_and(|(i, _)| i == name) {
                continue;
            }
            if !value.is_null() {
                base.insert(name.to_owned(), value);
            }
        }
        let objects = |v: Value| -> Vec<Map<String, Value>> {
            match v {
                Value::Array(items) => items
                    .into_iter()
                    .filter_map(|i| i.as_object().cloned())
                    .collect(),
                Value::Object(o) => vec![o],
                _ => vec![Map::new()],
            }
        };
        let mut items = match &inputs.arg {
            Some((name, _)) => objects(args.get(name)),
            None => vec![Map::new()],
        };
        if let Some(nested) = &inputs.nested {
            items = items
                .into_iter()
                .flat_map(|mut i| {
                    let list = i.remove(nested).unwrap_or(Value::Null);
                    match list {
                        Value::Array(_) => objects(list),
                        _ => Vec::new(),
                    }
                })
                .collect();
        }
        items
            .into_iter()
            .map(|mut i| {
                for (k, v) in &base {
                    i.entry(k.clone()).or_insert_with(|| v.clone());
                }
                i
            })
            .collect()
    }

    pub fn resolve_mutation(
        &self,
        args: &Args<'_>,
        plan: Option<&MutationPlan>,
        info: &FieldInfo,
    ) -> Resolved {
        self.counters.mutation();
        let Some(plan) = plan else {
            return Err(format!(
                "not emulated: {} (no convention of the ION emulator answers this mutation; \
                 serve it with a handler)",
                info.name
            ));
        };
        let inputs = self.write_inputs(args, plan.inputs());
        let written = self.transaction(|rows| match plan {
            MutationPlan::Write(p) => self.run_write(rows, p, &inputs),
            MutationPlan::Link(p) => self.run_link(rows, p, &inputs),
            MutationPlan::Reorder(p) => self.run_reorder(rows, p, &inputs),
            MutationPlan::Copy(p) => self.run_copy(rows, p, &inputs),
            MutationPlan::State(p) => self.run_state(rows, p, &inputs),
            MutationPlan::Reset(p) => self.run_reset(rows, p, &inputs),
            MutationPlan::Version(p) => self.run_version(rows, p, &inputs),
            MutationPlan::Setting(p) => self.run_setting(rows, p, &inputs),
        })?;
        let returns_entity = match plan {
            MutationPlan::Write(p) => p.returns_entity,
            MutationPlan::State(p) => p.returns_entity,
            _ => false,
        };
        if returns_entity {
            return Ok(written
                .primary
                .into_iter()
                .next()
                .map_or(Out::Null, read::row));
        }
        if written.primary.is_empty() && written.related.is_empty() {
            return Ok(Out::Null);
        }
        Ok(Out::Object(
            Node::Payload(Arc::new(Payload {
                primary: written.primary,
                related: written.related,
                input: inputs.into_iter().next().unwrap_or_default(),
            })),
            None,
        ))
    }

    fn run_write(
        &self,
        rows: &mut Rows<'_>,
        plan: &WritePlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let entity = rows.entity(&plan.entity)?;
        let mut written = Written::default();
        for input in inputs {
            let sent = sent_etag(&plan.inputs, input);
            let existing = match &plan.key {
                Some(key) => find_row(rows, entity, key, input, plan.verb == Verb::Set)?,
                None => None,
            };
            let row = match (plan.verb, existing) {
                (Verb::Delete, Some(row)) => {
                    rows.check_etag(&row, sent)?;
                    rows.remove(&row);
                    row
                }
                (Verb::Update | Verb::Set, Some(row)) => {
                    rows.check_etag(&row, sent)?;
                    let mut input = input.clone();
                    for (flag, columns) in &plan.regenerate {
                        if input.get(flag).and_then(Value::as_bool) == Some(true) {
                            for c in columns {
                                input.insert(c.clone(), Value::from(self.store.new_etag()));
                            }
                        }
                    }
                    rows.update_row(entity, &row, &input)
                }
                (Verb::Create | Verb::Set, _) => {
                    let mut input = input.clone();
                    if let Some(owner) = &plan.owner {
                        let owner_entity = rows.entity(&owner.entity)?;
                        let key = RowKey::Id(owner.field.clone());
                        let owner_row = find_row(rows, owner_entity, &key, &input, false)?
                            .ok_or_else(|| required(&owner.field))?;
                        rows.check_etag(&owner_row, sent)?;
                        input.remove(&owner.field);
                        input.insert(owner.fk.clone(), Value::from(owner_row.id));
                        // The new row points where its owner points (an as-built BOM item at
                        // the inventory's part).
                        for (column, _) in &entity.columns {
                            let shared = column.ends_with("Id")
                                && !["entityId", "createdById", "updatedById"]
                                    .contains(&column.as_str());
                            if let Some(v) = owner_row.data.get(column).filter(|v| !v.is_null())
                                && shared
                                && !input.contains_key(column)
                            {
                                input.insert(column.clone(), v.clone());
                            }
                        }
                        written.related.push(owner_row);
                    }
                    if let Some((column, value)) = &plan.preset {
                        input.insert(column.clone(), Value::from(value.as_str()));
                    }
                    Storage::prepare(entity, &mut input, self.store.new_etag());
                    rows.insert(entity, &input, true)?
                }
                (Verb::Update | Verb::Delete, None) => {
                    return Err(format!("{} to change was not found", plan.entity));
                }
            };
            written.primary.push(row);
        }
        Ok(written)
    }
}
