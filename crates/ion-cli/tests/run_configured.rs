//! `ion run` against a configured ION (here an emulator started by the test, reached through
//! `ION_API_URL`/`ION_TOKEN_URL` and client credentials, exactly as a real deployment is), with
//! the emulator's counters proving what was sent.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "run_configured/mock.rs"]
mod mock;

#[path = "run_configured/hostile.rs"]
mod hostile;

#[path = "run_configured/export.rs"]
mod export;

#[path = "run_configured/import.rs"]
mod import;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ion_emulator::{ClientCredentials, Emulator, EmulatorOptions};
use serde_json::{Value, json};

const CLIENT_ID: &str = "cli-test";
const SECRET: &str = "cli-test-secret-7f3a";

async fn emulator() -> Emulator {
    Emulator::start(EmulatorOptions::new().client(ClientCredentials::new(CLIENT_ID, SECRET)))
        .await
        .expect("emulator starts")
}

/// Runs `ion` configured for `emulator` with `secret`, logging at trace level.
fn ion_with(emulator: &Emulator, secret: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(args)
        .env_clear()
        .env("ION_API_URL", emulator.api_base())
        .env("ION_TOKEN_URL", emulator.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", secret)
        .env("RUST_LOG", "trace")
        .output()
        .expect("the ion binary runs")
}

fn ion(emulator: &Emulator, args: &[&str]) -> Output {
    ion_with(emulator, SECRET, args)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_a_file_with_inline_or_file_variables() {
    let e = emulator().await;
    let tmp = temp_dir();
    let dir = tmp.path();
    let file = write(
        dir,
        "get.graphql",
        "query GetRuns($first: Int) { runs(first: $first) { edges { node { id } } } }\n",
    );
    let vars = write(dir, "vars.json", r#"{"first": 2}"#);

    let out = ion(&e, &["run", &file, "--variables", r#"{"first": 4}"#]);
    assert!(out.status.success(), "{}", stderr(&out));
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(body["data"]["runs"]["edges"].as_array().unwrap().len(), 4);

    let out = ion(&e, &["run", &file, "--variables", &format!("@{vars}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(body["data"]["runs"]["edges"].as_array().unwrap().len(), 2);
    let counters = e.counters();
    assert_eq!(counters.graphql_requests, 2);
    assert_eq!(counters.token_requests, 2, "one per process");

    // RUST_LOG=trace was on: the secret and the tokens stay out of the logs.
    let logs = stderr(&out);
    assert!(logs.contains("ion_operation"), "{logs}");
    assert!(!logs.contains(SECRET), "{logs}");
    assert!(!logs.contains(&e.issue_token()[..20]), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_are_sent_as_mutations() {
    let e = emulator().await;
    let tmp = temp_dir();
    let dir = tmp.path();
    let file = write(
        dir,
        "m.graphql",
        "mutation($input: CreateRunInput!) { createRun(input: $input) { run { id title } } }",
    );
    let vars = json!({"input": {"title": "from the cli", "procedureId": 1}}).to_string();
    let out = ion(&e, &["run", &file, "--variables", &vars]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(e.counters().mutations, 1);

    // --all-pages never repeats a mutation.
    let out = ion(&e, &["run", &file, "--variables", &vars, "--all-pages"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a mutation"), "{}", stderr(&out));
    assert_eq!(e.counters().mutations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_errors_print_the_body_and_fail() {
    let e = emulator().await;
    let tmp = temp_dir();
    let dir = tmp.path();
    // Sent unvalidated, so the server is the one to refuse it.
    let file = write(dir, "q.graphql", "{ runz { id } }");
    let out = ion(&e, &["run", &file, "--no-validate"]);
    assert_eq!(out.status.code(), Some(1));
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("runz"), "{message}");
    assert!(
        stderr(&out).contains(&format!("error: GraphQL: {message}")),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_documents_and_missing_variables_are_refused_before_sending() {
    let e = emulator().await;
    let tmp = temp_dir();
    let dir = tmp.path();
    let typo = write(
        dir,
        "typo.graphql",
        "query Runs {\n  runs {\n    edges { node { serialNumbr } }\n  }\n}\n",
    );
    let out = ion(&e, &["run", &typo]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("typo.graphql:3:20"), "{err}");
    assert!(err.contains("serialNumbr"), "{err}");

    let needs_id = write(
        dir,
        "get_run.graphql",
        "query GetRun($id: ID!) { run(id: $id) { id } }\n",
    );
    let out = ion(&e, &["run", &needs_id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("GetRun requires $id: ID!"),
        "{}",
        stderr(&out)
    );

    // --no-validate sends what the schema does not know, and the server answers.
    let out = ion(&e, &["run", &typo, "--no-validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        e.counters().graphql_requests,
        1,
        "only the --no-validate run was sent"
    );
    assert_eq!(e.counters().token_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_go_to_stderr_with_a_non_zero_exit() {
    let e = emulator().await;
    let tmp = temp_dir();
    let dir = tmp.path();
    let file = write(dir, "q.graphql", "query Me { me { id } }");
    let out = ion_with(&e, "not-the-secret", &["run", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: authentication failed: the token endpoint")),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"));
    assert_eq!(e.counters().graphql_requests, 0);

    // Partial configuration is an error, never a silent switch to the embedded emulator.
    let out = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(["run", &file])
        .env_clear()
        .env("ION_CLIENT_ID", CLIENT_ID)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).lines().any(
            |l| l.starts_with("error: invalid configuration: no ION environment is configured")
        ),
        "{}",
        stderr(&out)
    );
}

/// The repository's schema, which the operations below were "generated" against.
fn repo_schema() -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/ion.graphql");
    let text = std::fs::read_to_string(&path).expect("schema/ion.graphql");
    (path, text)
}

/// `ion schema check --live` against an ION whose schema moved on: only what touches the
/// operations is reported, located, with the exit status a scheduled job can act on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_live_reports_what_the_live_schema_breaks_in_the_operations() {
    let (schema_path, sdl) = repo_schema();
    let tmp = temp_dir();
    let dir = tmp.path();
    let op = write(
        dir,
        "runs.graphql",
        "query Runs {\n  runs {\n    edges { node { id status } }\n  }\n}\n",
    );
    let live = |sdl: String| async move {
        Emulator::start(
            EmulatorOptions::new()
                .schema_sdl(sdl)
                .client(ClientCredentials::new(CLIENT_ID, SECRET)),
        )
        .await
        .expect("emulator starts")
    };
    let check = |e: &Emulator| {
        ion(
            e,
            &[
                "schema",
                "check",
                "--live",
                "--schema",
                schema_path.to_str().unwrap(),
                &op,
            ],
        )
    };

    // The same schema: nothing to report.
    let same = live(sdl.clone()).await;
    let out = check(&same);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A new enum value the operation selects: dangerous, the generated code keeps working.
    let with_value = sdl.replacen("enum RunStatus {\n", "enum RunStatus {\n  PAUSED\n", 1);
    assert_ne!(with_value, sdl, "RunStatus is in the schema");
    let out = check(&live(with_value).await);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{report}\n{}", stderr(&out));
    assert!(report.contains("runs.graphql:3:23: dangerous"), "{report}");
    assert!(report.contains("keeps working"), "{report}");

    // A removed field the operation selects: breaking, located at the selection.
    let without_status = sdl.replacen("  status: RunStatus\n", "", 1);
    assert_ne!(without_status, sdl, "Run.status is in the schema");
    let out = check(&live(without_status).await);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}\n{}", stderr(&out));
    assert!(report.contains("runs.graphql:3:23: breaking"), "{report}");
}

#[test]
fn schema_diff_lists_changes_by_severity_with_an_exit_status() {
    let (_, sdl) = repo_schema();
    let tmp = temp_dir();
    let dir = tmp.path();
    let old = write(dir, "old.graphql", &sdl);
    let same = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(["schema", "diff", &old, &old])
        .output()
        .expect("runs");
    assert_eq!(same.status.code(), Some(0));
    assert!(same.stdout.is_empty());

    let changed = sdl.replacen("  status: RunStatus\n", "", 1).replacen(
        "enum RunStatus {\n",
        "enum RunStatus {\n  PAUSED\n",
        1,
    );
    let new = write(dir, "new.graphql", &changed);
    let out = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(["schema", "diff", &old, &new])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("breaking: Run.status: "), "{lines:?}");
    assert!(
        lines[1].starts_with("dangerous: RunStatus.PAUSED: "),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_then_download_through_a_configured_ion() {
    let e = emulator().await;
    let tmp = temp_dir();
    let dir = tmp.path();
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let file = dir.join("traveler.pdf");
    std::fs::write(&file, &bytes).expect("write");
    let out = ion(&e, &["attach", file.to_str().unwrap(), "--to", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["contentType"], "application/pdf");
    assert_eq!(line["size"], 300_000);
    let id = line["id"].as_i64().expect("id");
    // Storage never saw the token or the secret.
    for r in e.requests() {
        if r.endpoint == ion_emulator::Endpoint::Storage {
            assert!(r.headers.iter().all(|(k, _)| k != "authorization"), "{r:?}");
        }
    }

    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).expect("mkdir");
    let out = ion(
        &e,
        &[
            "download",
            &id.to_string(),
            "999999",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["id"], id);
    assert_eq!(
        std::fs::read(out_dir.join("traveler.pdf")).expect("read"),
        bytes
    );
    let err = stderr(&out);
    assert!(
        err.contains("error: attachment 999999: downloading attachment 999999 failed: there is no attachment 999999"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");

    // Several attachments need a folder.
    let out = ion(&e, &["download", "1", "2", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a folder"), "{}", stderr(&out));
}

/// Holds the second storage request of what follows for two minutes, passing the first.
fn hold_the_second_storage_request(e: &Emulator) {
    use ion_emulator::{Endpoint, Fault};
    // Faults apply to storage requests in the order queued.
    e.faults()
        .inject(Endpoint::Storage, Fault::slow(std::time::Duration::ZERO));
    e.faults().inject(
        Endpoint::Storage,
        Fault::slow(std::time::Duration::from_secs(120)),
    );
}

/// Starts `ion` configured for `emulator` and reads the first line it writes on stdout, as it
/// comes; returns the child (killed when dropped) and the line as JSON.
async fn first_line(emulator: &Emulator, args: &[&str]) -> (tokio::process::Child, Value) {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(args)
        .env_clear()
        .env("ION_API_URL", emulator.api_base())
        .env("ION_TOKEN_URL", emulator.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", SECRET)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the ion binary runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // The bound only keeps a broken build from hanging the test: a line printed at the end
    // would wait for the held request's two minutes.
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the first file's line before the held request ends")
        .expect("stdout reads")
        .expect("a line");
    let line = serde_json::from_str(&line).expect("a JSON line");
    (child, line)
}

/// Each file's line is on stdout as soon as that file is done: with one upload at a time and
/// the second file's upload held in storage for longer than the test waits for anything, the
/// first file's line arrives while the second file's bytes are still not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_prints_each_files_line_as_it_completes() {
    let e = emulator().await;
    let tmp = temp_dir();
    let first = write(tmp.path(), "first.txt", "one\n");
    let second = write(tmp.path(), "second.txt", "two\n");
    let stored_before = e.stored_files().len();
    hold_the_second_storage_request(&e);
    let (mut child, line) =
        first_line(&e, &["attach", &first, &second, "--to", "1", "--jobs", "1"]).await;
    assert_eq!(line["file"], first.as_str(), "{line}");
    assert_eq!(line["size"], 4, "{line}");
    assert_eq!(
        e.stored_files().len(),
        stored_before + 1,
        "the second file is still on its way"
    );
    child.kill().await.expect("kill");
}

/// The same for downloads: the first attachment's line arrives while the second one's bytes
/// are held, its file not yet in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_prints_each_files_line_as_it_completes() {
    let e = emulator().await;
    let tmp = temp_dir();
    let first = write(tmp.path(), "first.txt", "one\n");
    let second = write(tmp.path(), "second.txt", "two, longer\n");
    let out = ion(&e, &["attach", &first, &second, "--to", "1", "--jobs", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON")["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let into = tmp.path().join("into");
    std::fs::create_dir(&into).expect("mkdir");
    hold_the_second_storage_request(&e);
    let (mut child, line) = first_line(
        &e,
        &[
            "download",
            &ids[0],
            &ids[1],
            "-o",
            into.to_str().unwrap(),
            "--jobs",
            "1",
        ],
    )
    .await;
    assert_eq!(line["id"].to_string(), ids[0], "{line}");
    assert_eq!(line["fileName"], "first.txt", "{line}");
    assert!(into.join("first.txt").is_file());
    assert!(
        !into.join("second.txt").exists(),
        "the second file is still on its way"
    );
    child.kill().await.expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_names_the_file_and_the_orphaned_row() {
    let e = emulator().await;
    let tmp = temp_dir();
    let file = write(tmp.path(), "log.txt", "line\n");
    e.faults().inject(
        ion_emulator::Endpoint::Storage,
        ion_emulator::Fault::expired_url(),
    );
    let out = ion(&e, &["attach", &file, "--to", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    let first = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("an error line");
    assert!(
        first.starts_with(&format!("error: {file} (attachment ")),
        "{err}"
    );
    assert!(
        first.contains("is left without its bytes): uploading `log.txt`"),
        "{err}"
    );
    assert!(first.contains("AccessDenied: Request has expired"), "{err}");

    e.faults().inject(
        ion_emulator::Endpoint::Storage,
        ion_emulator::Fault::expired_url(),
    );
    let out = ion(&e, &["attach", &file, "--to", "1", "--delete-on-failure"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let first = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("an error line");
    assert!(
        first.starts_with(&format!("error: {file}: uploading")),
        "nothing orphaned: {err}"
    );
    assert!(first.ends_with("was deleted"), "{err}");
    // Not even a trace-level log line quotes the URL's signature.
    assert!(!err.contains("Signature="), "{err}");
}
