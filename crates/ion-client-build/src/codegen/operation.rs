//! One operation: its module (`QUERY`, the operation's unit struct, `Variables`, the response
//! types, the fragments only it uses, pagination) and its client methods.

use apollo_compiler::Node;
use apollo_compiler::ast::OperationType;
use apollo_compiler::executable::{Fragment, Operation};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::assemble::ModuleOut;
use super::shape::Gen;
use super::typemap::{InputField, pascal_type};
use super::{doc_attr, ident};
use crate::names::{snake, unique};

/// An operation's module and the client trait's entries for it.
pub(crate) struct OperationOut {
    pub module: ModuleOut,
    /// The methods as the trait's implementation.
    pub method: TokenStream,
    /// The methods as the trait's declarations, with their docs.
    pub signature: TokenStream,
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
        let decoders = std::mem::take(&mut self.g.decoders);
        let fragments_use = if self.shared_fragments {
            quote!(
                use super::fragments;
            )
        } else {
            quote!()
        };
        let doc = format!(
            "The `{op_name}` {kind_word} from `{}`.\n\n```graphql\n{}\n```",
            self.g.path.display(),
            query_text.trim_end()
        );
        let items = quote! {
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
        let mut methods = vec![quote! {
            fn #method_id(&self, #params) -> impl ::std::future::Future<Output = Result<#module_id::ResponseData, #rt::Error>> + Send {
                self.execute::<#module_id::#op_id>(#args)
            }
        }];
        let mut sigs = vec![quote! {
            #fn_doc
            fn #method_id(&self, #params) -> impl ::std::future::Future<Output = Result<#module_id::ResponseData, #rt::Error>> + Send;
        }];
        if paginated.is_some() {
            let pages_id = format_ident!("{}_pages", module_name);
            let nodes_id = format_ident!("{}_nodes", module_name);
            let pdoc = doc_attr(&format!(
                "Every page of `{op_name}`, following `pageInfo.endCursor`; at most one page is held in memory."
            ));
            let ndoc = doc_attr(&format!(
                "Every node of `{op_name}` across all pages, one page in memory at a time."
            ));
            methods.push(quote! {
                fn #pages_id(&self, #params) -> #rt::Pages<#module_id::#op_id> {
                    self.pages::<#module_id::#op_id>(#args)
                }
                fn #nodes_id(&self, #params) -> #rt::Nodes<#module_id::#op_id> {
                    self.nodes::<#module_id::#op_id>(#args)
                }
            });
            sigs.push(quote! {
                #pdoc
                fn #pages_id(&self, #params) -> #rt::Pages<#module_id::#op_id>;
                #ndoc
                fn #nodes_id(&self, #params) -> #rt::Nodes<#module_id::#op_id>;
            });
        }
        // The trait's declarations carry the docs; its implementation does not repeat them.
        OperationOut {
            module: ModuleOut {
                name: module_name,
                doc,
                items,
                decoders,
            },
            method: quote!(#(#methods)*),
            signature: quote!(#(#sigs)*),
        }
    }
}
