//! Whole processes against an emulator in another process.
//!
//! `cargo bench -p ion-benches --bench processes` measures and prints Markdown
//! tables (`benches/regenerate.sh` puts them into `BENCHMARKS.md`). Under
//! `cargo test --benches` (no `--bench` argument) every case runs once on small data and only
//! the answers are checked: nothing here ever asserts a timing or a size.
//!
//! - **Pagination memory.** Peak RSS of a process that streams `list_runs_nodes` over 1,000
//!   and over 100,000 runs, and of `ion run --all-pages` over the same, with the emulator in a
//!   process of its own (so its rows are not counted). Each measured process is the only child
//!   of a small wrapper (this binary with `--rss`), which reads
//!   `getrusage(RUSAGE_CHILDREN)` after waiting for it: the child's peak resident set.
//! - **The Python `requests` way of ION's quickstart.** `ion run queries/get_runs.graphql`
//!   beside `benches/python_requests/get_runs.py` (token, then one POST, with `requests`), as whole
//!   processes taking turns, min/median/max of wall time.
//! - **Attaching a file.** `ion attach FILE --to 1` beside `benches/python_requests/attach_file.py`
//!   (token, `createFileAttachment`, a streamed `PUT` to the pre-signed URL, with `requests`),
//!   the same way.
//!
//! The `ion` binary and the Python interpreter come from the environment: `ION_BENCH_ION` (a
//! release `ion`) and `ION_BENCH_PYTHON` (a Python with `requests`); `regenerate.sh` builds and
//! installs both. A part whose program is not given is skipped with the reason in its table.
//!
//! This binary plays every role, chosen by its first argument: `--serve SEED` (the emulator),
//! `--rss PROGRAM ARGS...` (the measuring wrapper), `--nodes N PAGE` (the typed stream), and
//! otherwise the driver.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How much to measure: `cargo bench` runs [`Plan::FULL`], `cargo test --benches` [`Plan::QUICK`].
struct Plan {
    /// Run counts of the pagination table, smallest first (the ratio is last over first).
    nodes: [usize; 2],
    /// Peak RSS is measured this many times per cell; the median is reported.
    memory_repeats: usize,
    /// Whole-process runs of each contender in the Python `requests` tables.
    process_runs: usize,
    /// The size of the file `ion attach` and the Python script attach, in MiB.
    attach_mib: usize,
}

impl Plan {
    const FULL: Plan = Plan {
        nodes: [1_000, 100_000],
        memory_repeats: 3,
        process_runs: 20,
        attach_mib: 64,
    };
    const QUICK: Plan = Plan {
        nodes: [100, 300],
        memory_repeats: 1,
        process_runs: 2,
        attach_mib: 1,
    };
}

/// The repository root: this package is its `benches/`.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Nodes per page for both the typed stream and `ion run --all-pages` (ION's usual page).
const PAGE_SIZE: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--serve") => serve(Path::new(&args[2])),
        Some("--rss") => rss(&args[2..]),
        Some("--nodes") => nodes(args[2].parse().unwrap(), args[3].parse().unwrap()),
        _ => {
            let plan = if args.iter().any(|a| a == "--bench") {
                Plan::FULL
            } else {
                Plan::QUICK
            };
            let programs = Programs::from_env();
            let mut out = String::new();
            pagination_memory(&plan, &programs, &mut out);
            python_requests(&plan, &programs, &mut out);
            attach_beside_python(&plan, &programs, &mut out);
            print!("{out}");
        }
    }
}

/// The programs that are not this binary.
struct Programs {
    ion: Result<PathBuf, String>,
    python: Result<PathBuf, String>,
}

impl Programs {
    fn from_env() -> Programs {
        let program = |var: &str, what: &str| match std::env::var_os(var) {
            Some(p) if Path::new(&p).is_file() => Ok(PathBuf::from(p)),
            Some(p) => Err(format!(
                "`{var}` names `{}`, which is not a file",
                Path::new(&p).display()
            )),
            None => Err(format!(
                "not measured in this run: `{var}` (the path of {what}) was not set; \
                 `bash benches/regenerate.sh` sets it"
            )),
        };
        Programs {
            ion: program("ION_BENCH_ION", "a release `ion` binary"),
            python: program("ION_BENCH_PYTHON", "a Python with `requests`"),
        }
    }

