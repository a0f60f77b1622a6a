//! The mutation conventions: how each root mutation field is answered, read off its name, its
//! arguments and its payload type, never off a list of ION's types. `CONVENTIONS.md` (part of
//! the crate docs) states what each one does and what it cannot know.
//!
//! A mutation no convention fits has no plan: it answers `not emulated` unless the user serves
//! it with a handler.

use std::fmt;

use apollo_compiler::ast::FieldDefinition;
use apollo_compiler::schema::ExtendedType;

use super::model::{
    Entity, EntityField, Kind, Model, QueryPlan, Ty, lower_first, name_words, singular,
};

/// The convention that answers a root field (see `CONVENTIONS.md` in the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Convention {
    /// `runs(filters, sort, first, after, ...)`: a filtered, sorted, paged connection.
    Connection,
    /// `run(id:)`: one row by id.
    Lookup,
    /// `partProcedure(partId:, procedureId:)`: one row by the columns its arguments name.
    KeyLookup,
    /// `me`: the calling user.
    Me,
    /// A root returning a plain list of rows.
    List,
    /// `createX`, `createXs`, `createMultipleXs`: new rows from the input.
    Create,
    /// `updateX`: the input's columns written to a row found by id or by key columns.
    Update,
    /// `deleteX`: a row found by id or by key columns, removed.
    Delete,
    /// `setX`: an update of the row the key columns find, or a create when there is none.
    Set,
    /// `createXForY`: a new row pointing at its owner.
    CreateFor,
    /// A mutation named after a value of an enum column (`checkIn` → `eventType: CHECK_IN`): a
    /// new row with that value.
    Event,
    /// `addXToY`, `removeXFromY`, `attachXToY`, `detachXFromY`: a relation between rows.
    Link,
    /// `reorderX`, `reorderXs`: positions among siblings.
    Reorder,
    /// `copyX`, `copyXToY`, `cloneX`: a row and the rows it owns, copied.
    Copy,
    /// `archiveX`, `cancelX`, `revokeX`, `resendX`, ...: a flag, a status or a counter the verb
    /// names.
    StateChange,
    /// `resetXYs`: a row's children in the relation named, removed.
    Reset,
    /// `create<X>Version`, `create<X>Revision`: a copy of a row as the next version.
    Version,
    /// `create<X><Setting>`, `update<X><Setting>`, `delete<X><Setting>`: an entry of a list
    /// kept in an object stored on the row (an organization's attribute settings).
    Setting,
    /// A handler the user registered.
    Handler,
}

impl Convention {
    /// The convention's name as the docs spell it (`create for`, `key lookup`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Convention::Connection => "connection",
            Convention::Lookup => "lookup",
            Convention::KeyLookup => "key lookup",
            Convention::Me => "me",
            Convention::List => "list",
            Convention::Create => "create",
            Convention::Update => "update",
            Convention::Delete => "delete",
            Convention::Set => "set",
            Convention::CreateFor => "create for",
            Convention::Event => "event",
            Convention::Link => "link",
            Convention::Reorder => "reorder",
            Convention::Copy => "copy",
            Convention::StateChange => "state change",
            Convention::Reset => "reset",
            Convention::Version => "version",
            Convention::Setting => "setting",
            Convention::Handler => "handler",
        }
    }
}

impl fmt::Display for Convention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl QueryPlan {
    /// The convention answering the query, `None` when none does.
    pub fn convention(&self) -> Option<Convention> {
        match self {
            QueryPlan::Connection { .. } => Some(Convention::Connection),
            QueryPlan::Lookup { .. } => Some(Convention::Lookup),
            QueryPlan::KeyLookup { .. } => Some(Convention::KeyLookup),
            QueryPlan::Me { .. } => Some(Convention::Me),
            QueryPlan::List { .. } => Some(Convention::List),
            QueryPlan::NotEmulated => None,
        }
    }
}

/// How a root mutation field is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MutationPlan {
    Write(WritePlan),
    Link(LinkPlan),
    Reorder(ReorderPlan),
    Copy(CopyPlan),
    State(StatePlan),
    Reset(ResetPlan),
    Version(VersionPlan),
    Setting(SettingPlan),
}

impl MutationPlan {
    pub fn convention(&self) -> Convention {
        match self {
            MutationPlan::Write(w) if w.owner.is_some() => Convention::CreateFor,
            MutationPlan::Write(w) if w.preset.is_some() => Convention::Event,
            MutationPlan::Write(w) => match w.verb {
                Verb::Create => Convention::Create,
                Verb::Update => Convention::Update,
                Verb::Delete => Convention::Delete,
                Verb::Set => Convention::Set,
            },
            MutationPlan::Link(_) => Convention::Link,
            MutationPlan::Reorder(_) => Convention::Reorder,
            MutationPlan::Copy(_) => Convention::Copy,
            MutationPlan::State(_) => Convention::StateChange,
            MutationPlan::Reset(_) => Convention::Reset,
            MutationPlan::Version(_) => Convention::Version,
            MutationPlan::Setting(_) => Convention::Setting,
        }
    }

