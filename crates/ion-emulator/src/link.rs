//! Links: `addXToY`, `removeXFromY`, `attachXToY`, `detachXFromY`. The plan (`plan.rs`) says
//! which row holds the relation (the container `Y`), which row joins or leaves it (the member
//! `X`) and where the relation is kept: join rows, child rows, lists of ids, or a foreign key.
//! The container rows get a new etag; the etag an input carries is checked against the
//! container (or, when the input names none, against the child row it removes).

use serde_json::{Map, Value};

use super::engine::Engine;
use super::model::Entity;
use super::plan::{Container, LinkPlan, Member, Storage};
use super::query::as_id;
use super::rows::Rows;
use super::store::RowRef;
use super::write::{Written, required, sent_etag};

/// The id in an input field, or the error naming it.
fn id_in(input: &Map<String, Value>, field: &str) -> Result<i64, String> {
    input
        .get(field)
        .and_then(as_id)
        .ok_or_else(|| required(field))
}

/// The row with this id, or ION's "does not exist".
fn existing(rows: &Rows<'_>, entity: &str, id: i64) -> Result<RowRef, String> {
    rows.row(entity, id)
        .ok_or_else(|| format!("{entity} matching id {id} does not exist."))
}

/// The row with this global `entityId`.
fn global(rows: &Rows<'_>, entity_id: i64) -> Result<RowRef, String> {
    rows.by_entity_id(entity_id)
        .ok_or_else(|| format!("no object matching entityId {entity_id} exists."))
}

/// The list field of `owner` holding rows of `item`: the only one, or the one named after the
/// item (`partInventories` among a line's inventory lists).
fn list_field(rows: &Rows<'_>, owner: &Entity, item: &str) -> Option<String> {
    rows.model().stored_list(owner, item)
}

