//! Response types: selections merged by response key into structs, fragments as their own
//! types (held as named fields or inlined), enums for interfaces and unions, each struct with
//! its `decode_struct!` call.
//!
//! See the crate docs ("Fragments", "Names") for the rules this file implements.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use apollo_compiler::Node;
use apollo_compiler::ast::Type;
use apollo_compiler::executable::{
    DirectiveList, ExecutableDocument, Fragment, Selection, SelectionSet,
};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::TypeMap;
use super::decode::{Build, BuildValue, DecodeCall, DecodeField};
use super::typemap::{deprecation, pascal_type};
use super::{doc_attr, ident};
use crate::diagnostic::Place;
use crate::names::{pascal, snake, unique};

/// A field of a generated response struct, kept for pagination and for decoding structs that
/// hold fragments.
#[derive(Clone)]
pub(crate) struct FieldInfo {
    /// The response key.
    pub key: String,
    pub rust: String,
    pub ty: Type,
    /// `module::Name` of the struct or fragment type this field holds, if any.
    pub child: Option<String>,
    /// The Rust type of a leaf (scalar or enum) field.
    pub leaf: TokenStream,
    /// Skipped by `@include`/`@skip`, so optional and `default`.
    pub conditional: bool,
}

/// A generated struct: its own fields and the fragments it holds as fields.
#[derive(Clone, Default)]
pub(crate) struct StructInfo {
    pub fields: Vec<FieldInfo>,
    /// `(rust field name, module::Name of the fragment struct)`.
    pub fragments: Vec<(String, String)>,
}

/// Every struct generated in this run, by `module::Name`.
pub(crate) type Records = BTreeMap<String, StructInfo>;

/// The merged occurrences of one response key in a selection.
struct Collected<'d> {
    def: Node<FieldDefinition>,
    conditional: bool,
    sets: Vec<&'d SelectionSet>,
    first: Option<apollo_compiler::parser::SourceSpan>,
}

/// Where the types being generated live, which decides their names.
#[derive(Clone)]
pub(crate) enum Base {
    /// An operation's module; the operation's unit struct has this name.
    Operation,
    /// A fragment's type and the types nested in it (named after the fragment).
    Fragment(String),
}

pub(crate) struct Gen<'t, 'a, 'd> {
    pub types: &'t mut TypeMap<'a>,
    pub doc: &'d ExecutableDocument,
    pub path: &'d Path,
    /// The module the items go into (`fragments` or the operation's module).
    pub module: String,
    base: Base,
    /// Fragment name → `module::Name` of its type.
    fragment_types: &'t BTreeMap<String, String>,
    pub records: &'t mut Records,
    pub items: Vec<TokenStream>,
    /// The `decode_struct!` calls of the structs in `items`.
    pub decoders: Vec<DecodeCall>,
    pub taken: BTreeSet<String>,
    warned: BTreeSet<Place>,
    /// `(where, message)` for every deprecated field selected.
    pub deprecations: Vec<(Place, String)>,
    /// Non-fatal advice (e.g. how to get a pagination stream).
    pub hints: Vec<String>,
}

/// What a [`Gen::collect`] walk merges for: the type selected on, the concrete type when it is
/// abstract, and the fragments held as fields.
#[derive(Clone, Copy)]
struct Walk<'w> {
    parent: &'w str,
    concrete: Option<&'w str>,
    held: &'w BTreeSet<String>,
}

fn is_conditional(directives: &DirectiveList) -> bool {
    directives.get("include").is_some() || directives.get("skip").is_some()
}

/// Names every module reserves: the derive imports and the shared modules.
const RESERVED: &[&str] = &["Serialize", "Deserialize", "Nullable"];

