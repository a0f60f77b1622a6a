//! GraphQL types to Rust types, and the shared `types` module (enums and input objects).

use std::collections::{BTreeMap, BTreeSet};

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::names::{pascal, snake, unique};

use super::assemble::ModuleOut;
use super::{container_attr, doc_attr, field_attr, ident, path_tokens};

/// One field of an input object or of an operation's `Variables`.
pub(crate) struct InputField<'s> {
    pub graphql: &'s str,
    pub rust: String,
    pub ty: &'s Type,
    pub has_default: bool,
    pub doc: String,
    /// Boxed because the field closes a cycle of input objects.
    pub boxed: bool,
    /// The input object holding the field (`None` for variables).
    pub relation_of: Option<&'s str>,
}

impl InputField<'_> {
    /// Whether the field may be left out: it is nullable or has a default.
    fn omittable(&self) -> bool {
        !self.ty.is_non_null() || self.has_default
    }
}

/// Whether `target` is a relation filter inside the filter input `owner`: another
/// `*InputFilters` family (`RunsInputFilters.part: PartsInputFilters`), as opposed to its own
/// `and_`/`or_` or a value filter such as `IDFilter`.
pub(crate) fn is_relation_filter(owner: &str, target: &str) -> bool {
    owner != target && target.ends_with("InputFilters")
}

/// Shared state of one generation run: the schema, the runtime path and the shared types used.
pub(crate) struct TypeMap<'a> {
    pub schema: &'a Valid<Schema>,
    pub rt: TokenStream,
    scalar_overrides: BTreeMap<String, TokenStream>,
    /// Enums referenced anywhere (responses or inputs).
    pub enums: BTreeSet<String>,
    /// Input objects reachable from variables.
    pub inputs: BTreeSet<String>,
}

impl<'a> TypeMap<'a> {
    pub fn new(schema: &'a Valid<Schema>, rt: TokenStream, overrides: &[(String, String)]) -> Self {
        TypeMap {
            schema,
            rt,
            scalar_overrides: overrides
                .iter()
                .map(|(g, r)| (g.clone(), path_tokens(r)))
                .collect(),
            enums: BTreeSet::new(),
            inputs: BTreeSet::new(),
        }
    }

