//! The conventions named by a verb other than create/update/delete and the link verbs:
//! `reorderX` (positions among siblings), `copyX`/`cloneX` (a row and the rows it owns),
//! state changes (`archiveX`, `cancelX`, `resendX`, ...) and `resetXYs`.

use serde_json::{Map, Value};

use super::engine::Engine;
use super::model::{Entity, EntityField};
use super::plan::{
    Change, CopyPlan, ReorderPlan, ResetPlan, RowKey, SettingPlan, StatePlan, Verb, VersionPlan,
};
use super::query::{self, as_id};
use super::rows::Rows;
use super::store::RowRef;
use super::write::{Written, find_row, required, sent_etag};

/// Foreign keys that say who wrote a row, not where it belongs.
const NOT_PARENTS: [&str; 3] = ["createdById", "updatedById", "entityId"];

/// The (column, value) pairs a row shares with its siblings: its foreign keys declared
/// non-null (`PurchaseOrderLine.purchaseOrderId`), else those it has set that an owner's
/// to-many relation follows (`DatagridColumn.stepId` for `Step.datagridColumns`).
fn sibling_key(rows: &Rows<'_>, entity: &Entity, row: &RowRef) -> Vec<(String, Value)> {
    let model = rows.model();
    let fks: Vec<&(String, super::model::Ty)> = entity
        .columns
        .iter()
        .filter(|(c, _)| {
            c.ends_with("Id")
                && !NOT_PARENTS.contains(&c.as_str())
                && model.fk_target(entity, c).is_some()
        })
        .collect();
    let value = |c: &str| row.data.get(c).cloned().unwrap_or(Value::Null);
    let declared: Vec<(String, Value)> = fks
        .iter()
        .filter(|(_, t)| t.non_null)
        .map(|(c, _)| (c.clone(), value(c)))
        .collect();
    if !declared.is_empty() {
        return declared;
    }
    fks.iter()
        .filter(|(c, _)| !value(c).is_null())
        .filter(|(c, _)| {
            model.fk_target(entity, c).is_some_and(|owner| {
                model.entities.get(owner).is_some_and(|o| {
                    o.fields.values().any(|f| {
                        matches!(f, EntityField::ToMany { target, fk, .. }
                            if *target == entity.name && fk == c)
                    })
                })
            })
        })
        .map(|(c, _)| (c.clone(), value(c)))
        .collect()
}

/// The revision after `current`, counting up its last letters (`A` → `B`, `Z` → `AA`) or its
/// last digits (`1` → `2`, `A9` → `A10`); `A` when there is none.
fn next_revision(current: &str) -> String {
    let digits = current.len() - current.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        let (head, tail) = current.split_at(current.len() - digits);
        let n: u128 = tail.parse().unwrap_or(0);
        return format!("{head}{}", n.saturating_add(1));
    }
    let letters: Vec<char> = current.chars().collect();
    let mut out = letters.clone();
    let mut i = out.len();
    loop {
        if i == 0 {
            out.insert(0, 'A');
            break;
        }
        i -= 1;
        match out[i] {
            'Z' => out[i] = 'A',
            'z' => out[i] = 'a',
            c if c.is_ascii_alphabetic() => {
                out[i] = char::from(c as u8 + 1);
                break;
            }
            _ => return format!("{current}1"),
        }
    }
    if current.is_empty() {
        return "A".into();
    }
    out.into_iter().collect()
}

/// The list at `path` inside `root`, made (as objects and an empty list) where missing.
fn list_at<'v>(root: &'v mut Value, path: &[String]) -> Option<&'v mut Vec<Value>> {
    let (last, parents) = path.split_last()?;
    let mut node = root;
    for p in parents {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()?
            .entry(p.clone())
            .or_insert(Value::Null);
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    let list = node
        .as_object_mut()?
        .entry(last.clone())
        .or_insert(Value::Null);
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    list.as_array_mut()
}

fn existing(
    rows: &Rows<'_>,
    entity: &str,
    input: &Map<String, Value>,
    field: &str,
) -> Result<RowRef, String> {
    let id = input
        .get(field)
        .and_then(as_id)
        .ok_or_else(|| required(field))?;
    rows.row(entity, id)
        .ok_or_else(|| format!("{entity} matching id {id} does not exist."))
}

