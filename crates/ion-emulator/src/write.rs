//! Writes: ION's `createX` / `updateX` / `deleteX` mutations by convention, each batch all or
//! nothing, with `_etag` optimistic concurrency, the bookkeeping columns ION stamps
//! (`_created`, `_updated`, `createdById`, ...) and a new row's children copied from its
//! template (a run's steps from its procedure's).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::engine::{Args, Caller, Engine, Node, Out, Resolved, Slot};
use super::model::{Entity, EntityField, Ty, Verb, WritePlan};
use super::query::{self, as_id};
use super::read;
use super::schema::FieldInfo;
use super::store::{Row, RowRef, Tables, coerce};

impl Engine<'_> {
    /// The objects a write mutation was given: each element of a list `input`, or the single
    /// `input`, with the other arguments merged in (`createProcedure(title: ..., input: ...)`,
    /// `deleteRun(id: ..., etag: ...)`).
    fn write_inputs(&self, args: &Args<'_>, plan: &WritePlan) -> Vec<Map<String, Value>> {
        let mut base = Map::new();
        for (name, value) in args.iter() {
            if plan.input_arg.as_ref().is_some_and(|(i, _)| i == name) {
                continue;
            }
            if !value.is_null() {
                base.insert(name.to_owned(), value);
            }
        }
        let inputs: Vec<Map<String, Value>> = match &plan.input_arg {
            Some((name, _)) => match args.get(name) {
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

    pub fn resolve_mutation(
        &self,
        args: &Args<'_>,
        plan: Option<&WritePlan>,
        info: &FieldInfo,
    ) -> Resolved {
        self.counters.mutation();
        let Some(plan) = plan else {
            return Err(format!(
                "not emulated: {} (the ION emulator writes only createX, updateX and deleteX by \
                 convention)",
                info.name
            ));
        };
        let caller = self.caller;
        let entity = self.entity(&plan.entity)?;
        let inputs = self.write_inputs(args, plan);
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
                    .ok_or_else(|| "an `id` is required".to_owned())?;
                let row = tables
                    .get(&plan.entity, id)
                    .cloned()
                    .ok_or_else(|| format!("{} matching id {id} does not exist.", plan.entity))?;
                if let (Some(sent), Some(current)) = (
                    input.get("etag").and_then(Value::as_str),
                    row.data.get("_etag").and_then(Value::as_str),
                ) && entity.has_etag()
                    && sent != current
                {
                    return Err(format!(
                        "Etag mismatch: {} {id} has been modified since it was read. \
                         Provided etag {sent} does not match current etag {current}.",
                        plan.entity
                    ));
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
                        self.instantiate(&mut tables, entity, &row, caller, &now);
                    }
                    row
                }
            };
            written.push(row);
        }
        drop(tables);
        if plan.returns_entity {
            return Ok(written.into_iter().next().map_or(Out::Null, read::row));
        }
        let Some(first) = written.first().cloned() else {
            return Ok(Out::Null);
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
        Ok(Out::Object(Node::Payload(payload), None))
    }
}
