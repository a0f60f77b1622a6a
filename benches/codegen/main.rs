//! Generated code: ion-client-build beside graphql_client 0.16's derive.
//!
//! The operations of `../shared/ion-evidence` that its manifest marks valid against the 2023
//! reference schema (names made unique), all in one crate against that full schema:
//!
//! - generation time in this process (`cargo bench` builds it in release): ion-client-build's
//!   `generate` for all of them at once; graphql_client_codegen's
//!   `generate_module_token_stream_from_string` once per operation, as its derive calls it;
//! - generated lines: ours, the generated file; theirs, each derive's expansion formatted with
//!   prettyplease;
//! - `cargo build` of each crate (dev and release) compiled whole (no incremental cache),
//!   dependencies already built, and the cost of adding one more query file to a crate that
//!   has the rest (incremental, as a user's dev build is).
//!
//! The evidence is not in the repository: without it the table says so and nothing runs. The
//! crates are written to a temporary directory (never to tracked paths); their build shares
//! `target/bench-codegen` so later runs find the dependencies built. Under `cargo test
//! --benches` (no `--bench`) only a few operations are generated and nothing is built; nothing
//! here asserts a timing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use graphql_client_codegen::{
    CodegenMode, GraphQLClientCodegenOptions, generate_module_token_stream_from_string,
};
use ion_client_build::{Options, SourceFile, generate, names, parse_document};

/// Operations generated under `cargo test --benches`.
const QUICK_OPERATIONS: usize = 3;
/// In-process generations timed per generator (the median is reported).
const GENERATION_ROUNDS: usize = 5;
/// Whole-crate builds timed per crate and profile (the median is reported).
const BUILD_ROUNDS: usize = 3;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // This package is `benches/` in the repository.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let root = root.as_path();
    let mut out = String::new();
    writeln!(out, "## Generated code\n").unwrap();
    match Evidence::load(root) {
        Err(reason) => writeln!(out, "Skipped: {reason}.\n").unwrap(),
        Ok(mut evidence) => {
            if !full {
                evidence.operations.truncate(QUICK_OPERATIONS);
            }
            measure(root, &evidence, full, &mut out);
        }
    }
    print!("{out}");
}

/// One evidence operation, renamed so its name is unique in the crate.
#[derive(Clone)]
struct Operation {
    /// PascalCase, as written in the document (graphql_client's struct name).
    name: String,
    /// The document with the unique name.
    text: String,
}

struct Evidence {
    schema_path: PathBuf,
    schema: SourceFile,
    operations: Vec<Operation>,
}

impl Evidence {
    /// The valid evidence operations that both generators accept, each named uniquely.
    fn load(root: &Path) -> Result<Evidence, String> {
        let shared = root.join("../shared");
        let schema_path = shared.join("ion-reference/ion-schema-2023.graphql");
        let manifest = shared.join("ion-evidence/operations/MANIFEST.tsv");
        if !schema_path.is_file() || !manifest.is_file() {
            return Err(
                "not measured in this run: the evidence (`../shared/ion-evidence` and the 2023 \
                 reference schema beside the repository) is not present; it is not part of the \
                 repository"
                    .into(),
            );
        }
        let schema = SourceFile::new(
            "ion-schema-2023.graphql",
            std::fs::read_to_string(&schema_path).unwrap(),
        );
        let ops_dir = manifest.parent().unwrap();
        let mut taken = BTreeSet::new();
        let mut operations = Vec::new();
        // The same rule as crates/ion-client-build/tests/evidence.rs.
        for line in std::fs::read_to_string(&manifest).unwrap().lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let Some(notes) = cols.get(4) else { continue };
            if !notes.contains("valid vs 2023 SDL") || notes.contains("INVALID") {
                continue;
            }
            let path = ops_dir.join(cols[0]);
            let text = std::fs::read_to_string(&path).unwrap();
            let mut doc = parse_document(&SourceFile::new(cols[0], text))
                .map_err(|e| format!("{}: {e}", cols[0]))?;
            let mut name = None;
            for def in &mut doc.definitions {
                if let apollo_compiler::ast::Definition::OperationDefinition(op) = def {
                    let base = match &op.name {
                        Some(n) => n.to_string(),
                        None => names::pascal(
                            path.file_stem()
                                .unwrap()
                                .to_string_lossy()
                                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '_'),
                        ),
                    };
                    let mut unique = base.clone();
                    let mut n = 2;
                    // Unique by module name too: `GetRun` and `getRun` would collide there.
                    while !taken.insert(names::snake(&unique)) {
                        unique = format!("{base}{n}");
                        n += 1;
                    }
                    op.make_mut().name = Some(apollo_compiler::Name::new(&unique).unwrap());
                    name = Some(unique);
                }
            }
            let Some(name) = name else { continue };
            operations.push(Operation {
                name,
                text: doc.to_string(),
            });
        }
        Ok(Evidence {
            schema_path,
            schema,
            operations,
        })
    }
}

