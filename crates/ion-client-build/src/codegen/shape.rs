//! One operation: its variables, its response types (selections flattened into structs, with
//! enums for interfaces and unions), its module and its client method.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use apollo_compiler::Node;
use apollo_compiler::ast::{OperationType, Type};
use apollo_compiler::executable::{
    DirectiveList, ExecutableDocument, Operation, Selection, SelectionSet,
};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::typemap::{deprecation, pascal_type};
use super::{TypeMap, doc_attr, ident};
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

/// A field of a generated response struct, as recorded for pagination.
#[derive(Clone)]
struct FieldRecord {
    rust: String,
    ty: Type,
    child: Option<String>,
}

/// The merged occurrences of one response key in a selection.
struct Collected<'d> {
    def: Node<FieldDefinition>,
    conditional: bool,
    sets: Vec<&'d SelectionSet>,
    first: Option<apollo_compiler::parser::SourceSpan>,
}

pub(crate) struct OperationGen<'t, 'a, 'd> {
    types: &'t mut TypeMap<'a>,
    doc: &'d ExecutableDocument,
    path: &'d Path,
    name: String,
    items: Vec<TokenStream>,
    struct_names: BTreeSet<String>,
    records: BTreeMap<String, Vec<(String, FieldRecord)>>,
    warned: BTreeSet<String>,
    /// `(file:line:col, message)` for every deprecated field selected.
    pub deprecations: Vec<(String, String)>,
    /// Non-fatal advice (e.g. how to get a pagination stream).
    pub hints: Vec<String>,
}

fn is_conditional(directives: &DirectiveList) -> bool {
    directives.get("include").is_some() || directives.get("skip").is_some()
}

