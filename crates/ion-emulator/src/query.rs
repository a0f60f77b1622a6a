//! Filters, sorts and pages over rows, the way ION's graphene/SQLAlchemy layer answers them.
//!
//! Pure functions over the store's rows, so each rule is unit-tested here without HTTP.

use std::cmp::Ordering;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::model::{Entity, EntityField, Model};
use super::store::{RowRef, Tables, coerce};

/// The prefix graphql-relay puts before the offset in a cursor.
const CURSOR_PREFIX: &str = "arrayconnection:";

/// The cursor of the row at `offset`: base64 of `arrayconnection:<offset>`, as graphql-relay.
pub(crate) fn cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

/// The offset in a cursor; `None` for an empty or malformed one (graphql-relay ignores those).
pub(crate) fn cursor_offset(cursor: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?.parse().ok()
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn timestamp(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

/// Compares two JSON values as PostgreSQL would compare the column with the operand: numbers
/// numerically (also when one side is a numeric string, as `ID`s are), timestamps as instants,
/// other strings lexically. `None` when they cannot be compared (either is null).
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => {
            if let (Some(tx), Some(ty)) = (timestamp(x), timestamp(y)) {
                return Some(tx.cmp(&ty));
            }
            Some(x.cmp(y))
        }
        (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => {
            match (number(a), number(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => Some(text(a).cmp(&text(b))),
            }
        }
        _ => Some(text(a).cmp(&text(b))),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// SQL `LIKE`: `%` matches any run, `_` one character, `\` escapes the next one.
pub(crate) fn like(value: &str, pattern: &str, case_insensitive: bool) -> bool {
    let fold = |s: &str| {
        if case_insensitive {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    };
    let v: Vec<char> = fold(value).chars().collect();
    // Tokens: Some(c) a literal, None for `_`; `%` splits runs.
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::new();
    let mut chars = fold(pattern).chars().collect::<Vec<_>>().into_iter();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            '%' => Tok::Any,
            '_' => Tok::One,
            c => Tok::Lit(c),
        });
    }
    // Classic DP over (pattern position, value position).
    let mut reach = vec![false; v.len() + 1];
    reach[0] = true;
    for tok in toks {
        let mut next = vec![false; v.len() + 1];
        match tok {
            Tok::Any => {
                let mut seen = false;
                for i in 0..=v.len() {
                    seen |= reach[i];
                    next[i] = seen;
                }
            }
            Tok::One => {
                next[1..].copy_from_slice(&reach[..v.len()]);
            }
            Tok::Lit(c) => {
                for i in 0..v.len() {
                    next[i + 1] = reach[i] && v[i] == c;
                }
            }
        }
        reach = next;
    }
    reach[v.len()]
}

fn trigrams(s: &str) -> std::collections::HashSet<[char; 3]> {
    let mut out = std::collections::HashSet::new();
    for word in s
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let padded: Vec<char> = "  "
            .chars()
            .chain(word.chars())
            .chain(" ".chars())
            .collect();
        for w in padded.windows(3) {
            out.insert([w[0], w[1], w[2]]);
        }
    }
    out
}

/// pg_trgm's `similarity`: shared trigrams over all trigrams of the two strings.
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    let (ta, tb) = (trigrams(a), trigrams(b));
    let union = ta.union(&tb).count();
    if union == 0 {
        return 0.0;
    }
    ta.intersection(&tb).count() as f64 / union as f64
}

/// Evaluates `<Plural>InputFilters` against rows.
pub(crate) struct Filter<'a> {
    pub model: &'a Model,
    pub tables: &'a Tables,
}