/// The derives graphql_client is asked for on response types: the ones ion-client's generated
/// response types carry (`Serialize` for insta snapshots, `Clone`, `PartialEq`), so the build
/// times compare the same work. With `Debug` alone graphql_client's crate built in 0.86x of the
/// time ours took (dev) and 0.73x (release), in one run of the first version of this bench.
const THEIR_RESPONSE_DERIVES: &str = "Debug, Clone, PartialEq, Serialize";

/// graphql_client's expansion of one operation, formatted: what its derive adds to a crate.
fn theirs(schema: &Path, op: &Operation) -> Result<String, String> {
    let mut options = GraphQLClientCodegenOptions::new(CodegenMode::Derive);
    options.set_struct_name(op.name.clone());
    options.set_operation_name(op.name.clone());
    options.set_response_derives(THEIR_RESPONSE_DERIVES.into());
    options.set_serde_path(syn::parse_quote!(graphql_client::_private::serde));
    let tokens = generate_module_token_stream_from_string(&op.text, schema, options)
        .map_err(|e| e.to_string())?;
    let file: syn::File = syn::parse2(tokens).map_err(|e| e.to_string())?;
    Ok(prettyplease::unparse(&file))
}

fn ours(schema: &SourceFile, ops: &[Operation]) -> String {
    let files: Vec<SourceFile> = ops
        .iter()
        .map(|op| SourceFile::new(file_name(op), op.text.clone()))
        .collect();
    generate(schema, &files, &Options::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .code
}

fn file_name(op: &Operation) -> String {
    format!("{}.graphql", names::snake(&op.name))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(root: &Path, evidence: &Evidence, full: bool, out: &mut String) {
    // Only operations both generators accept are compared.
    let mut ops = Vec::new();
    let mut refused = Vec::new();
    for op in &evidence.operations {
        match theirs(&evidence.schema_path, op) {
            Ok(_) => ops.push(op.clone()),
            Err(e) => refused.push((op.name.as_str(), e)),
        }
    }
    // graphql_client generates code that does not compile for some operations (a field
    // selected twice, a type declared twice): find them by building its crate and leave them
    // out of both sides too, so both crates hold the same operations.
    // `ION_BENCH_CODEGEN_DIR` keeps the two crates (for profiling them by hand); by default
    // they live in a temporary directory.
    let tmp = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("ION_BENCH_CODEGEN_DIR").map(PathBuf::from);
    let dir = kept.as_deref().unwrap_or(tmp.path());
    std::fs::create_dir_all(dir).unwrap();
    let target = root.join("target/bench-codegen");
    let mut uncompilable = Vec::new();
    let mut build_error = None;
    if full {
        match drop_uncompilable(dir, root, evidence, &target, &mut ops) {
            Ok(dropped) => uncompilable = dropped,
            Err(e) => build_error = Some(e),
        }
    }
    let rounds = if full { GENERATION_ROUNDS } else { 1 };
    let generated_ops: Vec<Operation> = evidence
        .operations
        .iter()
        .filter(|o| !refused.iter().any(|(name, _)| *name == o.name))
        .cloned()
        .collect();
    let compiled = generation(evidence, &ops, rounds);
    let all_generated =
        (generated_ops.len() != ops.len()).then(|| generation(evidence, &generated_ops, rounds));

    let left_out = refused.len() + uncompilable.len();
    writeln!(
        out,
        "{} operations of `../shared/ion-evidence` (the manifest's valid ones, names made unique{}) \
         in one crate against the full 2023 schema: ion-client-build (one `build.rs`, one \
         generated file) beside graphql_client 0.16 (one `#[derive(GraphQLQuery)]` per \
         operation, `response_derives = \"{THEIR_RESPONSE_DERIVES}\"`, the derives ion-client's \
         response types carry, so both crates compile the same impls).\n",
        ops.len(),
        if left_out == 0 {
            String::new()
        } else {
            format!(
                "; {left_out} for which graphql_client generates nothing or code that does not \
                 compile are left out of both"
            )
        }
    )
    .unwrap();

    let builds = if let Some(e) = build_error {
        writeln!(out, "The builds failed, so only generation is shown: {e}\n").unwrap();
        None
    } else if full {
        match builds(dir, root, evidence, &target, &ops) {
            Ok(b) => Some(b),
            Err(e) => {
                writeln!(out, "The builds failed, so only generation is shown: {e}\n").unwrap();
                None
            }
        }
    } else {
        writeln!(
            out,
            "(A quick run: {} operations, no builds; `cargo bench --bench codegen` measures.)\n",
            ops.len()
        )
        .unwrap();
        None
    };

    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let ratio = |a: f64, b: f64| format!("{:.2}", a / b);
    writeln!(
        out,
        "| | ion-client-build | graphql_client 0.16 | ours / theirs | goal |\n|---|---:|---:|---:|---|"
    )
    .unwrap();
    let mut generation_rows = vec![(String::new(), compiled)];
    if let Some(all) = all_generated {
        generation_rows.push((
            format!(
                ", all {} operations graphql_client generates (its code for {} does not compile)",
                generated_ops.len(),
                generated_ops.len() - ops.len()
            ),
            all,
        ));
    }
    let profile = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release"
    };
    for (which, g) in generation_rows {
        writeln!(
            out,
            "| generation in process ({profile}, median of {rounds}){which} | {} | {} | {} | ours ≤ 1 s |",
            secs(g.our_time),
            secs(g.their_time),
            ratio(g.our_time.as_secs_f64(), g.their_time.as_secs_f64())
        )
        .unwrap();
        writeln!(
            out,
            "| generated lines (prettyplease){which} | {} | {} | {} | ≤ 0.20 |",
            g.our_lines,
            g.their_lines,
            ratio(g.our_lines as f64, g.their_lines as f64)
        )
        .unwrap();
    }
    if let Some(b) = builds {
        for (label, (o, t), goal) in [
            (
                "`cargo build` (dev) of the crate whole (`CARGO_INCREMENTAL=0`, median of 3)",
                b.dev,
                "≤ 0.33",
            ),
            (
                "`cargo build --release` of the crate whole (median of 3)",
                b.release,
                "≤ 0.33",
            ),
            (
                "`cargo build` (dev) after adding one query file to the other operations",
                b.add_one,
                "",
            ),
            (
                "the same, ours with `[profile.dev.build-override] opt-level = 2`",
                b.add_one_optimised,
                "",
            ),
        ] {
            writeln!(
                out,
                "| {label} | {} | {} | {} | {goal} |",
                secs(o),
                secs(t),
                ratio(o.as_secs_f64(), t.as_secs_f64())
            )
            .unwrap();
        }
        writeln!(
            out,
            "\nBuilds: dependencies already built (the first build of each crate and profile is \
             not timed). The whole-crate rows touch the source and build with no incremental \
             cache, so each compiles all the generated code; the one-query rows build \
             incrementally, as a user's dev build does. graphql_client expands every derive again \
             whenever its crate is compiled; ion-client-build's `build.rs` reruns only when a \
             query or the schema changes. Adding a query reruns it: first with the build script at \
             the dev profile's default optimisation (none), as a new user's crate has it, then \
             optimised as ion-client's own `Cargo.toml` sets it (graphql_client's column repeats \
             its one figure there)."
        )
        .unwrap();
    }
    if !refused.is_empty() {
        writeln!(
            out,
            "\nLeft out, graphql_client cannot generate them: {}.",
            refused
                .iter()
                .map(|(name, why)| format!("`{name}` ({why})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
    }
    if !uncompilable.is_empty() {
        writeln!(
            out,
            "\nLeft out, graphql_client's code for them does not compile: {}.",
            uncompilable.join(", ")
        )
        .unwrap();
    }
    writeln!(out).unwrap();
}

/// Generation time and lines of both generators over one set of operations.
struct Generation {
    our_time: Duration,
    their_time: Duration,
    our_lines: usize,
    their_lines: usize,
}

fn generation(evidence: &Evidence, ops: &[Operation], rounds: usize) -> Generation {
    let mut our_times = Vec::new();
    let mut our_code = String::new();
    for _ in 0..rounds {
        let started = Instant::now();
        our_code = ours(&evidence.schema, ops);
        our_times.push(started.elapsed());
    }
    let mut their_times = Vec::new();
    let mut their_lines = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        their_lines = ops
            .iter()
            .map(|op| theirs(&evidence.schema_path, op).unwrap().lines().count())
            .sum::<usize>();
        their_times.push(started.elapsed());
    }
    Generation {
        our_time: median(our_times),
        their_time: median(their_times),
        our_lines: our_code.lines().count(),
        their_lines,
    }
}

/// (ours, theirs) for each measurement.
struct Builds {
    dev: (Duration, Duration),
    release: (Duration, Duration),
    add_one: (Duration, Duration),
    add_one_optimised: (Duration, Duration),
}

/// Builds graphql_client's crate (dev) with `ops`, removing the operations whose expansion
/// fails to compile until it builds; returns their names.
fn drop_uncompilable(
    dir: &Path,
    root: &Path,
    evidence: &Evidence,
    target: &Path,
    ops: &mut Vec<Operation>,
) -> Result<Vec<String>, String> {
    std::fs::copy(&evidence.schema_path, dir.join("schema.graphql")).map_err(|e| e.to_string())?;
    let crate_dir = dir.join("theirs");
    let mut dropped = Vec::new();
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(&crate_dir);
        write_theirs(root, &crate_dir, &evidence.schema.text, ops);
        eprintln!(
            "codegen: building graphql_client's crate ({} operations)",
            ops.len()
        );
        let Err(e) = cargo(&crate_dir, target, false) else {
            return Ok(dropped);
        };
        let lib = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
        let bad = failing_derives(&lib, &e);
        if bad.is_empty() {
            return Err(e);
        }
        ops.retain(|op| !bad.contains(&op.name));
        dropped.extend(bad);
    }
    Err("graphql_client's crate still does not compile after five rounds".into())
}

/// The structs whose `#[derive(GraphQLQuery)]` the errors point at (`src/lib.rs:LINE:`).
fn failing_derives(lib: &str, errors: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = lib.lines().collect();
    let mut bad = BTreeSet::new();
    for (at, _) in errors.match_indices("src/lib.rs:") {
        let digits: String = errors[at + "src/lib.rs:".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let Ok(line) = digits.parse::<usize>() else {
            continue;
        };
        // The derive's block runs from `#[derive(GraphQLQuery)]` to its `pub struct Name;`.
        let struct_line = lines
            .iter()
            .skip(line.saturating_sub(1))
            .find_map(|l| l.strip_prefix("pub struct "));
        if let Some(name) = struct_line {
            bad.insert(name.trim_end_matches(';').to_owned());
        }
    }
    bad
}

fn builds(
    dir: &Path,
    root: &Path,
    evidence: &Evidence,
    target: &Path,
    ops: &[Operation],
) -> Result<Builds, String> {
    let _ = std::fs::copy(&evidence.schema_path, dir.join("schema.graphql"));
    let (last, rest) = ops.split_last().ok_or("no operations")?;

    let ours_dir = dir.join("ours");
    let theirs_dir = dir.join("theirs");
    let _ = std::fs::remove_dir_all(&theirs_dir);
    let _ = std::fs::remove_dir_all(&ours_dir);
    write_ours(root, &ours_dir, rest);
    write_theirs(root, &theirs_dir, &evidence.schema.text, rest);

    let mut timings = Vec::new();
    for (crate_dir, add) in [
        (&ours_dir, add_ours as fn(&Path, &Operation)),
        (&theirs_dir, add_theirs as fn(&Path, &Operation)),
    ] {
        eprintln!("codegen: building {}", crate_dir.display());
        cargo(crate_dir, target, false)?;
        add(crate_dir, last);
        let add_one = cargo(crate_dir, target, false)?;
        // The crate compiled whole: no incremental cache to reuse (a touched file with an
        // unchanged text would otherwise cost little more than hashing it).
        let whole = |release: bool| -> Result<Duration, String> {
            let mut times = Vec::new();
            for _ in 0..BUILD_ROUNDS {
                touch(&crate_dir.join("src/lib.rs"));
                times.push(cargo_with(crate_dir, target, release, false)?);
            }
            Ok(median(times))
        };
        let dev = whole(false)?;
        cargo(crate_dir, target, true)?;
        let release = whole(true)?;
        timings.push((dev, release, add_one));
    }
    // The same addition with the build script optimised, as ion-client's own Cargo.toml has
    // it (`[profile.dev.build-override] opt-level = 2`): drop the added query, build with
    // the new profile (untimed), add it back.
    let manifest_path = ours_dir.join("Cargo.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest.push_str("\n[profile.dev.build-override]\nopt-level = 2\n");
    std::fs::write(&manifest_path, manifest).unwrap();
    std::fs::remove_file(ours_dir.join("queries").join(file_name(last))).unwrap();
    eprintln!("codegen: building ours with an optimised build script");
    cargo(&ours_dir, target, false)?;
    add_ours(&ours_dir, last);
    let add_one_optimised = cargo(&ours_dir, target, false)?;

    let (o, t) = (timings[0], timings[1]);
    Ok(Builds {
        dev: (o.0, t.0),
        release: (o.1, t.1),
        add_one: (o.2, t.2),
        add_one_optimised: (add_one_optimised, t.2),
    })
}

/// Sets the file's modification time to now, so cargo rebuilds its crate.
fn touch(path: &Path) {
    let file = std::fs::File::options().append(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
}

fn cargo(crate_dir: &Path, target: &Path, release: bool) -> Result<Duration, String> {
    cargo_with(crate_dir, target, release, true)
}

/// `cargo build` of the crate, timed; `incremental: false` sets `CARGO_INCREMENTAL=0`.
fn cargo_with(
    crate_dir: &Path,
    target: &Path,
    release: bool,
    incremental: bool,
) -> Result<Duration, String> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    if !incremental {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
        .arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if release {
        command.arg("--release");
    }
    let started = Instant::now();
    let output = command.output().map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`cargo build` of {} failed:\n{stderr}",
            crate_dir.display()
        ));
    }
    Ok(took)
}

fn manifest(name: &str, dependencies: &str, build_dependencies: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{dependencies}\n[build-dependencies]\n{build_dependencies}"
    )
}

fn write_ours(root: &Path, dir: &Path, ops: &[Operation]) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("queries")).unwrap();
    let root = root.display().to_string();
    std::fs::write(
        dir.join("Cargo.toml"),
        manifest(
            "codegen-bench-ours",
            &format!("ion-client = {{ path = {root:?} }}\n"),
            &format!(
                "ion-client-build = {{ path = {:?} }}\n",
                format!("{root}/crates/ion-client-build")
            ),
        ),
    )
    .unwrap();
    let _ = std::fs::copy(Path::new(&root).join("Cargo.lock"), dir.join("Cargo.lock"));
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    ion_client_build::Builder::new()\n        .schema(\"../schema.graphql\")\n        .queries(\"queries\")\n        .run_or_exit();\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "#![allow(dead_code, missing_docs)]\nion_client::include_operations!();\n",
    )
    .unwrap();
    for op in ops {
        add_ours(dir, op);
    }
}