    /// Where the mutation's input objects come from.
    pub fn inputs(&self) -> &Inputs {
        match self {
            MutationPlan::Write(p) => &p.inputs,
            MutationPlan::Link(p) => &p.inputs,
            MutationPlan::Reorder(
                ReorderPlan::Move { inputs, .. } | ReorderPlan::Set { inputs, .. },
            ) => inputs,
            MutationPlan::Copy(p) => &p.inputs,
            MutationPlan::State(p) => &p.inputs,
            MutationPlan::Reset(p) => &p.inputs,
            MutationPlan::Version(p) => &p.inputs,
            MutationPlan::Setting(p) => &p.inputs,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Create,
    Update,
    Delete,
    Set,
}

/// Where a mutation's input objects come from, and what fields they have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inputs {
    /// The input-object argument (`input`, `deleteInput`) and whether it is a list
    /// (`createRuns`); `None` when the fields are the arguments themselves
    /// (`deleteRun(id:, etag:)`).
    pub arg: Option<(String, bool)>,
    /// A list field of the input object holding the items
    /// (`createMultipleMbomItems(input: {mbomItems: [...]})`).
    pub nested: Option<String>,
    /// The fields of one input object (or the arguments), with their types.
    pub fields: Vec<(String, Ty)>,
}

impl Inputs {
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// The field carrying the etag a write checks: `etag`, or `_etag` (`APIKeyInput`).
    pub fn etag_field(&self) -> Option<&str> {
        ["etag", "_etag"].into_iter().find(|f| self.has(f))
    }
}

/// How a write finds the row it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowKey {
    /// The input field holding the row's id (`id`, `fileAttachmentId`).
    Id(String),
    /// Input fields that equal columns, as (field, column) pairs (`runId` and `key` for a
    /// run's attribute, `clientId` for an API key).
    Columns(Vec<(String, String)>),
}

/// A create for an owner: the owner's entity, the input field with its id and the column of
/// the new row pointing at it (`createKitForRun(input: {runId})` → `PartKit.runId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub entity: String,
    pub field: String,
    pub fk: String,
}

/// A create, update, delete or set of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WritePlan {
    pub verb: Verb,
    pub entity: String,
    pub inputs: Inputs,
    /// How updates, deletes and sets find their row.
    pub key: Option<RowKey>,
    /// The mutation returns the entity itself rather than a payload object.
    pub returns_entity: bool,
    pub owner: Option<Owner>,
    /// An enum column and the value the mutation's name gives it (`checkIn` →
    /// `eventType: CHECK_IN`).
    pub preset: Option<(String, String)>,
    /// `regenerate<X>` flags of the input and the string columns each renews
    /// (`regenerateSecret` → `clientSecret`).
    pub regenerate: Vec<(String, Vec<String>)>,
}

/// The row that holds a relation (`Y` in `addXToY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Container {
    /// A row of `entity` whose id is in `field` (`teamId`).
    Row { entity: String, field: String },
    /// Whatever row has the global `entityId` in `field` (`addLabelToItem`).
    Global { field: String },
    /// Every row of `entity` whose `column` equals `field` (`addLabelToProcedureFamily`:
    /// every version of the procedure family).
    Family {
        entity: String,
        column: String,
        field: String,
    },
    /// The input names no container (`removeInputFromPlan(id:, etag:)`).
    Unnamed,
}

/// The row added or removed (`X` in `addXToY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    /// A row of `entity` whose id is in `field`.
    Row { entity: String, field: String },
    /// The row with the global `entityId` in `field` (`addResultToPlanItem`).
    Global { field: String },
    /// A new child row of the container made from the input (`addInputToPlan` → `PlanInput`).
    New { entity: String },
}

