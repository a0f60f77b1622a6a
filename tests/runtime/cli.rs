//! `ion run` end to end: the built binary against the mock.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::{CLIENT_ID, MockIon, SECRET};

fn ion(mock: &MockIon, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(args)
        .env_clear()
        .env("ION_API_URL", mock.base_url())
        .env("ION_TOKEN_URL", mock.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", SECRET)
        .env("RUST_LOG", "trace")
        .output()
        .expect("the ion binary runs")
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ion-run-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn runs_a_file_with_inline_or_file_variables() {
    let mock = MockIon::start();
    mock.respond(|op| json!({"data": {"op": op["operationName"], "vars": op["variables"]}}));
    let dir = temp_dir("vars");
    let file = write(
        &dir,
        "get.graphql",
        "query GetRuns($first: Int) { runs(first: $first) { edges { node { id } } } }\n",
    );
    let vars = write(&dir, "vars.json", r#"{"first": 2}"#);

    let out = ion(&mock, &["run", &file, "--variables", r#"{"first": 10}"#]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(
        body,
        json!({"data": {"op": "GetRuns", "vars": {"first": 10}}})
    );

    let out = ion(&mock, &["run", &file, "--variables", &format!("@{vars}")]);
    assert!(out.status.success());
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(body["data"]["vars"], json!({"first": 2}));
    assert_eq!(mock.graphql_requests(), 2);
    assert_eq!(mock.token_requests(), 2, "one per process");

    // RUST_LOG=trace was on: the secret and tokens stay out of the logs.
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("ion_operation"), "{logs}");
    assert!(!logs.contains(SECRET) && !logs.contains(crate::support::TOKEN_PREFIX));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mutations_are_sent_as_mutations() {
    let mock = MockIon::start();
    let dir = temp_dir("mutation");
    let file = write(
        &dir,
        "m.graphql",
        "mutation($id: ID!) { deleteRun(id: $id, etag: \"e\") }",
    );
    let out = ion(&mock, &["run", &file, "--variables", r#"{"id": 1}"#]);
    assert!(out.status.success());
    assert_eq!(mock.mutations_executed(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn graphql_errors_print_the_body_and_fail() {
    let mock = MockIon::start();
    mock.respond(|_| json!({"data": null, "errors": [{"message": "Run 5 does not exist"}]}));
    let dir = temp_dir("errors");
    let file = write(&dir, "q.graphql", "{ run(id: 5) { id } }");
    let out = ion(&mock, &["run", &file]);
    assert_eq!(out.status.code(), Some(1));
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(body["errors"][0]["message"], "Run 5 does not exist");
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: GraphQL: Run 5 does not exist"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn failures_go_to_stderr_with_a_non_zero_exit() {
    let mock = MockIon::start();
    let dir = temp_dir("fail");
    let file = write(&dir, "q.graphql", "query Me { me { id } }");
    let out = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(["run", &file])
        .env_clear()
        .env("ION_API_URL", mock.base_url())
        .env("ION_TOKEN_URL", mock.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", "not-the-secret")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: authentication failed: the token endpoint"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-secret"));
    assert_eq!(mock.graphql_requests(), 0);

    // Partial configuration is an error, never a silent switch to the embedded emulator.
    let out = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(["run", &file])
        .env_clear()
        .env("ION_CLIENT_ID", CLIENT_ID)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: invalid configuration: no ION environment is configured")
    );
    let _ = std::fs::remove_dir_all(dir);
}
