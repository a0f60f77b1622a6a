//! Rust generation from validated operations: [`generate`] plans the run ([`plan`]), generates
//! the shared fragments and each operation ([`shape`], [`operation`], [`paging`]), then the
//! shared `types` module ([`typemap`]), and assembles the files ([`assemble`]).
//!
//! Invariant: output depends only on the schema, the operation files and the options, never on
//! hash-map iteration order: every map here is ordered.

mod assemble;
mod decode;
mod operation;
mod paging;
mod plan;
mod shape;
mod typemap;

use std::collections::BTreeSet;

use apollo_compiler::Node;
use apollo_compiler::Schema;
use apollo_compiler::executable::Fragment;
use apollo_compiler::validation::Valid;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::names::serde_camel;
use crate::sources::ValidatedFile;
use crate::{DeprecationPolicy, Generated, Options};

use assemble::ModuleOut;
use operation::{OperationGen, OperationOut};
use plan::{Plan, dependency_order, query_text};
use shape::{Base, Gen, Records};
pub(crate) use typemap::TypeMap;
use typemap::pascal_type;

/// A `#[doc = "..."]` attribute, or nothing for an empty text.
pub(crate) fn doc_attr(text: &str) -> TokenStream {
    let text = text.trim();
    if text.is_empty() {
        return quote!();
    }
    let lines = text.lines().map(|l| format!(" {}", l.trim_end()));
    quote!(#(#[doc = #lines])*)
}

/// The `#[serde(...)]` attribute of a generated struct: serde reached through the module's
/// `serde` import, `rename_all = "camelCase"` when some field relies on it, then `extra`.
/// `fields` are `(Rust name, GraphQL name)`.
pub(crate) fn container_attr(fields: &[(&str, &str)], extra: &[TokenStream]) -> TokenStream {
    let camel = fields
        .iter()
        .any(|(rust, graphql)| *rust != *graphql && serde_camel(rust) == *graphql);
    let rename_all = camel.then(|| quote!(rename_all = "camelCase",));
    quote!(#[serde(crate = "serde", #rename_all #(#extra),*)])
}

/// A field's `#[serde(...)]` attribute: `rename` only where `rename_all = "camelCase"` would not
/// give the GraphQL name, then `extra`; nothing when there is nothing to say.
pub(crate) fn field_attr(rust: &str, graphql: &str, extra: &[TokenStream]) -> TokenStream {
    let rename = (serde_camel(rust) != graphql).then(|| quote!(rename = #graphql));
    let args: Vec<TokenStream> = rename.into_iter().chain(extra.iter().cloned()).collect();
    if args.is_empty() {
        quote!()
    } else {
        quote!(#[serde(#(#args),*)])
    }
}

pub(crate) fn ident(name: &str) -> proc_macro2::Ident {
    format_ident!("{}", name)
}

/// Parses a Rust path such as `::ion_client` or `crate`.
pub(crate) fn path_tokens(path: &str) -> TokenStream {
    path.parse().unwrap_or_else(|_| quote!(crate))
}

/// Generates the code of `files`, split under `split_dir`.
pub(crate) fn generate(
    schema: &Valid<Schema>,
    files: &[ValidatedFile],
    options: &Options,
    mut warnings: Vec<String>,
    split_dir: &str,
) -> Result<Generated, Diagnostics> {
    let rt = path_tokens(&options.runtime_path);
    let mut types = TypeMap::new(schema, rt.clone(), &options.scalars);
    let plan = plan::plan(schema, files)?;
    let mut records = Records::new();
    let mut errors = Vec::new();
    let fragments = shared_fragments(
        &plan,
        &mut types,
        &mut records,
        options,
        &mut warnings,
        &mut errors,
    );
    let mut operations = Vec::new();
    for planned in &plan.operations {
        operations.push(operation(
            &plan,
            planned,
            &mut types,
            &mut records,
            options,
            &mut warnings,
            &mut errors,
        ));
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    operations.sort_by(|a, b| a.module.name.cmp(&b.module.name));

    let mut modules = vec![types.shared_module()];
    modules.extend(fragments);
    let client = client_trait(&operations, options);
    modules.extend(operations.into_iter().map(|o| o.module));
    let out = assemble::assemble(&modules, client, &options.runtime_path, split_dir)?;
    Ok(Generated {
        code: out.code,
        files: out.files,
        warnings,
        operations: {
            // In output order: by module.
            let mut names: Vec<(&String, &String)> = plan
                .operations
                .iter()
                .map(|p| (&p.module, &p.name))
                .collect();
            names.sort();
            names.into_iter().map(|(_, name)| name.clone()).collect()
        },
    })
}

/// The `fragments` module: each fragment several operations use, generated once from the
/// first document that defines it, after the fragments it spreads.
fn shared_fragments(
    plan: &Plan<'_>,
    types: &mut TypeMap<'_>,
    records: &mut Records,
    options: &Options,
    warnings: &mut Vec<String>,
    errors: &mut Vec<Diagnostic>,
) -> Option<ModuleOut> {
    let shared = plan.shared();
    let mut items = Vec::new();
    let mut decoders = Vec::new();
    let mut taken: BTreeSet<String> = shared.iter().map(|f| pascal_type(f)).collect();
    let mut done = BTreeSet::new();
    for planned in &plan.operations {
        let doc = &plan.docs[planned.doc];
        let todo: Vec<&String> = shared
            .iter()
            .filter(|n| !done.contains(**n) && doc.fragments.contains_key(n.as_str()))
            .copied()
            .collect();
        if todo.is_empty() {
            continue;
        }
        let mut g = Gen::new(
            types,
            doc,
            &planned.file.path,
            "fragments",
            Base::Fragment(String::new()),
            &plan.fragment_types,
            records,
            std::mem::take(&mut taken),
        );
        for name in dependency_order(&todo, &planned.file.fragment_deps) {
            if done.insert(name.clone())
                && let Some(frag) = doc.fragments.get(name.as_str())
            {
                g.set_base(Base::Fragment(pascal_type(&name)));
                g.fragment(frag);
            }
        }
        collect_warnings(&mut g, options, warnings, errors);
        items.append(&mut g.items);
        decoders.append(&mut g.decoders);
        taken = std::mem::take(&mut g.taken);
    }
    if items.is_empty() {
        return None;
    }
    let rt = &types.rt;
    Some(ModuleOut {
        name: "fragments".into(),
        doc: "Fragments used by more than one operation, one type each.".into(),
        items: quote! {
            use super::types;
            use #rt::Nullable;
            use #rt::__private::serde::{self, Deserialize, Serialize};
            #(#items)*
        },
        decoders,
    })
}

/// One operation's module and methods.
fn operation(
    plan: &Plan<'_>,
    planned: &plan::Planned<'_>,
    types: &mut TypeMap<'_>,
    records: &mut Records,
    options: &Options,
    warnings: &mut Vec<String>,
    errors: &mut Vec<Diagnostic>,
) -> OperationOut {
    let doc = &plan.docs[planned.doc];
    let local_names: Vec<&String> = planned
        .fragments
        .iter()
        .filter(|f| plan.is_local(f))
        .collect();
    let local: Vec<&Node<Fragment>> = dependency_order(&local_names, &planned.file.fragment_deps)
        .iter()
        .filter_map(|f| doc.fragments.get(f.as_str()))
        .collect();
    let mut taken: BTreeSet<String> = ["Variables", "ResponseData", "Node"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    taken.insert(pascal_type(&planned.name));
    taken.extend(local.iter().map(|f| pascal_type(f.name.as_str())));
    let mut g = Gen::new(
        types,
        doc,
        &planned.file.path,
        &planned.module,
        Base::Operation,
        &plan.fragment_types,
        records,
        taken,
    );
    let mut generator = OperationGen {
        g: &mut g,
        name: planned.name.clone(),
        query_text: query_text(doc, &planned.op, &planned.fragments),
        local_fragments: local,
        shared_fragments: !plan.shared().is_empty(),
    };
    let out = generator.operation(&planned.op);
    collect_warnings(&mut g, options, warnings, errors);
    out
}

/// The client trait (one method per operation, with the docs) and its implementation for
/// `Client`.
fn client_trait(operations: &[OperationOut], options: &Options) -> TokenStream {
    let rt = path_tokens(&options.runtime_path);
    let trait_id = ident(&options.client_trait);
    let sigs = operations.iter().map(|o| &o.signature);
    let methods = operations.iter().map(|o| &o.method);
    let doc = doc_attr(&format!(
        "One typed method per operation in `queries/`, implemented for\n[`Client`]({}::Client). Bring it into scope with `use`.",
        options.runtime_path.replace(' ', "")
    ));
    quote! {
        #doc
        // An application calls some operations, not all: unused ones are not a mistake.
        #[allow(dead_code)]
        pub trait #trait_id {
            #(#sigs)*
        }
        impl #trait_id for #rt::Client {
            #(#methods)*
        }
    }
}

/// Moves a generator's deprecation findings and hints into the run's warnings or errors.
fn collect_warnings(
    g: &mut Gen<'_, '_, '_>,
    options: &Options,
    warnings: &mut Vec<String>,
    errors: &mut Vec<Diagnostic>,
) {
    for (place, message) in std::mem::take(&mut g.deprecations) {
        match options.deprecations {
            DeprecationPolicy::Allow => {}
            DeprecationPolicy::Warn => warnings.push(format!("{place}: {message}")),
            DeprecationPolicy::Deny => errors.push(Diagnostic::new(place, message)),
        }
    }
    warnings.append(&mut g.hints);
}
