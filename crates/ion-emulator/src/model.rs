//! What the emulator knows about a schema: the parsed SDL plus the ION conventions read from it.
//!
//! Nothing here is written for a particular ION type. Entities, their columns, their relations,
//! connection roots and lookups are all recognised from names and shapes, so any SDL that
//! follows ION's conventions (the full reference schema included) is served without code. The
//! mutation conventions are read in `plan.rs`.
//!
//! Invariant: every name stored here exists in the parsed document; resolvers look names up
//! with `[]`-free accessors and treat a miss as "not emulated", never as a panic.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{FieldDefinition, OperationType, Type};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::schema::{Component, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use super::plan::MutationPlan;

/// The GraphQL built-in scalars, which an SDL never declares.
const BUILTIN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

/// The fields of an object or interface type, by name, in schema order.
type Fields = IndexMap<Name, Component<FieldDefinition>>;

/// What kind of definition a type name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar,
    Enum,
    Object,
    Interface,
    Union,
    Input,
}

/// A field's type flattened to what the store needs: the innermost named type, whether a list
/// wraps it, and whether the outermost type is non-null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ty {
    pub name: String,
    pub list: bool,
    pub non_null: bool,
}

impl Ty {
    pub fn of(ty: &Type) -> Ty {
        Ty {
            name: ty.inner_named_type().to_string(),
            list: ty.is_list(),
            non_null: ty.is_non_null(),
        }
    }
}

/// How a field of an entity is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntityField {
    /// A stored scalar or enum value.
    Column,
    /// A single related row found through a foreign key column on this row (`run` ↔ `runId`).
    ToOne { target: String, fk: String },
    /// Related rows whose foreign key column points at this row (`Run.steps` ↔ `RunStep.runId`),
    /// as a plain list or, when `connection` is set, as a paged connection.
    ToMany {
        target: String,
        fk: String,
        connection: bool,
    },
    /// Rows of `target` reached through the rows of a keyless join entity: those whose `own_fk`
    /// points at this row, each pointing at a target row through `target_fk` (`Team.users` ↔
    /// `TeamUser.teamId` and `TeamUser.userId`).
    Through {
        target: String,
        join: String,
        own_fk: String,
        target_fk: String,
    },
    /// ION's `_<Relation>Count` fields: the number of rows of a to-many relation.
    Count { relation: String },
    /// Anything else: answered from JSON stored in the row under the field's name (attributes,
    /// settings, many-to-many lists a seed spells out), or null.
    Embedded,
}

/// One table in the store: an object type with an `id`, or a keyless one ION finds by its
/// columns (join rows such as `TeamUser`, attributes, `DatagridValue`).
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub name: String,
    /// Whether ION identifies the type by an `id`. Rows of a keyless entity carry an internal
    /// id that only the store sees.
    pub keyed: bool,
    /// Scalar and enum fields, in schema order.
    pub columns: Vec<(String, Ty)>,
    /// How each field is answered.
    pub fields: HashMap<String, EntityField>,
    /// Sort-enum spelling (`PARTNUMBER`, `LASTSESSIONID`, ...: upper case without underscores)
    /// to column name.
    pub sort_keys: HashMap<String, String>,
}

impl Entity {
    pub fn column(&self, name: &str) -> Option<&Ty> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The column holding the row's etag: `_etag`, or `Etag` on attributes and allocations.
    pub fn etag_column(&self) -> Option<&'static str> {
        ["_etag", "Etag"]
            .into_iter()
            .find(|c| self.column(c).is_some())
    }

    /// The creation timestamp column (`_created`, or `Created`).
    pub fn created_column(&self) -> Option<&'static str> {
        ["_created", "Created"]
            .into_iter()
            .find(|c| self.column(c).is_some())
    }

    /// The update timestamp column (`_updated`, or `Updated`).
    pub fn updated_column(&self) -> Option<&'static str> {
        ["_updated", "Updated"]
            .into_iter()
            .find(|c| self.column(c).is_some())
    }

    /// Whether the store keeps a key of this name for this entity: a column, the foreign key
    /// of a to-one relation (even one the type does not expose as a field, such as
    /// `Run.startedBy` ↔ `startedById`), or embedded JSON.
    pub fn keeps(&self, key: &str) -> bool {
        if self.column(key).is_some() {
            return true;
        }
        if let Some(field) = self.fields.get(key) {
            return matches!(field, EntityField::Embedded);
        }
        self.fields
            .values()
            .any(|f| matches!(f, EntityField::ToOne { fk, .. } if fk == key))
    }
}

