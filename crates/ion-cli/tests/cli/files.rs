//! Every file `ion` reads goes through ion-client-build's reader: a FIFO is refused without
//! waiting for a writer, a device is never read, a file over the cap is refused with its size,
//! and a link met while searching a folder is refused by name, its target never quoted.
//!
//! Each run is killed after a minute: a blocking open would otherwise hang the test forever.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// `ion` with no configuration, run in `dir`, bounded in time.
fn ion_in(dir: &Path, args: &[&str]) -> Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_ion"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("ion {args:?} blocked"))
            .expect("the ion binary runs")
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit status 1, `want` on stderr, and nothing sent (the embedded emulator never started).
#[track_caller]
fn refused(out: &Output, want: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(want), "expected {want:?} in:\n{err}");
    assert!(
        !err.contains("embedded ION emulator"),
        "nothing is sent:\n{err}"
    );
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
}

/// A folder with a FIFO (`pipe.graphql`, `pipe.json`), a link to `/dev/zero`
/// (`zero.graphql`), a file one byte over the cap (`big.graphql`, sparse) and a valid query
/// (`q.graphql`).
fn hostile_files() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    mkfifo(&dir.join("pipe.graphql"));
    mkfifo(&dir.join("pipe.json"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.graphql")).expect("link");
    let big = std::fs::File::create(dir.join("big.graphql")).expect("create");
    big.set_len(ion_client_build::files::MAX_SOURCE_BYTES + 1)
        .expect("sparse file");
    std::fs::write(dir.join("q.graphql"), "query Q { me { id } }\n").expect("write");
    tmp
}

#[test]
fn run_refuses_fifos_devices_and_oversized_files() {
    let tmp = hostile_files();
    let dir = tmp.path();
    refused(
        &ion_in(dir, &["run", "pipe.graphql"]),
        "error: pipe.graphql is a named pipe, not a regular file",
    );
    refused(
        &ion_in(dir, &["run", "zero.graphql"]),
        "error: zero.graphql is a device, not a regular file",
    );
    refused(
        &ion_in(dir, &["run", "big.graphql"]),
        "error: big.graphql is 16777217 bytes, larger than the cap of 16777216 bytes",
    );
    // The same folder's links and FIFOs are neighbours of `q.graphql` too: the `--variables`
    // file is what stops it.
    refused(
        &ion_in(dir, &["run", "q.graphql", "--variables", "@pipe.json"]),
        "error: pipe.json is a named pipe, not a regular file",
    );
}

#[test]
fn schema_commands_refuse_fifos_devices_and_links() {
    let tmp = hostile_files();
    let dir = tmp.path();
    refused(
        &ion_in(dir, &["schema", "check", "pipe.graphql"]),
        "pipe.graphql is a named pipe, not a regular file",
    );
    // Searching the folder: the link is refused by name before the FIFO is reached.
    refused(
        &ion_in(dir, &["schema", "check", "."]),
        "zero.graphql is a symbolic link",
    );
    refused(
        &ion_in(
            dir,
            &["schema", "check", "q.graphql", "--schema", "pipe.graphql"],
        ),
        "cannot read the schema: pipe.graphql is a named pipe, not a regular file",
    );
    refused(
        &ion_in(
            dir,
            &["schema", "check", "q.graphql", "--schema", "zero.graphql"],
        ),
        "cannot read the schema: zero.graphql is a device, not a regular file",
    );
    refused(
        &ion_in(dir, &["schema", "diff", "q.graphql", "big.graphql"]),
        "big.graphql is 16777217 bytes, larger than the cap of 16777216 bytes",
    );
    refused(
        &ion_in(dir, &["schema", "check", "--live", "pipe.graphql"]),
        "pipe.graphql is a named pipe, not a regular file",
    );
}

#[test]
fn the_emulator_refuses_fifo_and_device_inputs() {
    let tmp = hostile_files();
    let dir = tmp.path();
    for (args, want) in [
        (
            ["emulator", "--seed", "pipe.json"],
            "pipe.json is a named pipe, not a regular file",
        ),
        (
            ["emulator", "--seed", "zero.graphql"],
            "zero.graphql is a device, not a regular file",
        ),
        (
            ["emulator", "--schema", "pipe.graphql"],
            "pipe.graphql is a named pipe, not a regular file",
        ),
    ] {
        let out = ion_in(dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn new_query_never_writes_through_a_link_or_into_a_fifo() {
    let tmp = hostile_files();
    let dir = tmp.path();
    let out = ion_in(dir, &["new-query", "Pipe", "--dir", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pipe.graphql already exists"),
        "{}",
        stderr(&out)
    );
    let outside = tempfile::tempdir().expect("temp dir");
    let target: PathBuf = outside.path().join("planted.graphql");
    std::os::unix::fs::symlink(&target, dir.join("planted.graphql")).expect("link");
    let out = ion_in(dir, &["new-query", "Planted", "--dir", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("planted.graphql already exists"),
        "{}",
        stderr(&out)
    );
    assert!(!target.exists(), "nothing was written through the link");
}

/// Neighbours of the file `ion run` sends matter only for the fragments it uses: a sibling
/// that does not parse, a FIFO, a link to a file outside the folder (never read, never
/// quoted) or to `/dev/zero` is left out, and named only when a fragment is found nowhere else.
#[test]
fn run_leaves_out_neighbours_it_cannot_use() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        outside.path().join("private.graphql"),
        "fragment Row on Run { PRIVATE-TEXT-OUTSIDE",
    )
    .expect("write");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("fragments")).expect("mkdir");
    std::fs::write(
        dir.join("x.graphql"),
        "query X { runs(first: 2) { edges { node { ...Row } } } }\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("fragments/rows.graphql"),
        "fragment Row on Run { id title }\n",
    )
    .expect("write");
    std::fs::write(dir.join("broken.graphql"), "query Broken { runs {\n").expect("write");
    mkfifo(&dir.join("pipe.graphql"));
    std::os::unix::fs::symlink(
        outside.path().join("private.graphql"),
        dir.join("linked.graphql"),
    )
    .expect("link");
    std::os::unix::fs::symlink("/dev/zero", dir.join("fragments/zero.graphql")).expect("link");

    let out = ion_in(dir, &["run", "x.graphql"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let body: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(body["data"]["runs"]["edges"][0]["node"]["title"].is_string());
    assert!(!err.contains("broken.graphql"), "{err}");

    std::fs::write(
        dir.join("y.graphql"),
        "query Y { runs(first: 2) { edges { node { ...Missing } } } }\n",
    )
    .expect("write");
    let out = ion_in(dir, &["run", "y.graphql"]);
    refused(
        &out,
        "y.graphql uses `Missing`, defined in no file beside it that could be read; these were left out:",
    );
    let err = stderr(&out);
    for left_out in [
        "broken.graphql:1:23: error: syntax error",
        "pipe.graphql is a named pipe, not a regular file",
        "linked.graphql is a symbolic link",
        "zero.graphql is a symbolic link",
    ] {
        assert!(err.contains(left_out), "{left_out} missing from:\n{err}");
    }
    assert!(!err.contains("PRIVATE-TEXT-OUTSIDE"), "{err}");
}

/// A fragment that spreads itself is invalid; sent with `--no-validate`, `ion` still reads it
/// (to find the fragments and, for `--all-pages`, the connection) without overflowing its
/// stack, and the server's refusal is the answer.
#[test]
fn self_spreading_fragments_do_not_overflow_the_stack() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("self.graphql"),
        "query S($after: String) { runs(after: $after, first: 2) { ...C } }\n\
         fragment C on RunsConnection { ...C pageInfo { hasNextPage endCursor } edges { node { id } } }\n",
    )
    .expect("write");
    let out = ion_in(dir, &["run", "self.graphql", "--no-validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: GraphQL: "),
        "{}",
        stderr(&out)
    );

    let out = ion_in(
        dir,
        &["run", "self.graphql", "--no-validate", "--all-pages"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("GraphQL errors on page 1"),
        "{}",
        stderr(&out)
    );

    // Unvalidated, --all-pages still applies the whole pagination rule before sending.
    std::fs::write(
        dir.join("half.graphql"),
        "query H($after: String) { runs(after: $after) { ...E } }\n\
         fragment E on RunsConnection { ...E edges { node { id } } }\n",
    )
    .expect("write");
    refused(
        &ion_in(
            dir,
            &["run", "half.graphql", "--no-validate", "--all-pages"],
        ),
        "in H, the connection selects no `pageInfo`",
    );
}