    /// Both programs, or why one is missing.
    fn ion_and_python(&self) -> Result<(&PathBuf, &PathBuf), &str> {
        match (&self.ion, &self.python) {
            (Ok(ion), Ok(python)) => Ok((ion, python)),
            (Err(reason), _) | (_, Err(reason)) => Err(reason),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The roles.

/// `--serve SEED`: an emulator with the seed file, its connection details as one JSON line on
/// stdout, until stdin closes (the driver holds the other end, so it never outlives it).
fn serve(seed: &Path) {
    use ion_client::testing::emulator::{Emulator, EmulatorOptions, Seed};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = EmulatorOptions::new().seed(Seed::File(seed.to_path_buf()));
        let emulator = Emulator::start(options).await.expect("emulator starts");
        let details = json!({
            "api": emulator.api_base(),
            "token": emulator.token_url(),
            "id": emulator.client_id(),
            "secret": emulator.client_secret(),
        });
        println!("{details}");
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .unwrap();
        emulator.shutdown().await;
    });
}

/// `--rss PROGRAM ARGS...`: runs the program as this process's only child, counts the lines
/// it writes on stdout (keeping the last), and prints `{"max_rss_kib", "lines", "last",
/// "seconds"}`. Exits non-zero if the child did.
fn rss(command: &[String]) {
    let started = Instant::now();
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the measured program starts");
    let mut lines = 0usize;
    let mut last = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        lines += 1;
        std::mem::swap(&mut last, &mut line);
        line.clear();
    }
    let status = child.wait().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "max_rss_kib": children_max_rss_kib(),
            "lines": lines,
            "last": last.trim_end(),
            "seconds": seconds,
        })
    );
    if !status.success() {
        eprintln!("{} exited with {status}", command[0]);
        std::process::exit(1);
    }
}

/// The peak RSS of this process's largest waited-for child, in KiB (Linux's unit for
/// `ru_maxrss`; macOS reports bytes, so there the table would read 1024× too high).
#[cfg(unix)]
fn children_max_rss_kib() -> i64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage")
        .max_rss()
}

/// Not measured off Unix (the table then shows 0).
#[cfg(not(unix))]
fn children_max_rss_kib() -> i64 {
    0
}

/// `--nodes N PAGE`: every run through the typed `list_runs_nodes` stream, `PAGE` per page,
/// configured from `ION_*` like any application; prints `nodes N`.
fn nodes(expected: usize, page: i64) {
    use futures_util::StreamExt as _;
    use ion_client::operations::{StarterOperations as _, list_runs};
    use ion_client::{Client, Config, Nullable};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = runtime.block_on(async {
        let client = Client::new(Config::from_env().unwrap()).unwrap();
        let mut runs = std::pin::pin!(client.list_runs_nodes(list_runs::Variables {
            first: Nullable::Value(page),
            ..Default::default()
        }));
        let mut count = 0usize;
        let mut last_id = None;
        while let Some(run) = runs.next().await {
            let run = run.unwrap();
            // Look at every node, as an application would, so none is optimised away.
            last_id = Some(run.id);
            count += 1;
        }
        assert!(last_id.is_some() || expected == 0);
        count
    });
    assert_eq!(count, expected, "runs streamed");
    println!("nodes {count}");
}

// ---------------------------------------------------------------------------------------------
// The driver.

/// An emulator in a child process; dropping it closes the child's stdin, which stops it.
struct EmulatorProcess {
    child: Child,
    api: String,
    token: String,
    id: String,
    secret: String,
}

impl EmulatorProcess {
    /// An emulator with the demo factory as it ships, its seed written into `dir`.
    fn demo(dir: &Path) -> EmulatorProcess {
        let seed = dir.join("demo.json");
        std::fs::write(
            &seed,
            include_str!("../../crates/ion-emulator/src/seeds/demo.json"),
        )
        .unwrap();
        EmulatorProcess::start(&seed)
    }