/// How a root query field is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryPlan {
    /// `runs(filters, sort, first, after, ...)`: a paged, filtered, sorted connection.
    Connection {
        entity: String,
    },
    /// `run(id: ID!)`.
    Lookup {
        entity: String,
    },
    /// `partProcedure(partId: ID!, procedureId: ID!)`: the first row whose columns equal the
    /// arguments, as (argument, column) pairs.
    KeyLookup {
        entity: String,
        keys: Vec<(String, String)>,
    },
    /// `me`: the calling user.
    Me {
        entity: String,
    },
    /// A root returning a plain list of an entity.
    List {
        entity: String,
    },
    NotEmulated,
}

/// The parsed schema and the conventions found in it.
pub(crate) struct Model {
    /// The schema as apollo-compiler validated it: what operations are validated against and
    /// executed over.
    pub schema: Valid<Schema>,
    pub query: String,
    pub mutation: Option<String>,
    pub kinds: HashMap<String, Kind>,
    pub entities: HashMap<String, Entity>,
    /// Connection type → node entity.
    pub connections: HashMap<String, String>,
    /// Input object → its fields and their types.
    pub inputs: HashMap<String, HashMap<String, Ty>>,
    /// Enum → its values in order.
    pub enums: HashMap<String, Vec<String>>,
    pub query_plans: HashMap<String, QueryPlan>,
    pub mutation_plans: HashMap<String, MutationPlan>,
}

/// `RunStep` → `runStep`.
pub(crate) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The spelling used to match sort-enum values to columns: upper case with underscores removed,
/// so `PART_NUMBER` matches `partNumber` and `_LAST_SESSION_ID` matches `LastSessionId`.
pub(crate) fn sort_spelling(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_uppercase)
        .collect()
}

fn object_fields(def: &ExtendedType) -> Option<&Fields> {
    match def {
        ExtendedType::Object(o) => Some(&o.fields),
        ExtendedType::Interface(i) => Some(&i.fields),
        _ => None,
    }
}

/// Foreign keys every ION row carries, which say who wrote it rather than what it joins.
const BOOKKEEPING_FKS: [&str; 2] = ["createdById", "updatedById"];

/// The entity a `<name>Id` column spells (`userId` → `User`, `partInventoryId` →
/// `PartInventory`).
fn named_entity<'a>(entities: &'a HashMap<String, Entity>, column: &str) -> Option<&'a str> {
    let stem = column.strip_suffix("Id")?;
    entities
        .keys()
        .find(|e| lower_first(e) == stem)
        .map(String::as_str)
}

/// The column of `join` pointing at `target`: the one named `preferred` when it does, else the
/// only one.
fn join_column(
    entities: &HashMap<String, Entity>,
    plans: &HashMap<String, HashMap<String, EntityField>>,
    join: &Entity,
    target: &str,
    preferred: &str,
    except: Option<&str>,
) -> Option<String> {
    let points_at = |c: &str| {
        let to_one = plans.get(&join.name).is_some_and(|p| {
            p.values().any(
                |f| matches!(f, EntityField::ToOne { target: t, fk } if fk == c && t == target),
            )
        });
        to_one || named_entity(entities, c) == Some(target)
    };
    let candidates: Vec<&String> = join
        .columns
        .iter()
        .map(|(c, _)| c)
        .filter(|c| Some(c.as_str()) != except && points_at(c))
        .collect();
    if let Some(c) = candidates.iter().find(|c| c.as_str() == preferred) {
        return Some((*c).clone());
    }
    match candidates.as_slice() {
        [c] => Some((*c).clone()),
        _ => None,
    }
}

