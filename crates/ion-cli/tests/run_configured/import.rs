//! `ion import` against a configured emulator: every bad row named by row and column, in a dry
//! run and a real one; an import killed midway and resumed from its ledger applies each
//! remaining row once.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ion_emulator::{ClientCredentials, Emulator, EmulatorOptions, RateLimit, Seed};
use serde_json::Value;

use super::{CLIENT_ID, SECRET, ion, stderr, temp_dir, write};

const CREATE_ISSUE: &str = "mutation ImportIssue($input: CreateIssueInput!) {
  createIssue(input: $input) { issue { id title } }
}";

const CREATE_RUN: &str = "mutation ImportRun($title: String!, $quantity: Int) {
  createRun(input: { title: $title, quantity: $quantity }) { run { id } }
}";

/// How many rows of `entity` carry each title.
fn titles(e: &Emulator, entity: &str) -> HashMap<String, u32> {
    let mut seen = HashMap::new();
    for row in e.snapshot()[entity].as_array().into_iter().flatten() {
        if let Some(title) = row["title"].as_str() {
            *seen.entry(title.to_owned()).or_insert(0) += 1;
        }
    }
    seen
}

/// Each row's last ledger line.
fn ledger(path: &std::path::Path) -> HashMap<u64, Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut last = HashMap::new();
    for line in text.lines() {
        if let Ok(entry) = serde_json::from_str::<Value>(line) {
            last.insert(entry["row"].as_u64().unwrap(), entry);
        }
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_are_named_by_row_and_column_in_a_dry_run_and_a_real_one() {
    let e = super::emulator().await;
    let dir = temp_dir();
    let op = write(dir.path(), "issue.graphql", CREATE_ISSUE);
    let csv = write(
        dir.path(),
        "rows.csv",
        "input.title,input.status,input.issueDispositionTypeId,input.partInventoryIds\n\
         good one,PENDING,3,\"[1, 2]\"\n\
         wrong type,PENDING,three,\n\
         bad enum,OPEN,,\n\
         \"good, two\",,,[4]\n",
    );
    let unknown = write(dir.path(), "unknown.csv", "input.title,colour\nx,red\n");
    let jsonl = write(
        dir.path(),
        "rows.jsonl",
        "{\"input\": {\"title\": \"j\", \"status\": \"RESOLVED\"}}\n{\"other\": 1}\n",
    );
    let before = e.counters().mutations;

    let out = ion(&e, &["import", &op, "--rows", &csv, "--dry-run"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "rows.csv:3: row 2: column `input.issueDispositionTypeId`: expected a 32-bit integer \
             for Int, found `three`"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "rows.csv:4: row 3: column `input.status`: expected one of PENDING, IN_PROGRESS, \
             IN_REVIEW, RESOLVED for Issuestatusenum, found `OPEN`"
        ),
        "{err}"
    );
    assert!(
        err.contains("4 row(s) checked: 2 good, 2 bad; nothing sent"),
        "{err}"
    );
    let out = ion(&e, &["import", &op, "--rows", &unknown, "--dry-run"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains(
            "unknown.csv:2: row 1: column `colour`: unknown column: the operation has no \
             variable $colour (it declares $input)"
        ),
        "{err}"
    );
    let out = ion(&e, &["import", &op, "--rows", &jsonl, "--dry-run"]);
    let err = stderr(&out);
    assert!(
        err.contains("rows.jsonl:2: row 2: column `input`: missing required column ($input: CreateIssueInput!)"),
        "{err}"
    );
    assert_eq!(e.counters().mutations, before, "a dry run sends nothing");

    // The real run sends the good rows, names the bad ones, and records both.
    let ledger_path = dir.path().join("ledger.jsonl");
    let ledger_arg = ledger_path.to_string_lossy().into_owned();
    let out = ion(
        &e,
        &["import", &op, "--rows", &csv, "--ledger", &ledger_arg],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("rows.csv:4: row 3: column `input.status`"),
        "{err}"
    );
    assert!(err.contains("2 ok, 2 error, 0 unknown, 0 skipped"), "{err}");
    assert_eq!(e.counters().mutations, before + 2);
    let last = ledger(&ledger_path);
    assert_eq!(last[&1]["outcome"], "ok");
    assert!(last[&1]["ids"][0].is_i64(), "{:?}", last[&1]);
    assert_eq!(last[&2]["outcome"], "error");
    assert!(
        last[&2]["error"]
            .as_str()
            .unwrap()
            .contains("input.issueDispositionTypeId")
    );
    assert_eq!(last[&4]["outcome"], "ok");
    // An unknown column and a missing required one are named in a real run too, and
    // nothing of those rows is sent.
    let before = e.counters().mutations;
    for (rows, named) in [
        (
            &unknown,
            "unknown.csv:2: row 1: column `colour`: unknown column",
        ),
        (
            &jsonl,
            "rows.jsonl:2: row 2: column `input`: missing required column",
        ),
    ] {
        let out = ion(&e, &["import", &op, "--rows", rows]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(named), "{err}");
    }
    assert_eq!(
        e.counters().mutations,
        before + 1,
        "only the good JSON line"
    );
    let issues = titles(&e, "Issue");
    assert_eq!(
        (issues.get("good one"), issues.get("good, two")),
        (Some(&1), Some(&1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_midway_and_resumed_from_its_ledger_applies_each_row_once() {
    const ROWS: usize = 300;
    let e = Emulator::start(
        EmulatorOptions::new()
            .seed(Seed::Empty)
            .client(ClientCredentials::new(CLIENT_ID, SECRET))
            .rate_limit(RateLimit::new(100.0, 10)),
    )
    .await
    .unwrap();
    let dir = temp_dir();
    let op = write(dir.path(), "run.graphql", CREATE_RUN);
    let mut csv = String::from("title,quantity\n");
    for i in 0..ROWS {
        csv.push_str(&format!("killed-{i},{i}\n"));
    }
    let rows = write(dir.path(), "rows.csv", &csv);
    let ledger_path = dir.path().join("ledger.jsonl");
    let ledger_arg = ledger_path.to_string_lossy().into_owned();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ion"))
        .args(["import", &op, "--rows", &rows, "--ledger", &ledger_arg])
        .env_clear()
        .env("ION_API_URL", e.api_base())
        .env("ION_TOKEN_URL", e.token_url())
        .env("ION_CLIENT_ID", CLIENT_ID)
        .env("ION_CLIENT_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ion runs");
    // Kill it once a few dozen rows are done (waiting on the ledger, bounded).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = ledger(&ledger_path)
            .values()
            .filter(|v| v["outcome"] == "ok")
            .count();
        if ok >= 40 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("killed");
    let _ = child.wait();
    let first = ledger(&ledger_path);
    assert!(
        first.len() < ROWS,
        "killed midway: {} rows in the ledger",
        first.len()
    );
    let in_flight: Vec<u64> = first
        .iter()
        .filter(|(_, v)| v["outcome"] == "sent")
        .map(|(row, _)| *row)
        .collect();

    let out = ion(
        &e,
        &["import", &op, "--rows", &rows, "--resume", &ledger_arg],
    );
    let err = stderr(&out);
    let expected = if in_flight.is_empty() { 0 } else { 2 };
    assert_eq!(out.status.code(), Some(expected), "{err}");
    let done = first.values().filter(|v| v["outcome"] == "ok").count();
    assert!(
        err.contains(&format!("{done} skipped (ok in the ledger)")),
        "{err}"
    );

    let last = ledger(&ledger_path);
    let runs = titles(&e, "Run");
    for i in 0..ROWS {
        let row = i as u64 + 1;
        let ran = runs.get(&format!("killed-{i}")).copied().unwrap_or(0);
        let outcome = last[&row]["outcome"].as_str().unwrap();
        assert!(ran <= 1, "row {row} applied {ran} times");
        if in_flight.contains(&row) {
            // In flight at the kill: unknown, left for a person to check.
            assert_eq!(outcome, "sent", "row {row}");
        } else {
            assert_eq!((outcome, ran), ("ok", 1), "row {row}");
        }
    }
}