    fn start(seed: &Path) -> EmulatorProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .arg(seed)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the emulator process starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let details: Value = serde_json::from_str(&line).expect("the emulator's details");
        let field = |k: &str| details[k].as_str().unwrap().to_owned();
        EmulatorProcess {
            api: field("api"),
            token: field("token"),
            id: field("id"),
            secret: field("secret"),
            child,
        }
    }

    /// `ION_*` for a process talking to this emulator.
    fn configure(&self, command: &mut Command) {
        for var in ion_client::config::ENV_VARIABLES {
            command.env_remove(var);
        }
        command
            .env("ION_API_URL", &self.api)
            .env("ION_TOKEN_URL", &self.token)
            .env("ION_CLIENT_ID", &self.id)
            .env("ION_CLIENT_SECRET", &self.secret);
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A seed file: the demo factory with its runs replaced by `runs` runs cycling through the
/// demo's own, so every row is one the emulator already serves.
fn write_seed(dir: &Path, runs: usize) -> PathBuf {
    let mut seed: Value = serde_json::from_str(include_str!(
        "../../crates/ion-emulator/src/seeds/demo.json"
    ))
    .unwrap();
    let demo = seed["Run"].as_array().unwrap().clone();
    let generated: Vec<Value> = (0..runs)
        .map(|i| {
            let mut run = demo[i % demo.len()].clone();
            run["id"] = json!(i + 1);
            run["title"] = json!(format!("bench run {}", i + 1));
            run
        })
        .collect();
    seed["Run"] = Value::Array(generated);
    let path = dir.join(format!("runs-{runs}.json"));
    std::fs::write(&path, serde_json::to_vec(&seed).unwrap()).unwrap();
    path
}

/// One measured process through the `--rss` wrapper: (peak RSS in KiB, stdout lines, last
/// line, wall seconds).
fn measure(emulator: &EmulatorProcess, program: &[&std::ffi::OsStr]) -> (u64, usize, String, f64) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.arg("--rss").args(program);
    emulator.configure(&mut command);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?} failed: {}",
        program,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    (
        report["max_rss_kib"].as_u64().unwrap(),
        report["lines"].as_u64().unwrap() as usize,
        report["last"].as_str().unwrap().to_owned(),
        report["seconds"].as_f64().unwrap(),
    )
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