/// A many-to-many relation `owner.field: [target]` kept in the rows of a keyless join entity
/// named after both sides (`Team.users` ↔ `TeamUser`, `User.roles` ↔ `UserRole`), or, for a
/// relation of a type with itself, named after the type and holding `<field, singular>Id`
/// (`Issue.relatedIssues` ↔ `IssueRelation.relatedIssueId`, the other side `originIssueId`).
fn through(
    entities: &HashMap<String, Entity>,
    plans: &HashMap<String, HashMap<String, EntityField>>,
    owner: &Entity,
    field: &str,
    target: &str,
) -> Option<EntityField> {
    let found = entities.values().filter(|j| !j.keyed).find_map(|join| {
        if owner.name == target {
            if !join.name.starts_with(&owner.name) {
                return None;
            }
            let target_fk = format!("{}Id", singular(field));
            join.column(&target_fk)?;
            let target_fk = join_column(entities, plans, join, target, &target_fk, None)?;
            let own_fk = join_column(entities, plans, join, target, "", Some(&target_fk))?;
            Some((join, own_fk, target_fk))
        } else {
            if join.name != format!("{}{target}", owner.name)
                && join.name != format!("{target}{}", owner.name)
            {
                return None;
            }
            let own = format!("{}Id", lower_first(&owner.name));
            let own_fk = join_column(entities, plans, join, &owner.name, &own, None)?;
            let other = format!("{}Id", lower_first(target));
            let target_fk = join_column(entities, plans, join, target, &other, Some(&own_fk))?;
            Some((join, own_fk, target_fk))
        }
    })?;
    let (join, own_fk, target_fk) = found;
    Some(EntityField::Through {
        target: target.to_owned(),
        join: join.name.clone(),
        own_fk,
        target_fk,
    })
}

/// The singular of a field or type name, by its last word (`relatedIssues` →
/// `relatedIssue`, `inventories` → `inventory`).
pub(crate) fn singular(s: &str) -> String {
    if let Some(stem) = s.strip_suffix("ies") {
        return format!("{stem}y");
    }
    if s.ends_with("ss") {
        return s.to_owned();
    }
    s.strip_suffix('s').unwrap_or(s).to_owned()
}