impl Engine<'_> {
    pub(crate) fn run_link(
        &self,
        rows: &mut Rows<'_>,
        plan: &LinkPlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let mut written = Written::default();
        for input in inputs {
            let containers = match &plan.container {
                Container::Row { entity, field } => {
                    vec![existing(rows, entity, id_in(input, field)?)?]
                }
                Container::Global { field } => vec![global(rows, id_in(input, field)?)?],
                Container::Family {
                    entity,
                    column,
                    field,
                } => {
                    let e = rows.entity(entity)?;
                    let value = input
                        .get(field)
                        .cloned()
                        .ok_or_else(|| format!("`{field}` is required"))?;
                    let family = rows.matching(e, &[(column.clone(), value.clone())]);
                    if family.is_empty() {
                        return Err(format!(
                            "{entity} matching {column} {value} does not exist."
                        ));
                    }
                    family
                }
                Container::Unnamed => Vec::new(),
            };
            let sent = sent_etag(&plan.inputs, input);
            if let [container] = containers.as_slice() {
                rows.check_etag(container, sent)?;
            }
            let member = match &plan.member {
                Member::Row { entity, field } => {
                    Some(existing(rows, entity, id_in(input, field)?)?)
                }
                Member::Global { field } => Some(global(rows, id_in(input, field)?)?),
                Member::New { .. } => None,
            };
            let mut changed = Vec::new();
            match &plan.storage {
                Storage::Join {
                    join,
                    container_fk,
                    member_fk,
                } => {
                    let join_entity = rows.entity(join)?;
                    let member = member.as_ref().ok_or("a link needs its member")?;
                    for container in &containers {
                        let key = [
                            (container_fk.clone(), Value::from(container.id)),
                            (member_fk.clone(), Value::from(member.id)),
                        ];
                        let found = rows.matching(join_entity, &key);
                        if plan.add {
                            if let Some(row) = found.into_iter().next() {
                                written.primary.push(row);
                                continue;
                            }
                            let mut data = input.clone();
                            data.extend(key);
                            written
                                .primary
                                .push(rows.insert(join_entity, &data, false)?);
                        } else {
                            for row in found {
                                rows.remove(&row);
                                written.primary.push(row);
                            }
                        }
                        changed.push(container.clone());
                    }
                }
                Storage::Child {
                    child,
                    container_fk,
                    member_fk,
                } => {
                    let child_entity = rows.entity(child)?;
                    let container = containers.first();
                    if plan.add {
                        let container = container.ok_or("a child row needs its owner")?;
                        let mut data = input.clone();
                        data.insert(container_fk.clone(), Value::from(container.id));
                        if let (Some(fk), Some(m)) = (member_fk, &member) {
                            data.insert(fk.clone(), Value::from(m.id));
                        }
                        data.remove("id");
                        written
                            .primary
                            .push(rows.insert(child_entity, &data, false)?);
                        changed.push(container.clone());
                    } else {
                        let doomed = if input.contains_key("id") {
                            let row = existing(rows, child, id_in(input, "id")?)?;
                            let owned = container.is_none_or(|c| {
                                row.data.get(container_fk).and_then(as_id) == Some(c.id)
                            });
                            if !owned {
                                return Err(format!(
                                    "{child} {} does not belong to {} {}.",
                                    row.id,
                                    container.map_or("", |c| &c.entity),
                                    container.map_or(0, |c| c.id)
                                ));
                            }
                            if container.is_none() {
                                rows.check_etag(&row, sent)?;
                            }
                            vec![row]
                        } else {
                            let (Some(c), Some(fk), Some(m)) = (container, member_fk, &member)
                            else {
                                return Err("an `id` is required".into());
                            };
                            rows.matching(
                                child_entity,
                                &[
                                    (container_fk.clone(), Value::from(c.id)),
                                    (fk.clone(), Value::from(m.id)),
                                ],
                            )
                        };
                        for row in doomed {
                            rows.remove(&row);
                            written.primary.push(row);
                        }
                        changed.extend(container.cloned());
                    }
                }
                Storage::List { field, inverse } => {
                    let member = member.as_ref().ok_or("a link needs its member")?;
                    let value = match plan.member {
                        Member::Global { .. } => member
                            .data
                            .get("entityId")
                            .cloned()
                            .unwrap_or(Value::from(member.id)),
                        _ => Value::from(member.id),
                    };
                    for container in &containers {
                        let owner = rows.entity(&container.entity)?;
                        let Some(field) = field
                            .clone()
                            .or_else(|| list_field(rows, owner, &member.entity))
                        else {
                            return Err(format!(
                                "a {} has no list of {} to {} it",
                                container.entity,
                                member.entity,
                                if plan.add { "add to" } else { "remove from" }
                            ));
                        };
                        let updated = edit_list(rows, container, &field, &value, plan.add);
                        changed.push(updated);
                    }
                    if let Some(inverse) = inverse {
                        for container in &containers {
                            edit_list(rows, member, inverse, &Value::from(container.id), plan.add);
                        }
                    }
                    written.related.push(member.clone());
                }
                Storage::Fk { column } => {
                    let member = member.as_ref().ok_or("a link needs its member")?;
                    for container in &containers {
                        let points_here =
                            member.data.get(column).and_then(as_id) == Some(container.id);
                        let value = if plan.add {
                            Value::from(container.id)
                        } else if points_here {
                            Value::Null
                        } else {
                            continue;
                        };
                        let mut values = Map::new();
                        values.insert(column.clone(), value);
                        written.primary.push(rows.set_values(member, values));
                        changed.push(container.clone());
                    }
                }
            }
            // The containers changed: they get a new etag, and the payload's row of their type.
            for container in changed {
                let current = rows
                    .row(&container.entity, container.id)
                    .unwrap_or(container);
                let touched = rows.set_values(&current, Map::new());
                if written.primary.is_empty() {
                    written.primary.push(touched);
                } else {
                    written.related.push(touched);
                }
            }
            if let Some(m) = member
                && !written
                    .related
                    .iter()
                    .any(|r| r.entity == m.entity && r.id == m.id)
            {
                let current = rows.row(&m.entity, m.id).unwrap_or(m);
                written.related.push(current);
            }
        }
        Ok(written)
    }
}

/// Adds `value` to (or takes it out of) the list `field` of `row`; the row as stored after.
fn edit_list(rows: &mut Rows<'_>, row: &RowRef, field: &str, value: &Value, add: bool) -> RowRef {
    let current = rows.row(&row.entity, row.id).unwrap_or_else(|| row.clone());
    let mut items = match current.data.get(field) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let same = |v: &Value| as_id(v).is_some_and(|id| Some(id) == as_id(value));
    let present = items.iter().any(same);
    if add && !present {
        items.push(value.clone());
    } else if !add && present {
        items.retain(|v| !same(v));
    } else {
        return current;
    }
    let mut values = Map::new();
    values.insert(field.to_owned(), Value::Array(items));
    rows.set_values(&current, values)
}
