//! What the emulator knows about a schema: the parsed SDL plus the ION conventions read from it.
//!
//! Nothing here is written for a particular ION type. Entities, their columns, their relations,
//! connection roots and write mutations are all recognised from names and shapes, so any SDL
//! that follows ION's conventions (the full reference schema included) is served without code.
//!
//! Invariant: every name stored here exists in the parsed document; resolvers look names up
//! with `[]`-free accessors and treat a miss as "not emulated", never as a panic.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{FieldDefinition, OperationType, Type};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::schema::{Component, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

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
    /// ION's `_<Relation>Count` fields: the number of rows of a to-many relation.
    Count { relation: String },
    /// Anything else: answered from JSON stored in the row under the field's name (attributes,
    /// settings, many-to-many lists a seed spells out), or null.
    Embedded,
}

/// An object type with an `id`: one table in the store.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub name: String,
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

    pub fn has_etag(&self) -> bool {
        self.column("_etag").is_some()
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Create,
    Update,
    Delete,
}

/// How a root mutation field writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WritePlan {
    pub verb: Verb,
    pub entity: String,
    /// The argument carrying the fields (`input`), and whether it is a list (`createRuns`).
    pub input_arg: Option<(String, bool)>,
    /// The payload field that gets the written row(s), and whether it is a list.
    pub row_field: Option<(String, bool)>,
    /// A payload field `id: Int` (delete payloads) that gets the row's id.
    pub id_field: Option<String>,
    /// The mutation returns the entity itself rather than a payload object.
    pub returns_entity: bool,
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
    pub mutation_plans: HashMap<String, WritePlan>,
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

        // First pass: which types are entities and what their columns are.
        let mut entities = HashMap::new();
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
            let Some(id) = o.fields.values().find(|f| f.name == "id") else {
                continue;
            };
            let id_ty = Ty::of(&id.ty);
            if id_ty.list || !(id_ty.name == "Int" || id_ty.name == "ID") {
                continue;
            }
            let has_etag = o.fields.values().any(|f| f.name == "_etag");
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
            entities.insert(
                name.to_owned(),
                Entity {
                    name: name.to_owned(),
                    columns,
                    fields: HashMap::new(),
                    sort_keys,
                },
            );
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

        // Third pass: to-many relations and counts.
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
                if let Some(fk) = fk {
                    to_many.push((
                        name.clone(),
                        fname,
                        EntityField::ToMany {
                            target,
                            fk,
                            connection,
                        },
                    ));
                }
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
                .filter(|(_, p)| matches!(p, EntityField::ToMany { .. }))
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

    /// Finds an entity by a name as it appears in a mutation (`ApiKey` for `APIKey`, `Runs`
    /// for `Run`).
    fn entity_named(&self, suffix: &str) -> Option<String> {
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
                } else if self.entities.contains_key(&ty.name) {
                    if ty.list {
                        QueryPlan::List { entity: ty.name }
                    } else if has_id_arg {
                        QueryPlan::Lookup { entity: ty.name }
                    } else if name == "me" {
                        QueryPlan::Me { entity: ty.name }
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
                if let Some(plan) = self.plan_write(f) {
                    mutation_plans.insert(f.name.to_string(), plan);
                }
            }
        }
        self.mutation_plans = mutation_plans;
    }

    fn plan_write(&self, f: &FieldDefinition) -> Option<WritePlan> {
        let name = f.name.as_str();
        let (verb, suffix) = [
            ("create", Verb::Create),
            ("update", Verb::Update),
            ("delete", Verb::Delete),
        ]
        .into_iter()
        .find_map(|(prefix, verb)| {
            let rest = name.strip_prefix(prefix)?;
            rest.starts_with(|c: char| c.is_ascii_uppercase())
                .then_some((verb, rest))
        })?;
        let ret = Ty::of(&f.ty);
        let input_arg = f.arguments.iter().find_map(|a| {
            let ty = Ty::of(&a.ty);
            (a.name == "input" && self.kinds.get(&ty.name) == Some(&Kind::Input))
                .then(|| (a.name.to_string(), ty.list))
        });
        if self.entities.contains_key(&ret.name) {
            return Some(WritePlan {
                verb,
                entity: ret.name.clone(),
                input_arg,
                row_field: None,
                id_field: None,
                returns_entity: true,
            });
        }
        let payload = self.type_def(&ret.name)?;
        let payload_fields: Vec<(String, Ty)> = object_fields(payload)?
            .values()
            .map(|p| (p.name.to_string(), Ty::of(&p.ty)))
            .collect();
        let entity_fields: Vec<&(String, Ty)> = payload_fields
            .iter()
            .filter(|(_, t)| self.entities.contains_key(&t.name))
            .collect();
        let entity = self
            .entity_named(suffix)
            .or_else(|| match entity_fields.as_slice() {
                [(_, t)] => Some(t.name.clone()),
                _ => entity_fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(suffix))
                    .map(|(_, t)| t.name.clone()),
            })
            // Only a plain write of that entity (`updateRunStepFieldValue` writes a
            // RunStepField); `createKitForRun` or `createOrUpdateMultipleParts` do more than
            // a generic write could honestly claim, so they stay "not emulated".
            .filter(|e| {
                suffix.len() >= e.len() && suffix[..e.len()].eq_ignore_ascii_case(e)
                    || self.entity_named(suffix).as_deref() == Some(e.as_str())
            })?;
        let of_entity: Vec<&&(String, Ty)> = entity_fields
            .iter()
            .filter(|(_, t)| t.name == entity)
            .collect();
        let row_field = of_entity
            .iter()
            .find(|(n, _)| *n == lower_first(&entity) || n.eq_ignore_ascii_case(suffix))
            .or(of_entity.first())
            .map(|(n, t)| (n.clone(), t.list));
        let id_field = payload_fields
            .iter()
            .find(|(n, t)| n == "id" && !t.list && (t.name == "Int" || t.name == "ID"))
            .map(|(n, _)| n.clone());
        if row_field.is_none() && id_field.is_none() {
            return None;
        }
        Some(WritePlan {
            verb,
            entity,
            input_arg,
            row_field,
            id_field,
            returns_entity: false,
        })
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
        let create = &m.mutation_plans["createRun"];
        assert_eq!(create.row_field, Some(("run".into(), false)));
        let update = &m.mutation_plans["updateRuns"];
        assert_eq!(
            (update.entity.as_str(), update.input_arg.clone()),
            ("Run", Some(("input".into(), true)))
        );
        let delete = &m.mutation_plans["deleteRun"];
        assert_eq!(delete.id_field.as_deref(), Some("id"));
        assert!(!m.mutation_plans.contains_key("archiveRun"));
        assert!(!m.mutation_plans.contains_key("createKitForRun"));
        assert!(!m.entities.contains_key("DeleteRun"));
        assert!(m.is_operator_filter("StringFilter"));
        assert!(!m.is_operator_filter("RunsInputFilters"));
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