    /// The Rust type of a scalar.
    pub fn scalar(&self, name: &str) -> TokenStream {
        if let Some(t) = self.scalar_overrides.get(name) {
            return t.clone();
        }
        let rt = &self.rt;
        match name {
            "Int" => quote!(i64),
            "Float" => quote!(f64),
            "String" => quote!(String),
            "ID" => quote!(#rt::Id),
            "Boolean" => quote!(bool),
            "DateTime" => quote!(#rt::scalars::DateTime),
            "Decimal" => quote!(#rt::scalars::Decimal),
            "JSONString" => quote!(#rt::scalars::JsonString),
            "Upload" => quote!(#rt::scalars::Upload),
            // ScalarValue, SlateContent, DataGridRow and any other custom scalar: JSON.
            _ => quote!(#rt::scalars::Json),
        }
    }

    /// The Rust type for a named leaf or input type, registering shared types it needs.
    /// `prefix` is the path to the shared `types` module from where the type is used.
    pub fn named_input_or_leaf(&mut self, name: &str, prefix: &TokenStream) -> TokenStream {
        match self.schema.types.get(name) {
            Some(ExtendedType::Enum(_)) => {
                self.enums.insert(name.to_string());
                let id = format_ident!("{}", pascal_type(name));
                quote!(#prefix #id)
            }
            Some(ExtendedType::InputObject(_)) => {
                self.register_input(name);
                let id = format_ident!("{}", pascal_type(name));
                quote!(#prefix #id)
            }
            _ => self.scalar(name),
        }
    }

    fn register_input(&mut self, name: &str) {
        if !self.inputs.insert(name.to_string()) {
            return;
        }
        let schema = self.schema;
        if let Some(ExtendedType::InputObject(obj)) = schema.types.get(name) {
            for field in obj.fields.values() {
                let inner = field.ty.inner_named_type().to_string();
                match schema.types.get(inner.as_str()) {
                    Some(ExtendedType::InputObject(_)) if is_relation_filter(name, &inner) => {}
                    Some(ExtendedType::InputObject(_)) => self.register_input(&inner),
                    Some(ExtendedType::Enum(_)) => {
                        self.enums.insert(inner);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Wraps `leaf` in `Option`/`Vec` following a response type's nullability.
    pub fn output_wrap(ty: &Type, leaf: TokenStream) -> TokenStream {
        match ty {
            Type::Named(_) => quote!(Option<#leaf>),
            Type::NonNullNamed(_) => leaf,
            Type::List(inner) => {
                let i = Self::output_wrap(inner, leaf);
                quote!(Option<Vec<#i>>)
            }
            Type::NonNullList(inner) => {
                let i = Self::output_wrap(inner, leaf);
                quote!(Vec<#i>)
            }
        }
    }

    /// Wraps an input type: the outermost nullable level becomes `Nullable` (omitted, null or a
    /// value); nullable list items become `Option`.
    pub fn input_wrap(&self, ty: &Type, leaf: TokenStream, top: bool) -> TokenStream {
        let (inner, nullable) = match ty {
            Type::Named(_) => (leaf, true),
            Type::NonNullNamed(_) => (leaf, false),
            Type::List(i) => {
                let i = self.input_wrap(i, leaf, false);
                (quote!(Vec<#i>), true)
            }
            Type::NonNullList(i) => {
                let i = self.input_wrap(i, leaf, false);
                (quote!(Vec<#i>), false)
            }
        };
        // Every generated module imports `Nullable`.
        match (nullable, top) {
            (true, true) => quote!(Nullable<#inner>),
            (true, false) => quote!(Option<#inner>),
            (false, _) => inner,
        }
    }

    /// The shared `types` module: every enum and input object the operations use.
    pub fn shared_module(&mut self) -> ModuleOut {
        let mut items = Vec::new();
        let inputs: Vec<String> = self.inputs.iter().cloned().collect();
        let boxed = self.recursive_edges(&inputs);
        for name in &inputs {
            items.push(self.input_object(name, &boxed));
        }
        let enums: Vec<String> = self.enums.iter().cloned().collect();
        for name in &enums {
            items.push(self.enum_type(name));
        }
        let rt = &self.rt;
        ModuleOut {
            name: "types".into(),
            doc: "Enums and input objects shared by every operation, generated once.".into(),
            items: quote! {
                use #rt::Nullable;
                use #rt::__private::serde::{self, Deserialize, Serialize};
                #(#items)*
            },
            decoders: Vec::new(),
        }
    }

    /// Input object fields that must be boxed: non-list references inside a cycle.
    fn recursive_edges(&self, inputs: &[String]) -> BTreeSet<(String, String)> {
        // Tarjan-free approach: an edge a -> b needs a box when b can reach a through
        // non-list input-object fields.
        let mut graph: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for name in inputs {
            if let Some(ExtendedType::InputObject(obj)) = self.schema.types.get(name.as_str()) {
                for (fname, field) in &obj.fields {
                    if field.ty.is_list() {
                        continue;
                    }
                    let target = field.ty.inner_named_type().as_str();
                    if self.schema.get_input_object(target).is_some() {
                        graph
                            .entry(name.as_str())
                            .or_default()
                            .push((fname.as_str(), target));
                    }
                }
            }
        }
        let reaches = |from: &str, to: &str| -> bool {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n)
                    && let Some(edges) = graph.get(n)
                {
                    stack.extend(edges.iter().map(|(_, t)| *t));
                }
            }
            false
        };
        let mut out = BTreeSet::new();
        for (from, edges) in &graph {
            for (field, to) in edges {
                if reaches(to, from) {
                    out.insert((from.to_string(), field.to_string()));
                }
            }
        }
        out
    }

    fn input_object(&mut self, name: &str, boxed: &BTreeSet<(String, String)>) -> TokenStream {
        let schema = self.schema;
        let Some(ExtendedType::InputObject(obj)) = schema.types.get(name) else {
            return quote!();
        };
        let gql_names: Vec<&str> = obj.fields.keys().map(|k| k.as_str()).collect();
        let rust_names = unique(&gql_names, snake, &[]);
        let inputs: Vec<InputField<'_>> = obj
            .fields
            .iter()
            .zip(rust_names)
            .map(|((gname, field), rust)| InputField {
                graphql: gname.as_str(),
                rust,
                ty: &field.ty,
                has_default: field.default_value.is_some(),
                doc: field
                    .description
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                boxed: boxed.contains(&(name.to_string(), gname.to_string())),
                relation_of: Some(name),
            })
            .collect();
        let (fields, attr, default, constructor) = self.input_fields(&inputs, &quote!());
        let id = format_ident!("{}", pascal_type(name));
        let doc = doc_attr(obj.description.as_deref().unwrap_or(""));
        let constructor = (!constructor.is_empty()).then(|| quote!(impl #id { #constructor }));
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #default Serialize)]
            #attr
            pub struct #id {
                #(#fields)*
            }
            #constructor
        }
    }

    /// The fields of an input object or of `Variables`, its `#[serde(...)]` container attribute,
    /// `Default,` when every field may be omitted and else a `new` taking the required fields.
    /// A nullable field is a `Nullable` (omitted, null or a value); a non-null field with a
    /// default is an `Option` (omitted or a value).
    pub fn input_fields(
        &mut self,
        inputs: &[InputField<'_>],
        prefix: &TokenStream,
    ) -> (Vec<TokenStream>, TokenStream, TokenStream, TokenStream) {
        let all_defaultable = inputs.iter().all(InputField::omittable);
        let mut fields = Vec::new();
        let mut required = Vec::new();
        let mut inits = Vec::new();
        for f in inputs {
            let target = f.ty.inner_named_type().as_str();
            let mut doc = f.doc.clone();
            let mut leaf = match f.relation_of {
                Some(owner)
                    if is_relation_filter(owner, target) && !self.inputs.contains(target) =>
                {
                    doc.push_str(&format!("\n\nJSON for a `{target}`: no operation of this build filters by that type itself (see \"Lean shared types\" in the ion-client-build docs)."));
                    let rt = &self.rt;
                    quote!(#rt::scalars::Json)
                }
                _ => self.named_input_or_leaf(target, prefix),
            };
            if f.boxed {
                leaf = quote!(Box<#leaf>);
            }
            let ty = self.input_wrap(f.ty, leaf, true);
            if f.rust != snake(f.graphql) {
                doc.push_str(&format!(
                    "\n\nGraphQL `{}`, renamed because another field has the same Rust name.",
                    f.graphql
                ));
            }
            let doc = doc_attr(&doc);
            let id = ident(&f.rust);
            // Inputs are only ever sent, so they derive `Serialize` alone: an omitted field
            // is skipped, never written as null.
            let (ty, extra) = if !f.ty.is_non_null() {
                (
                    ty,
                    vec![quote!(skip_serializing_if = "Nullable::is_omitted")],
                )
            } else if f.has_default {
                (
                    quote!(Option<#ty>),
                    vec![quote!(skip_serializing_if = "Option::is_none")],
                )
            } else {
                (ty, Vec::new())
            };
            if f.omittable() {
                inits.push(quote!(#id: Default::default(),));
            } else {
                required.push(quote!(#id: #ty));
                inits.push(quote!(#id,));
            }
            let attr = field_attr(&f.rust, f.graphql, &extra);
            fields.push(quote!(#doc #attr pub #id: #ty,));
        }
        let pairs: Vec<(&str, &str)> = inputs
            .iter()
            .map(|f| (f.rust.as_str(), f.graphql))
            .collect();
        let attr = container_attr(&pairs, &[]);
        // Every field may be omitted: `Default` builds the empty input. Else `new` takes the
        // required fields and omits the rest, so an input is never spelled out in full.
        let (default, constructor) = if all_defaultable {
            (quote!(Default,), quote!())
        } else {
            (
                quote!(),
                quote! {
                    /// The input with its required fields, every other field omitted.
                    #[allow(clippy::too_many_arguments)]
                    pub fn new(#(#required),*) -> Self {
                        Self { #(#inits)* }
                    }
                },
            )
        };
        (fields, attr, default, constructor)
    }

    fn enum_type(&self, name: &str) -> TokenStream {
        let Some(ExtendedType::Enum(en)) = self.schema.types.get(name) else {
            return quote!();
        };
        let rt = &self.rt;
        let gql: Vec<&str> = en.values.keys().map(|k| k.as_str()).collect();
        let rust = unique(&gql, pascal, &["Other"]);
        let variants = gql.iter().zip(&rust).map(|(g, r)| {
            let id = format_ident!("{}", r);
            let value = en.values.get(*g);
            // The wire value is in `as_str`; a doc only says more when the schema does.
            let _ = g;
            let mut doc = value
                .and_then(|v| v.description.as_ref())
                .map(|d| d.to_string())
                .unwrap_or_default();
            if let Some(reason) = value.and_then(|v| deprecation(&v.directives)) {
                doc.push_str(&format!("\n\nDeprecated: {reason}"));
            }
            let doc = doc_attr(&doc);
            quote!(#doc #id,)
        });
        let to_str = gql.iter().zip(&rust).map(|(g, r)| {
            let id = format_ident!("{}", r);
            quote!(Self::#id => #g,)
        });
        let from_str = gql.iter().zip(&rust).map(|(g, r)| {
            let id = format_ident!("{}", r);
            quote!(#g => Self::#id,)
        });
        let id = format_ident!("{}", pascal_type(name));
        let doc = doc_attr(en.description.as_deref().unwrap_or(""));
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum #id {
                #(#variants)*
                /// A value this build does not know (the server's schema is newer).
                Other(String),
            }
            impl #id {
                /// The value as sent on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#to_str)*
                        Self::Other(value) => value,
                    }
                }
                /// Parses a wire value; unknown values become `Other`.
                pub fn from_graphql(value: &str) -> Self {
                    match value {
                        #(#from_str)*
                        other => Self::Other(other.to_string()),
                    }
                }
            }
            impl ::std::fmt::Display for #id {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
            impl Serialize for #id {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_str(self.as_str())
                }
            }
            impl<'de> Deserialize<'de> for #id {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    #rt::__private::deserialize_enum(d, Self::from_graphql)
                }
            }
        }
    }
}

/// The reason of a `@deprecated` directive, if present.
pub(crate) fn deprecation(directives: &apollo_compiler::ast::DirectiveList) -> Option<String> {
    let d = directives.get("deprecated")?;
    let reason = d
        .specified_argument_by_name("reason")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "No longer supported".to_string());
    Some(reason)
}

/// PascalCase for a schema type name, keeping names that are already PascalCase intact
/// (`IonPageInfo`, `MBomItem`) and fixing lower-case ones (`reviewattrtypesenum`).
pub(crate) fn pascal_type(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.contains('_') {
        name.to_string()
    } else {
        pascal(name)
    }
}