/// The id a foreign-key value points at.
pub(crate) fn as_id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Filter<'_> {
    /// Rows of `target` whose `fk` column points at `id`, in id order.
    pub fn children(&self, target: &str, fk: &str, id: i64) -> Vec<RowRef> {
        self.tables
            .rows(target)
            .filter(|r| r.data.get(fk).and_then(as_id) == Some(id))
            .cloned()
            .collect()
    }

    /// The row a to-one relation points at.
    pub fn parent(&self, row: &RowRef, target: &str, fk: &str) -> Option<RowRef> {
        let id = row.data.get(fk).and_then(as_id)?;
        self.tables.get(target, id).cloned()
    }

    /// The rows a many-to-many relation reaches through its join rows, in join-row order.
    pub fn through(&self, plan: &EntityField, row: &RowRef) -> Vec<RowRef> {
        let EntityField::Through {
            target,
            join,
            own_fk,
            target_fk,
        } = plan
        else {
            return Vec::new();
        };
        self.children(join, own_fk, row.id)
            .iter()
            .filter_map(|j| j.data.get(target_fk).and_then(as_id))
            .filter_map(|id| self.tables.get(target, id).cloned())
            .collect()
    }

    /// The related rows of a relation field, if the field is one.
    fn related(&self, entity: &Entity, row: &RowRef, field: &str) -> Option<Vec<RowRef>> {
        match entity.fields.get(field)? {
            EntityField::ToOne { target, fk } => {
                Some(self.parent(row, target, fk).into_iter().collect())
            }
            EntityField::ToMany { target, fk, .. } => Some(self.children(target, fk, row.id)),
            through @ EntityField::Through { .. } => Some(self.through(through, row)),
            _ => None,
        }
    }

    /// A column's value; a name the entity lacks is looked up through its to-one relations
    /// (ION's `RunsInputFilters.partNumber` filters on the run's part).
    fn column(&self, entity: &Entity, row: &RowRef, name: &str) -> Value {
        if entity.column(name).is_some() || row.data.contains_key(name) {
            return row.data.get(name).cloned().unwrap_or(Value::Null);
        }
        let mut to_one: Vec<(&String, &String, &String)> = entity
            .fields
            .iter()
            .filter_map(|(f, p)| match p {
                EntityField::ToOne { target, fk } => Some((f, target, fk)),
                _ => None,
            })
            .collect();
        to_one.sort();
        for (_, target, fk) in to_one {
            let Some(t) = self.model.entities.get(target) else {
                continue;
            };
            if t.column(name).is_some() {
                return self
                    .parent(row, target, fk)
                    .and_then(|p| p.data.get(name).cloned())
                    .unwrap_or(Value::Null);
            }
        }
        Value::Null
    }

    /// Whether `row` satisfies `filter`, an object of the input type `filter_type`.
    pub fn matches(
        &self,
        entity: &Entity,
        row: &RowRef,
        filter_type: &str,
        filter: &Map<String, Value>,
    ) -> Result<bool, String> {
        let fields = self.model.inputs.get(filter_type);
        for (key, value) in filter {
            if value.is_null() {
                continue;
            }
            let ok = match key.as_str() {
                "and_" | "or_" => {
                    let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
                    let mut results = Vec::with_capacity(items.len());
                    for item in items {
                        let Some(obj) = item.as_object() else {
                            continue;
                        };
                        results.push(self.matches(entity, row, filter_type, obj)?);
                    }
                    if key == "and_" || results.is_empty() {
                        results.iter().all(|r| *r)
                    } else {
                        results.iter().any(|r| *r)
                    }
                }
                _ => {
                    let Some(obj) = value.as_object() else {
                        // A bare scalar (the extra arguments some roots take): equality.
                        let v = self.column(entity, row, key);
                        if compare(&v, value) != Some(Ordering::Equal) {
                            return Ok(false);
                        }
                        continue;
                    };
                    let field_ty = fields.and_then(|f| f.get(key)).map(|t| t.name.as_str());
                    match field_ty {
                        Some(t) if !self.model.is_operator_filter(t) => {
                            let Some(related) = self.related(entity, row, key) else {
                                return Err(format!(
                                    "the emulator cannot filter {} by `{key}`: it does not know how \
                                     that relation is stored",
                                    entity.name
                                ));
                            };
                            let target = match entity.fields.get(key) {
                                Some(
                                    EntityField::ToOne { target, .. }
                                    | EntityField::ToMany { target, .. }
                                    | EntityField::Through { target, .. },
                                ) => target,
                                _ => continue,
                            };
                            let Some(target_entity) = self.model.entities.get(target) else {
                                continue;
                            };
                            let mut any = false;
                            for r in &related {
                                if self.matches(target_entity, r, t, obj)? {
                                    any = true;
                                    break;
                                }
                            }
                            any
                        }
                        _ => {
                            let v = self.column(entity, row, key);
                            let ty = entity.column(key);
                            operators(&v, obj, ty)?
                        }
                    }
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Applies one column filter (`{eq: .., in: [..], ...}`); every operator given must hold.
fn operators(
    v: &Value,
    ops: &Map<String, Value>,
    ty: Option<&super::model::Ty>,
) -> Result<bool, String> {
    let operand = |o: &Value| match ty {
        Some(t) => coerce(t, o.clone()),
        None => o.clone(),
    };
    for (op, o) in ops {
        if o.is_null() {
            continue;
        }
        let o = operand(o);
        let ok = match op.as_str() {
            "eq" => compare(v, &o) == Some(Ordering::Equal),
            "neq" => matches!(compare(v, &o), Some(Ordering::Less | Ordering::Greater)),
            "gt" => compare(v, &o) == Some(Ordering::Greater),
            "gte" => matches!(compare(v, &o), Some(Ordering::Greater | Ordering::Equal)),
            "lt" => compare(v, &o) == Some(Ordering::Less),
            "lte" => matches!(compare(v, &o), Some(Ordering::Less | Ordering::Equal)),
            "in" => o.as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|i| compare(v, &operand(i)) == Some(Ordering::Equal))
            }),
            "isnull" => o.as_bool().is_some_and(|want| want == v.is_null()),
            "like" | "ilike" | "notlike" | "notilike" => {
                if v.is_null() {
                    false
                } else {
                    let hit = like(&text(v), &text(&o), op.contains("ilike"));
                    if op.starts_with("not") { !hit } else { hit }
                }
            }
            "fuzzyMatch" => {
                let Some(m) = o.as_object() else { continue };
                let Some(target) = m.get("value").and_then(Value::as_str) else {
                    continue;
                };
                let threshold = m.get("similarity").and_then(Value::as_f64).unwrap_or(0.5);
                !v.is_null() && similarity(&text(v), target) >= threshold
            }
            other => return Err(format!("unknown filter operator `{other}`")),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One sort key read from a `<Type>SortEnum` value.
struct SortKey {
    column: Option<String>,
    descending: bool,
}

fn sort_keys(entity: &Entity, values: &[String]) -> Result<Vec<SortKey>, String> {
    values
        .iter()
        .map(|v| {
            let (name, descending) = if let Some(n) = v.strip_suffix("_ASC") {
                (n, false)
            } else if let Some(n) = v.strip_suffix("_DESC") {
                (n, true)
            } else {
                return Err(format!("sort value `{v}` does not end in _ASC or _DESC"));
            };
            let column = entity
                .sort_keys
                .get(&super::model::sort_spelling(name))
                .cloned();
            Ok(SortKey { column, descending })
        })
        .collect()
}

/// Whether sorting by `values` leaves rows in id order, ascending: every key that names a
/// column names `id` ascending (keys naming no column are ignored by [`sort`], which ends
/// on the id).
pub(crate) fn in_id_order(entity: &Entity, values: &[String]) -> Result<bool, String> {
    Ok(sort_keys(entity, values)?.iter().all(|k| {
        k.column
            .as_deref()
            .is_none_or(|c| c == "id" && !k.descending)
    }))
}

/// Sorts rows by the given sort-enum values, then by id so the order is total (offset cursors
/// are only stable over a total order). Nulls sort last ascending and first descending, as in
/// PostgreSQL.
pub(crate) fn sort(entity: &Entity, rows: &mut [RowRef], values: &[String]) -> Result<(), String> {
    let keys = sort_keys(entity, values)?;
    rows.sort_by(|a, b| {
        for key in &keys {
            let Some(col) = &key.column else { continue };
            let va = a.data.get(col).unwrap_or(&Value::Null);
            let vb = b.data.get(col).unwrap_or(&Value::Null);
            let ord = match (va.is_null(), vb.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => compare(va, vb).unwrap_or(Ordering::Equal),
            };
            let ord = if key.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
    Ok(())
}

/// PostgreSQL's `DISTINCT ON`: keeps the first row of each group of equal key columns.
pub(crate) fn distinct_on(
    entity: &Entity,
    rows: &mut Vec<RowRef>,
    values: &[String],
) -> Result<(), String> {
    let keys = sort_keys(entity, values)?;
    if keys.is_empty() {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| {
        let key: Vec<String> = keys
            .iter()
            .map(|k| {
                k.column
                    .as_ref()
                    .and_then(|c| r.data.get(c))
                    .map(Value::to_string)
                    .unwrap_or_default()
            })
            .collect();
        seen.insert(key)
    });
    Ok(())
}

/// `first/after/last/before` as given.
#[derive(Debug, Default, Clone)]
pub(crate) struct PageArgs {
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// ION's `IonPageInfo`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
    pub count: usize,
    pub total_count: usize,
}

/// One page of a connection.
#[derive(Debug)]
pub(crate) struct Page {
    pub edges: Vec<(RowRef, String)>,
    pub info: PageInfo,
}

/// Cuts a page out of the full, ordered result the way graphql-relay's
/// `connection_from_array_slice` does, and adds ION's `count`/`totalCount`.
pub(crate) fn page(rows: Vec<RowRef>, args: &PageArgs) -> Result<Page, String> {
    let total = rows.len() as i64;
    for (name, v) in [("first", args.first), ("last", args.last)] {
        if v.is_some_and(|v| v < 0) {
            return Err(format!("Argument '{name}' must be a non-negative integer."));
        }
    }
    let nonempty = |c: &Option<String>| c.as_deref().filter(|c| !c.is_empty()).map(str::to_owned);
    let (after, before) = (nonempty(&args.after), nonempty(&args.before));
    let before_offset = before.as_deref().and_then(cursor_offset).unwrap_or(total);
    let after_offset = after.as_deref().and_then(cursor_offset).unwrap_or(-1);
    let mut start = (after_offset + 1).max(0);
    let mut end = before_offset.min(total);
    if let Some(first) = args.first {
        end = end.min(start + first);
    }
    if let Some(last) = args.last {
        start = start.max(end - last);
    }
    let (s, e) = (start.clamp(0, total) as usize, end.clamp(0, total) as usize);
    let edges: Vec<(RowRef, String)> = if s < e {
        rows[s..e]
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), cursor(s + i)))
            .collect()
    } else {
        Vec::new()
    };
    let lower = if after.is_some() { after_offset + 1 } else { 0 };
    let upper = if before.is_some() {
        before_offset
    } else {
        total
    };
    let info = PageInfo {
        has_next_page: args.first.is_some() && end < upper,
        has_previous_page: args.last.is_some() && start > lower,
        start_cursor: edges.first().map(|(_, c)| c.clone()),
        end_cursor: edges.last().map(|(_, c)| c.clone()),
        count: edges.len(),
        total_count: rows.len(),
    };
    Ok(Page { edges, info })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use serde_json::json;

    use super::super::store::Row;

    fn rows(n: i64) -> Vec<RowRef> {
        (1..=n)
            .map(|id| {
                Arc::new(Row {
                    entity: Arc::from("Run"),
                    id,
                    data: Map::new(),
                })
            })
            .collect()
    }

    #[test]
    fn cursors_are_graphql_relay_offsets() {
        assert_eq!(cursor(0), "YXJyYXljb25uZWN0aW9uOjA=");
        assert_eq!(cursor_offset("YXJyYXljb25uZWN0aW9uOjA="), Some(0));
        assert_eq!(cursor_offset("garbage"), None);
    }

    #[test]
    fn pages_forward_and_backward() {
        let p = page(
            rows(5),
            &PageArgs {
                first: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            p.edges.iter().map(|(r, _)| r.id).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(p.info.has_next_page && !p.info.has_previous_page);
        assert_eq!((p.info.count, p.info.total_count), (2, 5));
        let after = p.info.end_cursor.clone();
        let p = page(
            rows(5),
            &PageArgs {
                first: Some(10),
                after,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            p.edges.iter().map(|(r, _)| r.id).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert!(!p.info.has_next_page);
        let p = page(
            rows(5),
            &PageArgs {
                last: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            p.edges.iter().map(|(r, _)| r.id).collect::<Vec<_>>(),
            [4, 5]
        );
        assert!(p.info.has_previous_page);
        let p = page(
            rows(5),
            &PageArgs {
                first: Some(2),
                after: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.edges[0].0.id, 1);
        let before = Some(cursor(2));
        let p = page(
            rows(5),
            &PageArgs {
                last: Some(1),
                before,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.edges.iter().map(|(r, _)| r.id).collect::<Vec<_>>(), [2]);
        assert!(
            page(
                rows(1),
                &PageArgs {
                    first: Some(-1),
                    ..Default::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn like_follows_sql() {
        assert!(like("Bracket A", "Brack%", false));
        assert!(!like("Bracket A", "brack%", false));
        assert!(like("Bracket A", "brack%", true));
        assert!(like("abc", "a_c", false));
        assert!(!like("abbc", "a_c", false));
        assert!(like("50%", "50\\%", false));
        assert!(like("", "%", false));
    }

    #[test]
    fn compares_like_postgres() {
        assert_eq!(compare(&json!(3), &json!("3")), Some(Ordering::Equal));
        assert_eq!(compare(&json!(10), &json!(9)), Some(Ordering::Greater));
        assert_eq!(
            compare(
                &json!("2024-01-01T00:00:00+00:00"),
                &json!("2023-12-31T23:00:00-02:00")
            ),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&json!(null), &json!(1)), None);
    }

    #[test]
    fn similarity_matches_pg_trgm_shape() {
        assert!((similarity("word", "word") - 1.0).abs() < 1e-9);
        assert!(similarity("bracket", "braket") > 0.3);
        assert!(similarity("bracket", "zzz") < 0.1);
    }
}
