//! [`Rows`]: one mutation's hold on the store, and the operations every write is made of
//! (create with ION's bookkeeping, update, delete, etag checks). The built-in conventions and
//! the user's handlers write through the same operations, so both stamp `_etag`s, timestamps
//! and `createdById` alike.
//!
//! Invariant: a mutation's writes are all or nothing. Every change is journaled and undone,
//! newest first, when the mutation fails (ids it took are not given back, as a database
//! sequence does not give them back either).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::handler::HandlerError;
use super::model::{Entity, EntityField, Model, Ty};
use super::query::{self, Filter, as_id, compare};
use super::store::{Row, RowRef, Store, Tables, coerce};

/// The emulator's rows, as a handler sees them for the length of one root field.
///
/// Rows are JSON objects keyed by field name, as in a seed file (`id`, columns, `xId`
/// foreign keys). Writes go through the same operations as the emulator's own `createX`,
/// `updateX` and `deleteX`: a new row gets an id, an `_etag`, timestamps, `createdById` and
/// an `entityId` where its type has them, an update gets a fresh `_etag`, and a stale etag is
/// refused with ION's message. When the handler returns an error, every write it made is
/// undone.
///
/// # Example
/// ```
/// use ion_emulator::{HandlerError, Rows};
/// use serde_json::{Value, json};
///
/// /// Serves `splitPartInventory(input: {id, etag, quantity})`: a new inventory row with the
/// /// quantity taken from the original.
/// fn split(args: &Value, rows: &mut Rows<'_>) -> Result<Value, HandlerError> {
///     let input = &args["input"];
///     let id = input["id"].as_i64().ok_or_else(|| HandlerError::new("an `id` is required"))?;
///     let original = rows
///         .get("PartInventory", id)
///         .ok_or_else(|| HandlerError::new(format!("PartInventory matching id {id} does not exist.")))?;
///     let quantity = input["quantity"].as_f64().unwrap_or(0.0);
///     let left = original["quantity"].as_f64().unwrap_or(0.0) - quantity;
///     rows.update("PartInventory", id, input["etag"].as_str(), &json!({ "quantity": left }))?;
///     let split = rows.create(
///         "PartInventory",
///         &json!({ "partId": original["partId"], "quantity": quantity }),
///     )?;
///     Ok(json!({ "partInventory": split["id"] }))
/// }
/// ```
pub struct Rows<'a> {
    model: &'a Model,
    store: &'a Store,
    tables: &'a mut Tables,
    generated: &'a HashMap<String, Vec<String>>,
    user_id: i64,
    now: String,
    /// Every row replaced or removed, with what was there before (`None`: nothing).
    undo: Vec<(Arc<str>, i64, Option<RowRef>)>,
}

impl std::fmt::Debug for Rows<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("user_id", &self.user_id)
            .field("writes", &self.undo.len())
            .finish_non_exhaustive()
    }
}

/// Columns a create or update never takes from its input: ION sets them itself.
fn stamped(entity: &Entity, key: &str) -> bool {
    key == "id"
        || key == "etag"
        || key == "_etag"
        || Some(key) == entity.etag_column()
        || Some(key) == entity.created_column()
        || Some(key) == entity.updated_column()
}

/// Columns a copy leaves for the new row's own bookkeeping.
const NOT_COPIED: [&str; 4] = ["entityId", "createdById", "updatedById", "id"];

