//! `ion export` against a configured emulator: every node once across an interruption and a
//! resume, CSV that reads back as the JSON Lines, only what changed after a watermark, and a
//! smaller page after a gateway's 502.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ion_emulator::{ClientCredentials, Emulator, EmulatorOptions, Endpoint, Fault, Seed};
use serde_json::{Value, json};

use super::{CLIENT_ID, SECRET, ion, stderr, temp_dir, write};

const EXPORT: &str =
    "query ExportRuns($first: Int = 100, $after: String, $updatedSince: DateTime) {
  runs(first: $first, after: $after, sort: [ID_ASC], filters: { _updated: { gt: $updatedSince } }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id title quantity _updated _etag part { id } } }
  }
}";

async fn emulator_with_runs(n: i64) -> Emulator {
    let runs: Vec<Value> = (1..=n)
        .map(|id| json!({ "id": id, "title": format!("export \"{id}\", ok"), "quantity": id % 7 }))
        .collect();
    Emulator::start(
        EmulatorOptions::new()
            .seed(Seed::Json(json!({ "Run": runs })))
            .client(ClientCredentials::new(CLIENT_ID, SECRET)),
    )
    .await
    .unwrap()
}

/// Runs a document against the emulator through the library, as its first client.
async fn gql(e: &Emulator, document: &str) -> Value {
    let config = ion_client::testing::config_builder(e)
        .unwrap()
        .build()
        .unwrap();
    let client = ion_client::Client::new(config).unwrap();
    client
        .execute_raw(ion_client::RawRequest::query(document))
        .await
        .unwrap()
}

/// A process's peak resident set so far (`VmHWM`), in KiB, where `/proc` says (Linux).
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(nodes: &[Value]) -> Vec<i64> {
    nodes.iter().map(|n| n["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_export_resumes_with_no_node_missing_or_repeated() {
    const RUNS: i64 = 100_000;
    let e = emulator_with_runs(RUNS).await;
    let dir = temp_dir();
    let query = write(dir.path(), "export.graphql", EXPORT);
    let out = dir.path().join("runs.jsonl");
    let state = dir.path().join("state.json");
    let (out_arg, state_arg) = (
        out.to_string_lossy().into_owned(),
        state.to_string_lossy().into_owned(),
    );
    let args = [
        "export",
        &query,
        "-o",
        &out_arg,
        "--state",
        &state_arg,
        "--page-size",
        "200",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(args)
        .env_clear()
        .env("ION_API_URL", e.api_base())
        .env("ION_TOKEN_URL", e.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ion runs");
    // Kill it once a few pages are written (waiting on the state file, bounded), noting
    // its peak memory so far.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut early_peak = 0;
    while Instant::now() < deadline {
        early_peak = early_peak.max(peak_kib(child.id()).unwrap_or(0));
        let nodes = std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|s| s["nodes"].as_u64())
            .unwrap_or(0);
        if nodes >= 2_000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("killed");
    let _ = child.wait();
    let before: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(before["complete"], false, "interrupted: {before}");

    let resumed = ion(&e, &args);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let nodes = lines(&out);
    assert_eq!(
        ids(&nodes),
        (1..=RUNS).collect::<Vec<i64>>(),
        "every node once, in order"
    );

    // The CSV of the same export reads back as the JSON Lines; exporting every node takes
    // no more memory than the first pages did (one page in memory).
    let csv_path = dir.path().join("runs.csv");
    let csv_arg = csv_path.to_string_lossy().into_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args([
            "export",
            &query,
            "--format",
            "csv",
            "-o",
            &csv_arg,
            "--page-size",
            "200",
        ])
        .env_clear()
        .env("ION_API_URL", e.api_base())
        .env("ION_TOKEN_URL", e.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ion runs");
    let mut full_peak = 0;
    let status = loop {
        full_peak = full_peak.max(peak_kib(child.id()).unwrap_or(0));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
    eprintln!("peak RSS: {early_peak} KiB after about 2,000 nodes, {full_peak} KiB for {RUNS}");
    if early_peak > 0 {
        assert!(
            full_peak * 4 <= early_peak * 5,
            "memory grew with the export: {early_peak} KiB after 2,000 nodes, {full_peak} KiB \
             after {RUNS}"
        );
    }
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        ["id", "title", "quantity", "_updated", "_etag", "part.id"]
    );
    let mut rows = 0;
    for (record, node) in reader.records().zip(&nodes) {
        let record = record.unwrap();
        for (column, text) in header.iter().zip(record.iter()) {
            let mut value = node;
            for key in column.split('.') {
                value = &value[key];
            }
            let expected = match value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(text, expected, "{column} of {node}");
        }
        rows += 1;
    }
    assert_eq!(rows, RUNS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_export_holds_only_what_changed_and_a_502_asks_for_smaller_pages() {
    let e = emulator_with_runs(50).await;
    let dir = temp_dir();
    let query = write(dir.path(), "export.graphql", EXPORT);
    let out = dir.path().join("runs.jsonl");
    let state = dir.path().join("state.json");
    let (out_arg, state_arg) = (
        out.to_string_lossy().into_owned(),
        state.to_string_lossy().into_owned(),
    );
    let args = [
        "export",
        &query,
        "-o",
        &out_arg,
        "--state",
        &state_arg,
        "--page-size",
        "16",
    ];
    // The gateway fails the first page through all of a query's retries: half the page.
    e.faults()
        .inject(Endpoint::Graphql, Fault::html(502).times(4));
    let first = ion(&e, &args);
    let err = stderr(&first);
    assert!(first.status.success(), "{err}");
    assert!(err.contains("asking for pages of 8 instead"), "{err}");
    assert_eq!(ids(&lines(&out)), (1..=50).collect::<Vec<i64>>());

    // Two runs change; the next export holds exactly them.
    e.advance_clock(Duration::from_secs(5));
    for id in [7, 31] {
        let run = gql(&e, &format!("{{ run(id: {id}) {{ _etag }} }}")).await;
        let etag = run["data"]["run"]["_etag"].as_str().unwrap().to_owned();
        let body = gql(
            &e,
            &format!(
                "mutation {{ updateRun(input: {{ id: {id}, etag: \"{etag}\", title: \"changed {id}\" }}) {{ run {{ id }} }} }}"
            ),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let second = ion(&e, &args);
    assert!(second.status.success(), "{}", stderr(&second));
    let changed = lines(&out);
    assert_eq!(ids(&changed), [7, 31]);
    let titles: BTreeSet<&str> = changed.iter().filter_map(|n| n["title"].as_str()).collect();
    assert_eq!(titles, BTreeSet::from(["changed 31", "changed 7"]));
}
