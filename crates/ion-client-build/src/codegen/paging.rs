//! Pagination of one operation: `impl Paginated` (cursor, nodes, node count) for an operation
//! that pages by the one rule in [`crate::pagination`], with accessors along the generated
//! structs.

use apollo_compiler::Node;
use apollo_compiler::ast::Type;
use apollo_compiler::executable::Operation;
use proc_macro2::TokenStream;
use quote::quote;

use super::ident;
use super::operation::OperationGen;
use crate::pagination::NotPaginated;

impl<'d> OperationGen<'_, '_, '_, 'd> {
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

    /// `impl Paginated` and the `Node` alias when the operation pages (the rule is
    /// [`crate::pagination::connection`]); otherwise nothing, and a hint saying why when the
    /// operation declares `$after`.
    pub(super) fn pagination(
        &mut self,
        op: &'d Node<Operation>,
        op_id: &proc_macro2::Ident,
        var_rust: &[String],
    ) -> Option<TokenStream> {
        let path = match crate::pagination::connection(self.g.doc, op) {
            Ok(connection) => connection.path,
            Err(NotPaginated::NoAfterVariable) => return None,
            Err(why) => {
                self.g.hints.push(format!(
                    "{}: operation `{}` declares $after but {why}; to get `_pages`/`_nodes` streams it needs {}",
                    self.g.path.display(),
                    self.name,
                    crate::pagination::REQUIREMENT
                ));
                return None;
            }
        };
        let after_idx = op.variables.iter().position(|v| v.name == "after")?;
        // Walk the recorded struct fields along the path of response keys.
        let mut current = format!("{}::ResponseData", self.g.module);
        let mut steps: Vec<FieldRecord> = Vec::new();
        // The rule holds: find the generated fields along the path to write the accessors (a
        // connection behind an interface or union, an enum here, has no accessor: no streams).
        for key in &path {
            let rec = self.field(&current, key)?;
            current = rec.child.clone()?;
            steps.push(rec);
        }
        let conn = current;
        let page_info = self.field(&conn, "pageInfo")?;
        let pi_struct = page_info.child.clone()?;
        let has_next = self.field(&pi_struct, "hasNextPage")?;
        let end_cursor = self.field(&pi_struct, "endCursor")?;
        let edges = self.field(&conn, "edges")?;
        let edge_struct = edges.child.clone()?;
        let node = self.field(&edge_struct, "node")?;
        let node_struct = node.child.clone()?;

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
        Some(quote! {
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
        })
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
