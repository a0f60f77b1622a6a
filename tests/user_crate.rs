//! End to end: an application crate outside this workspace uses ion-client the way a user's
//! crate would — `ion-client-build` in its `build.rs`, its own `queries/*.graphql`,
//! `ion_client::include_operations!()` and the generated `Operations` trait — and runs its typed
//! functions against an emulator this test starts, configured through `ION_*` as a deployment
//! is. Its dependencies are the README's lines in published form (version + path), and it has
//! its own `get_runs.graphql` (other fields than the starter one, which is enabled too): its own
//! wins, and importing both traits fails the build loudly instead of picking one.
//!
//! The crate is copied from `tests/user_crate/app/` into `<target>/tmp/user-crate-e2e/app`; its
//! empty `[workspace]` table keeps cargo from treating it as part of ours. It builds into
//! `<target>/e2e`, so the dependencies compile once and are reused by later runs, and it starts
//! from a copy of our `Cargo.lock`, so cargo resolves nothing new. Build times are printed
//! (`cargo test --test user_crate -- --nocapture`) because they are what a user waits for.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ion_client::testing::emulator::{Emulator, EmulatorOptions, Seed};

/// The ion-client repository (this package's root).
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// What the app prints against the demo seed: three pages of two runs, then both revisions
/// of part TA-100.
const EXPECTED_OUTPUT: &str = "\
own get_runs 1 Some(Complete)
own get_runs 2 Some(InProgress)
own get_runs 3 Some(Todo)
pages 3
run 1 TA-100 build SN-0001 Some(Complete)
run 2 TA-100 build SN-0002 Some(InProgress)
run 3 TA-100 build SN-0003 Some(Todo)
run 4 Valve leak test VB-1042 Some(Failed)
run 5 Valve leak test VB-1043 Some(Complete)
run 6 Torque wrench calibration TQ-7 Some(Hold)
part 1 TA-100 A Thruster assembly
part 2 TA-100 B Thruster assembly
";

/// A query selecting a field `Run` does not have; the typo is at line 5, column 9.
const BROKEN_QUERY: &str = "\
query BrokenRuns {
  runs {
    edges {
      node {
        serialNumbr
      }
    }
  }
}
";

/// A root field that exists only in the app's own copy of the schema.
const SCHEMA_EXTENSION: &str = "
extend type Query {
  \"Only in this application's copy of the schema.\"
  appBuildInfo: String
}
";

/// A query using [`SCHEMA_EXTENSION`]; `appBuildInfo` is at line 1, column 22.
const EXTENSION_QUERY: &str = "query AppBuildInfo { appBuildInfo }\n";

/// The build script once the app keeps its own schema: the one-line switch.
const BUILD_RS_OWN_SCHEMA: &str = "\
fn main() {
    ion_client_build::Builder::new()
        .schema(\"schema/ion.graphql\")
        .run_or_exit();
}
";