impl<'t, 'a, 'd> OperationGen<'t, 'a, 'd> {
    pub fn new(
        types: &'t mut TypeMap<'a>,
        doc: &'d ExecutableDocument,
        path: &'d Path,
        name: &str,
    ) -> Self {
        OperationGen {
            types,
            doc,
            path,
            name: name.to_string(),
            items: Vec::new(),
            struct_names: BTreeSet::new(),
            records: BTreeMap::new(),
            warned: BTreeSet::new(),
            deprecations: Vec::new(),
            hints: Vec::new(),
        }
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

    /// Merges the selections of `sets` that apply to `parent` (or to the concrete type `concrete`
    /// of an abstract `parent`) by response key, in first-seen order.
    fn collect(
        &self,
        sets: &[&'d SelectionSet],
        parent: &str,
        concrete: Option<&str>,
        conditional: bool,
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
                        if let Some(frag) = self.doc.fragments.get(&s.fragment_name)
                            && self.applies(frag.type_condition(), parent, concrete)
                        {
                            let cond = conditional || is_conditional(&s.directives);
                            self.collect(&[&frag.selection_set], parent, concrete, cond, out);
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
                            self.collect(&[&i.selection_set], parent, concrete, cond, out);
                        }
                    }
                }
            }
        }
    }

    /// Concrete types named by fragments narrower than an abstract `parent`.
    fn variants(&self, sets: &[&'d SelectionSet], parent: &str, out: &mut BTreeSet<String>) {
        let parent_possible = self.possible(parent);
        for set in sets {
            for sel in &set.selections {
                let (tc, inner): (&str, &SelectionSet) = match sel {
                    Selection::Field(_) => continue,
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
                if self.applies(tc, parent, None) {
                    self.variants(&[inner], parent, out);
                } else {
                    out.extend(self.possible(tc).intersection(&parent_possible).cloned());
                    self.variants(&[inner], parent, out);
                }
            }
        }
    }

    fn unique_struct_name(&mut self, wanted: String) -> String {
        let mut name = wanted.clone();
        let mut n = 2;
        while !self.struct_names.insert(name.clone()) {
            name = format!("{wanted}{n}");
            n += 1;
        }
        name
    }

    /// Generates the type for a selection on `parent` and returns its name.
    fn selection_type(
        &mut self,
        wanted: String,
        sets: &[&'d SelectionSet],
        parent: &str,
    ) -> String {
        let name = self.unique_struct_name(wanted);
        let is_abstract = matches!(
            self.types.schema.types.get(parent),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        let mut variants = BTreeSet::new();
        if is_abstract {
            self.variants(sets, parent, &mut variants);
        }
        if variants.is_empty() {
            let doc = format!("Selection on `{parent}`.");
            self.structure(&name, &name, sets, parent, None, &doc);
            return name;
        }
        let rt = self.types.rt.clone();
        let mut arms = Vec::new();
        let mut decode = Vec::new();
        let mut typenames = Vec::new();
        for v in &variants {
            let vname = self.unique_struct_name(format!("{name}On{}", pascal_type(v)));
            let doc = format!("Selection on `{parent}` when the object is a `{v}`.");
            self.structure(&vname, &name, sets, parent, Some(v), &doc);
            let vid = format_ident!("{}", pascal_type(v));
            let sid = ident(&vname);
            let vdoc = doc_attr(&format!("A `{v}`."));
            arms.push(quote!(#vdoc #vid(#sid),));
            decode.push(quote!(#v => #rt::__private::decode_value(value).map(Self::#vid),));
            typenames.push(quote!(Self::#vid(v) => &v.typename,));
        }
        let other = self.unique_struct_name(format!("{name}Other"));
        let doc = format!(
            "Selection on `{parent}` for an object type this operation names no fragment for."
        );
        self.structure(&other, &name, sets, parent, None, &doc);
        let other_id = ident(&other);
        let id = ident(&name);
        let serde_crate = &self.types.serde_crate;
        let doc = doc_attr(&format!(
            "Selection on the abstract type `{parent}`, decoded by `__typename`."
        ));
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #rt::__private::serde::Serialize)]
            #[serde(crate = #serde_crate, untagged)]
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
            impl<'de> #rt::__private::serde::Deserialize<'de> for #id {
                fn deserialize<D: #rt::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let value = #rt::__private::typed_value(deserializer)?;
                    match value.0.as_str() {
                        #(#decode)*
                        _ => #rt::__private::decode_value(value).map(Self::Other),
                    }
                }
            }
        });
        name
    }

    /// Emits one struct for the merged selection.
    fn structure(
        &mut self,
        name: &str,
        child_prefix: &str,
        sets: &[&'d SelectionSet],
        parent: &str,
        concrete: Option<&str>,
        doc: &str,
    ) {
        let mut collected = Vec::new();
        self.collect(sets, parent, concrete, false, &mut collected);
        let keys: Vec<&str> = collected.iter().map(|(k, _)| k.as_str()).collect();
        let rust_names = unique(&keys, snake, &[]);
        let rt = self.types.rt.clone();
        let serde_crate = self.types.serde_crate.clone();
        let mut fields = Vec::new();
        let mut records = Vec::new();
        for ((key, c), rname) in collected.iter().zip(&rust_names) {
            self.note_deprecated(c);
            let leaf_name = c.def.ty.inner_named_type().to_string();
            let (leaf, child) = match self.types.schema.types.get(leaf_name.as_str()) {
                Some(
                    ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_),
                ) => {
                    let child = self.selection_type(
                        format!("{child_prefix}{}", pascal(key)),
                        &c.sets,
                        &leaf_name,
                    );
                    let id = ident(&child);
                    (quote!(#id), Some(child))
                }
                _ => (
                    self.types.named_input_or_leaf(&leaf_name, &quote!(types::)),
                    None,
                ),
            };
            let mut ty = TypeMap::output_wrap(&c.def.ty, leaf);
            let nullable = !c.def.ty.is_non_null();
            let mut attrs = quote!(rename = #key);
            if c.conditional {
                if !nullable {
                    ty = quote!(Option<#ty>);
                }
                attrs = quote!(#attrs, default);
            }
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
            fields.push(quote! {
                #fdoc
                #[serde(#attrs)]
                pub #id: #ty,
            });
            records.push((
                key.clone(),
                FieldRecord {
                    rust: rname.clone(),
                    ty: c.def.ty.clone(),
                    child,
                },
            ));
        }
        self.records.insert(name.to_string(), records);
        let id = ident(name);
        let doc = doc_attr(doc);
        // A GraphQL response holds exactly the fields selected, so an unknown field means the
        // JSON is not an answer to this operation (a stale recorded fixture, a wrong endpoint):
        // refuse it rather than drop data silently.
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #rt::__private::serde::Serialize, #rt::__private::serde::Deserialize)]
            #[serde(crate = #serde_crate, deny_unknown_fields)]
            pub struct #id {
                #(#fields)*
            }
        });
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

    pub fn operation(&mut self, op: &'d Node<Operation>) -> OperationOut {
        let schema = self.types.schema;
        let rt = self.types.rt.clone();
        let serde_crate = self.types.serde_crate.clone();
        let op_struct = pascal_type(&self.name);
        self.struct_names.insert(op_struct.clone());
        self.struct_names.insert("Variables".into());
        let root = op.object_type().to_string();
        self.structure(
            "ResponseData",
            &op_struct,
            &[&op.selection_set],
            &root,
            None,
            "The data of a successful response.",
        );

        // Variables.
        let var_names: Vec<&str> = op.variables.iter().map(|v| v.name.as_str()).collect();
        let var_rust = unique(&var_names, snake, &[]);
        let mut var_fields = Vec::new();
        let mut all_optional = true;
        let skip = self.types.skip_omitted();
        for (v, rname) in op.variables.iter().zip(&var_rust) {
            let leaf = self
                .types
                .named_input_or_leaf(v.ty.inner_named_type(), &quote!(types::));
            let id = ident(rname);
            let gname = v.name.as_str();
            let nullable = !v.ty.is_non_null();
            let vdoc = doc_attr(&format!("`${gname}: {}`", v.ty));
            if nullable {
                let ty = self.types.input_wrap(&v.ty, leaf, true);
                var_fields.push(quote!(#vdoc #[serde(rename = #gname, default, skip_serializing_if = #skip)] pub #id: #ty,));
            } else if v.default_value.is_some() {
                let ty = self.types.input_wrap(&v.ty, leaf, true);
                var_fields.push(quote!(#vdoc #[serde(rename = #gname, default, skip_serializing_if = "Option::is_none")] pub #id: Option<#ty>,));
            } else {
                all_optional = false;
                let ty = self.types.input_wrap(&v.ty, leaf, true);
                var_fields.push(quote!(#vdoc #[serde(rename = #gname)] pub #id: #ty,));
            }
        }
        let default = if all_optional {
            quote!(Default,)
        } else {
            quote!()
        };

        let query_text = self.query_text(op);
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
        let items = std::mem::take(&mut self.items);
        let module_doc = doc_attr(&format!(
            "The `{op_name}` {kind_word} from `{}`.\n\n```graphql\n{}\n```",
            self.path.display(),
            query_text.trim_end()
        ));
        let module = quote! {
            #module_doc
            pub mod #module_id {
                #![allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, non_camel_case_types, deprecated, dead_code)]
                use super::types;

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
                #[derive(Debug, Clone, PartialEq, #default #rt::__private::serde::Serialize, #rt::__private::serde::Deserialize)]
                #[serde(crate = #serde_crate)]
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
            "Runs the `{op_name}` {kind_word} (`{}`).\n\n```graphql\n{}\n```\n\n# Errors\n\nAn [`Error`]({}::Error) whose kind says what failed: GraphQL errors from ION, authentication, transport, HTTP status, decoding{}.",
            self.path.display(),
            query_text.trim_end(),
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
        if let Some(node) = &paginated_node(&paginated) {
            let pages_id = format_ident!("{}_pages", module_name);
            let nodes_id = format_ident!("{}_nodes", module_name);
            let node_id = ident(node);
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
        let _ = schema;
        let inherent = methods.iter().map(|(d, m)| quote!(#d pub #m));
        let inherent = quote!(#(#inherent)*);
        let method = methods.iter().map(|(d, m)| quote!(#d #m));
        let method = quote!(#(#method)*);
        OperationOut {
            module,
            inherent,
            method,
            signature: quote!(#(#sigs)*),
        }
    }

    /// The document to send: this operation and the fragments it reaches, in a stable order.
    fn query_text(&self, op: &Node<Operation>) -> String {
        let mut doc = ExecutableDocument::new();
        doc.operations.insert(op.clone());
        let mut needed = BTreeSet::new();
        let mut stack = Vec::new();
        spreads(&op.selection_set, &mut stack);
        while let Some(n) = stack.pop() {
            if needed.insert(n.clone())
                && let Some(f) = self.doc.fragments.get(n.as_str())
            {
                spreads(&f.selection_set, &mut stack);
            }
        }
        for n in needed {
            if let Some((k, f)) = self.doc.fragments.get_key_value(n.as_str()) {
                doc.fragments.insert(k.clone(), f.clone());
            }
        }
        doc.serialize().to_string()
    }

    /// Finds the connection paginated by `$after` and emits `impl Paginated`.
    fn pagination(
        &mut self,
        op: &Node<Operation>,
        op_id: &proc_macro2::Ident,
        var_rust: &[String],
    ) -> TokenStream {
        let Some(after_idx) = op.variables.iter().position(|v| v.name == "after") else {
            return quote!();
        };
        let mut path = Vec::new();
        if !find_after(self.doc, &op.selection_set, &mut path) {
            return quote!();
        }
        // Walk the recorded struct fields along the path of response keys.
        let mut current = "ResponseData".to_string();
        let mut steps: Vec<FieldRecord> = Vec::new();
        for key in &path {
            let Some(rec) = self
                .records
                .get(&current)
                .and_then(|r| r.iter().find(|(k, _)| k == key))
                .map(|(_, r)| r.clone())
            else {
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
        let field = |s: &Self, strct: &str, key: &str| -> Option<FieldRecord> {
            s.records
                .get(strct)?
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, r)| r.clone())
        };
        let hint = |s: &mut Self, what: &str| {
            s.hints.push(format!(
                "{}: operation `{}` declares $after but {what}; select `pageInfo {{ hasNextPage endCursor }}` and `edges {{ node {{ ... }} }}` on the connection to get `_pages`/`_nodes` streams",
                s.path.display(),
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
            let f = ident(&s.rust);
            nav = if s.ty.is_non_null() {
                quote!(#nav let c = &c.#f;)
            } else {
                quote!(#nav let c = c.#f.as_ref()?;)
            };
        }
        let pi = ident(&page_info.rust);
        let pi_nav = if page_info.ty.is_non_null() {
            quote!(let p = &c.#pi;)
        } else {
            quote!(let p = c.#pi.as_ref()?;)
        };
        let hn = ident(&has_next.rust);
        let hn_expr = if has_next.ty.is_non_null() {
            quote!(p.#hn)
        } else {
            quote!(p.#hn.unwrap_or(false))
        };
        let ec = ident(&end_cursor.rust);
        let ec_expr = if end_cursor.ty.is_non_null() {
            quote!(Some(p.#ec.clone()))
        } else {
            quote!(p.#ec.clone())
        };

        // into_nodes: move down the path.
        let mut take = quote!(let c = data;);
        for s in &steps {
            let f = ident(&s.rust);
            take = if s.ty.is_non_null() {
                quote!(#take let c = c.#f;)
            } else {
                quote!(#take let c = c.#f?;)
            };
        }
        let ed = ident(&edges.rust);
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
        let nd = ident(&node.rust);
        let node_map = if node.ty.is_non_null() {
            quote!(.map(|e| e.#nd))
        } else {
            quote!(.filter_map(|e| e.#nd))
        };

        let after_field = ident(&var_rust[after_idx]);
        let after_var = &op.variables[after_idx];
        let rt = &self.types.rt;
        let set_after = if after_var.ty.is_non_null() {
            if after_var.default_value.is_some() {
                quote!(variables.#after_field = after;)
            } else {
                quote!(variables.#after_field = after.unwrap_or_default();)
            }
        } else {
            quote!(variables.#after_field = match after { Some(a) => #rt::Nullable::Value(a), None => #rt::Nullable::Omitted };)
        };
        let node_id = ident(&node_struct);
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

fn paginated_node(tokens: &TokenStream) -> Option<String> {
    // The pagination impl ends with `pub type Node = X;`: read X back.
    let text = tokens.to_string();
    let rest = text.split("pub type Node = ").nth(1)?;
    Some(
        rest.trim_end_matches(|c: char| c == ';' || c.is_whitespace())
            .to_string(),
    )
}

fn spreads(set: &SelectionSet, out: &mut Vec<apollo_compiler::Name>) {
    for sel in &set.selections {
        match sel {
            Selection::Field(f) => spreads(&f.selection_set, out),
            Selection::FragmentSpread(s) => out.push(s.fragment_name.clone()),
            Selection::InlineFragment(i) => spreads(&i.selection_set, out),
        }
    }
}

/// Finds the field whose `after` argument is `$after`, recording the response keys to it.
fn find_after(doc: &ExecutableDocument, set: &SelectionSet, path: &mut Vec<String>) -> bool {
    for sel in &set.selections {
        match sel {
            Selection::Field(f) => {
                path.push(f.response_key().to_string());
                let uses_after = f.arguments.iter().any(|a| {
                    a.name == "after" && a.value.as_variable().is_some_and(|v| v == "after")
                });
                if uses_after || find_after(doc, &f.selection_set, path) {
                    return true;
                }
                path.pop();
            }
            Selection::FragmentSpread(s) => {
                if let Some(frag) = doc.fragments.get(&s.fragment_name)
                    && find_after(doc, &frag.selection_set, path)
                {
                    return true;
                }
            }
            Selection::InlineFragment(i) => {
                if find_after(doc, &i.selection_set, path) {
                    return true;
                }
            }
        }
    }
    false
}
