//! The in-memory store: one table per entity, rows as JSON objects keyed by field name.
//!
//! Invariant: a stored row only holds keys its entity keeps (see [`Entity::keeps`]), every
//! non-null column has a value, and `id` equals the row's key in its table. Seeds and writes go
//! through [`Store::normalize`] to keep it so.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Map, Value};

use super::model::{Entity, EntityField, Kind, Model, Ty};

/// The moment every seed row was created and last updated, so seeds are deterministic.
pub(crate) const SEED_TIME: &str = "2024-01-15T08:00:00.000000+00:00";

/// Wall-clock time plus an offset that tests can advance (to expire tokens without sleeping).
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> jiff::Timestamp {
        let offset = jiff::SignedDuration::from_secs(self.offset_secs.load(Ordering::Relaxed));
        jiff::Timestamp::now()
            .checked_add(offset)
            .unwrap_or_else(|_| jiff::Timestamp::now())
    }

    pub fn now_secs(&self) -> i64 {
        self.now().as_second()
    }

    pub fn advance(&self, by: std::time::Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX / 2);
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }

    /// ION's `DateTime` spelling: ISO-8601 with microseconds and an explicit UTC offset.
    pub fn now_iso(&self) -> String {
        self.now()
            .strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
            .to_string()
    }
}

/// One stored object.
#[derive(Debug)]
pub(crate) struct Row {
    pub entity: Arc<str>,
    pub id: i64,
    pub data: Map<String, Value>,
}

pub(crate) type RowRef = Arc<Row>;

#[derive(Debug, Default)]
pub(crate) struct Table {
    pub rows: BTreeMap<i64, RowRef>,
    next_id: i64,
}

/// All tables; held behind one lock so a query sees one consistent state.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    map: HashMap<String, Table>,
    next_entity_id: i64,
}

impl Tables {
    pub fn get(&self, entity: &str, id: i64) -> Option<&RowRef> {
        self.map.get(entity)?.rows.get(&id)
    }

    pub fn rows(&self, entity: &str) -> impl Iterator<Item = &RowRef> {
        self.map
            .get(entity)
            .into_iter()
            .flat_map(|t| t.rows.values())
    }

    /// The rows of `entity` after the row with id `id`, in id order.
    pub fn rows_after(&self, entity: &str, id: i64) -> impl Iterator<Item = &RowRef> {
        self.map
            .get(entity)
            .into_iter()
            .flat_map(move |t| t.rows.range((Bound::Excluded(id), Bound::Unbounded)))
            .map(|(_, r)| r)
    }

    /// How many rows `entity` holds.
    pub fn len(&self, entity: &str) -> usize {
        self.map.get(entity).map_or(0, |t| t.rows.len())
    }

    pub fn next_id(&mut self, entity: &str) -> i64 {
        let table = self.map.entry(entity.to_owned()).or_default();
        let id = table.next_id.max(1);
        table.next_id = id + 1;
        id
    }

    pub fn next_entity_id(&mut self) -> i64 {
        self.next_entity_id += 1;
        self.next_entity_id
    }

    pub fn put(&mut self, row: Row) -> RowRef {
        let row = Arc::new(row);
        self.put_ref(row.clone());
        row
    }

    /// Stores a row as it is (an undone write puts the previous row back).
    pub fn put_ref(&mut self, row: RowRef) {
        let table = self.map.entry(row.entity.to_string()).or_default();
        table.next_id = table.next_id.max(row.id + 1);
        table.rows.insert(row.id, row);
    }

    /// The row of any entity carrying ION's global `entityId` (what `addLabelToItem` and
    /// union-typed lists point at).
    pub fn by_entity_id(&self, entity_id: i64) -> Option<&RowRef> {
        let mut names: Vec<&String> = self.map.keys().collect();
        names.sort();
        names.into_iter().find_map(|name| {
            self.map[name]
                .rows
                .values()
                .find(|r| r.data.get("entityId").and_then(Value::as_i64) == Some(entity_id))
        })
    }

    pub fn remove(&mut self, entity: &str, id: i64) -> Option<RowRef> {
        self.map.get_mut(entity)?.rows.remove(&id)
    }
}