fn add_ours(dir: &Path, op: &Operation) {
    std::fs::write(dir.join("queries").join(file_name(op)), &op.text).unwrap();
}

fn write_theirs(root: &Path, dir: &Path, schema: &str, ops: &[Operation]) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("queries")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        manifest(
            "codegen-bench-theirs",
            "graphql_client = { version = \"0.16\", default-features = false, features = [\"graphql_query_derive\"] }\nserde_json = \"1\"\n",
            "",
        ),
    )
    .unwrap();
    let _ = std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"));
    // graphql_client wants a type in scope for every custom scalar an operation reaches.
    let mut lib = String::from(
        "#![allow(dead_code, missing_docs, non_camel_case_types, clippy::all)]\nuse graphql_client::GraphQLQuery;\n",
    );
    for line in schema.lines() {
        if let Some(scalar) = line.strip_prefix("scalar ") {
            writeln!(lib, "pub type {} = serde_json::Value;", scalar.trim()).unwrap();
        }
    }
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    for op in ops {
        add_theirs(dir, op);
    }
}

fn add_theirs(dir: &Path, op: &Operation) {
    let file = file_name(op);
    std::fs::write(dir.join("queries").join(&file), &op.text).unwrap();
    let derive = format!(
        "\n#[derive(GraphQLQuery)]\n#[graphql(\n    schema_path = \"../schema.graphql\",\n    query_path = \"queries/{file}\",\n    response_derives = \"{THEIR_RESPONSE_DERIVES}\"\n)]\npub struct {};\n",
        op.name
    );
    let mut lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    lib.push_str(&derive);
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
}
