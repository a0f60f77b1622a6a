//! Schema building: an SDL becomes an [`Executable`], the model of ION's conventions read off
//! it (holding apollo-compiler's validated schema, which validates and executes operations)
//! and, for every field of every object type, what its resolver needs to know, worked out once.
//! One `Executable` per SDL and process, shared by every emulator serving that SDL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use apollo_compiler::schema::ExtendedType;

use super::model::{Kind, Model, QueryPlan, Ty};
use super::plan::MutationPlan;

/// A schema ready to serve: the model and the resolvers' view of every field.
pub(crate) struct Executable {
    pub model: Model,
    /// Entity → string columns a create fills with a fresh token (see
    /// `Model::generated_columns`).
    pub generated: HashMap<String, Vec<String>>,
    /// Object type → field → what its resolver needs.
    fields: HashMap<String, HashMap<String, FieldInfo>>,
}

/// A field as the resolver needs to know it.
pub(crate) struct FieldInfo {
    pub name: String,
    pub ty: Ty,
    /// The kind of `ty`'s named type.
    pub kind: Kind,
    /// The input type of a `filters` argument.
    pub filters_type: Option<String>,
    /// Arguments that are neither paging, sorting nor filters (`procedures(title: ...)`):
    /// equality filters on same-named columns.
    pub extra_args: Vec<String>,
    pub spec: Spec,
}

/// Which resolver answers a field.
pub(crate) enum Spec {
    /// A root query field, by its plan.
    Query(QueryPlan),
    /// A root mutation field; `None` when no convention answers it.
    Mutation(Option<Box<MutationPlan>>),
    /// Any other field: read from the value of its parent.
    Field,
}

/// Arguments that page, sort or filter rather than select by equality.
const PAGING_ARGS: [&str; 7] = [
    "filters",
    "sort",
    "distinctOn",
    "first",
    "last",
    "after",
    "before",
];

impl Executable {
    /// Reads the conventions of `sdl` and plans every field.
    ///
    /// # Errors
    /// The SDL is empty, does not parse or validate, or has no query type.
    pub fn build(sdl: &str) -> Result<Executable, String> {
        let model = Model::parse(sdl)?;
        let mut fields = HashMap::new();
        for (name, def) in model.types() {
            let ExtendedType::Object(object) = def else {
                continue;
            };
            let mut planned = HashMap::new();
            for (field_name, field) in &object.fields {
                let ty = Ty::of(&field.ty);
                let spec = if name.as_str() == model.query {
                    Spec::Query(
                        model
                            .query_plans
                            .get(field_name.as_str())
                            .cloned()
                            .unwrap_or(QueryPlan::NotEmulated),
                    )
                } else if Some(name.as_str()) == model.mutation.as_deref() {
                    Spec::Mutation(
                        model
                            .mutation_plans
                            .get(field_name.as_str())
                            .cloned()
                            .map(Box::new),
                    )
                } else {
                    Spec::Field
                };
                let filters_type = field
                    .arguments
                    .iter()
                    .find(|a| a.name == "filters")
                    .map(|a| Ty::of(&a.ty).name);
                let extra_args = field
                    .arguments
                    .iter()
                    .map(|a| a.name.to_string())
                    .filter(|a| !PAGING_ARGS.contains(&a.as_str()) && a != "id")
                    .collect();
                let info = FieldInfo {
                    name: field_name.to_string(),
                    kind: model.kinds.get(&ty.name).copied().unwrap_or(Kind::Scalar),
                    ty,
                    filters_type,
                    extra_args,
                    spec,
                };
                planned.insert(field_name.to_string(), info);
            }
            fields.insert(name.to_string(), planned);
        }
        let generated = model.generated_columns();
        Ok(Executable {
            model,
            generated,
            fields,
        })
    }

    /// The field `field` of the object type `ty`, if the schema has it.
    pub fn field(&self, ty: &str, field: &str) -> Option<&FieldInfo> {
        self.fields.get(ty)?.get(field)
    }
}

/// The executable schema of an SDL, built on first use and shared by every emulator of the
/// process that serves the same SDL: a test suite that starts an emulator per test pays for
/// the schema once.
///
/// The flag says whether the schema came from the cache.
pub(crate) fn schema_for(sdl: &str) -> Result<(Arc<Executable>, bool), String> {
    type Cache = Mutex<HashMap<String, Arc<Executable>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(sdl)
    {
        return Ok((hit.clone(), true));
    }
    // Built outside the lock: two first starts at once may both build; one result is kept.
    let executable = Arc::new(Executable::build(sdl)?);
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let executable = cache.entry(sdl.to_owned()).or_insert(executable).clone();
    Ok((executable, false))
}