/// How many positions and totals paging remembers; past it, it starts over (a client
/// following a few connections page by page needs a handful).
const MAX_SEEKS: usize = 4096;

/// What paging remembers between the pages of a listing, valid for one generation of the
/// tables: where a page ended (listing and offset → row id), so the next page starts there
/// instead of counting its way from the first row, and each listing's total.
#[derive(Debug, Default)]
struct Seeks {
    generation: u64,
    rows: HashMap<(String, i64), i64>,
    totals: HashMap<String, usize>,
}

pub(crate) struct Store {
    tables: RwLock<Tables>,
    /// Counts the times the tables were opened for writing, so what paging remembers
    /// about them is forgotten after any write.
    generation: AtomicU64,
    seeks: Mutex<Seeks>,
    rng: Mutex<fastrand::Rng>,
    pub clock: Arc<Clock>,
    /// Entity names interned once so rows share them.
    names: HashMap<String, Arc<str>>,
}

/// A 32-hex-digit value derived from a string, for seed rows that carry no `_etag`.
fn stable_hex(input: &str) -> String {
    let mut out = String::with_capacity(32);
    for seed in [0xcbf2_9ce4_8422_2325_u64, 0x8422_2325_cbf2_9ce4_u64] {
        let mut h = seed;
        for b in input.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Coerces a JSON value to a column's type where ION would (an `ID` input such as `"3"`
/// written to an `Int` column becomes `3`).
pub(crate) fn coerce(ty: &Ty, value: Value) -> Value {
    match value {
        Value::Array(items) if ty.list => Value::Array(
            items
                .into_iter()
                .map(|v| coerce_scalar(&ty.name, v))
                .collect(),
        ),
        v => coerce_scalar(&ty.name, v),
    }
}

fn coerce_scalar(name: &str, value: Value) -> Value {
    match (name, &value) {
        ("Int", Value::String(s)) => s.trim().parse::<i64>().map(Value::from).unwrap_or(value),
        ("Int", Value::Number(n)) if n.as_i64().is_none() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => value,
        },
        ("Float", Value::String(s)) => s.trim().parse::<f64>().map(Value::from).unwrap_or(value),
        _ => value,
    }
}

impl Store {
    /// Builds a store from a seed document (`{"Run": [{...}], ...}`), keeping only what the
    /// schema knows. Returns the store and a list of what was dropped, for the caller to log.
    pub fn new(
        model: &Model,
        seed: &Value,
        clock: Arc<Clock>,
    ) -> Result<(Store, Vec<String>), String> {
        let names = model
            .entities
            .keys()
            .map(|n| (n.clone(), Arc::<str>::from(n.as_str())))
            .collect();
        let store = Store {
            tables: RwLock::new(Tables::default()),
            generation: AtomicU64::new(0),
            seeks: Mutex::new(Seeks::default()),
            rng: Mutex::new(fastrand::Rng::with_seed(0x10_4e)),
            clock,
            names,
        };
        let mut dropped = Vec::new();
        let Some(seed) = seed.as_object() else {
            return Err(
                "a seed must be a JSON object mapping type names to arrays of objects".into(),
            );
        };
        let mut tables = store.write();
        // Many-to-many links a seed spells as a list of ids on either side
        // (`"User": [{"teams": [1]}]`), kept as join rows: (join type, row).
        let mut links: Vec<(String, Map<String, Value>)> = Vec::new();
        for (type_name, rows) in seed {
            if type_name.starts_with('$') {
                continue;
            }
            let Some(entity) = model.entities.get(type_name) else {
                dropped.push(format!("type {type_name} (not an entity in this schema)"));
                continue;
            };
            let Some(rows) = rows.as_array() else {
                return Err(format!(
                    "seed entry `{type_name}` must be an array of objects"
                ));
            };
            for (i, row) in rows.iter().enumerate() {
                let Some(obj) = row.as_object() else {
                    return Err(format!("seed entry `{type_name}[{i}]` must be an object"));
                };
                let id = match obj.get("id").map(|v| coerce_scalar("Int", v.clone())) {
                    Some(Value::Number(n)) if n.as_i64().is_some() => {
                        n.as_i64().unwrap_or_default()
                    }
                    None | Some(Value::Null) => tables.next_id(type_name),
                    Some(other) => {
                        return Err(format!(
                            "seed entry `{type_name}[{i}]` has a non-integer id {other}"
                        ));
                    }
                };
                let mut data = Map::new();
                for (k, v) in obj {
                    if let Some(EntityField::Through {
                        join,
                        own_fk,
                        target_fk,
                        ..
                    }) = entity.fields.get(k)
                    {
                        for target in v.as_array().into_iter().flatten() {
                            let mut link = Map::new();
                            link.insert(own_fk.clone(), Value::from(id));
                            link.insert(target_fk.clone(), coerce_scalar("Int", target.clone()));
                            links.push((join.clone(), link));
                        }
                    } else if entity.keeps(k) {
                        let v = match entity.column(k) {
                            Some(ty) => coerce(ty, v.clone()),
                            None => v.clone(),
                        };
                        data.insert(k.clone(), v);
                    } else if !dropped
                        .iter()
                        .any(|d| d.starts_with(&format!("field {type_name}.{k} ")))
                    {
                        dropped.push(format!("field {type_name}.{k} (not in this schema)"));
                    }
                }
                data.insert("id".into(), Value::from(id));
                if let Some(etag) = entity.etag_column()
                    && !data.get(etag).is_some_and(Value::is_string)
                {
                    data.insert(
                        etag.into(),
                        Value::from(stable_hex(&format!("{type_name}:{id}"))),
                    );
                }
                for ts in [entity.created_column(), entity.updated_column()]
                    .into_iter()
                    .flatten()
                {
                    if data.get(ts).is_none_or(Value::is_null) {
                        data.insert(ts.into(), Value::from(SEED_TIME));
                    }
                }
                if entity.column("entityId").is_some()
                    && data.get("entityId").is_none_or(Value::is_null)
                {
                    let e = tables.next_entity_id();
                    data.insert("entityId".into(), Value::from(e));
                }
                store.fill_defaults(model, entity, &mut data, SEED_TIME);
                let name = store.name(type_name);
                tables.put(Row {
                    entity: name,
                    id,
                    data,
                });
            }
        }
        for (join, link) in links {
            let Some(entity) = model.entities.get(&join) else {
                continue;
            };
            let known = tables
                .rows(&join)
                .any(|r| link.iter().all(|(k, v)| r.data.get(k) == Some(v)));
            if known {
                continue;
            }
            let id = tables.next_id(&join);
            let mut data = link;
            data.insert("id".into(), Value::from(id));
            if let Some(etag) = entity.etag_column() {
                data.insert(
                    etag.into(),
                    Value::from(stable_hex(&format!("{join}:{id}"))),
                );
            }
            for ts in [entity.created_column(), entity.updated_column()]
                .into_iter()
                .flatten()
            {
                data.insert(ts.into(), Value::from(SEED_TIME));
            }
            store.fill_defaults(model, entity, &mut data, SEED_TIME);
            let name = store.name(&join);
            tables.put(Row {
                entity: name,
                id,
                data,
            });
        }
        // Entity ids continue after the largest one a seed used.
        let max_entity = model
            .entities
            .keys()
            .flat_map(|e| tables.rows(e))
            .filter_map(|r| r.data.get("entityId").and_then(Value::as_i64))
            .max()
            .unwrap_or(0);
        tables.next_entity_id = tables.next_entity_id.max(max_entity);
        drop(tables);
        Ok((store, dropped))
    }

    pub fn name(&self, entity: &str) -> Arc<str> {
        self.names
            .get(entity)
            .cloned()
            .unwrap_or_else(|| Arc::from(entity))
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        let guard = self
            .tables
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bumped under the write lock: a reader holding the read lock sees one generation.
        self.generation.fetch_add(1, Ordering::SeqCst);
        guard
    }

    /// The id of the row at `offset` in the rows of the listing `key` (an entity and its
    /// filters, in id order), if a page served since the last write ended there. Call with
    /// the read lock held.
    pub fn seek(&self, key: &str, offset: i64) -> Option<i64> {
        let seeks = self.seeks();
        seeks.rows.get(&(key.to_owned(), offset)).copied()
    }

    /// Remembers that the row at `offset` of the listing `key` has id `id`, until the next
    /// write. Call with the read lock held.
    pub fn remember(&self, key: &str, offset: i64, id: i64) {
        let mut seeks = self.seeks();
        if seeks.rows.len() >= MAX_SEEKS {
            seeks.rows.clear();
        }
        seeks.rows.insert((key.to_owned(), offset), id);
    }

    /// How many rows the listing `key` holds, counted by `count` unless known since the last
    /// write. Call with the read lock held.
    pub fn total(
        &self,
        key: &str,
        count: impl FnOnce() -> Result<usize, String>,
    ) -> Result<usize, String> {
        if let Some(n) = self.seeks().totals.get(key) {
            return Ok(*n);
        }
        let n = count()?;
        let mut seeks = self.seeks();
        if seeks.totals.len() >= MAX_SEEKS {
            seeks.totals.clear();
        }
        seeks.totals.insert(key.to_owned(), n);
        Ok(n)
    }

    /// The seek memory of the current generation (forgotten when a write came between).
    fn seeks(&self) -> std::sync::MutexGuard<'_, Seeks> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut seeks = self
            .seeks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seeks.generation != generation {
            seeks.rows.clear();
            seeks.totals.clear();
            seeks.generation = generation;
        }
        seeks
    }

    /// A fresh `_etag`: 32 lowercase hex digits, like ION's.
    pub fn new_etag(&self) -> String {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))
    }

    /// Gives every non-null column a value, so the GraphQL layer never has to answer null for
    /// a field declared non-null.
    pub fn fill_defaults(
        &self,
        model: &Model,
        entity: &Entity,
        data: &mut Map<String, Value>,
        now: &str,
    ) {
        for (name, ty) in &entity.columns {
            if !ty.non_null || data.get(name).is_some_and(|v| !v.is_null()) {
                continue;
            }
            let value = if ty.list {
                Value::Array(Vec::new())
            } else {
                match (ty.name.as_str(), model.kinds.get(&ty.name)) {
                    ("Int", _) => Value::from(0),
                    ("Float", _) => Value::from(0.0),
                    ("Boolean", _) => Value::from(false),
                    ("DateTime", _) => Value::from(now),
                    (_, Some(Kind::Enum)) => model
                        .enums
                        .get(&ty.name)
                        .and_then(|v| v.first())
                        .map(|v| Value::from(v.as_str()))
                        .unwrap_or(Value::Null),
                    _ => Value::from(""),
                }
            };
            data.insert(name.clone(), value);
        }
    }

    /// The whole store as a seed document: types in name order, rows in id order.
    pub fn snapshot(&self) -> Value {
        let tables = self.read();
        let mut out = BTreeMap::new();
        for (name, table) in &tables.map {
            if table.rows.is_empty() {
                continue;
            }
            let rows: Vec<Value> = table
                .rows
                .values()
                .map(|r| Value::Object(r.data.clone()))
                .collect();
            out.insert(name.clone(), Value::Array(rows));
        }
        Value::Object(out.into_iter().collect())
    }

    /// How many rows each entity holds (entities with none are left out).
    pub fn row_counts(&self) -> BTreeMap<String, usize> {
        let tables = self.read();
        tables
            .map
            .iter()
            .filter(|(_, t)| !t.rows.is_empty())
            .map(|(n, t)| (n.clone(), t.rows.len()))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn coerces_ids_to_int_columns() {
        let int = Ty {
            name: "Int".into(),
            list: false,
            non_null: false,
        };
        assert_eq!(coerce(&int, Value::from("42")), Value::from(42));
        assert_eq!(coerce(&int, Value::from("x")), Value::from("x"));
        let ints = Ty {
            name: "Int".into(),
            list: true,
            non_null: false,
        };
        assert_eq!(
            coerce(&ints, serde_json::json!(["1", 2])),
            serde_json::json!([1, 2])
        );
    }

    #[test]
    fn stable_hex_is_32_hex_digits() {
        let h = stable_hex("Run:1");
        assert_eq!(h.len(), 32);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(h, stable_hex("Run:1"));
        assert_ne!(h, stable_hex("Run:2"));
    }

    #[test]
    fn clock_formats_like_ion() {
        let c = Clock::default();
        let s = c.now_iso();
        assert!(s.ends_with("+00:00") && s.len() == 32, "{s}");
    }
}