/// `100000` as `100,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn pagination_memory(plan: &Plan, programs: &Programs, out: &mut String) {
    let dir = tempfile::tempdir().unwrap();
    let this = std::env::current_exe().unwrap();
    let page = PAGE_SIZE.to_string();
    let all_pages_variables = json!({ "first": PAGE_SIZE }).to_string();
    let list_runs = repository().join("queries/list_runs.graphql");
    // (label, peak RSS per node count, wall seconds per node count)
    let mut rows: Vec<(&str, Vec<u64>, Vec<f64>)> = Vec::new();
    let mut typed = (Vec::new(), Vec::new());
    let mut cli = (Vec::new(), Vec::new());
    let mut export = (Vec::new(), Vec::new());
    for &n in &plan.nodes {
        eprintln!("pagination memory: {n} runs");
        let emulator = EmulatorProcess::start(&write_seed(dir.path(), n));
        let n_arg = n.to_string();
        let (mut typed_rss, mut typed_secs, mut cli_rss, mut cli_secs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut export_rss, mut export_secs) = (Vec::new(), Vec::new());
        for _ in 0..plan.memory_repeats {
            let (kib, _, last, secs) = measure(
                &emulator,
                &[
                    this.as_os_str(),
                    "--nodes".as_ref(),
                    n_arg.as_ref(),
                    page.as_ref(),
                ],
            );
            assert_eq!(last, format!("nodes {n}"));
            typed_rss.push(kib);
            typed_secs.push(secs);
            if let Ok(ion) = &programs.ion {
                let (kib, lines, _, secs) = measure(
                    &emulator,
                    &[
                        ion.as_os_str(),
                        "run".as_ref(),
                        list_runs.as_os_str(),
                        "--all-pages".as_ref(),
                        "--variables".as_ref(),
                        all_pages_variables.as_ref(),
                    ],
                );
                assert_eq!(lines, n, "ion run --all-pages printed one line per run");
                cli_rss.push(kib);
                cli_secs.push(secs);
                let (kib, lines, _, secs) = measure(
                    &emulator,
                    &[
                        ion.as_os_str(),
                        "export".as_ref(),
                        list_runs.as_os_str(),
                        "--page-size".as_ref(),
                        page.as_ref(),
                    ],
                );
                assert_eq!(lines, n, "ion export wrote one line per run");
                export_rss.push(kib);
                export_secs.push(secs);
            }
        }
        typed.0.push(median(typed_rss));
        typed.1.push(median(typed_secs));
        if programs.ion.is_ok() {
            cli.0.push(median(cli_rss));
            cli.1.push(median(cli_secs));
            export.0.push(median(export_rss));
            export.1.push(median(export_secs));
        }
    }
    rows.push(("typed `client.list_runs_nodes(..)`", typed.0, typed.1));
    if programs.ion.is_ok() {
        rows.push((
            "`ion run queries/list_runs.graphql --all-pages`",
            cli.0,
            cli.1,
        ));
        rows.push((
            "`ion export queries/list_runs.graphql --page-size 100`",
            export.0,
            export.1,
        ));
    }

    let [small, large] = plan.nodes.map(thousands);
    writeln!(out, "## Pagination memory\n").unwrap();
    writeln!(
        out,
        "Peak resident set of a whole process that follows every page of `ListRuns` ({PAGE_SIZE} \
         runs a page) from an emulator running in another process, seeded with the demo factory's \
         runs repeated. Peak RSS is `getrusage(RUSAGE_CHILDREN)` of a wrapper whose only child \
         is the measured process; the median of {} run(s) is shown, with its wall time (the \
         emulator answers a page in id order from where the previous page ended, so a page \
         costs the page, not the table). Goal: the ratio stays ≤ 1.2 (one page in memory).\n",
        plan.memory_repeats
    )
    .unwrap();
    writeln!(
        out,
        "| process | {small} runs | {large} runs | ratio {large}/{small} (goal ≤ 1.2) |"
    )
    .unwrap();
    writeln!(out, "|---|---:|---:|---:|").unwrap();
    for (label, kib, secs) in &rows {
        writeln!(
            out,
            "| {label} | {} ({:.2} s) | {} ({:.2} s) | {:.2} |",
            mib(kib[0]),
            secs[0],
            mib(kib[1]),
            secs[1],
            kib[1] as f64 / kib[0] as f64
        )
        .unwrap();
    }
    if let Err(reason) = &programs.ion {
        writeln!(out, "\n`ion run --all-pages`: {reason}.").unwrap();
    }
    writeln!(out).unwrap();
}

fn python_requests(plan: &Plan, programs: &Programs, out: &mut String) {
    writeln!(out, "## `ion run` beside Python `requests`\n").unwrap();
    writeln!(
        out,
        "The Python `requests` way of ION's quickstart beside `ion run`, as whole processes \
         against the same emulator (demo data, in another process): `ion run queries/get_runs.graphql` (a release build, configured through \
         `ION_*`) and `benches/python_requests/get_runs.py` (Python `requests`: a form-encoded \
         client-credentials token, then one POST of `GetRuns`). Each runs {} times, taking \
         turns; wall time from spawn to exit, output discarded.\n",
        plan.process_runs
    )
    .unwrap();
    let (ion, python) = match programs.ion_and_python() {
        Ok(both) => both,
        Err(reason) => {
            writeln!(out, "Skipped: {reason}.\n").unwrap();
            return;
        }
    };
    let root = repository();
    let dir = tempfile::tempdir().unwrap();
    let emulator = EmulatorProcess::demo(dir.path());
    let contenders = [
        ("`ion run queries/get_runs.graphql`", {
            let mut c = Command::new(ion);
            c.arg("run").arg(root.join("queries/get_runs.graphql"));
            c
        }),
        ("`python get_runs.py` (requests)", {
            let mut c = Command::new(python);
            c.arg(root.join("benches/python_requests/get_runs.py"));
            c
        }),
    ];
    race(
        &emulator,
        contenders,
        plan.process_runs,
        "\"runs\"",
        "ion",
        out,
    );
}

