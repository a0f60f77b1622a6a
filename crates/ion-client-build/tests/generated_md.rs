//! `GENERATED.md` shows one operation as graphql_client 0.16 and as ion-client-build generate
//! it. Both code blocks are generated here, from `queries/get_run.graphql` and the fragments it
//! uses against the shipped schema: graphql_client's by `graphql_client_codegen` (the code
//! behind its derive and CLI), ours by [`generate`]. The test fails when the file holds
//! anything else, and writes the current file to `target/GENERATED.md`:
//! `cp target/GENERATED.md crates/ion-client-build/GENERATED.md` updates it.

use std::path::{Path, PathBuf};

use graphql_client_codegen::{
    CodegenMode, GraphQLClientCodegenOptions, generate_module_token_stream_from_string,
};
use ion_client_build::{Options, SourceFile, files, generate, with_fragments};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo() -> PathBuf {
    crate_dir().join("../..")
}

/// The operation and the fragment files, as the build reads them.
fn sources() -> (SourceFile, Vec<SourceFile>) {
    let read = |path: &Path| {
        let mut file = files::read_source(path).expect("read");
        file.path = path.strip_prefix(repo()).unwrap_or(path).to_path_buf();
        file
    };
    let operation = read(&repo().join("queries/get_run.graphql"));
    let fragments = files::graphql_files(&repo().join("queries/fragments"))
        .expect("queries/fragments")
        .iter()
        .map(|p| read(p))
        .collect();
    (operation, fragments)
}

/// graphql_client's output for the operation, with the derives ion-client's response types
/// carry, formatted by prettyplease.
fn theirs(operation: &SourceFile, fragments: &[SourceFile]) -> String {
    let document = with_fragments(operation, fragments).expect("parses").text;
    let mut options = GraphQLClientCodegenOptions::new(CodegenMode::Cli);
    options.set_response_derives("Debug, Clone, PartialEq, Serialize".into());
    let tokens = generate_module_token_stream_from_string(
        &document,
        &crate_dir().join("schema/ion.graphql"),
        options,
    )
    .expect("graphql_client generates get_run");
    prettyplease::unparse(&syn::parse2(tokens).expect("graphql_client's code parses"))
}

/// ion-client-build's output for the operation alone (its fragments then live in its module).
fn ours(operation: &SourceFile, fragments: &[SourceFile]) -> String {
    let mut files = vec![operation.clone()];
    files.extend(fragments.iter().cloned());
    let schema = SourceFile::new(
        "ion-client-build/schema/ion.graphql",
        ion_client_build::SHIPPED_SCHEMA,
    );
    let out = generate(&schema, &files, &Options::default()).expect("ours generates get_run");
    out.code
}

/// `text` with the fenced block after `heading` replaced by `code` in a ```rust fence.
fn replace_block(text: &str, heading: &str, code: &str) -> String {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("GENERATED.md has no `{heading}`"));
    let open = at + text[at..].find("```rust\n").expect("a ```rust block") + "```rust\n".len();
    let close = open + text[open..].find("\n```\n").expect("the block's end") + 1;
    format!("{}{code}{}", &text[..open], &text[close..])
}

#[test]
fn generated_md_shows_both_generators_output() {
    let (operation, fragments) = sources();
    let path = crate_dir().join("GENERATED.md");
    let text = std::fs::read_to_string(&path).expect("GENERATED.md");
    let graphql = format!("{}\n", operation.text.trim_end());
    let current = replace_block(
        &replace_block(
            &text,
            "## graphql_client 0.16",
            &theirs(&operation, &fragments),
        ),
        "## ion-client-build",
        &ours(&operation, &fragments),
    );
    let current = {
        let at = current.find("```graphql\n").expect("the operation block") + "```graphql\n".len();
        let end = at + current[at..].find("\n```\n").expect("its end") + 1;
        format!("{}{graphql}{}", &current[..at], &current[end..])
    };
    if current != text {
        let fresh = repo().join("target/GENERATED.md");
        std::fs::write(&fresh, &current).expect("write target/GENERATED.md");
        panic!(
            "GENERATED.md is stale; the current text is in {}:\n  cp target/GENERATED.md crates/ion-client-build/GENERATED.md",
            fresh.display()
        );
    }
}
