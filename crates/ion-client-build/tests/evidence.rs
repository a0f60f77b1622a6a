//! The generator against ION's full 2023 reference schema: every evidence operation that is
//! valid there is generated and the result compiled. Needs `../shared` (see `shared.rs`: a
//! checkout without it skips with a notice, unless `ION_REQUIRE_SHARED=1`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ion_client_build::{Options, SourceFile, generate, names};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

mod shared;

/// Evidence files whose manifest row says they are valid against the 2023 SDL.
fn valid_evidence(shared: &Path) -> Vec<PathBuf> {
    let ops = shared.join("ion-evidence/operations");
    let manifest = std::fs::read_to_string(ops.join("MANIFEST.tsv")).expect("manifest");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let notes = cols.get(4)?;
            (notes.contains("valid vs 2023 SDL") && !notes.contains("INVALID"))
                .then(|| ops.join(cols[0]))
        })
        .collect()
}

/// The module names a file's operations generate (anonymous ones are named after the file).
fn module_names(path: &Path, text: &str) -> Vec<String> {
    let doc = apollo_compiler::ast::Document::parse(text, path).expect("evidence parses");
    doc.definitions
        .iter()
        .filter_map(|d| d.as_operation_definition())
        .map(|op| match &op.name {
            Some(n) => names::snake(n),
            None => {
                let stem = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                names::snake(&names::pascal(
                    stem.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_'),
                ))
            }
        })
        .collect()
}

#[test]
fn shared_evidence_operations_generate_and_compile_against_the_reference_schema() {
    let Some(shared) =
        shared::dir("shared_evidence_operations_generate_and_compile_against_the_reference_schema")
    else {
        return;
    };
    let schema_text = std::fs::read_to_string(shared.join("ion-reference/ion-schema-2023.graphql"))
        .expect("reference");
    let schema = SourceFile::new("ion-schema-2023.graphql", schema_text);
    let files = valid_evidence(&shared);
    assert!(
        files.len() >= 100,
        "expected the evidence operations, found {}",
        files.len()
    );

    // Evidence repeats operation names (several `GetProcedure`s); generate in batches in which
    // every name is unique, each batch its own module with its own shared types.
    let mut batches: Vec<(BTreeSet<String>, Vec<SourceFile>)> = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("evidence file");
        let mods = module_names(path, &text);
        let shown = path.strip_prefix(&shared).unwrap_or(path).to_path_buf();
        let file = SourceFile::new(shown, text);
        match batches
            .iter_mut()
            .find(|(names, _)| mods.iter().all(|m| !names.contains(m)))
        {
            Some((names, list)) => {
                names.extend(mods);
                list.push(file);
            }
            None => batches.push((mods.into_iter().collect(), vec![file])),
        }
    }

    let started = Instant::now();
    let mut lib = String::from("#![allow(dead_code, missing_docs)]\n");
    let mut total_lines = 0;
    let mut total_ops = 0;
    let out_dir = repo_root().join("target/evidence-crate");
    std::fs::create_dir_all(out_dir.join("src")).expect("mkdir");
    for (i, (_, list)) in batches.iter().enumerate() {
        let options = Options {
            client_trait: format!("Batch{i}"),
            ..Options::default()
        };
        let generated =
            generate(&schema, list, &options).unwrap_or_else(|e| panic!("batch {i}:\n{e}"));
        total_lines += generated.code.lines().count();
        total_ops += generated.operations.len();
        std::fs::write(out_dir.join(format!("src/batch_{i}.rs")), &generated.code).expect("write");
        lib.push_str(&format!(
            "pub mod batch_{i} {{ include!(\"batch_{i}.rs\"); }}\n"
        ));
    }
    let generate_time = started.elapsed();
    eprintln!(
        "reference schema: {} evidence files, {total_ops} operations in {} batches, {total_lines} generated lines, generated in {:.2?}",
        files.len(),
        batches.len(),
        generate_time
    );
    assert_eq!(total_ops, files.len(), "one operation per evidence file");

    // Compile the generated code against the real runtime.
    std::fs::write(out_dir.join("src/lib.rs"), lib).expect("write lib");
    std::fs::write(
        out_dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"evidence-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nion-client = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            repo_root().display().to_string()
        ),
    )
    .expect("write manifest");
    // Pin the same versions as the workspace, so the check needs no resolution.
    let _ = std::fs::copy(repo_root().join("Cargo.lock"), out_dir.join("Cargo.lock"));
    let started = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--quiet", "--manifest-path"])
        .arg(out_dir.join("Cargo.toml"))
        .env(
            "CARGO_TARGET_DIR",
            repo_root().join("target/evidence-target"),
        )
        .status()
        .expect("run cargo check");
    eprintln!(
        "cargo check of the generated evidence code (and the runtime): {:.2?}",
        started.elapsed()
    );
    assert!(status.success(), "generated evidence code does not compile");
}
