//! Response types: selections merged by response key into structs, fragments as their own
//! types, enums for interfaces and unions; then one operation's module and client methods.
//!
//! See the crate docs ("Fragments", "Names") for the rules this file implements.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use apollo_compiler::Node;
use apollo_compiler::ast::{OperationType, Type};
use apollo_compiler::executable::{
    DirectiveList, ExecutableDocument, Fragment, Operation, Selection, SelectionSet,
};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::typemap::InputField;
use super::typemap::{deprecation, pascal_type};
use super::{TypeMap, container_attr, doc_attr, field_attr, ident};
use crate::names::{pascal, snake, unique};
use crate::sources::location_of;

pub(crate) struct OperationOut {
    pub module: TokenStream,
    /// The methods as inherent methods (`pub fn`).
    pub inherent: TokenStream,
    /// The methods as trait implementations (`fn`).
    pub method: TokenStream,
    pub signature: TokenStream,
}

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
    doc: &'d ExecutableDocument,
    path: &'d Path,
    /// The module the items go into (`fragments` or the operation's module).
    pub module: String,
    base: Base,
    /// Fragment name → `module::Name` of its type.
    fragment_types: &'t BTreeMap<String, String>,
    pub records: &'t mut Records,
    pub items: Vec<TokenStream>,
    pub taken: BTreeSet<String>,
    warned: BTreeSet<String>,
    /// `(file:line:col, message)` for every deprecated field selected.
    pub deprecations: Vec<(String, String)>,
    /// Non-fatal advice (e.g. how to get a pagination stream).
    pub hints: Vec<String>,
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
    fn type_ref(&self, key: &str) -> TokenStream {
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
                        {
                            let cond = conditional || is_conditional(&s.directives);
                            self.collect(&[&frag.selection_set], parent, concrete, cond, held, out);
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
                            self.collect(&[&i.selection_set], parent, concrete, cond, held, out);
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
                            Some(f) => (f.type_condition().as_str(), &f.selection_set),
                            None => continue,
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
                self.variants(&[inner], parent, held, out);
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

    /// A field as `decode_struct!` reads it, under the Rust name `rust`.
    fn decoded<'f>(&self, f: &'f FieldInfo, rust: &str) -> Decoded<'f> {
        Decoded {
            rust: ident(rust),
            key: &f.key,
            ty: self.field_ty(f),
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
            fields.push(quote!(#fdoc #[serde(flatten)] pub #id: #ty,));
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
            let attr = field_attr(rname, key, &[]);
            let id = ident(rname);
            fields.push(quote!(#fdoc #attr pub #id: #ty,));
            info.fields.push(field);
        }
        let id = ident(name);
        let doc = doc_attr(doc);
        let pairs: Vec<(&str, &str)> = info
            .fields
            .iter()
            .map(|f| (f.rust.as_str(), f.key.as_str()))
            .collect();
        // A GraphQL response holds exactly the fields selected, so an unknown field means the
        // JSON is not an answer to this operation (a stale recorded fixture, a wrong endpoint):
        // refuse it rather than drop data silently.
        let rt = self.types.rt.clone();
        if info.fragments.is_empty() {
            let attr = container_attr(&pairs, &[]);
            let decoded: Vec<Decoded<'_>> = info
                .fields
                .iter()
                .map(|f| self.decoded(f, &f.rust))
                .collect();
            let deserialize = deserialize_struct(&rt, &id, &decoded);
            self.items.push(quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize)]
                #attr
                pub struct #id {
                    #(#fields)*
                }
                #deserialize
            });
        } else {
            // `#[serde(flatten)]` would buffer every field and could not refuse an unknown
            // one: decode through a flat private struct instead, then move the fields into the
            // fragments.
            let wire = self.numbered(&format!("{name}Wire"));
            let attr = container_attr(&pairs, &[]);
            let wire_id = ident(&wire);
            let mut flat = Vec::new();
            self.constructor(&info, quote!(#id), &mut flat, &[]);
            let keys: Vec<&str> = flat.iter().map(|f| f.key.as_str()).collect();
            let wire_names = unique(&keys, snake, &[]);
            let decoded: Vec<Decoded<'_>> = flat
                .iter()
                .zip(&wire_names)
                .map(|(f, rust)| self.decoded(f, rust))
                .collect();
            let wire_fields = decoded.iter().map(|d| {
                let (fid, ty) = (&d.rust, &d.ty);
                quote!(#fid: #ty,)
            });
            let wire_deserialize = deserialize_struct(&rt, &wire_id, &decoded);
            let build = self.constructor(&info, quote!(#id), &mut Vec::new(), &wire_names);
            self.items.push(quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize)]
                #attr
                pub struct #id {
                    #(#fields)*
                }
                impl<'de> Deserialize<'de> for #id {
                    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                        #wire_id::deserialize(d).map(Self::from)
                    }
                }
                #[doc(hidden)]
                pub struct #wire_id {
                    #(#wire_fields)*
                }
                #wire_deserialize
                impl From<#wire_id> for #id {
                    fn from(w: #wire_id) -> Self {
                        #build
                    }
                }
            });
        }
        self.records.insert(self.key(name), info);
    }

    /// The expression building a struct from the wire struct `w` (whose fields are named
    /// `wire_names`, in order), appending the wire fields it reads to `flat`.
    fn constructor(
        &self,
        info: &StructInfo,
        ty: TokenStream,
        flat: &mut Vec<FieldInfo>,
        wire_names: &[String],
    ) -> TokenStream {
        let mut inits = Vec::new();
        for (rust, key) in &info.fragments {
            let inner = self.records.get(key).cloned().unwrap_or_default();
            let fid = ident(rust);
            let fty = self.type_ref(key);
            let expr = self.constructor(&inner, fty, flat, wire_names);
            inits.push(quote!(#fid: #expr,));
        }
        for f in &info.fields {
            let i = match wire_names.get(flat.len()) {
                Some(name) => ident(name),
                None => format_ident!("f{}", flat.len()),
            };
            let fid = ident(&f.rust);
            inits.push(quote!(#fid: w.#i,));
            flat.push(f.clone());
        }
        quote!(#ty { #(#inits)* })
    }

    fn note_deprecated(&mut self, c: &Collected<'d>) {
        if let Some(reason) = deprecation(&c.def.directives) {
            let loc = location_of(self.doc, c.first, self.path);
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

/// One operation: its module (variables, response types, local fragments, pagination) and its
/// client methods.
pub(crate) struct OperationGen<'g, 't, 'a, 'd> {
    pub g: &'g mut Gen<'t, 'a, 'd>,
    pub name: String,
    /// The document to send: the operation and the fragments it reaches.
    pub query_text: String,
    /// Fragments used by this operation only, generated in its module.
    pub local_fragments: Vec<&'d Node<Fragment>>,
    /// Whether a shared `fragments` module exists.
    pub shared_fragments: bool,
}

impl<'d> OperationGen<'_, '_, '_, 'd> {
    pub fn operation(&mut self, op: &'d Node<Operation>) -> OperationOut {
        let rt = self.g.types.rt.clone();
        let op_struct = pascal_type(&self.name);
        for frag in self.local_fragments.clone() {
            self.g.fragment(frag);
        }
        let root = op.object_type().to_string();
        let doc = "The data of a successful response.";
        let sets = [&op.selection_set];
        self.g.root_struct("ResponseData", &sets, &root, doc);

        // Variables.
        let var_names: Vec<&str> = op.variables.iter().map(|v| v.name.as_str()).collect();
        let var_rust = unique(&var_names, snake, &[]);
        let inputs: Vec<InputField<'_>> = op
            .variables
            .iter()
            .zip(&var_rust)
            .map(|(v, rust)| InputField {
                graphql: v.name.as_str(),
                rust: rust.clone(),
                ty: &v.ty,
                has_default: v.default_value.is_some(),
                doc: format!("`${}: {}`", v.name, v.ty),
                boxed: false,
                relation_of: None,
            })
            .collect();
        let (var_fields, var_attr, default, _) =
            self.g.types.input_fields(&inputs, &quote!(types::));

        let query_text = self.query_text.clone();
        let op_name = self.name.clone();
        let kind = match op.operation_type {
            OperationType::Mutation => quote!(#rt::OperationKind::Mutation),
            _ => quote!(#rt::OperationKind::Query),
        };
        let kind_word = op.operation_type.name();
        let op_id = ident(&op_struct);
        let paginated = self.pagination(op, &op_id, &var_rust);
        let module_name = snake(&self.name);
        let module_id = ident(&module_name);
        let items = std::mem::take(&mut self.g.items);
        let fragments_use = if self.shared_fragments {
            quote!(
                use super::fragments;
            )
        } else {
            quote!()
        };
        let module_doc = doc_attr(&format!(
            "The `{op_name}` {kind_word} from `{}`.\n\n```graphql\n{}\n```",
            self.g.path.display(),
            query_text.trim_end()
        ));
        let module = quote! {
            #module_doc
            pub mod #module_id {
                #![allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, dead_code)]
                use super::types;
                #fragments_use
                use #rt::Nullable;
                use #rt::__private::serde::{self, Deserialize, Serialize};

                /// The operation's name, sent as `operationName`.
                pub const OPERATION_NAME: &str = #op_name;
                /// The document sent to the server: this operation and the fragments it uses.
                pub const QUERY: &str = #query_text;

                /// The operation, for `graphql_client::GraphQLQuery` and `Client::execute`.
                #[derive(Debug, Clone, Copy, Default)]
                pub struct #op_id;

                impl #rt::graphql_client::GraphQLQuery for #op_id {
                    type Variables = Variables;
                    type ResponseData = ResponseData;
                    fn build_query(variables: Variables) -> #rt::graphql_client::QueryBody<Variables> {
                        #rt::graphql_client::QueryBody { variables, query: QUERY, operation_name: OPERATION_NAME }
                    }
                }

                impl #rt::Operation for #op_id {
                    const NAME: &'static str = OPERATION_NAME;
                    const KIND: #rt::OperationKind = #kind;
                    const QUERY: &'static str = QUERY;
                }

                /// The operation's variables.
                #[derive(Debug, Clone, PartialEq, #default Serialize)]
                #var_attr
                pub struct Variables {
                    #(#var_fields)*
                }

                #paginated

                #(#items)*
            }
        };

        // The client method(s).
        let method_id = ident(&module_name);
        let fn_doc = doc_attr(&format!(
            "Runs the `{op_name}` {kind_word} from `{}`: see [`{module_name}`] for the document.\n\n# Errors\n\nAn [`Error`]({}::Error) whose kind says what failed: GraphQL errors from ION, authentication, transport, HTTP status, decoding{}.",
            self.g.path.display(),
            rt.to_string().replace(' ', ""),
            if kind_word == "mutation" {
                ", or an unknown outcome when the mutation may have run"
            } else {
                ""
            }
        ));
        let has_vars = !op.variables.is_empty();
        let (params, args) = if has_vars {
            (quote!(variables: #module_id::Variables), quote!(variables))
        } else {
            (quote!(), quote!(#module_id::Variables {}))
        };
        let mut methods = vec![(
            fn_doc.clone(),
            quote! {
                fn #method_id(&self, #params) -> impl ::std::future::Future<Output = Result<#module_id::ResponseData, #rt::Error>> + Send {
                    self.execute::<#module_id::#op_id>(#args)
                }
            },
        )];
        let mut sigs = vec![quote! {
            #fn_doc
            fn #method_id(&self, #params) -> impl ::std::future::Future<Output = Result<#module_id::ResponseData, #rt::Error>> + Send;
        }];
        if paginated_node(&paginated).is_some() {
            let pages_id = format_ident!("{}_pages", module_name);
            let nodes_id = format_ident!("{}_nodes", module_name);
            let node_id = ident("Node");
            let pdoc = doc_attr(&format!(
                "Every page of `{op_name}`, following `pageInfo.endCursor`; at most one page is held in memory."
            ));
            let ndoc = doc_attr(&format!(
                "Every node of `{op_name}` across all pages, one page in memory at a time."
            ));
            methods.push((pdoc.clone(), quote! {
                fn #pages_id(&self, #params) -> impl #rt::__private::Stream<Item = Result<#module_id::ResponseData, #rt::Error>> + Send + 'static {
                    self.pages::<#module_id::#op_id>(#args)
                }
            }));
            methods.push((ndoc.clone(), quote! {
                fn #nodes_id(&self, #params) -> impl #rt::__private::Stream<Item = Result<#module_id::#node_id, #rt::Error>> + Send + 'static {
                    self.nodes::<#module_id::#op_id>(#args)
                }
            }));
            sigs.push(quote! {
                #pdoc
                fn #pages_id(&self, #params) -> impl #rt::__private::Stream<Item = Result<#module_id::ResponseData, #rt::Error>> + Send + 'static;
                #ndoc
                fn #nodes_id(&self, #params) -> impl #rt::__private::Stream<Item = Result<#module_id::#node_id, #rt::Error>> + Send + 'static;
            });
        }
        let inherent = methods.iter().map(|(d, m)| quote!(#d pub #m));
        let inherent = quote!(#(#inherent)*);
        // The trait's declarations carry the docs; its implementation does not repeat them.
        let method = methods.iter().map(|(_, m)| quote!(#m));
        let method = quote!(#(#method)*);
        OperationOut {
            module,
            inherent,
            method,
            signature: quote!(#(#sigs)*),
        }
    }

    /// A field of a recorded struct by response key, looking into the fragments it holds; its
    /// access path (`a.b`) and record.
    fn field(&self, strct: &str, key: &str) -> Option<FieldRecord> {
        let info = self.g.records.get(strct)?;
        if let Some(f) = info.fields.iter().find(|f| f.key == key) {
            let id = ident(&f.rust);
            return Some(FieldRecord {
                rust: quote!(#id),
                ty: f.ty.clone(),
                child: f.child.clone(),
            });
        }
        info.fragments.iter().find_map(|(rust, frag)| {
            let inner = self.field(frag, key)?;
            let id = ident(rust);
            let path = inner.rust;
            Some(FieldRecord {
                rust: quote!(#id.#path),
                ..inner
            })
        })
    }

    /// Finds the connection paginated by `$after` and emits `impl Paginated`.
    fn pagination(
        &mut self,
        op: &'d Node<Operation>,
        op_id: &proc_macro2::Ident,
        var_rust: &[String],
    ) -> TokenStream {
        let Some(after_idx) = op.variables.iter().position(|v| v.name == "after") else {
            return quote!();
        };
        let Some(path) = crate::pagination::connection_path(&self.query_text, Some(&self.name))
        else {
            return quote!();
        };
        // Walk the recorded struct fields along the path of response keys.
        let mut current = format!("{}::ResponseData", self.g.module);
        let mut steps: Vec<FieldRecord> = Vec::new();
        for key in &path {
            let Some(rec) = self.field(&current, key) else {
                return quote!();
            };
            if rec.ty.is_list() {
                return quote!();
            }
            let Some(child) = rec.child.clone() else {
                return quote!();
            };
            steps.push(rec);
            current = child;
        }
        let conn = current;
        let field = |s: &Self, strct: &str, key: &str| s.field(strct, key);
        let hint = |s: &mut Self, what: &str| {
            s.g.hints.push(format!(
                "{}: operation `{}` declares $after but {what}; select `pageInfo {{ hasNextPage endCursor }}` and `edges {{ node {{ ... }} }}` on the connection to get `_pages`/`_nodes` streams",
                s.g.path.display(),
                s.name
            ));
            quote!()
        };
        let Some(page_info) = field(self, &conn, "pageInfo") else {
            return hint(self, "selects no `pageInfo`");
        };
        let Some(pi_struct) = page_info.child.clone() else {
            return quote!();
        };
        let (Some(has_next), Some(end_cursor)) = (
            field(self, &pi_struct, "hasNextPage"),
            field(self, &pi_struct, "endCursor"),
        ) else {
            return hint(self, "its `pageInfo` lacks `hasNextPage` or `endCursor`");
        };
        let Some(edges) = field(self, &conn, "edges") else {
            return hint(self, "selects no `edges`");
        };
        let Some(edge_struct) = edges.child.clone() else {
            return quote!();
        };
        let Some(node) = field(self, &edge_struct, "node") else {
            return hint(self, "selects no `edges { node }`");
        };
        let Some(node_struct) = node.child.clone() else {
            return quote!();
        };
        if !edges.ty.is_list() || node.ty.is_list() {
            return quote!();
        }

        // page_cursor: borrow down the path.
        let mut nav = quote!(let c = data;);
        for s in &steps {
            let f = &s.rust;
            nav = if s.ty.is_non_null() {
                quote!(#nav let c = &c.#f;)
            } else {
                quote!(#nav let c = c.#f.as_ref()?;)
            };
        }
        let pi = &page_info.rust;
        let pi_nav = if page_info.ty.is_non_null() {
            quote!(let p = &c.#pi;)
        } else {
            quote!(let p = c.#pi.as_ref()?;)
        };
        let hn = &has_next.rust;
        let hn_expr = if has_next.ty.is_non_null() {
            quote!(p.#hn)
        } else {
            quote!(p.#hn.unwrap_or(false))
        };
        let ec = &end_cursor.rust;
        let ec_expr = if end_cursor.ty.is_non_null() {
            quote!(Some(p.#ec.clone()))
        } else {
            quote!(p.#ec.clone())
        };

        // into_nodes: move down the path.
        let mut take = quote!(let c = data;);
        for s in &steps {
            let f = &s.rust;
            take = if s.ty.is_non_null() {
                quote!(#take let c = c.#f;)
            } else {
                quote!(#take let c = c.#f?;)
            };
        }
        let ed = &edges.rust;
        let edges_expr = if edges.ty.is_non_null() {
            quote!(c.#ed)
        } else {
            quote!(c.#ed?)
        };
        let item_nullable =
            matches!(&edges.ty, Type::List(i) | Type::NonNullList(i) if !i.is_non_null());
        let flatten = if item_nullable {
            quote!(.flatten())
        } else {
            quote!()
        };
        let nd = &node.rust;
        let node_map = if node.ty.is_non_null() {
            quote!(.map(|e| e.#nd))
        } else {
            quote!(.filter_map(|e| e.#nd))
        };
        // node_count: the same walk, borrowed, counting what into_nodes would keep.
        let edges_ref = if edges.ty.is_non_null() {
            quote!(c.#ed.iter())
        } else {
            quote!(c.#ed.as_ref()?.iter())
        };
        let node_filter = if node.ty.is_non_null() {
            quote!()
        } else {
            quote!(.filter(|e| e.#nd.is_some()))
        };

        let after_field = ident(&var_rust[after_idx]);
        let after_var = &op.variables[after_idx];
        let rt = &self.g.types.rt;
        let set_after = if after_var.ty.is_non_null() {
            if after_var.default_value.is_some() {
                quote!(variables.#after_field = after;)
            } else {
                quote!(variables.#after_field = after.unwrap_or_default();)
            }
        } else {
            quote!(variables.#after_field = match after { Some(a) => #rt::Nullable::Value(a), None => #rt::Nullable::Omitted };)
        };
        let node_id = self.g.type_ref(&node_struct);
        quote! {
            impl #rt::Paginated for #op_id {
                type Node = #node_id;
                fn set_after(variables: &mut Variables, after: Option<String>) {
                    #set_after
                }
                fn page_cursor(data: &ResponseData) -> Option<#rt::PageCursor> {
                    #nav
                    #pi_nav
                    Some(#rt::PageCursor { has_next_page: #hn_expr, end_cursor: #ec_expr })
                }
                fn node_count(data: &ResponseData) -> usize {
                    let count = || -> Option<usize> {
                        #nav
                        Some(#edges_ref #flatten #node_filter .count())
                    };
                    count().unwrap_or(0)
                }
                fn into_nodes(data: ResponseData) -> Vec<#node_id> {
                    let nodes = move || -> Option<Vec<#node_id>> {
                        #take
                        Some(#edges_expr.into_iter() #flatten #node_map .collect())
                    };
                    nodes().unwrap_or_default()
                }
            }
            /// The node type of this operation's paginated connection.
            pub type Node = #node_id;
        }
    }
}

/// A field on the way to a connection.
#[derive(Clone)]
struct FieldRecord {
    /// Access path from the struct (`run_summary.id` through a held fragment).
    rust: TokenStream,
    ty: Type,
    child: Option<String>,
}

fn paginated_node(tokens: &TokenStream) -> Option<TokenStream> {
    // The pagination impl ends with `pub type Node = X;`: read X back.
    let text = tokens.to_string();
    let rest = text.split("pub type Node = ").nth(1)?;
    rest.trim_end_matches(|c: char| c == ';' || c.is_whitespace())
        .parse()
        .ok()
}

/// A field a generated `Deserialize` impl reads.
struct Decoded<'a> {
    rust: proc_macro2::Ident,
    /// The response key.
    key: &'a str,
    ty: TokenStream,
}

/// The `Deserialize` impl of a response struct: one call of the runtime's `decode_struct!`
/// (which says how it decodes, and why not `#[derive(Deserialize)]`) with the struct's fields
/// and keys.
fn deserialize_struct(
    rt: &TokenStream,
    id: &proc_macro2::Ident,
    fields: &[Decoded<'_>],
) -> TokenStream {
    let entries = fields.iter().enumerate().map(|(i, f)| {
        let (rust, ty, key) = (&f.rust, &f.ty, f.key);
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        quote!(#i => #rust: #ty = #key,)
    });
    quote!(#rt::__private::decode_struct!(#id { #(#entries)* });)
}