impl<'t, 'a, 'd> Gen<'t, 'a, 'd> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        types: &'t mut TypeMap<'a>,
        doc: &'d ExecutableDocument,
        path: &'d Path,
        module: &str,
        base: Base,
        fragment_types: &'t BTreeMap<String, String>,
        records: &'t mut Records,
        taken: BTreeSet<String>,
    ) -> Self {
        let mut taken = taken;
        taken.extend(RESERVED.iter().map(|s| s.to_string()));
        Gen {
            types,
            doc,
            path,
            module: module.to_string(),
            base,
            fragment_types,
            records,
            items: Vec::new(),
            decoders: Vec::new(),
            taken,
            warned: BTreeSet::new(),
            deprecations: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// Generate the next types for this base (a fragment of the shared module).
    pub fn set_base(&mut self, base: Base) {
        self.base = base;
    }

    /// A type of `module::Name` as written from this module.
    pub fn type_ref(&self, key: &str) -> TokenStream {
        match key.split_once("::") {
            Some((m, n)) if m == self.module => {
                let n = ident(n);
                quote!(#n)
            }
            Some((m, n)) => {
                let (m, n) = (ident(m), ident(n));
                quote!(#m::#n)
            }
            None => {
                let n = ident(key);
                quote!(#n)
            }
        }
    }

    /// A type of `module::Name` as written from this module, as text.
    pub fn type_text(&self, key: &str) -> String {
        match key.split_once("::") {
            Some((m, n)) if m == self.module => n.to_string(),
            _ => key.to_string(),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}::{name}", self.module)
    }

    fn possible(&self, ty: &str) -> BTreeSet<String> {
        let schema = self.types.schema;
        match schema.types.get(ty) {
            Some(ExtendedType::Object(_)) => [ty.to_string()].into(),
            Some(ExtendedType::Union(u)) => u.members.iter().map(|m| m.name.to_string()).collect(),
            Some(ExtendedType::Interface(_)) => schema
                .types
                .iter()
                .filter_map(|(n, t)| match t {
                    ExtendedType::Object(o)
                        if o.implements_interfaces.iter().any(|i| i.name == ty) =>
                    {
                        Some(n.to_string())
                    }
                    _ => None,
                })
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    fn applies(&self, condition: &str, parent: &str, concrete: Option<&str>) -> bool {
        if condition == parent {
            return true;
        }
        let cond = self.possible(condition);
        match concrete {
            Some(c) => cond.contains(c),
            None => self.possible(parent).is_subset(&cond),
        }
    }

    fn is_abstract(&self, ty: &str) -> bool {
        matches!(
            self.types.schema.types.get(ty),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_))
        )
    }

    /// Merges the selections of `sets` that apply to `parent` (or to the concrete type `concrete`
    /// of an abstract `parent`) by response key, in first-seen order. Spreads of the fragments in
    /// `held` are skipped: the struct holds those fragments as fields.
    fn collect(
        &self,
        sets: &[&'d SelectionSet],
        parent: &str,
        concrete: Option<&str>,
        conditional: bool,
        held: &BTreeSet<String>,
        out: &mut Vec<(String, Collected<'d>)>,
    ) {
        let walk = Walk {
            parent,
            concrete,
            held,
        };
        self.collect_in(sets, &walk, conditional, &mut Vec::new(), out);
    }

    /// [`Self::collect`], with the fragments being expanded on the way here in `entered`: a
    /// fragment is never expanded inside itself (validation refuses cycles; the walk ends even
    /// so). A fragment spread twice side by side is expanded twice, since whether its fields are
    /// conditional depends on every spread.
    fn collect_in(
        &self,
        sets: &[&'d SelectionSet],
        walk: &Walk<'_>,
        conditional: bool,
        entered: &mut Vec<&'d str>,
        out: &mut Vec<(String, Collected<'d>)>,
    ) {
        let Walk {
            parent,
            concrete,
            held,
        } = *walk;
        for set in sets {
            for sel in &set.selections {
                match sel {
                    Selection::Field(f) => {
                        let key = f.response_key().to_string();
                        let cond = conditional || is_conditional(&f.directives);
                        if let Some((_, c)) = out.iter_mut().find(|(k, _)| *k == key) {
                            c.conditional &= cond;
                            c.sets.push(&f.selection_set);
                        } else {
                            out.push((
                                key,
                                Collected {
                                    def: f.definition.clone(),
                                    conditional: cond,
                                    sets: vec![&f.selection_set],
                                    first: f.location(),
                                },
                            ));
                        }
                    }
                    Selection::FragmentSpread(s) => {
                        if held.contains(s.fragment_name.as_str()) {
                            continue;
                        }
                        if let Some(frag) = self.doc.fragments.get(&s.fragment_name)
                            && self.applies(frag.type_condition(), parent, concrete)
                            && !entered.contains(&frag.name.as_str())
                        {
                            let cond = conditional || is_conditional(&s.directives);
                            entered.push(frag.name.as_str());
                            self.collect_in(&[&frag.selection_set], walk, cond, entered, out);
                            entered.pop();
                        }
                    }
                    Selection::InlineFragment(i) => {
                        let tc = i
                            .type_condition
                            .as_ref()
                            .map(|t| t.as_str())
                            .unwrap_or(parent);
                        if self.applies(tc, parent, concrete) {
                            let cond = conditional || is_conditional(&i.directives);
                            self.collect_in(&[&i.selection_set], walk, cond, entered, out);
                        }
                    }
                }
            }
        }
    }

    /// Spreads that always apply to the object described (`concrete`, else `parent`), found at
    /// the top of `sets` or inside unconditional inline fragments that apply.
    fn candidate_spreads(
        &self,
        sets: &[&'d SelectionSet],
        parent: &str,
        concrete: Option<&str>,
        out: &mut Vec<&'d Node<Fragment>>,
    ) {
        let described = concrete.unwrap_or(parent);
        for set in sets {
            for sel in &set.selections {
                match sel {
                    Selection::FragmentSpread(s) if !is_conditional(&s.directives) => {
                        if let Some(frag) = self.doc.fragments.get(&s.fragment_name)
                            && frag.type_condition() == described
                            && self.fragment_types.contains_key(frag.name.as_str())
                            && !out.iter().any(|f| f.name == frag.name)
                        {
                            out.push(frag);
                        }
                    }
                    Selection::InlineFragment(i) if !is_conditional(&i.directives) => {
                        let tc = i
                            .type_condition
                            .as_ref()
                            .map(|t| t.as_str())
                            .unwrap_or(parent);
                        if self.applies(tc, parent, concrete) {
                            self.candidate_spreads(&[&i.selection_set], parent, concrete, out);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Which fragments a selection holds as fields: those whose response keys no other
    /// selection of the struct shares (a shared key would need one JSON value in two places).
    /// Returns them with the remaining fields.
    fn split_fragments(
        &self,
        sets: &[&'d SelectionSet],
        parent: &str,
        concrete: Option<&str>,
    ) -> (Vec<&'d Node<Fragment>>, Vec<(String, Collected<'d>)>) {
        let mut held_frags = Vec::new();
        self.candidate_spreads(sets, parent, concrete, &mut held_frags);
        loop {
            let held: BTreeSet<String> = held_frags.iter().map(|f| f.name.to_string()).collect();
            let mut rest = Vec::new();
            self.collect(sets, parent, concrete, false, &held, &mut rest);
            let frag_keys: Vec<BTreeSet<String>> = held_frags
                .iter()
                .map(|f| {
                    let mut keys = Vec::new();
                    self.collect(
                        &[&f.selection_set],
                        f.type_condition(),
                        None,
                        false,
                        &BTreeSet::new(),
                        &mut keys,
                    );
                    keys.into_iter().map(|(k, _)| k).collect()
                })
                .collect();
            let with_typename = frag_keys.iter().any(|k| k.contains("__typename"));
            if with_typename || concrete.is_some() {
                // A fragment (or the variant's enum) already carries the type name.
                rest.retain(|(k, _)| k != "__typename");
            }
            let mut clash = None;
            for (i, keys) in frag_keys.iter().enumerate() {
                let others = frag_keys
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, k)| k.iter());
                let shared = rest.iter().any(|(k, _)| keys.contains(k))
                    || others
                        .into_iter()
                        .any(|k| keys.contains(k) && k != "__typename");
                if shared {
                    clash = Some(i);
                    break;
                }
            }
            match clash {
                Some(i) => {
                    held_frags.remove(i);
                }
                None => return (held_frags, rest),
            }
        }
    }

    /// Concrete types named by fragments narrower than an abstract `parent`.
    fn variants(
        &self,
        sets: &[&'d SelectionSet],
        parent: &str,
        held: &BTreeSet<String>,
        out: &mut BTreeSet<String>,
    ) {
        self.variants_in(sets, parent, held, &mut BTreeSet::new(), out);
    }

    /// [`Self::variants`], expanding each fragment once (`entered`): a second visit adds
    /// nothing, and a fragment that spreads itself ends the walk.
    fn variants_in(
        &self,
        sets: &[&'d SelectionSet],
        parent: &str,
        held: &BTreeSet<String>,
        entered: &mut BTreeSet<&'d str>,
        out: &mut BTreeSet<String>,
    ) {
        let parent_possible = self.possible(parent);
        for set in sets {
            for sel in &set.selections {
                let (tc, inner): (&str, &SelectionSet) = match sel {
                    Selection::Field(_) => continue,
                    Selection::FragmentSpread(s) if held.contains(s.fragment_name.as_str()) => {
                        continue;
                    }
                    Selection::FragmentSpread(s) => {
                        match self.doc.fragments.get(&s.fragment_name) {
                            Some(f) if entered.insert(f.name.as_str()) => {
                                (f.type_condition().as_str(), &f.selection_set)
                            }
                            _ => continue,
                        }
                    }
                    Selection::InlineFragment(i) => (
                        i.type_condition
                            .as_ref()
                            .map(|t| t.as_str())
                            .unwrap_or(parent),
                        &i.selection_set,
                    ),
                };
                if !self.applies(tc, parent, None) {
                    out.extend(self.possible(tc).intersection(&parent_possible).cloned());
                }
                self.variants_in(&[inner], parent, held, entered, out);
            }
        }
    }

    /// The one fragment a selection consists of, if it is a lone spread (`{ ...F }`).
    fn lone_spread(&self, sets: &[&'d SelectionSet], parent: &str) -> Option<String> {
        let (held, rest) = self.split_fragments(sets, parent, None);
        if held.len() != 1 || !rest.is_empty() {
            return None;
        }
        let names = [held[0].name.to_string()].into();
        let mut narrower = BTreeSet::new();
        if self.is_abstract(parent) {
            self.variants(sets, parent, &names, &mut narrower);
        }
        narrower
            .is_empty()
            .then(|| self.fragment_types[held[0].name.as_str()].clone())
    }

    /// A field's Rust type as written from this module.
    pub fn field_ty(&self, f: &FieldInfo) -> TokenStream {
        let leaf = match &f.child {
            Some(key) => self.type_ref(key),
            None => f.leaf.clone(),
        };
        let ty = TypeMap::output_wrap(&f.ty, leaf);
        if f.conditional && f.ty.is_non_null() {
            quote!(Option<#ty>)
        } else {
            ty
        }
    }

    fn take_name(&mut self, wanted: &str) -> Option<String> {
        self.taken
            .insert(wanted.to_string())
            .then(|| wanted.to_string())
    }

    /// The next free `wanted`, `wanted2`, `wanted3`, ...
    fn numbered(&mut self, wanted: &str) -> String {
        if let Some(n) = self.take_name(wanted) {
            return n;
        }
        (2..)
            .find_map(|n| self.take_name(&format!("{wanted}{n}")))
            .unwrap_or_default()
    }

    /// The name of the type for the selection at `path` (response keys from the operation's
    /// root, or from the fragment): see the crate docs ("Names").
    fn name_for(&mut self, path: &[String]) -> String {
        let joined = |keys: &[String]| keys.iter().map(|k| pascal(k)).collect::<String>();
        match self.base.clone() {
            Base::Fragment(f) => self.numbered(&format!("{f}{}", joined(path))),
            Base::Operation if path.len() <= 1 => {
                let own = joined(path);
                if let Some(n) = self.take_name(&own) {
                    return n;
                }
                self.numbered(&format!("{own}Payload"))
            }
            Base::Operation => {
                if let Some(n) = self.take_name(&joined(&path[1..])) {
                    return n;
                }
                self.numbered(&joined(path))
            }
        }
    }

    /// The type of a selection on `parent` at `path`: a fragment's type when the selection is a
    /// lone spread, else a generated struct or enum. Returns the Rust type and its
    /// `module::Name`.
    pub fn selection_type(
        &mut self,
        path: &[String],
        sets: &[&'d SelectionSet],
        parent: &str,
        own_name: Option<String>,
    ) -> (TokenStream, String) {
        if own_name.is_none()
            && let Some(key) = self.lone_spread(sets, parent)
        {
            return (self.type_ref(&key), key);
        }
        let mut variants = BTreeSet::new();
        if self.is_abstract(parent) {
            self.variants(sets, parent, &BTreeSet::new(), &mut variants);
        }
        let name = match &own_name {
            Some(n) => n.clone(),
            None => self.name_for(path),
        };
        if variants.is_empty() {
            let doc = match &own_name {
                Some(_) => format!("Fragment `{name}` on `{parent}`."),
                None => format!("Selection on `{parent}`."),
            };
            self.structure(&name, path, sets, parent, None, &doc);
            let key = self.key(&name);
            return (self.type_ref(&key), key);
        }
        let rt = self.types.rt.clone();
        let mut arms = Vec::new();
        let mut decode = Vec::new();
        let mut encode = Vec::new();
        let mut typenames = Vec::new();
        for v in &variants {
            let (held, rest) = self.split_fragments(sets, parent, Some(v));
            let vid = format_ident!("{}", pascal_type(v));
            let (vty, keeps_typename) = if held.len() == 1 && rest.is_empty() {
                let key = self.fragment_types[held[0].name.as_str()].clone();
                let mut keys = Vec::new();
                self.collect(
                    &[&held[0].selection_set],
                    v,
                    None,
                    false,
                    &BTreeSet::new(),
                    &mut keys,
                );
                let keeps = keys.iter().any(|(k, _)| k == "__typename");
                (self.type_ref(&key), keeps)
            } else {
                let vname = self.numbered(&format!("{name}{}", pascal_type(v)));
                let doc = format!("Selection on `{parent}` when the object is a `{v}`.");
                self.structure(&vname, path, sets, parent, Some(v), &doc);
                let vname = ident(&vname);
                (quote!(#vname), false)
            };
            let vdoc = doc_attr(&format!("A `{v}`."));
            arms.push(quote!(#vdoc #vid(#vty),));
            if keeps_typename {
                decode.push(quote!(#v => #rt::__private::decode_value(value).map(Self::#vid),));
                encode.push(quote!(Self::#vid(v) => v.serialize(s),));
                typenames.push(quote!(Self::#vid(v) => v.typename(),));
            } else {
                decode.push(quote!(#v => #rt::__private::decode_variant(value).map(Self::#vid),));
                encode.push(quote!(Self::#vid(v) => #rt::__private::serialize_variant(s, #v, v),));
                typenames.push(quote!(Self::#vid(_) => #v,));
            }
        }
        let other = self.numbered(&format!("{name}Other"));
        let doc = format!(
            "Selection on `{parent}` for an object type this operation names no fragment for."
        );
        self.structure(&other, path, sets, parent, None, &doc);
        let other_id = ident(&other);
        let id = ident(&name);
        let doc = doc_attr(&format!(
            "Selection on the abstract type `{parent}`, decoded by `__typename`."
        ));
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            pub enum #id {
                #(#arms)*
                /// Any other type (including types newer than this build).
                Other(#other_id),
            }
            impl #id {
                /// The object's `__typename`.
                pub fn typename(&self) -> &str {
                    match self {
                        #(#typenames)*
                        Self::Other(v) => &v.typename,
                    }
                }
            }
            impl Serialize for #id {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    match self {
                        #(#encode)*
                        Self::Other(v) => v.serialize(s),
                    }
                }
            }
            impl<'de> Deserialize<'de> for #id {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let value = #rt::__private::typed_value(d)?;
                    match value.0.as_str() {
                        #(#decode)*
                        _ => #rt::__private::decode_value(value).map(Self::Other),
                    }
                }
            }
        });
        let key = self.key(&name);
        (self.type_ref(&key), key)
    }

    /// Generates the struct `name` for a selection that must be a struct of its own (the
    /// operation's `ResponseData`).
    pub fn root_struct(&mut self, name: &str, sets: &[&'d SelectionSet], parent: &str, doc: &str) {
        self.structure(name, &[], sets, parent, None, doc);
    }

    /// Emits one struct for the merged selection (plus its private decoding struct when it
    /// holds fragments).
    fn structure(
        &mut self,
        name: &str,
        path: &[String],
        sets: &[&'d SelectionSet],
        parent: &str,
        concrete: Option<&str>,
        doc: &str,
    ) {
        let (held, collected) = self.split_fragments(sets, parent, concrete);
        let keys: Vec<&str> = collected.iter().map(|(k, _)| k.as_str()).collect();
        let frag_names: Vec<String> = held.iter().map(|f| snake(f.name.as_str())).collect();
        let mut all_names: Vec<&str> = frag_names.iter().map(String::as_str).collect();
        all_names.extend(keys.iter().copied());
        let mut rust_names = unique(&all_names, snake, &[]);
        let field_names = rust_names.split_off(held.len());
        let frag_fields = rust_names;
        let mut info = StructInfo::default();
        let mut fields = Vec::new();
        for (f, rname) in held.iter().zip(&frag_fields) {
            let key = self.fragment_types[f.name.as_str()].clone();
            let ty = self.type_ref(&key);
            let id = ident(rname);
            let fdoc = doc_attr(&format!("The fields of fragment `{}`.", f.name));
            fields.push(quote!(#fdoc pub #id: #ty,));
            info.fragments.push((rname.clone(), key));
        }
        for ((key, c), rname) in collected.iter().zip(&field_names) {
            self.note_deprecated(c);
            let leaf_name = c.def.ty.inner_named_type().to_string();
            let mut child_path = path.to_vec();
            child_path.push(key.clone());
            let (leaf, child) = match self.types.schema.types.get(leaf_name.as_str()) {
                Some(
                    ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_),
                ) => {
                    let (_, key) = self.selection_type(&child_path, &c.sets, &leaf_name, None);
                    (quote!(), Some(key))
                }
                _ => (
                    self.types.named_input_or_leaf(&leaf_name, &quote!(types::)),
                    None,
                ),
            };
            let field = FieldInfo {
                key: key.clone(),
                rust: rname.clone(),
                ty: c.def.ty.clone(),
                child,
                leaf,
                conditional: c.conditional,
            };
            let ty = self.field_ty(&field);
            let mut fdoc = c
                .def
                .description
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default();
            if c.conditional {
                fdoc.push_str("\n\n`None` when the field was skipped by `@include`/`@skip`.");
            }
            if rname != &snake(key) {
                fdoc.push_str(&format!(
                    "\n\nGraphQL `{key}`, renamed because another field has the same Rust name."
                ));
            }
            let fdoc = doc_attr(&fdoc);
            let id = ident(rname);
            fields.push(quote!(#fdoc pub #id: #ty,));
            info.fields.push(field);
        }
        let id = ident(name);
        let doc = doc_attr(doc);
        // A GraphQL response holds exactly the fields selected, so an unknown field means the
        // JSON is not an answer to this operation (a stale recorded fixture, a wrong endpoint):
        // `decode_struct!` refuses it rather than drop data silently.
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            pub struct #id {
                #(#fields)*
            }
        });
        let call = if info.fragments.is_empty() {
            DecodeCall {
                name: name.to_string(),
                fields: info
                    .fields
                    .iter()
                    .map(|f| DecodeField {
                        local: f.rust.clone(),
                        key: f.key.clone(),
                        path: Vec::new(),
                    })
                    .collect(),
                build: None,
            }
        } else {
            // `#[serde(flatten)]` would buffer every field and could not refuse an unknown
            // one: the keys are read flat into locals, then moved into the fragments.
            let mut flat = Vec::new();
            self.flatten(&info, &mut Vec::new(), &mut flat);
            let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
            let locals = unique(&keys, snake, &[]);
            let build = self.build(&info, name.to_string(), &locals, &mut 0);
            DecodeCall {
                name: name.to_string(),
                fields: flat
                    .into_iter()
                    .zip(locals)
                    .map(|((key, path), local)| DecodeField { local, key, path })
                    .collect(),
                build: Some(build),
            }
        };
        self.decoders.push(call);
        self.records.insert(self.key(name), info);
    }

    /// The response keys a struct holding fragments reads, with the field path of each, in
    /// the order [`Gen::build`] takes them: each held fragment's keys, then the struct's own.
    fn flatten(
        &self,
        info: &StructInfo,
        at: &mut Vec<String>,
        out: &mut Vec<(String, Vec<String>)>,
    ) {
        for (rust, key) in &info.fragments {
            let inner = self.records.get(key).cloned().unwrap_or_default();
            at.push(rust.clone());
            self.flatten(&inner, at, out);
            at.pop();
        }
        for f in &info.fields {
            let mut path = at.clone();
            path.push(f.rust.clone());
            out.push((f.key.clone(), path));
        }
    }

    /// The struct literal building `info` (of type `ty`) from the locals, taken in order from
    /// `next`.
    fn build(&self, info: &StructInfo, ty: String, locals: &[String], next: &mut usize) -> Build {
        let mut fields = Vec::new();
        for (rust, key) in &info.fragments {
            let inner = self.records.get(key).cloned().unwrap_or_default();
            let nested = self.build(&inner, self.type_text(key), locals, next);
            fields.push((rust.clone(), BuildValue::Nested(nested)));
        }
        for f in &info.fields {
            let local = locals.get(*next).cloned().unwrap_or_default();
            *next += 1;
            fields.push((f.rust.clone(), BuildValue::Local(local)));
        }
        Build { ty, fields }
    }

    fn note_deprecated(&mut self, c: &Collected<'d>) {
        if let Some(reason) = deprecation(&c.def.directives) {
            let loc = Place::of(&self.doc.sources, c.first, self.path);
            if self.warned.insert(loc.clone()) {
                self.deprecations.push((
                    loc,
                    format!("field `{}` is deprecated: {reason}", c.def.name),
                ));
            }
        }
    }

    /// Generates a fragment's type (named after the fragment); a fragment that is a lone spread
    /// of another becomes an alias of it.
    pub fn fragment(&mut self, frag: &'d Node<Fragment>) {
        let name = pascal_type(frag.name.as_str());
        let parent = frag.type_condition().to_string();
        let sets = [&frag.selection_set];
        if let Some(key) = self.lone_spread(&sets, &parent) {
            let target = self.type_ref(&key);
            let id = ident(&name);
            let doc = doc_attr(&format!(
                "Fragment `{}`: the same selection as `{target}`.",
                frag.name
            ));
            self.items.push(quote!(#doc pub type #id = #target;));
            let inner = self.records.get(&key).cloned();
            if let Some(inner) = inner {
                self.records.insert(self.key(&name), inner);
            }
            return;
        }
        self.selection_type(&[], &sets, &parent, Some(name));
    }
}