/// The app's `main.rs` with ion-client's starter trait imported beside its own.
fn with_both_traits(main: String) -> String {
    main.replace(
        "use ion::Operations;",
        "use ion::Operations;\nuse ion_client::operations::StarterOperations;",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_crate_builds_its_own_queries_and_runs_them_against_the_emulator() {
    let emulator = Emulator::start(EmulatorOptions::new().seed(Seed::Demo))
        .await
        .expect("the emulator starts");
    let mut app = App::create();
    app.env = vec![
        ("ION_API_URL".into(), emulator.api_base()),
        ("ION_TOKEN_URL".into(), emulator.token_url()),
        ("ION_CLIENT_ID".into(), emulator.client_id().into()),
        ("ION_CLIENT_SECRET".into(), emulator.client_secret().into()),
    ];

    let (first, took) = app.cargo(&["build"]);
    assert_success(&first, "first build of the app");
    eprintln!(
        "user crate: first build {took:.1?} ({})",
        if app.target_was_warm {
            "dependencies already in target/e2e"
        } else {
            "cold: dependencies compiled too"
        }
    );
    let (run, _) = app.cargo(&["run", "--quiet"]);
    assert_success(&run, "cargo run");
    assert_eq!(String::from_utf8_lossy(&run.stdout), EXPECTED_OUTPUT);

    // With both `get_runs` traits in scope the call is ambiguous: a loud error, never a guess.
    let main = read(&app.dir.join("src/main.rs"));
    app.write("src/main.rs", &with_both_traits(main.clone()));
    let (ambiguous, _) = app.cargo(&["build"]);
    assert_failure_names(
        &ambiguous,
        &["multiple applicable items in scope", "get_runs"],
    );
    app.write("src/main.rs", &main);

    // Editing a query reruns the build script and recompiles only the app.
    app.edit("queries/fragments/rows.graphql", |text| {
        text.replace("  status\n", "  status\n  percentComplete\n")
    });
    let (incremental, took) = app.cargo(&["build"]);
    assert_success(&incremental, "build after editing a fragment");
    eprintln!("user crate: incremental build after editing a query {took:.1?}");

    // A broken query fails the app's build, located in the app's own file.
    app.write("queries/broken_runs.graphql", BROKEN_QUERY);
    let (broken, _) = app.cargo(&["build"]);
    assert_failure_names(
        &broken,
        &["queries/broken_runs.graphql:5:9", "serialNumbr", "Run"],
    );
    app.remove("queries/broken_runs.graphql");

    // With the shipped schema, a field only the app's schema has is an error ...
    app.write(
        "schema/ion.graphql",
        &(read(&Path::new(REPO).join("schema/ion.graphql")) + SCHEMA_EXTENSION),
    );
    app.write("queries/app_build_info.graphql", EXTENSION_QUERY);
    let (shipped, _) = app.cargo(&["build"]);
    assert_failure_names(
        &shipped,
        &["queries/app_build_info.graphql:1:22", "appBuildInfo"],
    );
    // ... and one line in build.rs switches to the app's own schema, which has it.
    app.write("build.rs", BUILD_RS_OWN_SCHEMA);
    let (own, took) = app.cargo(&["run", "--quiet"]);
    assert_success(&own, "cargo run with the app's own schema");
    assert_eq!(String::from_utf8_lossy(&own.stdout), EXPECTED_OUTPUT);
    eprintln!("user crate: build and run after switching to its own schema {took:.1?}");
}

/// The throwaway application crate.
struct App {
    dir: PathBuf,
    target: PathBuf,
    /// Whether `target/e2e` already held a build when the test started (for the timings).
    target_was_warm: bool,
    /// Environment for the app's runs: the `ION_*` variables of the emulator.
    env: Vec<(String, String)>,
}

impl App {
    /// Copies the fixture into a fresh directory and points its dependencies at this repository.
    fn create() -> App {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = tmp.join("user-crate-e2e").join("app");
        let target = tmp
            .parent()
            .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
            .join("e2e");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove the previous app");
        }
        let fixture = Path::new(REPO).join("tests/user_crate/app");
        copy_dir(&fixture, &dir);
        let manifest =
            read(&dir.join("Cargo.toml.template")).replace("@REPO@", &REPO.replace('\\', "/"));
        std::fs::remove_file(dir.join("Cargo.toml.template")).expect("remove the template");
        let app = App {
            target_was_warm: target.join("debug").exists(),
            dir,
            target,
            env: Vec::new(),
        };
        app.write("Cargo.toml", &manifest);
        app.write("Cargo.lock", &read(&Path::new(REPO).join("Cargo.lock")));
        app
    }

    /// Runs cargo in the app and returns its output and how long it took.
    fn cargo(&self, args: &[&str]) -> (Output, Duration) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let started = Instant::now();
        let output = Command::new(cargo)
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("cargo runs");
        (output, started.elapsed())
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the directory");
        }
        std::fs::write(&path, text).expect("write the app file");
    }

    fn edit(&self, relative: &str, change: impl FnOnce(String) -> String) {
        let text = read(&self.dir.join(relative));
        let changed = change(text.clone());
        assert_ne!(changed, text, "the edit of {relative} changed nothing");
        self.write(relative, &changed);
    }

    fn remove(&self, relative: &str) {
        std::fs::remove_file(self.dir.join(relative)).expect("remove the app file");
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the app directory");
    for entry in std::fs::read_dir(from).expect("read the fixture") {
        let entry = entry.expect("fixture entry");
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy a fixture file");
        }
    }
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The build failed and its stderr names every one of `needles`.
fn assert_failure_names(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the build should have failed\n{stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr does not name `{needle}`\n{stderr}"
        );
    }
}