impl<'a> Rows<'a> {
    pub(crate) fn new(
        model: &'a Model,
        store: &'a Store,
        tables: &'a mut Tables,
        generated: &'a HashMap<String, Vec<String>>,
        user_id: i64,
    ) -> Rows<'a> {
        Rows {
            model,
            store,
            tables,
            generated,
            user_id,
            now: store.clock.now_iso(),
            undo: Vec::new(),
        }
    }

    /// Puts back every row this mutation changed, newest change first.
    pub(crate) fn rollback(self) {
        for (entity, id, previous) in self.undo.into_iter().rev() {
            match previous {
                Some(row) => self.tables.put_ref(row),
                None => {
                    self.tables.remove(&entity, id);
                }
            }
        }
    }

    pub(crate) fn entity(&self, name: &str) -> Result<&'a Entity, String> {
        self.model
            .entities
            .get(name)
            .ok_or_else(|| format!("`{name}` is not a type the emulator stores"))
    }

    pub(crate) fn model(&self) -> &'a Model {
        self.model
    }

    pub(crate) fn row(&self, entity: &str, id: i64) -> Option<RowRef> {
        self.tables.get(entity, id).cloned()
    }

    pub(crate) fn filter(&self) -> Filter<'_> {
        Filter {
            model: self.model,
            tables: self.tables,
        }
    }

    pub(crate) fn by_entity_id(&self, entity_id: i64) -> Option<RowRef> {
        self.tables.by_entity_id(entity_id).cloned()
    }

    /// The rows of `entity` whose columns equal every (column, value) pair, in id order.
    pub(crate) fn matching(&self, entity: &Entity, pairs: &[(String, Value)]) -> Vec<RowRef> {
        self.tables
            .rows(&entity.name)
            .filter(|r| {
                pairs.iter().all(|(c, v)| {
                    let v = entity
                        .column(c)
                        .map_or_else(|| v.clone(), |t| coerce(t, v.clone()));
                    let stored = r.data.get(c).unwrap_or(&Value::Null);
                    compare(stored, &v) == Some(std::cmp::Ordering::Equal)
                        || stored.is_null() && v.is_null()
                })
            })
            .cloned()
            .collect()
    }

    /// Refuses a write whose etag is not the row's current one, as ION does.
    pub(crate) fn check_etag(&self, row: &RowRef, sent: Option<&str>) -> Result<(), String> {
        let Ok(entity) = self.entity(&row.entity) else {
            return Ok(());
        };
        let Some(column) = entity.etag_column() else {
            return Ok(());
        };
        if let (Some(sent), Some(current)) = (sent, row.data.get(column).and_then(Value::as_str))
            && sent != current
        {
            return Err(format!(
                "Etag mismatch: {} {} has been modified since it was read. \
                 Provided etag {sent} does not match current etag {current}.",
                row.entity, row.id
            ));
        }
        Ok(())
    }

    fn store_row(&mut self, row: Row) -> RowRef {
        let previous = self.tables.get(&row.entity, row.id).cloned();
        self.undo.push((row.entity.clone(), row.id, previous));
        self.tables.put(row)
    }

    /// Writes a row's data with the stamps of a write: a new etag, the update time and user.
    fn stamp(&self, entity: &Entity, data: &mut Map<String, Value>) {
        if let Some(c) = entity.etag_column() {
            data.insert(c.into(), Value::from(self.store.new_etag()));
        }
        if let Some(c) = entity.updated_column() {
            data.insert(c.into(), Value::from(self.now.as_str()));
        }
        if entity.column("updatedById").is_some() {
            data.insert("updatedById".into(), Value::from(self.user_id));
        }
    }

    /// The input's fields the entity keeps, coerced to their columns' types (an `ID` input
    /// such as `"3"` written to an `Int` column becomes `3`).
    fn kept_fields(entity: &Entity, input: &Map<String, Value>) -> Map<String, Value> {
        let int = Ty {
            name: "Int".into(),
            list: false,
            non_null: false,
        };
        input
            .iter()
            .filter(|(k, _)| !stamped(entity, k) && entity.keeps(k))
            .map(|(k, v)| {
                let v = match entity.column(k) {
                    Some(ty) => coerce(ty, v.clone()),
                    None if k.ends_with("Id") => coerce(&int, v.clone()),
                    None => v.clone(),
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// A new row from an input: what `createX` does. With `instantiate`, a row pointing at a
    /// template gets copies of the template's children (see [`Rows::instantiate`]).
    pub(crate) fn insert(
        &mut self,
        entity: &Entity,
        input: &Map<String, Value>,
        instantiate: bool,
    ) -> Result<RowRef, String> {
        let mut data = Self::kept_fields(entity, input);
        let id = self.tables.next_id(&entity.name);
        data.insert("id".into(), Value::from(id));
        self.stamp(entity, &mut data);
        if let Some(c) = entity.created_column() {
            data.insert(c.into(), Value::from(self.now.as_str()));
        }
        let user = Value::from(self.user_id);
        let fill = |data: &mut Map<String, Value>, k: &str, v: Value| {
            if entity.column(k).is_some() && data.get(k).is_none_or(Value::is_null) {
                data.insert(k.into(), v);
            }
        };
        fill(&mut data, "createdById", user);
        let entity_id = self.tables.next_entity_id();
        fill(&mut data, "entityId", Value::from(entity_id));
        // A new object starts in the first state of its `status` enum (TODO, DRAFT, ...), as
        // ION's do.
        if let Some(first) = entity
            .column("status")
            .and_then(|ty| self.model.enums.get(&ty.name))
            .and_then(|v| v.first())
        {
            fill(&mut data, "status", Value::from(first.as_str()));
        }
        for column in self.generated.get(&entity.name).into_iter().flatten() {
            let token = self.store.new_etag();
            fill(&mut data, column, Value::from(token));
        }
        self.store
            .fill_defaults(self.model, entity, &mut data, &self.now);
        let row = self.store_row(Row {
            entity: self.store.name(&entity.name),
            id,
            data,
        });
        if instantiate {
            self.instantiate(entity, &row);
        }
        Ok(row)
    }

    /// An existing row with the input's fields written over it: what `updateX` does.
    pub(crate) fn update_row(
        &mut self,
        entity: &Entity,
        row: &RowRef,
        input: &Map<String, Value>,
    ) -> RowRef {
        let mut data = row.data.clone();
        data.extend(Self::kept_fields(entity, input));
        self.stamp(entity, &mut data);
        self.store
            .fill_defaults(self.model, entity, &mut data, &self.now);
        self.store_row(Row {
            entity: row.entity.clone(),
            id: row.id,
            data,
        })
    }

    /// A row with some values set as they are, stamped as a write (lists a link keeps, a
    /// position, a status).
    pub(crate) fn set_values(&mut self, row: &RowRef, values: Map<String, Value>) -> RowRef {
        let mut data = row.data.clone();
        data.extend(values);
        if let Ok(entity) = self.entity(&row.entity) {
            self.stamp(entity, &mut data);
        }
        self.store_row(Row {
            entity: row.entity.clone(),
            id: row.id,
            data,
        })
    }

    /// Removes a row: what `deleteX` does.
    pub(crate) fn remove(&mut self, row: &RowRef) {
        if let Some(previous) = self.tables.remove(&row.entity, row.id) {
            self.undo.push((row.entity.clone(), row.id, Some(previous)));
        }
    }

    /// The columns of `source` a row of `target` takes over: same-named columns (enum values
    /// only where the target's enum has them), without ids and bookkeeping, and
    /// `origin<Source>Id` pointing back at the source when the target has that column.
    fn carried(&self, source: &RowRef, target: &Entity) -> Map<String, Value> {
        let mut data = Map::new();
        for (name, ty) in &target.columns {
            let Some(v) = source.data.get(name) else {
                continue;
            };
            let fits_enum = self
                .model
                .enums
                .get(&ty.name)
                .is_none_or(|values| v.as_str().is_some_and(|s| values.iter().any(|x| x == s)));
            if !name.starts_with('_')
                && !NOT_COPIED.contains(&name.as_str())
                && fits_enum
                && !stamped(target, name)
            {
                data.insert(name.clone(), v.clone());
            }
        }
        let origin = format!("origin{}Id", source.entity);
        if target.column(&origin).is_some() {
            data.insert(origin, Value::from(source.id));
        }
        data
    }

    /// ION creates a run's steps from its procedure's steps. Generically: when a new row
    /// points at a template (`Run.procedureId` → `Procedure`) and both have a to-many relation
    /// of the same name (`Run.steps` → `RunStep`, `Procedure.steps` → `Step`), each template
    /// child is copied into a new child of the row, same-named columns carried over, the
    /// child's `origin<Type>Id` set to the template child when that column exists, and a
    /// `status` starting at its first value.
    fn instantiate(&mut self, entity: &Entity, row: &RowRef) {
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
                let sources = self.filter().children(source_type, source_fk, template_id);
                copies.push((child_type.clone(), child_fk.clone(), sources));
            }
        }
        for (child_type, child_fk, mut sources) in copies {
            let Some(child) = self.model.entities.get(&child_type) else {
                continue;
            };
            query::sort(child, &mut sources, &["POSITION_ASC".to_owned()]).ok();
            for source in sources {
                let mut data = self.carried(&source, child);
                data.remove("status");
                data.insert(child_fk.clone(), Value::from(row.id));
                // The copy is made of columns already coerced, and fits: it cannot fail.
                let _ = self.insert(child, &data, false);
            }
        }
    }

    /// Copies `source` into a new row of `target` with `overrides` written over it, and, in
    /// turn, the rows it owns: the children it keeps in order (a `position` or `index`
    /// column: steps, fields, datagrid rows and columns) in each relation `target` has under
    /// the same name. Foreign keys between the copied rows are pointed at the copies.
    pub(crate) fn copy_tree(
        &mut self,
        source: &RowRef,
        target: &Entity,
        overrides: &Map<String, Value>,
    ) -> Result<RowRef, String> {
        let mut copied: HashMap<(String, i64), i64> = HashMap::new();
        let mut made = Vec::new();
        let root = self.copy_one(source, target, overrides, &mut copied, &mut made, 0)?;
        // Second pass: foreign keys that point at copied rows point at their copies.
        for row in made {
            let Some(current) = self.row(&row.0, row.1) else {
                continue;
            };
            let Ok(entity) = self.entity(&current.entity) else {
                continue;
            };
            let mut changes = Map::new();
            for (column, _) in &entity.columns {
                if column == "id" || column.starts_with("origin") {
                    continue;
                }
                let Some(old) = current.data.get(column).and_then(as_id) else {
                    continue;
                };
                let Some(points_at) = self.model.fk_target(entity, column) else {
                    continue;
                };
                let is_root = current.entity == root.entity && current.id == root.id;
                if is_root && overrides.contains_key(column) {
                    continue;
                }
                if let Some(new) = copied.get(&(points_at.to_owned(), old)) {
                    changes.insert(column.clone(), Value::from(*new));
                }
            }
            if !changes.is_empty() {
                let mut data = current.data.clone();
                data.extend(changes);
                self.store_row(Row {
                    entity: current.entity.clone(),
                    id: current.id,
                    data,
                });
            }
        }
        Ok(self.row(&root.entity, root.id).unwrap_or(root))
    }

    /// How deep a copy follows owned children (procedure → step → field is 2).
    const COPY_DEPTH: usize = 4;

    fn copy_one(
        &mut self,
        source: &RowRef,
        target: &Entity,
        overrides: &Map<String, Value>,
        copied: &mut HashMap<(String, i64), i64>,
        made: &mut Vec<(String, i64)>,
        depth: usize,
    ) -> Result<RowRef, String> {
        let mut data = self.carried(source, target);
        if source.entity.as_ref() != target.name {
            data.remove("status");
        }
        data.extend(overrides.clone());
        let row = self.insert(target, &data, false)?;
        copied.insert((source.entity.to_string(), source.id), row.id);
        made.push((target.name.clone(), row.id));
        if depth >= Self::COPY_DEPTH {
            return Ok(row);
        }
        let Some(source_entity) = self.model.entities.get(source.entity.as_ref()) else {
            return Ok(row);
        };
        let mut relations: Vec<(&String, &EntityField)> = target.fields.iter().collect();
        relations.sort_by(|a, b| a.0.cmp(b.0));
        for (relation, plan) in relations {
            let EntityField::ToMany {
                target: child_type,
                fk: child_fk,
                ..
            } = plan
            else {
                continue;
            };
            let Some(EntityField::ToMany {
                target: source_child_type,
                fk: source_fk,
                ..
            }) = source_entity.fields.get(relation)
            else {
                continue;
            };
            let (Some(child), Some(source_child)) = (
                self.model.entities.get(child_type),
                self.model.entities.get(source_child_type),
            ) else {
                continue;
            };
            let ordered = |e: &Entity| e.column("position").or(e.column("index")).is_some();
            if !ordered(child) || !ordered(source_child) {
                continue;
            }
            let mut children = self
                .filter()
                .children(source_child_type, source_fk, source.id);
            query::sort(source_child, &mut children, &["POSITION_ASC".to_owned()]).ok();
            for c in children {
                if copied.contains_key(&(c.entity.to_string(), c.id)) {
                    continue;
                }
                let mut link = Map::new();
                link.insert(child_fk.clone(), Value::from(row.id));
                self.copy_one(&c, child, &link, copied, made, depth + 1)?;
            }
        }
        Ok(row)
    }

    /// The calling user's id (what `createdById` of new rows gets).
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The row of `entity` with this id, as JSON.
    pub fn get(&self, entity: &str, id: i64) -> Option<Value> {
        self.row(entity, id).map(|r| Value::Object(r.data.clone()))
    }

    /// The rows of `entity` whose fields equal every field of `equal` (a JSON object such as
    /// `{"partId": 5, "status": "AVAILABLE"}`), in id order.
    ///
    /// # Errors
    /// `entity` is not a stored type, or `equal` is not an object.
    pub fn find(&self, entity: &str, equal: &Value) -> Result<Vec<Value>, HandlerError> {
        let e = self.entity(entity).map_err(HandlerError::new)?;
        let Some(pairs) = equal.as_object() else {
            return Err(HandlerError::new(format!(
                "rows of {entity} are found by a JSON object of field values, not by {equal}"
            )));
        };
        let pairs: Vec<(String, Value)> =
            pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Ok(self
            .matching(e, &pairs)
            .into_iter()
            .map(|r| Value::Object(r.data.clone()))
            .collect())
    }

    /// Creates a row of `entity` from `fields` (a JSON object), as `createX` does, and returns
    /// it with its id and etag.
    ///
    /// # Errors
    /// `entity` is not a stored type, or `fields` is not an object.
    pub fn create(&mut self, entity: &str, fields: &Value) -> Result<Value, HandlerError> {
        let e = self.entity(entity).map_err(HandlerError::new)?;
        let input = object(entity, fields)?;
        let row = self.insert(e, input, true).map_err(HandlerError::new)?;
        Ok(Value::Object(row.data.clone()))
    }

    /// Writes `fields` over the row of `entity` with this id, as `updateX` does: with an
    /// etag, a stale one is refused; the row gets a new one.
    ///
    /// # Errors
    /// No such row, a stale etag, or `fields` is not an object.
    pub fn update(
        &mut self,
        entity: &str,
        id: i64,
        etag: Option<&str>,
        fields: &Value,
    ) -> Result<Value, HandlerError> {
        let e = self.entity(entity).map_err(HandlerError::new)?;
        let input = object(entity, fields)?;
        let row = self.existing(entity, id)?;
        self.check_etag(&row, etag).map_err(HandlerError::new)?;
        let row = self.update_row(e, &row, input);
        Ok(Value::Object(row.data.clone()))
    }

    /// Removes the row of `entity` with this id, as `deleteX` does, and returns it.
    ///
    /// # Errors
    /// No such row, or a stale etag.
    pub fn delete(
        &mut self,
        entity: &str,
        id: i64,
        etag: Option<&str>,
    ) -> Result<Value, HandlerError> {
        self.entity(entity).map_err(HandlerError::new)?;
        let row = self.existing(entity, id)?;
        self.check_etag(&row, etag).map_err(HandlerError::new)?;
        self.remove(&row);
        Ok(Value::Object(row.data.clone()))
    }

    fn existing(&self, entity: &str, id: i64) -> Result<RowRef, HandlerError> {
        self.row(entity, id)
            .ok_or_else(|| HandlerError::new(format!("{entity} matching id {id} does not exist.")))
    }
}

fn object<'v>(entity: &str, fields: &'v Value) -> Result<&'v Map<String, Value>, HandlerError> {
    fields.as_object().ok_or_else(|| {
        HandlerError::new(format!(
            "the fields of a {entity} are a JSON object, not {fields}"
        ))
    })
}
