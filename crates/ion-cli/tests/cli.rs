//! The `ion` binary end to end, offline: with no configuration it runs against its embedded
//! emulator, exactly as the README's first command does.

#[cfg(unix)]
#[path = "cli/files.rs"]
mod files;

use std::path::PathBuf;
use std::process::{Command, Output};

use apollo_compiler::Schema;
use serde_json::Value;

/// The repository root (this crate is `crates/ion-cli` in it).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `ion` with no ION configuration at all.
fn ion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(args)
        .current_dir(repo())
        .env_clear()
        .output()
        .expect("the ion binary runs")
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn the_readme_command_prints_the_seed_runs_with_their_steps() {
    let out = ion(&["run", "queries/get_runs.graphql"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("embedded ION emulator"), "{stderr}");
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let edges = body["data"]["runs"]["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    assert!(edges.len() <= 10);
    for edge in edges {
        let run = &edge["node"];
        assert!(run["id"].is_i64() && run["title"].is_string(), "{run}");
        assert!(!run["steps"].as_array().expect("steps").is_empty(), "{run}");
    }
}

#[test]
fn all_pages_streams_every_node_as_json_lines() {
    let one = ion(&[
        "run",
        "queries/list_runs.graphql",
        "--variables",
        r#"{"first": 100}"#,
    ]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let body: Value = serde_json::from_slice(&one.stdout).expect("JSON");
    let total = body["data"]["runs"]["edges"]
        .as_array()
        .expect("edges")
        .len();

    let paged = ion(&[
        "run",
        "queries/list_runs.graphql",
        "--all-pages",
        "--variables",
        r#"{"first": 2}"#,
    ]);
    assert!(
        paged.status.success(),
        "{}",
        String::from_utf8_lossy(&paged.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&paged.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON node per line"))
        .collect();
    assert_eq!(lines.len(), total, "every run once, across pages of 2");
    let mut ids: Vec<i64> = lines
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), total);
}

/// Every definition, printed on its own, so type order (alphabetical from introspection,
/// by section in our file) does not matter but every field, argument, default, description
/// and deprecation does.
fn definitions(sdl: &str, path: &str) -> Vec<(String, String)> {
    let schema = Schema::parse_and_validate(sdl, path).expect("valid SDL");
    let mut defs: Vec<(String, String)> = schema
        .types
        .iter()
        .filter(|(_, t)| !t.is_built_in())
        .map(|(name, t)| (name.to_string(), t.serialize().to_string()))
        .collect();
    defs.sort();
    defs
}

#[test]
fn schema_pull_from_the_emulator_equals_the_checked_in_schema() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let file = dir.join("pulled.graphql");
    let out = ion(&["schema", "pull", "-o", file.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pulled = std::fs::read_to_string(&file).expect("pulled file");
    let ours = std::fs::read_to_string(repo().join("schema/ion.graphql")).expect("schema");
    let (a, b) = (
        definitions(&ours, "schema/ion.graphql"),
        definitions(&pulled, "pulled.graphql"),
    );
    assert_eq!(a.len(), b.len(), "same number of definitions");
    for ((name_a, def_a), (name_b, def_b)) in a.iter().zip(&b) {
        assert_eq!(name_a, name_b);
        assert_eq!(def_a, def_b, "definition of {name_a} differs");
    }
}

#[test]
fn schema_check_reports_located_errors_and_new_query_scaffolds_a_valid_file() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let out = ion(&[
        "new-query",
        "ListOpenRuns",
        "--dir",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scaffold = dir.join("list_open_runs.graphql");
    assert!(scaffold.is_file());
    let ok = ion(&["schema", "check", dir.to_str().expect("utf-8")]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    std::fs::write(
        dir.join("broken.graphql"),
        "query Broken {\n  runs { edges { node { nope } } }\n}\n",
    )
    .expect("write");
    let bad = ion(&["schema", "check", dir.to_str().expect("utf-8")]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("broken.graphql:2:"), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn envs_lists_every_deployment_and_token_hides_the_token() {
    let out = ion(&["envs"]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    for name in [
        "production",
        "staging",
        "gov-production",
        "gov-staging",
        "aus-production",
        "aus-staging",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{table}"
        );
    }
    assert!(table.contains("https://api-production-gov.buildwithion.com"));

    let out = ion(&["token"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("expires at:") && text.contains("\"azp\""),
        "{text}"
    );
    assert!(
        !text.contains("eyJ"),
        "the token is printed only with --show:\n{text}"
    );
    let shown = ion(&["token", "--show"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("token:       eyJ"));
}

/// After `cargo install`, `ion` runs from any folder: with no `schema/ion.graphql` there it
/// validates against the schema it ships, and says so; a bare `x.graphql` finds the fragments
/// beside it like `./x.graphql` does.
#[test]
fn works_from_any_directory_with_the_shipped_schema() {
    let tmp = temp_dir();
    let dir = tmp.path();
    std::fs::write(
        dir.join("x.graphql"),
        "query X { runs(first: 2) { edges { node { ...Row } } } }
",
    )
    .expect("write");
    std::fs::write(
        dir.join("rows.graphql"),
        "fragment Row on Run { id title }
",
    )
    .expect("write");
    let in_dir = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ion"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .output()
            .expect("the ion binary runs")
    };
    let check = in_dir(&["schema", "check", "x.graphql", "rows.graphql"]);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{stderr}");
    assert!(stderr.contains("schema shipped with ion"), "{stderr}");

    let run = in_dir(&["run", "x.graphql"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let body: Value = serde_json::from_slice(&run.stdout).expect("JSON on stdout");
    assert_eq!(
        body["data"]["runs"]["edges"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(body["data"]["runs"]["edges"][0]["node"]["title"].is_string());
}

/// `--all-pages` applies the whole pagination rule before sending anything: an `$after` alone
/// is not enough.
#[test]
fn all_pages_refuses_an_operation_that_does_not_page() {
    let tmp = temp_dir();
    let file = tmp.path().join("half.graphql");
    std::fs::write(
        &file,
        "query Half($after: String) { runs(after: $after, first: 2) { edges { node { id } } } }\n",
    )
    .expect("write");
    let out = ion(&["run", file.to_str().expect("utf-8"), "--all-pages"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--all-pages needs an `$after` variable")
            && stderr.contains("in Half, the connection selects no `pageInfo`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("embedded ION emulator"),
        "nothing was sent: {stderr}"
    );
}

/// `ion schema check` reads a folder as the build does: a symbolic link inside it is refused,
/// by name.
#[cfg(unix)]
#[test]
fn schema_check_refuses_links_as_the_build_does() {
    let tmp = temp_dir();
    let outside = temp_dir();
    std::fs::write(outside.path().join("q.graphql"), "query Q { me { id } }\n").expect("write");
    std::os::unix::fs::symlink(
        outside.path().join("q.graphql"),
        tmp.path().join("q.graphql"),
    )
    .expect("link");
    let out = ion(&["schema", "check", tmp.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("q.graphql is a symbolic link"), "{stderr}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = ion(&["run", "queries/does_not_exist.graphql"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read queries/does_not_exist.graphql"),
        "{stderr}"
    );
}

#[test]
fn attach_works_against_the_embedded_emulator() {
    let tmp = temp_dir();
    let a = tmp.path().join("a.txt");
    let b = tmp.path().join("b.csv");
    std::fs::write(&a, b"first").expect("write");
    std::fs::write(&b, b"x,y\n1,2\n").expect("write");
    let missing = tmp.path().join("missing.pdf");
    let out = ion(&[
        "attach",
        a.to_str().expect("utf-8"),
        b.to_str().expect("utf-8"),
        missing.to_str().expect("utf-8"),
        "--to",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let mut names: Vec<&str> = lines
        .iter()
        .map(|l| l["fileName"].as_str().expect("name"))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["a.txt", "b.csv"]);
    let csv = lines
        .iter()
        .find(|l| l["fileName"] == "b.csv")
        .expect("csv");
    assert_eq!(
        (csv["contentType"].as_str(), csv["size"].as_u64()),
        (Some("text/csv"), Some(8))
    );
    // Not a terminal: a plain line per file, and the failure named.
    assert!(stderr.contains("attached "), "{stderr}");
    assert!(
        stderr.contains(&format!("error: {}: cannot attach", missing.display())),
        "{stderr}"
    );
    assert!(stderr.contains("error: 1 of 3 files failed"), "{stderr}");
}