/// `ion attach FILE --to RUN` beside `benches/python_requests/attach_file.py FILE RUN`.
fn attach_beside_python(plan: &Plan, programs: &Programs, out: &mut String) {
    writeln!(out, "## `ion attach` beside Python `requests`\n").unwrap();
    writeln!(
        out,
        "Attaching one {} MiB file to a run, as whole processes against the same emulator (demo \
         data, in another process, storing the bytes): `ion attach FILE --to 1` (a release build) \
         and `benches/python_requests/attach_file.py FILE 1` (Python `requests`: a token, \
         `createFileAttachment`, then a streamed `PUT` of the file to the pre-signed URL with the \
         content type ION answered). Each runs {} times, taking turns; wall time from spawn to \
         exit, output discarded.\n",
        plan.attach_mib, plan.process_runs
    )
    .unwrap();
    let (ion, python) = match programs.ion_and_python() {
        Ok(both) => both,
        Err(reason) => {
            writeln!(out, "Skipped: {reason}.\n").unwrap();
            return;
        }
    };
    let root = repository();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traveler.pdf");
    let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut f = std::fs::File::create(&file).unwrap();
    for _ in 0..plan.attach_mib {
        f.write_all(&chunk).unwrap();
    }
    f.sync_all().unwrap();
    drop(f);
    let emulator = EmulatorProcess::demo(dir.path());
    let contenders = [
        ("`ion attach FILE --to 1`", {
            let mut c = Command::new(ion);
            c.arg("attach").arg(&file).arg("--to").arg("1");
            c
        }),
        ("`python attach_file.py FILE 1` (requests)", {
            let mut c = Command::new(python);
            c.arg(root.join("benches/python_requests/attach_file.py"))
                .arg(&file)
                .arg("1");
            c
        }),
    ];
    race(
        &emulator,
        contenders,
        plan.process_runs,
        "traveler.pdf",
        "ion attach",
        out,
    );
}

/// Runs two commands against `emulator` `runs` times each, taking turns, after one untimed run
/// each whose stdout must contain `expect`; writes the min/median/max table, the first
/// command's median (named `unit`) as the unit.
fn race(
    emulator: &EmulatorProcess,
    contenders: [(&str, Command); 2],
    runs: usize,
    expect: &str,
    unit: &str,
    out: &mut String,
) {
    let mut contenders = contenders.map(|(label, mut command)| {
        emulator.configure(&mut command);
        (label, command, Vec::<Duration>::new())
    });
    // One untimed run each, checking the answer (and warming the page cache).
    for (label, command, _) in &mut contenders {
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{label} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(expect), "{label} printed {expect}: {text}");
    }
    for round in 0..runs {
        for i in 0..contenders.len() {
            let (_, command, times) = &mut contenders[(i + round) % 2];
            command.stdout(Stdio::null()).stderr(Stdio::null());
            let started = Instant::now();
            let status = command.status().unwrap();
            times.push(started.elapsed());
            assert!(status.success());
        }
    }
    let first_median = median(contenders[0].2.clone());
    writeln!(
        out,
        "| process | min | median | max | median / {unit}'s |\n|---|---:|---:|---:|---:|"
    )
    .unwrap();
    for (label, _, times) in &contenders {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let m = median(times.clone());
        writeln!(
            out,
            "| {label} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}× |",
            ms(*times.iter().min().unwrap()),
            ms(m),
            ms(*times.iter().max().unwrap()),
            m.as_secs_f64() / first_median.as_secs_f64()
        )
        .unwrap();
    }
    writeln!(out).unwrap();
}