/// A name's words, each singular, lowercased and run together: the spelling in which
/// `StepEdge` and `StepsEdge`, or `ApiKey` and `APIKey`, agree.
pub(crate) fn name_words(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, c) in chars.iter().enumerate() {
        let starts_word = c.is_ascii_uppercase()
            && i > 0
            && (chars[i - 1].is_ascii_lowercase()
                || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
                    && chars[i - 1].is_ascii_uppercase());
        if (starts_word || *c == '_') && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if *c != '_' {
            current.push(*c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
        .iter()
        .map(|w| singular(&w.to_lowercase()))
        .collect::<String>()
}

impl Model {
    /// Parses and validates an SDL document and reads ION's conventions from it.
    pub fn parse(sdl: &str) -> Result<Model, String> {
        if sdl.trim().is_empty() {
            return Err("the schema is empty: expected GraphQL SDL text".to_owned());
        }
        let doc = apollo_compiler::ast::Document::parse(sdl, "schema.graphql")
            .map_err(|e| format!("the schema does not parse: {}", e.errors))?;
        let schema = doc
            .to_schema()
            .map_err(|e| format!("the schema is not valid: {}", e.errors))?;
        // Said before validation, whose message for it is less direct.
        let query = schema
            .root_operation(OperationType::Query)
            .map_or_else(|| "Query".to_owned(), |q| q.to_string());
        if schema.get_object(&query).is_none() {
            return Err(format!("the schema has no `{query}` object type"));
        }
        let schema = schema
            .validate()
            .map_err(|e| format!("the schema is not valid: {}", e.errors))?;
        let mutation = schema
            .root_operation(OperationType::Mutation)
            .map(|m| m.to_string());
        let mut model = Model {
            schema,
            query,
            mutation,
            kinds: HashMap::new(),
            entities: HashMap::new(),
            connections: HashMap::new(),
            inputs: HashMap::new(),
            enums: HashMap::new(),
            query_plans: HashMap::new(),
            mutation_plans: HashMap::new(),
        };
        model.read_kinds();
        model.find_connections();
        model.find_entities();
        model.plan_roots();
        Ok(model)
    }

    /// The schema's own types (not the built-in scalars and introspection types).
    pub fn types(&self) -> impl Iterator<Item = (&Name, &ExtendedType)> {
        self.schema.types.iter().filter(|(_, t)| !t.is_built_in())
    }

    pub fn type_def(&self, name: &str) -> Option<&ExtendedType> {
        self.schema.types.get(name)
    }

    fn read_kinds(&mut self) {
        for name in BUILTIN_SCALARS {
            self.kinds.insert(name.to_owned(), Kind::Scalar);
        }
        let mut kinds = Vec::new();
        let mut inputs = Vec::new();
        let mut enums = Vec::new();
        for (name, def) in self.types() {
            let kind = match def {
                ExtendedType::Scalar(_) => Kind::Scalar,
                ExtendedType::Enum(e) => {
                    enums.push((
                        name.to_string(),
                        e.values.keys().map(|v| v.to_string()).collect(),
                    ));
                    Kind::Enum
                }
                ExtendedType::Object(_) => Kind::Object,
                ExtendedType::Interface(_) => Kind::Interface,
                ExtendedType::Union(_) => Kind::Union,
                ExtendedType::InputObject(i) => {
                    inputs.push((
                        name.to_string(),
                        i.fields
                            .iter()
                            .map(|(f, def)| (f.to_string(), Ty::of(&def.ty)))
                            .collect(),
                    ));
                    Kind::Input
                }
            };
            kinds.push((name.to_string(), kind));
        }
        self.kinds.extend(kinds);
        self.inputs.extend(inputs);
        self.enums.extend(enums);
    }

    fn field_ty(&self, type_name: &str, field: &str) -> Option<Ty> {
        let def = self.type_def(type_name)?;
        object_fields(def)?
            .values()
            .find(|f| f.name == field)
            .map(|f| Ty::of(&f.ty))
    }

    fn find_connections(&mut self) {
        let mut found = Vec::new();
        for (type_name, def) in self.types() {
            let ExtendedType::Object(o) = def else {
                continue;
            };
            let has = |n: &str| o.fields.values().find(|f| f.name == n);
            let (Some(edges), Some(_)) = (has("edges"), has("pageInfo")) else {
                continue;
            };
            let edge = Ty::of(&edges.ty);
            if !edge.list {
                continue;
            }
            if let Some(node) = self.field_ty(&edge.name, "node")
                && self.field_ty(&edge.name, "cursor").is_some()
                && !node.list
            {
                found.push((type_name.to_string(), node.name));
            }
        }
        self.connections.extend(found);
    }

    fn is_connection(&self, name: &str) -> bool {
        self.connections.contains_key(name)
    }

    fn find_entities(&mut self) {
        let mut payloads = HashSet::new();
        if let Some(def) = self.mutation.as_deref().and_then(|m| self.type_def(m)) {
            for f in object_fields(def).into_iter().flat_map(|f| f.values()) {
                payloads.insert(Ty::of(&f.ty).name);
            }
        }
        let edge_types: HashSet<String> = self
            .connections
            .keys()
            .filter_map(|c| self.field_ty(c, "edges").map(|t| t.name))
            .collect();
        let nodes: HashSet<&String> = self.connections.values().collect();

        // First pass: which types are entities and what their columns are. Types with an `id`
        // first; then keyless ones, which need to know the others to spot their foreign keys.
        let mut entities = HashMap::new();
        let mut keyless = Vec::new();
        for (name, def) in self.types() {
            let name = name.as_str();
            let ExtendedType::Object(o) = def else {
                continue;
            };
            if name == self.query
                || Some(name) == self.mutation.as_deref()
                || self.is_connection(name)
                || edge_types.contains(name)
            {
                continue;
            }
            let has_etag = o
                .fields
                .values()
                .any(|f| f.name == "_etag" || f.name == "Etag");
            if payloads.contains(name) && !has_etag {
                continue;
            }
            let columns = o
                .fields
                .values()
                .filter_map(|f| {
                    let ty = Ty::of(&f.ty);
                    matches!(self.kinds.get(&ty.name), Some(Kind::Scalar | Kind::Enum))
                        .then(|| (f.name.to_string(), ty))
                })
                .collect::<Vec<_>>();
            let sort_keys = columns
                .iter()
                .map(|(c, _)| (sort_spelling(c), c.clone()))
                .collect();
            let keyed = o.fields.values().any(|f| {
                let ty = Ty::of(&f.ty);
                f.name == "id" && !ty.list && (ty.name == "Int" || ty.name == "ID")
            });
            let entity = Entity {
                name: name.to_owned(),
                keyed,
                columns,
                fields: HashMap::new(),
                sort_keys,
            };
            if keyed {
                entities.insert(name.to_owned(), entity);
            } else {
                keyless.push((entity, has_etag, nodes.contains(&name.to_owned())));
            }
        }
        // A keyless type is a table when it carries an etag (attributes, `DatagridValue`), is
        // the node of a connection (`logs`), or joins two entities (`TeamUser`: `teamId` and
        // `userId`).
        for (entity, has_etag, node) in keyless {
            let joins = entity
                .columns
                .iter()
                .filter(|(c, _)| !BOOKKEEPING_FKS.contains(&c.as_str()))
                .filter(|(c, _)| {
                    let field = c
                        .strip_suffix("Id")
                        .and_then(|f| self.field_ty(&entity.name, f));
                    field.is_some_and(|t| entities.contains_key(&t.name))
                        || named_entity(&entities, c).is_some()
                })
                .count();
            if has_etag || node || joins >= 2 {
                entities.insert(entity.name.clone(), entity);
            }
        }

        // Second pass: to-one relations (they decide the foreign keys of to-many ones).
        let mut plans: HashMap<String, HashMap<String, EntityField>> = HashMap::new();
        for (name, entity) in &entities {
            let Some(def) = self.type_def(name) else {
                continue;
            };
            let mut fields = HashMap::new();
            for f in object_fields(def).into_iter().flat_map(|f| f.values()) {
                let fname = f.name.to_string();
                let ty = Ty::of(&f.ty);
                let plan = if entity.column(&fname).is_some() {
                    EntityField::Column
                } else if entities.contains_key(&ty.name) && !ty.list {
                    EntityField::ToOne {
                        target: ty.name.clone(),
                        fk: format!("{fname}Id"),
                    }
                } else {
                    EntityField::Embedded
                };
                fields.insert(fname, plan);
            }
            plans.insert(name.clone(), fields);
        }

        // Third pass: to-many relations, many-to-many relations through join rows, counts.
        let mut to_many = Vec::new();
        for (name, entity) in &entities {
            let Some(def) = self.type_def(name) else {
                continue;
            };
            for f in object_fields(def).into_iter().flat_map(|f| f.values()) {
                let fname = f.name.to_string();
                let ty = Ty::of(&f.ty);
                let (target, connection) = if entities.contains_key(&ty.name) && ty.list {
                    (ty.name.clone(), false)
                } else if let Some(node) = self.connections.get(&ty.name) {
                    if !entities.contains_key(node) || ty.list {
                        continue;
                    }
                    (node.clone(), true)
                } else {
                    continue;
                };
                let (Some(target_entity), Some(target_plans)) =
                    (entities.get(&target), plans.get(&target))
                else {
                    continue;
                };
                // The foreign key on the target: `<owner>Id` when the target has that column,
                // otherwise the single to-one relation of the target pointing back at the owner
                // (`Part.revisions` ↔ `Part.revisedFrom` ↔ `revisedFromId`).
                let conventional = format!("{}Id", lower_first(&entity.name));
                let fk = if target_entity.column(&conventional).is_some() && target != *name {
                    Some(conventional)
                } else {
                    let back: Vec<&String> = target_plans
                        .values()
                        .filter_map(|p| match p {
                            EntityField::ToOne { target: t, fk } if t == name => Some(fk),
                            _ => None,
                        })
                        .filter(|fk| target_entity.column(fk).is_some())
                        .collect();
                    (back.len() == 1).then(|| back[0].clone())
                };
                let plan = match fk {
                    Some(fk) => EntityField::ToMany {
                        target,
                        fk,
                        connection,
                    },
                    None if !connection => {
                        match through(&entities, &plans, entity, &fname, &target) {
                            Some(plan) => plan,
                            None => continue,
                        }
                    }
                    None => continue,
                };
                to_many.push((name.clone(), fname, plan));
            }
        }
        for (owner, field, plan) in to_many {
            if let Some(p) = plans.get_mut(&owner) {
                p.insert(field, plan);
            }
        }
        for (name, fields) in plans.iter_mut() {
            let relations: Vec<String> = fields
                .iter()
                .filter(|(_, p)| {
                    matches!(p, EntityField::ToMany { .. } | EntityField::Through { .. })
                })
                .map(|(n, _)| n.clone())
                .collect();
            let Some(entity) = entities.get(name) else {
                continue;
            };
            for (col, ty) in &entity.columns {
                let Some(rel) = col.strip_prefix('_').and_then(|c| c.strip_suffix("Count")) else {
                    continue;
                };
                if ty.name != "Int" {
                    continue;
                }
                if let Some(r) = relations.iter().find(|r| r.eq_ignore_ascii_case(rel)) {
                    fields.insert(
                        col.clone(),
                        EntityField::Count {
                            relation: r.clone(),
                        },
                    );
                }
            }
        }
        for (name, fields) in plans {
            if let Some(e) = entities.get_mut(&name) {
                e.fields = fields;
            }
        }
        self.entities = entities;
    }

    /// The entity a foreign-key column points at: the target of the to-one relation it backs
    /// (`startedById` ↔ `startedBy: User`), else the entity its name spells (`userId` → `User`).
    pub fn fk_target<'s>(&'s self, entity: &'s Entity, column: &str) -> Option<&'s str> {
        let to_one = entity.fields.values().find_map(|f| match f {
            EntityField::ToOne { target, fk } if fk == column => Some(target.as_str()),
            _ => None,
        });
        to_one.or_else(|| {
            named_entity(&self.entities, column)
                .and_then(|n| self.entities.get_key_value(n))
                .map(|(k, _)| k.as_str())
        })
    }

    /// Finds an entity by a name as it appears in a mutation (`ApiKey` for `APIKey`, `Runs`
    /// for `Run`).
    pub fn entity_named(&self, suffix: &str) -> Option<String> {
        let mut candidates = vec![suffix.to_owned()];
        if let Some(s) = suffix.strip_suffix("ies") {
            candidates.push(format!("{s}y"));
        }
        if let Some(s) = suffix.strip_suffix("es") {
            candidates.push(s.to_owned());
        }
        if let Some(s) = suffix.strip_suffix('s') {
            candidates.push(s.to_owned());
        }
        candidates.iter().find_map(|c| {
            self.entities
                .keys()
                .find(|e| e.eq_ignore_ascii_case(c))
                .cloned()
        })
    }

    fn plan_roots(&mut self) {
        let mut query_plans = HashMap::new();
        if let Some(def) = self.type_def(&self.query) {
            for f in object_fields(def).into_iter().flat_map(|f| f.values()) {
                let name = f.name.to_string();
                let ty = Ty::of(&f.ty);
                let has_id_arg = f.arguments.iter().any(|a| a.name == "id");
                let plan = if let Some(node) = self.connections.get(&ty.name) {
                    if self.entities.contains_key(node) && !ty.list {
                        QueryPlan::Connection {
                            entity: node.clone(),
                        }
                    } else {
                        QueryPlan::NotEmulated
                    }
                } else if let Some(entity) = self.entities.get(&ty.name) {
                    if ty.list {
                        QueryPlan::List { entity: ty.name }
                    } else if has_id_arg {
                        QueryPlan::Lookup { entity: ty.name }
                    } else if name == "me" {
                        QueryPlan::Me { entity: ty.name }
                    } else if let Some(keys) = self.key_arguments(entity, f) {
                        QueryPlan::KeyLookup {
                            entity: ty.name,
                            keys,
                        }
                    } else {
                        QueryPlan::NotEmulated
                    }
                } else {
                    QueryPlan::NotEmulated
                };
                query_plans.insert(name, plan);
            }
        }
        self.query_plans = query_plans;

        let mut mutation_plans = HashMap::new();
        if let Some(def) = self.mutation.as_deref().and_then(|m| self.type_def(m)) {
            for f in object_fields(def).into_iter().flat_map(|f| f.values()) {
                if let Some(plan) = self.plan_mutation(f) {
                    mutation_plans.insert(f.name.to_string(), plan);
                }
            }
        }
        self.mutation_plans = mutation_plans;
    }

    /// Each argument of a lookup as the column it equals: the column of its name, else the one
    /// column of its enum type (`gateType` ↔ `issueApprovalGateType`). `None` unless every
    /// argument has one.
    fn key_arguments(&self, entity: &Entity, f: &FieldDefinition) -> Option<Vec<(String, String)>> {
        let mut keys = Vec::new();
        for a in &f.arguments {
            let ty = Ty::of(&a.ty);
            let column = if entity.column(&a.name).is_some() {
                a.name.to_string()
            } else {
                let same_type: Vec<&String> = entity
                    .columns
                    .iter()
                    .filter(|(_, t)| {
                        t.name == ty.name && self.kinds.get(&t.name) == Some(&Kind::Enum)
                    })
                    .map(|(c, _)| c)
                    .collect();
                match same_type.as_slice() {
                    [c] => (*c).clone(),
                    _ => return None,
                }
            };
            keys.push((a.name.to_string(), column));
        }
        (!keys.is_empty()).then_some(keys)
    }

    pub fn object_fields(&self, type_name: &str) -> Vec<(String, Ty)> {
        self.type_def(type_name)
            .and_then(object_fields)
            .map(|fields| {
                fields
                    .values()
                    .map(|f| (f.name.to_string(), Ty::of(&f.ty)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether an input type is one of ION's per-column operator filters (`StringFilter`,
    /// `IDFilter`, `<Enum>Filter`, ...), as opposed to a nested `<Plural>InputFilters`.
    pub fn is_operator_filter(&self, input: &str) -> bool {
        self.inputs
            .get(input)
            .is_some_and(|f| f.contains_key("eq") && f.contains_key("isnull"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plan::{RowKey, Verb};

    const SDL: &str = r#"
        type Query {
          runs(filters: RunsInputFilters, sort: [RunSortEnum], first: Int, after: String): RunsConnection
          run(id: ID!): Run
          me: User
          version: String
        }
        type Mutation {
          createRun(input: CreateRunInput!): CreateRun
          updateRuns(input: [UpdateRunInput]): UpdateRuns
          deleteRun(id: ID!, etag: String!): DeleteRun
          archiveRun(id: ID!): Run
          createKitForRun(runId: ID!): CreateKitForRun
        }
        type CreateKitForRun { run: Run }
        type User { id: Int! name: String }
        type Run { id: Int! _etag: String title: String! partNumber: String procedureId: Int
          steps: [RunStep] procedure: Procedure assignedTo: User _StepsCount: Int }
        type RunStep { id: Int! runId: Int! parentId: Int run: Run parent: RunStep steps: [RunStep] }
        type Procedure { id: Int! title: String runs: [Run] }
        type RunsConnection { pageInfo: PageInfo! edges: [RunsEdge]! }
        type RunsEdge { node: Run cursor: String! }
        type PageInfo { hasNextPage: Boolean! }
        type CreateRun { run: Run }
        type UpdateRuns { runs: [Run] }
        type DeleteRun { id: Int }
        input CreateRunInput { title: String }
        input UpdateRunInput { id: ID! etag: String! title: String }
        input RunsInputFilters { title: StringFilter and_: [RunsInputFilters] }
        input StringFilter { eq: String isnull: Boolean }
        enum RunSortEnum { ID_ASC PART_NUMBER_DESC }
    "#;

    #[test]
    fn reads_conventions() {
        let m = Model::parse(SDL).unwrap();
        assert_eq!(
            m.connections.get("RunsConnection").map(String::as_str),
            Some("Run")
        );
        let run = &m.entities["Run"];
        assert_eq!(
            run.fields["steps"],
            EntityField::ToMany {
                target: "RunStep".into(),
                fk: "runId".into(),
                connection: false
            }
        );
        assert_eq!(
            run.fields["procedure"],
            EntityField::ToOne {
                target: "Procedure".into(),
                fk: "procedureId".into()
            }
        );
        assert_eq!(
            run.fields["_StepsCount"],
            EntityField::Count {
                relation: "steps".into()
            }
        );
        assert_eq!(run.sort_keys["PARTNUMBER"], "partNumber");
        assert!(run.keeps("assignedToId"));
        assert!(!run.keeps("nonsense"));
        let step = &m.entities["RunStep"];
        assert_eq!(
            step.fields["steps"],
            EntityField::ToMany {
                target: "RunStep".into(),
                fk: "parentId".into(),
                connection: false
            }
        );
        assert_eq!(
            m.query_plans["runs"],
            QueryPlan::Connection {
                entity: "Run".into()
            }
        );
        assert_eq!(
            m.query_plans["run"],
            QueryPlan::Lookup {
                entity: "Run".into()
            }
        );
        assert_eq!(
            m.query_plans["me"],
            QueryPlan::Me {
                entity: "User".into()
            }
        );
        assert_eq!(m.query_plans["version"], QueryPlan::NotEmulated);
        let write = |name: &str| match &m.mutation_plans[name] {
            MutationPlan::Write(w) => w.clone(),
            other => panic!("{name}: {other:?}"),
        };
        let create = write("createRun");
        assert_eq!((create.verb, create.entity.as_str()), (Verb::Create, "Run"));
        let update = write("updateRuns");
        assert_eq!(
            (update.entity.as_str(), update.inputs.arg.clone()),
            ("Run", Some(("input".into(), true)))
        );
        assert_eq!(write("deleteRun").key, Some(RowKey::Id("id".into())));
        assert!(!m.mutation_plans.contains_key("archiveRun"));
        assert!(!m.mutation_plans.contains_key("createKitForRun"));
        assert!(!m.entities.contains_key("DeleteRun"));
        assert!(m.is_operator_filter("StringFilter"));
        assert!(!m.is_operator_filter("RunsInputFilters"));
    }

    #[test]
    fn keyless_types_are_tables_and_join_many_to_many_relations() {
        let m = Model::parse(
            r#"
            type Query { teams(first: Int): TeamsConnection teamUser(teamId: ID!, userId: ID!): TeamUser }
            type Team { id: Int! name: String users: [User] teamUsers: [TeamUser] _UsersCount: Int }
            type User { id: Int! teams: [Team] }
            type TeamUser { teamId: Int userId: Int team: Team }
            type RunAttribute { key: String! Etag: String! runId: Int }
            type Note { text: String runId: Int }
            type TeamsConnection { pageInfo: PageInfo! edges: [TeamsEdge]! }
            type TeamsEdge { node: Team cursor: String! }
            type PageInfo { hasNextPage: Boolean! }
        "#,
        )
        .unwrap();
        assert!(!m.entities["TeamUser"].keyed && m.entities["Team"].keyed);
        assert_eq!(m.entities["RunAttribute"].etag_column(), Some("Etag"));
        assert!(!m.entities.contains_key("Note"));
        let through = EntityField::Through {
            target: "User".into(),
            join: "TeamUser".into(),
            own_fk: "teamId".into(),
            target_fk: "userId".into(),
        };
        assert_eq!(m.entities["Team"].fields["users"], through);
        assert_eq!(
            m.entities["Team"].fields["_UsersCount"],
            EntityField::Count {
                relation: "users".into()
            }
        );
        assert!(matches!(
            &m.entities["User"].fields["teams"],
            EntityField::Through { own_fk, .. } if own_fk == "userId"
        ));
        assert_eq!(
            m.query_plans["teamUser"],
            QueryPlan::KeyLookup {
                entity: "TeamUser".into(),
                keys: vec![
                    ("teamId".into(), "teamId".into()),
                    ("userId".into(), "userId".into())
                ],
            }
        );
    }

    #[test]
    fn names_agree_word_for_word() {
        assert_eq!(name_words("StepsEdge"), name_words("StepEdge"));
        assert_eq!(name_words("APIKeyObject"), "apikeyobject");
        assert_eq!(name_words("ApiKey"), "apikey");
        assert_eq!(name_words("MBomItems"), name_words("MbomItem"));
        assert_eq!(singular("inventories"), "inventory");
        assert_eq!(singular("address"), "address");
    }

    #[test]
    fn empty_schema_is_an_error() {
        assert!(
            Model::parse("  \n")
                .err()
                .is_some_and(|e| e.contains("empty"))
        );
    }
}