impl Engine<'_> {
    pub(crate) fn run_reorder(
        &self,
        rows: &mut Rows<'_>,
        plan: &ReorderPlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let mut written = Written::default();
        match plan {
            ReorderPlan::Move {
                entity,
                inputs: shape,
                column,
            } => {
                let e = rows.entity(entity)?;
                for input in inputs {
                    let row = existing(rows, entity, input, "id")?;
                    rows.check_etag(&row, sent_etag(shape, input))?;
                    let requested = input
                        .get(column)
                        .and_then(Value::as_i64)
                        .ok_or_else(|| format!("`{column}` is required"))?;
                    let mut siblings = rows.matching(e, &sibling_key(rows, e, &row));
                    query::sort(
                        e,
                        &mut siblings,
                        &[format!("{}_ASC", column.to_uppercase())],
                    )?;
                    let base = siblings
                        .iter()
                        .filter_map(|r| r.data.get(column).and_then(Value::as_i64))
                        .min()
                        .unwrap_or(0);
                    siblings.retain(|r| r.id != row.id);
                    let at = usize::try_from((requested - base).max(0))
                        .unwrap_or(0)
                        .min(siblings.len());
                    siblings.insert(at, row.clone());
                    for (i, sibling) in siblings.iter().enumerate() {
                        let want = Value::from(base + i as i64);
                        let moved = sibling.id == row.id;
                        if !moved && sibling.data.get(column) == Some(&want) {
                            continue;
                        }
                        let mut values = Map::new();
                        values.insert(column.clone(), want);
                        let updated = rows.set_values(sibling, values);
                        if moved {
                            written.primary.insert(0, updated);
                        } else {
                            written.related.push(updated);
                        }
                    }
                }
            }
            ReorderPlan::Set {
                entity,
                list,
                column,
                ..
            } => {
                for input in inputs {
                    let items = input
                        .get(list)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for item in items {
                        let Some(item) = item.as_object() else {
                            continue;
                        };
                        let row = existing(rows, entity, item, "id")?;
                        rows.check_etag(&row, item.get("etag").and_then(Value::as_str))?;
                        let mut values = Map::new();
                        values.insert(
                            column.clone(),
                            item.get(column).cloned().unwrap_or(Value::Null),
                        );
                        written.primary.push(rows.set_values(&row, values));
                    }
                }
            }
        }
        Ok(written)
    }

    pub(crate) fn run_copy(
        &self,
        rows: &mut Rows<'_>,
        plan: &CopyPlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let target = rows.entity(&plan.target)?;
        let mut written = Written::default();
        for input in inputs {
            let source = existing(rows, &plan.source, input, &plan.source_field)?;
            rows.check_etag(&source, sent_etag(&plan.inputs, input))?;
            let mut overrides = input.clone();
            for drop in [plan.source_field.as_str(), "etag", "_etag", "id"] {
                overrides.remove(drop);
            }
            overrides.retain(|k, _| target.keeps(k));
            let copy = rows.copy_tree(&source, target, &overrides)?;
            written.primary.push(copy);
            written.related.push(source);
        }
        Ok(written)
    }

    pub(crate) fn run_state(
        &self,
        rows: &mut Rows<'_>,
        plan: &StatePlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let entity = rows.entity(&plan.entity)?;
        let mut written = Written::default();
        for input in inputs {
            let Some(row) = find_row(rows, entity, &plan.key, input, false)? else {
                continue;
            };
            rows.check_etag(&row, sent_etag(&plan.inputs, input))?;
            let mut values = Map::new();
            match &plan.change {
                Change::Flag(column, set) => {
                    values.insert(column.clone(), Value::from(*set));
                }
                Change::Status(column, value) => {
                    values.insert(column.clone(), Value::from(value.as_str()));
                }
                Change::Count(column) => {
                    let n = row.data.get(column).and_then(Value::as_i64).unwrap_or(0);
                    values.insert(column.clone(), Value::from(n + 1));
                }
            }
            // What the input says explicitly (`archiveRun(input: {archived: false})`) wins.
            values.extend(input.clone());
            written.primary.push(rows.update_row(entity, &row, &values));
        }
        Ok(written)
    }

    pub(crate) fn run_reset(
        &self,
        rows: &mut Rows<'_>,
        plan: &ResetPlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let entity = rows.entity(&plan.entity)?;
        let mut written = Written::default();
        for input in inputs {
            let Some(row) = find_row(rows, entity, &plan.key, input, false)? else {
                continue;
            };
            rows.check_etag(&row, sent_etag(&plan.inputs, input))?;
            let children = rows.filter().children(&plan.child, &plan.fk, row.id);
            for child in &children {
                rows.remove(child);
            }
            written.primary.push(rows.set_values(&row, Map::new()));
            written.related.extend(children);
        }
        Ok(written)
    }

    pub(crate) fn run_version(
        &self,
        rows: &mut Rows<'_>,
        plan: &VersionPlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let entity = rows.entity(&plan.entity)?;
        let mut written = Written::default();
        for input in inputs {
            let named = plan
                .source_field
                .as_ref()
                .filter(|f| input.get(*f).is_some_and(|v| !v.is_null()));
            let family_of = |rows: &Rows<'_>, value: &Value| {
                plan.family
                    .as_ref()
                    .map(|c| rows.matching(entity, &[(c.clone(), value.clone())]))
                    .unwrap_or_default()
            };
            let source = if let Some(field) = named {
                existing(rows, &plan.entity, input, field)?
            } else {
                let column = plan.family.as_deref().unwrap_or("familyId");
                let value = input
                    .get(column)
                    .cloned()
                    .ok_or_else(|| format!("`{column}` is required"))?;
                let mut members = family_of(rows, &value);
                query::sort(
                    entity,
                    &mut members,
                    &[format!("{}_DESC", plan.column.to_uppercase())],
                )?;
                members.into_iter().next().ok_or_else(|| {
                    format!("{} matching {column} {value} does not exist.", plan.entity)
                })?
            };
            rows.check_etag(&source, sent_etag(&plan.inputs, input))?;
            let family = match plan.family.as_ref().and_then(|c| source.data.get(c)) {
                Some(value) => family_of(rows, value),
                None => vec![source.clone()],
            };
            let next = match source.data.get(&plan.column) {
                Some(Value::String(current)) => Value::from(next_revision(current)),
                _ => {
                    let highest = family
                        .iter()
                        .filter_map(|r| r.data.get(&plan.column).and_then(Value::as_i64))
                        .max()
                        .unwrap_or(0);
                    Value::from(highest + 1)
                }
            };
            let mut overrides = input.clone();
            for drop in ["id", "etag", "_etag", "familyId"] {
                overrides.remove(drop);
            }
            if let Some(field) = &plan.source_field {
                overrides.remove(field);
            }
            overrides.retain(|k, _| entity.keeps(k));
            overrides.insert(plan.column.clone(), next);
            if let Some(latest) = &plan.latest {
                overrides.insert(latest.clone(), Value::from(true));
            }
            if let Some(from) = &plan.from {
                overrides.insert(from.clone(), Value::from(source.id));
            }
            // A new version starts in the first state of its `status` enum (a draft).
            if let Some(first) = entity
                .column("status")
                .and_then(|t| rows.model().enums.get(&t.name))
                .and_then(|v| v.first())
            {
                overrides.insert("status".into(), Value::from(first.as_str()));
            }
            let copy = rows.copy_tree(&source, entity, &overrides)?;
            if let Some(latest) = &plan.latest {
                for member in family {
                    let current = rows.row(&member.entity, member.id).unwrap_or(member);
                    if current.data.get(latest) == Some(&Value::from(true)) {
                        let mut values = Map::new();
                        values.insert(latest.clone(), Value::from(false));
                        written.related.push(rows.set_values(&current, values));
                    }
                }
            }
            written.primary.push(copy);
            written.related.push(source);
        }
        Ok(written)
    }

    pub(crate) fn run_setting(
        &self,
        rows: &mut Rows<'_>,
        plan: &SettingPlan,
        inputs: &[Map<String, Value>],
    ) -> Result<Written, String> {
        let entity = rows.entity(&plan.entity)?;
        let mut written = Written::default();
        let Some(top) = plan.path.first() else {
            return Ok(written);
        };
        for input in inputs {
            let Some(row) = find_row(rows, entity, &RowKey::Id("id".into()), input, false)? else {
                continue;
            };
            rows.check_etag(&row, sent_etag(&plan.inputs, input))?;
            let key = input
                .get(&plan.key)
                .cloned()
                .ok_or_else(|| format!("`{}` is required", plan.key))?;
            let entry: Map<String, Value> = input
                .iter()
                .filter(|(k, _)| plan.fields.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut root = row.data.get(top).cloned().unwrap_or(Value::Null);
            let list = list_at(&mut root, &plan.path[1..]).ok_or_else(|| {
                format!("{} {} has no {}", plan.entity, row.id, plan.path.join("."))
            })?;
            let at = list.iter().position(|e| e.get(&plan.key) == Some(&key));
            let missing = || {
                format!(
                    "{} {} has no {} with {} {key}.",
                    plan.entity,
                    row.id,
                    plan.path.join("."),
                    plan.key
                )
            };
            match (plan.verb, at) {
                (Verb::Create, Some(_)) => {
                    return Err(format!(
                        "{} {} already has a {} with {} {key}.",
                        plan.entity,
                        row.id,
                        plan.path.join("."),
                        plan.key
                    ));
                }
                (Verb::Delete, None) => return Err(missing()),
                (Verb::Delete, Some(i)) => {
                    list.remove(i);
                }
                (_, Some(i)) => {
                    if let Some(existing) = list.get_mut(i).and_then(Value::as_object_mut) {
                        existing.extend(entry);
                    }
                }
                (_, None) => list.push(Value::Object(entry)),
            }
            let mut values = Map::new();
            values.insert(top.clone(), root);
            written.primary.push(rows.set_values(&row, values));
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_count_up_their_last_letters_or_digits() {
        for (current, next) in [
            ("A", "B"),
            ("Z", "AA"),
            ("AZ", "BA"),
            ("b", "c"),
            ("7", "8"),
            ("A9", "A10"),
            ("1.0", "1.1"),
            ("", "A"),
            ("A-", "A-1"),
        ] {
            assert_eq!(next_revision(current), next, "after {current:?}");
        }
    }
}