/// Where a relation is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Storage {
    /// Rows of a keyless join entity (`TeamUser`).
    Join {
        join: String,
        container_fk: String,
        member_fk: String,
    },
    /// Rows of an entity owned by the container, made from the input (`ReceiptItem` for
    /// `addInventoryToReceipt`).
    Child {
        child: String,
        container_fk: String,
        member_fk: Option<String>,
    },
    /// Ids in a list field of the container row (`Role.permissionGroups`), and in the
    /// member's list of containers when it has one (`PermissionGroup.roles`). With no field,
    /// the container row's one list field of the member's type, found when the link runs.
    List {
        field: Option<String>,
        inverse: Option<String>,
    },
    /// The member's foreign-key column pointing at the container.
    Fk { column: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkPlan {
    pub add: bool,
    pub inputs: Inputs,
    pub container: Container,
    pub member: Member,
    pub storage: Storage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReorderPlan {
    /// `reorderX(input: {id, etag, position})`: one row moved among its siblings, which are
    /// renumbered.
    Move {
        entity: String,
        inputs: Inputs,
        column: String,
    },
    /// `reorderXs(input: {xs: [{id, position, etag}]})`: each listed row gets its position.
    Set {
        entity: String,
        inputs: Inputs,
        list: String,
        column: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyPlan {
    pub source: String,
    pub target: String,
    pub inputs: Inputs,
    /// The input field holding the source row's id.
    pub source_field: String,
}

/// What a state change does to its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A boolean column named after the verb (`archived`), set or, for `un<verb>`, cleared.
    Flag(String, bool),
    /// A `status` value named after the verb (`CANCELED`, `REVOKED`).
    Status(String, String),
    /// An integer column counting the verb (`resendCount`).
    Count(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatePlan {
    pub entity: String,
    pub inputs: Inputs,
    pub key: RowKey,
    pub change: Change,
    pub returns_entity: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResetPlan {
    pub entity: String,
    pub inputs: Inputs,
    pub key: RowKey,
    pub child: String,
    pub fk: String,
}

/// A new version of a row: a copy with the version column counted up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionPlan {
    pub entity: String,
    pub inputs: Inputs,
    /// The input field naming the row to copy (`procedureId`, `id`).
    pub source_field: Option<String>,
    /// The input field and column naming a family whose latest row is copied (`familyId`).
    pub family: Option<String>,
    /// The column counted up: `version` (a number) or `revision` (letters or a number).
    pub column: String,
    /// The boolean column marking the latest version (`isLatestVersion`), moved to the copy.
    pub latest: Option<String>,
    /// A column pointing back at the row copied (`revisedFromId`).
    pub from: Option<String>,
}

/// An entry of a list inside an object stored on a row (`Organization.settings.runs.attributes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SettingPlan {
    pub verb: Verb,
    pub entity: String,
    pub inputs: Inputs,
    /// The fields from the row down to the list (`settings`, `runs`, `attributes`).
    pub path: Vec<String>,
    /// The field naming an entry (`key`, `name`).
    pub key: String,
    /// The fields an entry has.
    pub fields: Vec<String>,
}

/// `runs` → `Runs`.
fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Splits a root field's name into its verb and the rest (`addUserToTeam` → `add`,
/// `UserToTeam`).
fn split_verb(name: &str) -> Option<(&str, &str)> {
    let at = name.find(|c: char| c.is_ascii_uppercase())?;
    (at > 0).then(|| name.split_at(at))
}

/// `UserToTeam` → (`User`, `Team`); `InventoryFromReceipt` → (`Inventory`, `Receipt`).
fn split_pair(rest: &str) -> Option<(&str, &str)> {
    let bytes = rest.as_bytes();
    (1..rest.len()).find_map(|i| {
        ["To", "From", "For"].into_iter().find_map(|sep| {
            let after = i + sep.len();
            (rest[i..].starts_with(sep) && bytes.get(after).is_some_and(u8::is_ascii_uppercase))
                .then(|| (&rest[..i], &rest[after..]))
        })
    })
}

/// The past participles of a verb as ION spells enum values (`cancel` → `CANCELED`,
/// `CANCELLED`; `archive` → `ARCHIVED`).
fn participles(verb: &str) -> Vec<String> {
    let v = verb.to_uppercase();
    let mut out = vec![format!("{v}ED")];
    if v.ends_with('E') {
        out.push(format!("{v}D"));
    }
    if let Some(last) = v.chars().last() {
        out.push(format!("{v}{last}ED"));
    }
    out
}

/// `checkIn` → `CHECK_IN`.
fn upper_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

impl Model {
    fn input_fields(&self, input: &str) -> Vec<(String, Ty)> {
        match self.type_def(input) {
            Some(ExtendedType::InputObject(i)) => i
                .fields
                .iter()
                .map(|(n, d)| (n.to_string(), Ty::of(&d.ty)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The input objects of a mutation: its one input-object argument (any name), or its
    /// arguments themselves.
    fn inputs_of(&self, f: &FieldDefinition) -> Inputs {
        let objects: Vec<_> = f
            .arguments
            .iter()
            .filter(|a| self.kinds.get(a.ty.inner_named_type().as_str()) == Some(&Kind::Input))
            .collect();
        let scalars = f
            .arguments
            .iter()
            .filter(|a| self.kinds.get(a.ty.inner_named_type().as_str()) != Some(&Kind::Input))
            .map(|a| (a.name.to_string(), Ty::of(&a.ty)));
        match objects.as_slice() {
            [object] => {
                let ty = Ty::of(&object.ty);
                let mut fields = self.input_fields(&ty.name);
                fields.extend(scalars);
                Inputs {
                    arg: Some((object.name.to_string(), ty.list)),
                    nested: None,
                    fields,
                }
            }
            _ => Inputs {
                arg: None,
                nested: None,
                fields: scalars.collect(),
            },
        }
    }

    /// The entity fields of a payload type: (field, entity, list).
    fn payload_entities(&self, payload: &str) -> Vec<(String, String, bool)> {
        self.object_fields(payload)
            .into_iter()
            .filter(|(_, t)| self.entities.contains_key(&t.name))
            .map(|(n, t)| (n, t.name, t.list))
            .collect()
    }

    /// The one entity a mutation returns or whose payload holds it (`None` for two or none),
    /// and whether it is returned itself.
    fn returned_entity(&self, f: &FieldDefinition) -> Option<(String, bool)> {
        let ret = Ty::of(&f.ty);
        if self.entities.contains_key(&ret.name) {
            return Some((ret.name, true));
        }
        let mut entities: Vec<String> = self
            .payload_entities(&ret.name)
            .into_iter()
            .map(|(_, e, _)| e)
            .collect();
        entities.dedup();
        match entities.as_slice() {
            [e] => Some((e.clone(), false)),
            _ => None,
        }
    }

    /// How an update, delete or set of `entity` finds its row: by `id` or `<entity>Id` for a
    /// keyed entity, else by the input's non-null fields that are columns.
    fn row_key(&self, entity: &Entity, inputs: &Inputs) -> Option<RowKey> {
        if entity.keyed {
            let own = format!("{}Id", lower_first(&entity.name));
            if let Some(field) = ["id", own.as_str()].into_iter().find(|f| inputs.has(f)) {
                return Some(RowKey::Id(field.to_owned()));
            }
        }
        let columns: Vec<(String, String)> = inputs
            .fields
            .iter()
            .filter(|(n, t)| {
                t.non_null && n != "etag" && n != "_etag" && entity.column(n).is_some()
            })
            .map(|(n, _)| (n.clone(), n.clone()))
            .collect();
        (!columns.is_empty()).then_some(RowKey::Columns(columns))
    }

    /// Reads the conventions of one root mutation field.
    pub(crate) fn plan_mutation(&self, f: &FieldDefinition) -> Option<MutationPlan> {
        let (verb, rest) = split_verb(f.name.as_str())?;
        let inputs = self.inputs_of(f);
        match verb {
            "create" => self
                .plan_create_for(f, rest, &inputs)
                .or_else(|| self.plan_batch(f, rest, &inputs))
                .or_else(|| self.plan_version(f, rest, &inputs))
                .or_else(|| self.plan_write(f, Verb::Create, rest, inputs.clone()))
                .or_else(|| self.plan_setting(f, Verb::Create, rest, inputs)),
            "update" => self
                .plan_write(f, Verb::Update, rest, inputs.clone())
                .or_else(|| self.plan_setting(f, Verb::Update, rest, inputs)),
            "delete" => self
                .plan_write(f, Verb::Delete, rest, inputs.clone())
                .or_else(|| self.plan_setting(f, Verb::Delete, rest, inputs)),
            "set" => self.plan_write(f, Verb::Set, rest, inputs),
            "add" | "attach" => self.plan_link(f, true, rest, inputs),
            "remove" | "detach" => self.plan_link(f, false, rest, inputs),
            "reorder" => self.plan_reorder(f, inputs),
            "copy" | "clone" => self.plan_copy(f, rest, inputs),
            "reset" => self.plan_reset(rest, inputs),
            _ => self
                .plan_state(f, verb, rest, &inputs)
                .or_else(|| self.plan_event(f, inputs)),
        }
    }

    /// The entity a create, update, delete or set writes: the one its name spells, else the
    /// one its payload holds when the name agrees with it word for word (`createStepEdge` ↔
    /// `StepsEdge`, `createApiKey` ↔ `APIKeyObject`, `updateRunStepFieldValue` ↔
    /// `RunStepField`), or when its input type is named after it (`createAsset(input:
    /// CreateFileAttachmentInput)`), or when the name is `<X>To<Y>` and the entity `<Y><X>`
    /// (`updateInputToPlan` ↔ `PlanInput`).
    fn written_entity(
        &self,
        f: &FieldDefinition,
        verb: Verb,
        rest: &str,
    ) -> Option<(String, bool)> {
        let ret = Ty::of(&f.ty);
        if self.entities.contains_key(&ret.name) {
            return Some((ret.name, true));
        }
        let payload: Vec<String> = self
            .payload_entities(&ret.name)
            .into_iter()
            .map(|(_, e, _)| e)
            .collect();
        if payload.is_empty() && self.object_fields(&ret.name).is_empty() {
            return None;
        }
        if let Some(e) = self.entity_named(rest) {
            return Some((e, false));
        }
        let words = name_words(rest);
        let spelled: Vec<&String> = self
            .entities
            .keys()
            .filter(|e| name_words(e) == words)
            .collect();
        if let [e] = spelled.as_slice() {
            return Some(((*e).clone(), false));
        }
        // A name longer than the entity's names one of its columns, the one an update writes
        // (`updateRunStepFieldValue`); anything else (`deleteOrganizationRunAttributes`) is
        // not a write of the whole row.
        let agrees = payload.iter().find(|e| {
            let e_words = name_words(e);
            if e_words.starts_with(&words) {
                return true;
            }
            let Some(remainder) = words.strip_prefix(&e_words) else {
                return false;
            };
            verb == Verb::Update
                && self.entities.get(*e).is_some_and(|entity| {
                    entity
                        .columns
                        .iter()
                        .any(|(c, _)| name_words(c) == remainder)
                })
        });
        if let Some(e) = agrees {
            return Some((e.clone(), false));
        }
        let input_named = f.arguments.iter().find_map(|a| {
            let ty = a.ty.inner_named_type().as_str().strip_suffix("Input")?;
            let named = ["Create", "Update", "Delete", "Set"]
                .into_iter()
                .find_map(|v| ty.strip_prefix(v))?;
            let known = payload.iter().any(|e| e == named)
                || payload.is_empty() && self.entities.contains_key(named);
            // A name that extends the entity's (`deleteRunNotes`) is judged above, not here.
            (known && !words.starts_with(&name_words(named))).then(|| named.to_owned())
        });
        if let Some(e) = input_named {
            return Some((e, false));
        }
        let (x, y) = split_pair(rest)?;
        let combined = self.entity_named(&format!("{y}{x}"))?;
        payload.contains(&combined).then_some((combined, false))
    }

    fn plan_write(
        &self,
        f: &FieldDefinition,
        verb: Verb,
        rest: &str,
        inputs: Inputs,
    ) -> Option<MutationPlan> {
        let (entity_name, returns_entity) = self.written_entity(f, verb, rest)?;
        let entity = self.entities.get(&entity_name)?;
        let key = match verb {
            Verb::Create => None,
            Verb::Set => match self.row_key(entity, &inputs)? {
                key @ RowKey::Columns(_) => Some(key),
                RowKey::Id(_) => return None,
            },
            Verb::Update | Verb::Delete => Some(self.row_key(entity, &inputs)?),
        };
        let regenerate = inputs
            .fields
            .iter()
            .filter_map(|(n, t)| {
                let what = n.strip_prefix("regenerate")?.to_lowercase();
                if t.name != "Boolean" || what.is_empty() {
                    return None;
                }
                let columns: Vec<String> = entity
                    .columns
                    .iter()
                    .filter(|(c, ct)| ct.name == "String" && c.to_lowercase().ends_with(&what))
                    .map(|(c, _)| c.clone())
                    .collect();
                (!columns.is_empty()).then(|| (n.clone(), columns))
            })
            .collect();
        Some(MutationPlan::Write(WritePlan {
            verb,
            entity: entity_name,
            inputs,
            key,
            returns_entity,
            owner: None,
            preset: None,
            regenerate,
        }))
    }

    /// `create<X>For<Y>`: a new row of the payload's entity (named `X`, or ending or starting
    /// with it) pointing at a `Y` row through `<y>Id`.
    fn plan_create_for(
        &self,
        f: &FieldDefinition,
        rest: &str,
        inputs: &Inputs,
    ) -> Option<MutationPlan> {
        let at = rest.find("For")?;
        let (x, y) = (&rest[..at], &rest[at + 3..]);
        if x.is_empty() || !y.starts_with(|c: char| c.is_ascii_uppercase()) {
            return None;
        }
        let owner = self.entity_named(y)?;
        let (target, returns_entity) = self.returned_entity(f)?;
        let (tw, xw) = (name_words(&target), name_words(x));
        if !(tw.starts_with(&xw) || tw.ends_with(&xw)) || target == owner {
            return None;
        }
        let fk = format!("{}Id", lower_first(&owner));
        if !self.entities.get(&target)?.keeps(&fk) {
            return None;
        }
        let field = [fk.as_str(), "id"].into_iter().find(|n| inputs.has(n))?;
        Some(MutationPlan::Write(WritePlan {
            verb: Verb::Create,
            entity: target,
            inputs: inputs.clone(),
            key: None,
            returns_entity,
            owner: Some(Owner {
                entity: owner,
                field: field.to_owned(),
                fk,
            }),
            preset: None,
            regenerate: Vec::new(),
        }))
    }

    /// `createMultiple<Xs>(input: {<xs>: [...]})`: the items of the input's one list of input
    /// objects, each created.
    fn plan_batch(&self, f: &FieldDefinition, rest: &str, inputs: &Inputs) -> Option<MutationPlan> {
        let named = rest.strip_prefix("Multiple")?;
        let lists: Vec<&(String, Ty)> = inputs
            .fields
            .iter()
            .filter(|(_, t)| t.list && self.kinds.get(&t.name) == Some(&Kind::Input))
            .collect();
        let [(list, item)] = lists.as_slice() else {
            return None;
        };
        let (entity, returns_entity) = self.returned_entity(f)?;
        if name_words(named) != name_words(&entity) {
            return None;
        }
        Some(MutationPlan::Write(WritePlan {
            verb: Verb::Create,
            entity,
            inputs: Inputs {
                arg: inputs.arg.clone(),
                nested: Some(list.clone()),
                fields: self.input_fields(&item.name),
            },
            key: None,
            returns_entity,
            owner: None,
            preset: None,
            regenerate: Vec::new(),
        }))
    }

    /// A mutation whose name, in upper snake case, is a value of an enum column of the one
    /// entity its payload holds (`checkIn` → `SessionEvent.eventType: CHECK_IN`): a create
    /// with that value.
    fn plan_event(&self, f: &FieldDefinition, inputs: Inputs) -> Option<MutationPlan> {
        let value = upper_snake(f.name.as_str());
        let (entity_name, returns_entity) = self.returned_entity(f)?;
        let entity = self.entities.get(&entity_name)?;
        let column = entity.columns.iter().find_map(|(c, t)| {
            self.enums
                .get(&t.name)
                .is_some_and(|values| values.contains(&value))
                .then(|| c.clone())
        })?;
        Some(MutationPlan::Write(WritePlan {
            verb: Verb::Create,
            entity: entity_name,
            inputs,
            key: None,
            returns_entity,
            owner: None,
            preset: Some((column, value)),
            regenerate: Vec::new(),
        }))
    }

    /// The input field holding the id of a row of `entity` named `name` in a mutation's name:
    /// `<name>Id`, or a field ending so (`Subtype` → `partSubtypeId`).
    fn id_field_for(
        &self,
        inputs: &Inputs,
        name: &str,
        except: Option<&str>,
    ) -> Option<(String, String)> {
        let want = format!("{}id", singular(name).to_lowercase());
        inputs.fields.iter().find_map(|(n, _)| {
            if Some(n.as_str()) == except || n == "entityId" || !n.to_lowercase().ends_with(&want) {
                return None;
            }
            let stem = n.strip_suffix("Id")?;
            let entity = self.entities.keys().find(|e| lower_first(e) == stem)?;
            Some((n.clone(), entity.clone()))
        })
    }

    fn plan_link(
        &self,
        f: &FieldDefinition,
        add: bool,
        rest: &str,
        inputs: Inputs,
    ) -> Option<MutationPlan> {
        let (x, y) = split_pair(rest)?;
        let x = singular(x);
        let container = if let Some((field, entity)) = self
            .id_field_for(&inputs, y, None)
            .filter(|(_, e)| self.entity_named(y).as_deref() == Some(e.as_str()))
        {
            Container::Row { entity, field }
        } else if y == "Item" && inputs.has("entityId") {
            Container::Global {
                field: "entityId".into(),
            }
        } else if let Some(family) = self.family_container(y, &inputs) {
            family
        } else {
            Container::Unnamed
        };
        let container_field = match &container {
            Container::Row { field, .. }
            | Container::Global { field }
            | Container::Family { field, .. } => Some(field.as_str()),
            Container::Unnamed => None,
        };
        let child = self.entity_named(&format!("{y}{x}")).filter(|c| {
            self.entities
                .get(c)
                .is_some_and(|e| e.keeps(&format!("{}Id", lower_first(y))))
        });
        let member = if let Some((field, entity)) = self.id_field_for(&inputs, &x, container_field)
        {
            Member::Row { entity, field }
        } else if let Some(entity) = child.clone() {
            Member::New { entity }
        } else if inputs.has("entityId") && container_field != Some("entityId") {
            Member::Global {
                field: "entityId".into(),
            }
        } else {
            return None;
        };
        // A removal keeps the relation where its addition puts it, so the storage is read off
        // the addition's input when the schema has one.
        let add_inputs = if add {
            inputs.clone()
        } else {
            let sibling = ["add", "attach"].into_iter().find_map(|v| {
                let def = self.type_def(self.mutation.as_deref()?)?;
                let ExtendedType::Object(o) = def else {
                    return None;
                };
                o.fields.values().find(|m| {
                    split_verb(m.name.as_str()).is_some_and(|(mv, mr)| {
                        mv == v
                            && split_pair(mr).is_some_and(|(mx, my)| singular(mx) == x && my == y)
                    })
                })
            });
            sibling.map_or_else(|| inputs.clone(), |m| self.inputs_of(m))
        };
        let storage = self.link_storage(&container, &member, &x, &add_inputs)?;
        if matches!(container, Container::Unnamed) && !matches!(member, Member::New { .. }) {
            return None;
        }
        if matches!(member, Member::New { .. })
            && !add
            && !inputs.has("id")
            && container_field.is_none()
        {
            return None;
        }
        let _ = f;
        Some(MutationPlan::Link(LinkPlan {
            add,
            inputs,
            container,
            member,
            storage,
        }))
    }

    /// `ProcedureFamily` with `familyId`: every `Procedure` row of that `familyId`.
    fn family_container(&self, y: &str, inputs: &Inputs) -> Option<Container> {
        self.entities.values().find_map(|e| {
            let rest = y.strip_prefix(e.name.as_str())?;
            let column = format!("{}Id", lower_first(rest));
            (!rest.is_empty() && e.column(&column).is_some() && inputs.has(&column)).then(|| {
                Container::Family {
                    entity: e.name.clone(),
                    column: column.clone(),
                    field: column,
                }
            })
        })
    }

    /// The list field of `owner` whose items are rows of `item`, stored on the row: the only
    /// one, or the one named after the item (`PurchaseOrderLine.partInventories` beside
    /// `receivedPartInventories`).
    pub(crate) fn stored_list(&self, owner: &Entity, item: &str) -> Option<String> {
        let lists: Vec<String> = self
            .object_fields(&owner.name)
            .into_iter()
            .filter(|(n, t)| {
                t.list
                    && t.name == item
                    && matches!(owner.fields.get(n), Some(EntityField::Embedded))
            })
            .map(|(n, _)| n)
            .collect();
        match lists.as_slice() {
            [one] => Some(one.clone()),
            _ => lists
                .iter()
                .find(|n| singular(n) == lower_first(item))
                .cloned(),
        }
    }

    fn link_storage(
        &self,
        container: &Container,
        member: &Member,
        x: &str,
        add_inputs: &Inputs,
    ) -> Option<Storage> {
        match (container, member) {
            (Container::Row { entity: y, field }, Member::New { entity: child })
            | (
                Container::Family {
                    entity: y, field, ..
                },
                Member::New { entity: child },
            ) => {
                let _ = (y, field);
                let fk = format!("{}Id", lower_first(y));
                Some(Storage::Child {
                    child: child.clone(),
                    container_fk: fk,
                    member_fk: None,
                })
            }
            (Container::Unnamed, Member::New { entity: child }) => Some(Storage::Child {
                child: child.clone(),
                container_fk: String::new(),
                member_fk: None,
            }),
            (
                Container::Row {
                    entity: y,
                    field: y_field,
                },
                Member::Row {
                    entity: xe,
                    field: x_field,
                },
            ) => {
                let (ye, xent) = (self.entities.get(y)?, self.entities.get(xe)?);
                let join = |owner: &Entity, target: &str, swap: bool| {
                    owner.fields.values().find_map(|p| match p {
                        EntityField::Through {
                            target: t,
                            join,
                            own_fk,
                            target_fk,
                        } if t == target => {
                            let (c, m) = if swap {
                                (target_fk, own_fk)
                            } else {
                                (own_fk, target_fk)
                            };
                            Some(Storage::Join {
                                join: join.clone(),
                                container_fk: c.clone(),
                                member_fk: m.clone(),
                            })
                        }
                        _ => None,
                    })
                };
                if let Some(s) = join(ye, xe, false).or_else(|| join(xent, y, true)) {
                    return Some(s);
                }
                let extra: Vec<&String> = add_inputs
                    .fields
                    .iter()
                    .map(|(n, _)| n)
                    .filter(|n| *n != y_field && *n != x_field && *n != "etag" && *n != "_etag")
                    .collect();
                if !extra.is_empty() {
                    let mut children: Vec<&Entity> = self
                        .entities
                        .values()
                        .filter(|c| {
                            c.keyed
                                && c.name != *y
                                && c.name != *xe
                                && c.column(y_field).is_some()
                                && c.column(x_field).is_some()
                                && extra.iter().any(|n| c.column(n).is_some())
                        })
                        .collect();
                    children.sort_by(|a, b| a.name.cmp(&b.name));
                    if let [c] = children.as_slice() {
                        return Some(Storage::Child {
                            child: c.name.clone(),
                            container_fk: y_field.clone(),
                            member_fk: Some(x_field.clone()),
                        });
                    }
                }
                if let Some(field) = self.stored_list(ye, xe) {
                    return Some(Storage::List {
                        field: Some(field),
                        inverse: self.stored_list(xent, y),
                    });
                }
                let _ = x;
                xent.column(y_field).map(|_| Storage::Fk {
                    column: y_field.clone(),
                })
            }
            (Container::Global { .. }, Member::Row { .. }) => Some(Storage::List {
                field: None,
                inverse: None,
            }),
            (Container::Family { entity, .. }, Member::Row { entity: xe, .. }) => self
                .stored_list(self.entities.get(entity)?, xe)
                .map(|field| Storage::List {
                    field: Some(field),
                    inverse: None,
                }),
            (Container::Row { entity, .. }, Member::Global { .. }) => {
                let owner = self.entities.get(entity)?;
                let field = self
                    .object_fields(entity)
                    .into_iter()
                    .find(|(n, t)| {
                        t.list
                            && singular(n).eq_ignore_ascii_case(x)
                            && matches!(owner.fields.get(n), Some(EntityField::Embedded))
                    })?
                    .0;
                Some(Storage::List {
                    field: Some(field),
                    inverse: None,
                })
            }
            _ => None,
        }
    }

    fn plan_reorder(&self, f: &FieldDefinition, inputs: Inputs) -> Option<MutationPlan> {
        let (entity, _) = self.returned_entity(f)?;
        let e = self.entities.get(&entity)?;
        if inputs.has("id") {
            let column = ["position", "index"]
                .into_iter()
                .find(|c| inputs.has(c) && e.column(c).is_some_and(|t| t.name == "Int"))?;
            return Some(MutationPlan::Reorder(ReorderPlan::Move {
                entity,
                inputs,
                column: column.to_owned(),
            }));
        }
        let column = "position";
        e.column(column)?;
        let list = inputs.fields.iter().find_map(|(n, t)| {
            let item = self.input_fields(&t.name);
            let has = |x: &str| item.iter().any(|(i, _)| i == x);
            (t.list && has("id") && has(column)).then(|| n.clone())
        })?;
        Some(MutationPlan::Reorder(ReorderPlan::Set {
            entity,
            inputs,
            list,
            column: column.to_owned(),
        }))
    }

    fn plan_copy(&self, f: &FieldDefinition, rest: &str, inputs: Inputs) -> Option<MutationPlan> {
        let x = split_pair(rest).map_or(rest, |(x, _)| x);
        let (target, _) = self.returned_entity(f)?;
        let source = self.entity_named(x).or_else(|| {
            let (xw, tw) = (name_words(x), name_words(&target));
            (xw.ends_with(&tw) || tw.ends_with(&xw)).then(|| target.clone())
        })?;
        let candidates = [
            format!("{}Id", lower_first(x)),
            format!("{}Id", lower_first(&source)),
            "id".to_owned(),
        ];
        let source_field = candidates.into_iter().find(|c| inputs.has(c))?;
        Some(MutationPlan::Copy(CopyPlan {
            source,
            target,
            inputs,
            source_field,
        }))
    }

    /// `<verb><X>` on the entity `X` its payload holds, where the verb names a boolean column
    /// (`archive` → `archived`; `unarchive` clears it), a `status` value (`cancel` →
    /// `CANCELED`) or a counter (`resend` → `resendCount`), and the input holds nothing but
    /// the row's key, its etag and columns.
    fn plan_state(
        &self,
        f: &FieldDefinition,
        verb: &str,
        rest: &str,
        inputs: &Inputs,
    ) -> Option<MutationPlan> {
        let (entity_name, returns_entity) = self.returned_entity(f)?;
        if self.entity_named(rest).as_deref() != Some(entity_name.as_str()) {
            return None;
        }
        let entity = self.entities.get(&entity_name)?;
        let key = self.row_key(entity, inputs)?;
        let key_fields: Vec<&str> = match &key {
            RowKey::Id(f) => vec![f.as_str()],
            RowKey::Columns(c) => c.iter().map(|(f, _)| f.as_str()).collect(),
        };
        let plain = inputs.fields.iter().all(|(n, _)| {
            key_fields.contains(&n.as_str())
                || n == "etag"
                || n == "_etag"
                || entity.column(n).is_some()
        });
        if !plain {
            return None;
        }
        let (base, set) = match verb.strip_prefix("un") {
            Some(base) if !base.is_empty() => (base, false),
            _ => (verb, true),
        };
        let names = participles(base);
        let flag = entity
            .columns
            .iter()
            .find(|(c, t)| t.name == "Boolean" && names.iter().any(|p| p.eq_ignore_ascii_case(c)));
        let change = if let Some((c, _)) = flag {
            Change::Flag(c.clone(), set)
        } else if !set {
            return None;
        } else if let Some(value) = entity
            .column("status")
            .and_then(|t| self.enums.get(&t.name))
            .and_then(|values| values.iter().find(|v| names.contains(v)))
        {
            Change::Status("status".into(), value.clone())
        } else {
            let counter = format!("{verb}Count");
            entity.column(&counter).filter(|t| t.name == "Int")?;
            Change::Count(counter)
        };
        Some(MutationPlan::State(StatePlan {
            entity: entity_name,
            inputs: inputs.clone(),
            key,
            change,
            returns_entity,
        }))
    }

    /// `create<X>Version` / `create<X>Revision` on the payload's entity (named `X`, or ending
    /// `X`: `createStandardStepVersion` ↔ `Step`) with a `version` or `revision` column.
    fn plan_version(
        &self,
        f: &FieldDefinition,
        rest: &str,
        inputs: &Inputs,
    ) -> Option<MutationPlan> {
        let (x, column) = if let Some(x) = rest.strip_suffix("Version") {
            (x, "version")
        } else {
            (rest.strip_suffix("Revision")?, "revision")
        };
        let (entity_name, _) = self.returned_entity(f)?;
        let (xw, ew) = (name_words(x), name_words(&entity_name));
        if x.is_empty() || !(xw == ew || xw.ends_with(&ew)) {
            return None;
        }
        let entity = self.entities.get(&entity_name)?;
        entity.column(column)?;
        let source_field = [
            format!("{}Id", lower_first(x)),
            format!("{}Id", lower_first(&entity_name)),
            "id".to_owned(),
        ]
        .into_iter()
        .find(|c| inputs.has(c));
        let family =
            Some("familyId".to_owned()).filter(|c| inputs.has(c) && entity.column(c).is_some());
        if source_field.is_none() && family.is_none() {
            return None;
        }
        let latest = format!("isLatest{}", upper_first(column));
        let latest = entity
            .column(&latest)
            .filter(|t| t.name == "Boolean")
            .map(|_| latest);
        let from = Some("revisedFromId".to_owned())
            .filter(|c| self.fk_target(entity, c) == Some(entity_name.as_str()));
        Some(MutationPlan::Version(VersionPlan {
            entity: entity_name,
            inputs: inputs.clone(),
            source_field,
            family,
            column: column.to_owned(),
            latest,
            from,
        }))
    }

    /// `<verb><X><Setting>` where `X` is the payload's entity and `Setting` names a list of
    /// objects inside an object stored on the row: by the fields leading to it
    /// (`RunAttributes` ↔ `settings.runs.attributes`) or by its item type
    /// (`PartRevisionScheme` ↔ `[PartRevisionSchemeSettings]`). The input names the row by
    /// `id` and the entry by `key` or `name`.
    fn plan_setting(
        &self,
        f: &FieldDefinition,
        verb: Verb,
        rest: &str,
        inputs: Inputs,
    ) -> Option<MutationPlan> {
        let (entity_name, _) = self.returned_entity(f)?;
        let remainder = rest.strip_prefix(entity_name.as_str())?;
        if remainder.is_empty() || !inputs.has("id") {
            return None;
        }
        let entity = self.entities.get(&entity_name)?;
        let want = name_words(remainder);
        let is_object = |t: &Ty| {
            self.kinds.get(&t.name) == Some(&Kind::Object) && !self.entities.contains_key(&t.name)
        };
        let mut stack: Vec<(Vec<String>, String)> = self
            .object_fields(&entity_name)
            .into_iter()
            .filter(|(n, t)| {
                !t.list
                    && is_object(t)
                    && matches!(entity.fields.get(n), Some(EntityField::Embedded))
            })
            .map(|(n, t)| (vec![n], t.name))
            .collect();
        let mut found = Vec::new();
        while let Some((path, ty)) = stack.pop() {
            for (n, t) in self.object_fields(&ty) {
                if !is_object(&t) {
                    continue;
                }
                let mut p = path.clone();
                p.push(n.clone());
                if !t.list {
                    if p.len() < 4 {
                        stack.push((p, t.name));
                    }
                    continue;
                }
                let by_path = path.last().is_some_and(|parent| {
                    name_words(&format!("{parent}{}", upper_first(&n))) == want
                });
                let item = name_words(&t.name);
                let by_item = item.strip_suffix("setting").unwrap_or(&item) == want;
                if by_path || by_item {
                    found.push((p, t.name));
                }
            }
        }
        let [(path, item)] = found.as_slice() else {
            return None;
        };
        let fields: Vec<String> = self
            .object_fields(item)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let key = ["key", "name"]
            .into_iter()
            .find(|k| fields.iter().any(|f| f == k) && inputs.has(k))?;
        Some(MutationPlan::Setting(SettingPlan {
            verb,
            entity: entity_name,
            inputs,
            path: path.clone(),
            key: key.to_owned(),
            fields,
        }))
    }

    /// `reset<X><Relation>` (`resetIssueApprovals`): the rows of `X`'s to-many relation
    /// removed.
    fn plan_reset(&self, rest: &str, inputs: Inputs) -> Option<MutationPlan> {
        self.entities.values().find_map(|e| {
            let relation = lower_first(rest.strip_prefix(e.name.as_str())?);
            let Some(EntityField::ToMany {
                target,
                fk,
                connection: false,
            }) = e.fields.get(&relation)
            else {
                return None;
            };
            let key = self.row_key(e, &inputs)?;
            Some(MutationPlan::Reset(ResetPlan {
                entity: e.name.clone(),
                inputs: inputs.clone(),
                key,
                child: target.clone(),
                fk: fk.clone(),
            }))
        })
    }

    /// String columns a create fills with a fresh token when its input leaves them empty: the
    /// columns other writes find the entity's rows by (`APIKeyObject.clientId`) and those a
    /// `regenerate…` flag renews (`clientSecret`).
    pub(crate) fn generated_columns(&self) -> std::collections::HashMap<String, Vec<String>> {
        let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
        for plan in self.mutation_plans.values() {
            let MutationPlan::Write(w) = plan else {
                continue;
            };
            let Some(entity) = self.entities.get(&w.entity) else {
                continue;
            };
            let mut columns: Vec<String> =
                w.regenerate.iter().flat_map(|(_, c)| c.clone()).collect();
            if let Some(RowKey::Columns(keys)) = &w.key
                && entity.keyed
            {
                columns.extend(
                    keys.iter()
                        .filter(|(_, c)| entity.column(c).is_some_and(|t| t.name == "String"))
                        .map(|(_, c)| c.clone()),
                );
            }
            let entry = out.entry(w.entity.clone()).or_default();
            for c in columns {
                if !entry.contains(&c) {
                    entry.push(c);
                }
            }
        }
        out.retain(|_, v| !v.is_empty());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_verb_and_pair() {
        assert_eq!(split_verb("addUserToTeam"), Some(("add", "UserToTeam")));
        assert_eq!(split_verb("Query"), None);
        assert_eq!(split_pair("UserToTeam"), Some(("User", "Team")));
        assert_eq!(
            split_pair("InventoryFromPurchaseOrderLine"),
            Some(("Inventory", "PurchaseOrderLine"))
        );
        assert_eq!(
            split_pair("PartsToKitFromMbom"),
            Some(("Parts", "KitFromMbom"))
        );
        assert_eq!(split_pair("Tolerance"), None);
        assert_eq!(upper_snake("checkIn"), "CHECK_IN");
        assert!(participles("cancel").contains(&"CANCELED".to_owned()));
        assert!(participles("archive").contains(&"ARCHIVED".to_owned()));
    }

    const SDL: &str = r#"
        type Query { run(id: ID!): Run }
        type Mutation {
          archiveRun(input: ArchiveRunInput!): ArchiveRun
          addLabelToRun(input: LabelToRunInput!): AddLabelToRun
          deleteRunNotes(input: DeleteRunInput!): DeleteRun
          updateRunTitle(input: UpdateRunInput!): UpdateRun
          splitRun(input: ArchiveRunInput!): ArchiveRun
        }
        type Run { id: Int! _etag: String title: String archived: Boolean! labels: [Label] }
        type Label { id: Int! value: String }
        type ArchiveRun { run: Run }
        type AddLabelToRun { run: Run }
        type DeleteRun { id: Int }
        type UpdateRun { run: Run }
        input ArchiveRunInput { id: ID! etag: String! archived: Boolean }
        input LabelToRunInput { runId: Int! labelId: Int! }
        input DeleteRunInput { id: ID! etag: String! }
        input UpdateRunInput { id: ID! etag: String! title: String }
    "#;

    #[test]
    fn verbs_plan_what_their_names_and_shapes_say() {
        let m = Model::parse(SDL).unwrap_or_else(|e| panic!("{e}"));
        let plan = |name: &str| m.mutation_plans.get(name).map(MutationPlan::convention);
        assert_eq!(plan("archiveRun"), Some(Convention::StateChange));
        assert_eq!(plan("addLabelToRun"), Some(Convention::Link));
        assert_eq!(
            plan("updateRunTitle"),
            Some(Convention::Update),
            "`title` is a column"
        );
        assert_eq!(
            plan("deleteRunNotes"),
            None,
            "a delete of part of a run is not a delete"
        );
        assert_eq!(
            plan("splitRun"),
            None,
            "`split` names no flag, status or counter"
        );
        let Some(MutationPlan::Link(link)) = m.mutation_plans.get("addLabelToRun") else {
            panic!("addLabelToRun is not a link");
        };
        assert_eq!(
            link.storage,
            Storage::List {
                field: Some("labels".into()),
                inverse: None
            }
        );
    }
}
