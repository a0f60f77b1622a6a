//! Whole processes against an emulator in another process.
//!
//! `cargo bench -p ion-benches --bench processes` measures and prints Markdown
//! tables (`benches/regenerate.sh` puts them into `BENCHMARKS.md`). Under
//! `cargo test --benches` (no `--bench` argument) every case runs once on small data and only
//! the answers are checked: nothing here ever asserts a timing or a size.
//!
//! - **Pagination memory.** Peak RSS, wall time and nodes/s of a process that streams
//!   `list_runs_nodes` over 1,000 and over 100,000 runs, and of `ion run --all-pages`,
//!   `ion export` and `benches/python_requests/export_runs.py` (the cursor loop by hand with
//!   `requests`) over the same, with the emulator in a process of its own (so its rows are not
//!   counted). Each measured process is the only child of a small wrapper (this binary with
//!   `--rss`), which reads `getrusage(RUSAGE_CHILDREN)` after waiting for it: the child's peak
//!   resident set.
//! - **The Python `requests` way of ION's quickstart.** `ion run queries/get_runs.graphql`
//!   beside `benches/python_requests/get_runs.py` (token, then one POST, with `requests`), as whole
//!   processes taking turns, min/median/max of wall time.
//! - **Attaching a file.** `ion attach FILE --to 1` beside `benches/python_requests/attach_file.py`
//!   (token, `createFileAttachment`, a streamed `PUT` to the pre-signed URL, with `requests`),
//!   the same way.
//! - **Importing rows under a rate limit.** `ion import` of a CSV (one `createRun` a row)
//!   beside `benches/python_requests/import_rows.py` (the same rows one request at a time,
//!   waiting out each 429's `Retry-After`), each against a fresh emulator process limiting the
//!   client (`--rate-limit`, `--burst`, as `ion emulator` takes them): rows ok, rows/s as a
//!   ratio of the limit, and the 429s the emulator counted.
//!
//! Arguments after `--bench` that do not start with `--` pick the tables to run (`pagination`,
//! `run`, `attach`, `import`); none runs them all:
//! `cargo bench -p ion-benches --bench processes -- --bench import`.
//!
//! The measured processes of the pagination and import tables run under a deadline
//! ([`CHILD_DEADLINE`]) and are killed past it; everything talks to the emulator on 127.0.0.1
//! only.
//!
//! The `ion` binary and the Python interpreter come from the environment: `ION_BENCH_ION` (a
//! release `ion`) and `ION_BENCH_PYTHON` (a Python with `requests`); `regenerate.sh` builds and
//! installs both. A part whose program is not given is skipped with the reason in its table.
//!
//! This binary plays every role, chosen by its first argument: `--serve SEED [--rate-limit N
//! --burst N]` (the emulator),
//! `--rss PROGRAM ARGS...` (the measuring wrapper), `--nodes N PAGE` (the typed stream), and
//! otherwise the driver.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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
    /// Rows of the import table's CSV.
    import_rows: usize,
    /// Runs of each importer (each against a fresh emulator); the median is reported.
    import_runs: usize,
}

impl Plan {
    const FULL: Plan = Plan {
        nodes: [1_000, 100_000],
        memory_repeats: 3,
        process_runs: 20,
        attach_mib: 64,
        import_rows: 2_000,
        import_runs: 3,
    };
    const QUICK: Plan = Plan {
        nodes: [100, 300],
        memory_repeats: 1,
        process_runs: 2,
        attach_mib: 1,
        import_rows: 30,
        import_runs: 1,
    };
}

/// The limit of the import table's emulator, per client: requests per second and burst (the
/// figures of the bulk bench's import table, so the two read side by side).
const IMPORT_RATE: f64 = 200.0;
const IMPORT_BURST: u32 = 20;

/// The longest a measured process may run before it is killed and the bench fails: far above
/// what any of them takes (the slowest, the sequential importer, needs about 100 s for 2,000
/// rows at 20 a second), low enough that a hung child cannot hold the machine.
const CHILD_DEADLINE: Duration = Duration::from_secs(600);

/// The repository root: this package is its `benches/`.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Nodes per page for both the typed stream and `ion run --all-pages` (ION's usual page).
const PAGE_SIZE: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--serve") => serve(Path::new(&args[2]), &args[3..]),
        Some("--rss") => rss(&args[2..]),
        Some("--nodes") => nodes(args[2].parse().unwrap(), args[3].parse().unwrap()),
        _ => {
            let plan = if args.iter().any(|a| a == "--bench") {
                Plan::FULL
            } else {
                Plan::QUICK
            };
            // Names after the flags pick tables; none picks all.
            let picked: Vec<&str> = args[1..]
                .iter()
                .map(String::as_str)
                .filter(|a| !a.starts_with("--"))
                .collect();
            let wanted = |name: &str| picked.is_empty() || picked.contains(&name);
            let programs = Programs::from_env();
            let mut out = String::new();
            if wanted("pagination") {
                pagination_memory(&plan, &programs, &mut out);
            }
            if wanted("run") {
                python_requests(&plan, &programs, &mut out);
            }
            if wanted("attach") {
                attach_beside_python(&plan, &programs, &mut out);
            }
            if wanted("import") {
                import_beside_python(&plan, &programs, &mut out);
            }
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

    /// Both programs, or `None` with a line in `out` saying why the table is skipped.
    fn ion_and_python(&self, out: &mut String) -> Option<(&PathBuf, &PathBuf)> {
        match (&self.ion, &self.python) {
            (Ok(ion), Ok(python)) => Some((ion, python)),
            (Err(reason), _) | (_, Err(reason)) => {
                writeln!(out, "Skipped: {reason}.\n").unwrap();
                None
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The roles.

/// `--serve SEED [--rate-limit PER_SECOND --burst REQUESTS]`: an emulator with the seed file
/// (and the rate limit, as `ion emulator` takes it), its connection details as one JSON line
/// on stdout, until stdin closes (the driver holds the other end, so it never outlives it);
/// then its counters as a last JSON line.
fn serve(seed: &Path, flags: &[String]) {
    use ion_client::testing::emulator::{Emulator, EmulatorOptions, RateLimit, Seed};
    let flag = |name: &str| {
        flags.iter().position(|f| f == name).map(|i| {
            flags[i + 1]
                .parse::<f64>()
                .expect("a number after the flag")
        })
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut options = EmulatorOptions::new().seed(Seed::File(seed.to_path_buf()));
        if let Some(rate) = flag("--rate-limit") {
            let burst = flag("--burst").unwrap_or(rate.ceil()) as u32;
            options = options.rate_limit(RateLimit::new(rate, burst));
        }
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
        let counters = emulator.counters();
        println!(
            "{}",
            json!({
                "graphql_requests": counters.graphql_requests,
                "mutations": counters.mutations,
                "rate_limited": counters.rate_limited,
            })
        );
        std::io::stdout().flush().unwrap();
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
        EmulatorProcess::start(&demo_seed(dir))
    }

    fn start(seed: &Path) -> EmulatorProcess {
        EmulatorProcess::spawn(seed, &[])
    }

    /// An emulator with the demo factory limiting each client to `rate` requests per second
    /// in bursts of up to `burst` (`--rate-limit`, `--burst`).
    fn limited(dir: &Path, rate: f64, burst: u32) -> EmulatorProcess {
        let flags = [
            "--rate-limit".to_owned(),
            rate.to_string(),
            "--burst".to_owned(),
            burst.to_string(),
        ];
        EmulatorProcess::spawn(&demo_seed(dir), &flags)
    }

    fn spawn(seed: &Path, flags: &[String]) -> EmulatorProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .arg(seed)
            .args(flags)
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

    /// Stops the emulator and returns its counters (`graphql_requests`, `mutations`,
    /// `rate_limited`).
    fn stop(mut self) -> Value {
        drop(self.child.stdin.take());
        let mut line = String::new();
        BufReader::new(self.child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        serde_json::from_str(&line).expect("the emulator's counters")
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

/// The demo factory's seed as it ships, written into `dir`.
fn demo_seed(dir: &Path) -> PathBuf {
    let seed = dir.join("demo.json");
    std::fs::write(
        &seed,
        include_str!("../../crates/ion-emulator/src/seeds/demo.json"),
    )
    .unwrap();
    seed
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

/// Runs `command` to its end with stdout and stderr captured, killing it and failing the
/// bench if it runs past [`CHILD_DEADLINE`].
fn output_within(command: &mut Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{:?} does not start: {e}", command.get_program()));
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + CHILD_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{:?} ran past {CHILD_DEADLINE:?} and was killed",
                command.get_program()
            );
        }
        // Polling only bounds the wait: the measured times come from the wrapper or from
        // the process's own end, a few milliseconds at most from here.
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// One measured process through the `--rss` wrapper: (peak RSS in KiB, stdout lines, last
/// line, wall seconds).
fn measure(emulator: &EmulatorProcess, program: &[OsString]) -> (u64, usize, String, f64) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.arg("--rss").args(program);
    emulator.configure(&mut command);
    let output = output_within(&mut command);
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

/// A row of the pagination table: a program run for each node count, its stdout checked.
struct Paging {
    label: &'static str,
    /// The program and its arguments for `n` runs.
    program: Box<dyn Fn(usize) -> Vec<OsString>>,
    /// Whether it prints one line per node (else one last line, `nodes N`).
    line_per_node: bool,
    /// Median peak RSS (KiB) and wall seconds, per node count.
    kib: Vec<u64>,
    secs: Vec<f64>,
}

fn pagination_memory(plan: &Plan, programs: &Programs, out: &mut String) {
    let dir = tempfile::tempdir().unwrap();
    let this = std::env::current_exe().unwrap();
    let page = PAGE_SIZE.to_string();
    let all_pages_variables = json!({ "first": PAGE_SIZE }).to_string();
    let list_runs = repository().join("queries/list_runs.graphql");
    let os = |parts: &[&std::ffi::OsStr]| parts.iter().map(|p| p.to_os_string()).collect();
    let mut rows = vec![Paging {
        label: "typed `client.list_runs_nodes(..)`",
        program: Box::new({
            let (this, page) = (this.clone(), page.clone());
            move |n| {
                os(&[
                    this.as_os_str(),
                    "--nodes".as_ref(),
                    n.to_string().as_ref(),
                    page.as_ref(),
                ])
            }
        }),
        line_per_node: false,
        kib: Vec::new(),
        secs: Vec::new(),
    }];
    if let Ok(ion) = &programs.ion {
        let (ion, list_runs, variables) = (ion.clone(), list_runs.clone(), all_pages_variables);
        rows.push(Paging {
            label: "`ion run queries/list_runs.graphql --all-pages`",
            program: Box::new(move |_| {
                os(&[
                    ion.as_os_str(),
                    "run".as_ref(),
                    list_runs.as_os_str(),
                    "--all-pages".as_ref(),
                    "--variables".as_ref(),
                    variables.as_ref(),
                ])
            }),
            line_per_node: true,
            kib: Vec::new(),
            secs: Vec::new(),
        });
    }
    if let Ok(ion) = &programs.ion {
        let (ion, list_runs, page) = (ion.clone(), list_runs.clone(), page.clone());
        rows.push(Paging {
            label: "`ion export queries/list_runs.graphql --page-size 100`",
            program: Box::new(move |_| {
                os(&[
                    ion.as_os_str(),
                    "export".as_ref(),
                    list_runs.as_os_str(),
                    "--page-size".as_ref(),
                    page.as_ref(),
                ])
            }),
            line_per_node: true,
            kib: Vec::new(),
            secs: Vec::new(),
        });
    }
    if let Ok(python) = &programs.python {
        let script = repository().join("benches/python_requests/export_runs.py");
        let (python, page) = (python.clone(), page.clone());
        rows.push(Paging {
            label: "`python export_runs.py 100` (requests)",
            program: Box::new(move |_| {
                os(&[python.as_os_str(), script.as_os_str(), page.as_ref()])
            }),
            line_per_node: true,
            kib: Vec::new(),
            secs: Vec::new(),
        });
    }

    for &n in &plan.nodes {
        eprintln!("pagination memory: {n} runs");
        let emulator = EmulatorProcess::start(&write_seed(dir.path(), n));
        let mut measured: Vec<(Vec<u64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); rows.len()];
        // Repeats outermost, so the contenders take turns.
        for _ in 0..plan.memory_repeats {
            for (row, (kib, secs)) in rows.iter().zip(&mut measured) {
                let (k, lines, last, s) = measure(&emulator, &(row.program)(n));
                if row.line_per_node {
                    assert_eq!(lines, n, "{} wrote one line per run", row.label);
                } else {
                    assert_eq!(last, format!("nodes {n}"), "{}", row.label);
                }
                kib.push(k);
                secs.push(s);
            }
        }
        for (row, (kib, secs)) in rows.iter_mut().zip(measured) {
            row.kib.push(median(kib));
            row.secs.push(median(secs));
        }
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
         costs the page, not the table), and the nodes per second of the larger export. The \
         Python row is `benches/python_requests/export_runs.py`: a form-encoded \
         client-credentials token, then the cursor loop by hand with `requests` (one session, \
         `ListRuns`' fields, `endCursor` passed back as `$after`), a JSON line per run as its \
         page arrives. Goal: the ratio stays ≤ 1.2 (one page in memory).\n",
        plan.memory_repeats
    )
    .unwrap();
    writeln!(
        out,
        "| process | {small} runs | {large} runs | ratio {large}/{small} (goal ≤ 1.2) | \
         nodes/s, {large} runs |"
    )
    .unwrap();
    writeln!(out, "|---|---:|---:|---:|---:|").unwrap();
    for row in &rows {
        writeln!(
            out,
            "| {} | {} ({:.2} s) | {} ({:.2} s) | {:.2} | {} |",
            row.label,
            mib(row.kib[0]),
            row.secs[0],
            mib(row.kib[1]),
            row.secs[1],
            row.kib[1] as f64 / row.kib[0] as f64,
            thousands((plan.nodes[1] as f64 / row.secs[1]).round() as usize)
        )
        .unwrap();
    }
    if let Err(reason) = &programs.ion {
        writeln!(out, "\n`ion run --all-pages`, `ion export`: {reason}.").unwrap();
    }
    if let Err(reason) = &programs.python {
        writeln!(out, "\n`python export_runs.py`: {reason}.").unwrap();
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
    let Some((ion, python)) = programs.ion_and_python(out) else {
        return;
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
    let Some((ion, python)) = programs.ion_and_python(out) else {
        return;
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

/// One importer of the import table: how it is run, and how its own summary reads.
struct Importer {
    label: &'static str,
    command: Command,
    /// (rows ok, 429s it says it received) from its stdout and stderr.
    summary: fn(&str, &str) -> (u64, u64),
    /// (wall seconds, rows ok, 429s the emulator counted, 429s the importer counted) per run.
    runs: Vec<(f64, u64, u64, u64)>,
}

/// `ion import`'s last stderr line: `ion import: N ok, ... ; R request(s), T answered 429`.
fn ion_import_summary(_stdout: &str, stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("ion import: ") && l.contains(" ok, "))
        .unwrap_or_else(|| panic!("no summary line from ion import:\n{stderr}"));
    let number_before = |word: &str| -> u64 {
        let end = line
            .find(word)
            .unwrap_or_else(|| panic!("{word:?} in {line}"));
        let start = line[..end].rfind(' ').map_or(0, |i| i + 1);
        line[start..end].parse().unwrap()
    };
    (number_before(" ok,"), number_before(" answered 429"))
}

/// `import_rows.py`'s JSON line: `{"ok": N, "failed": N, "rate_limited": N}`.
fn python_import_summary(stdout: &str, _stderr: &str) -> (u64, u64) {
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("no summary line from import_rows.py:\n{stdout}"));
    (
        summary["ok"].as_u64().unwrap(),
        summary["rate_limited"].as_u64().unwrap(),
    )
}

/// `ion import` beside `benches/python_requests/import_rows.py`, each against a fresh emulator
/// process that limits the client.
fn import_beside_python(plan: &Plan, programs: &Programs, out: &mut String) {
    let rows = plan.import_rows;
    writeln!(out, "## `ion import` beside Python `requests`\n").unwrap();
    writeln!(
        out,
        "{} rows of a CSV (one column, `title`), one `createRun` a row \
         (`benches/python_requests/create_run.graphql`), as whole processes against an emulator \
         in another process limiting the client to {IMPORT_RATE} requests/s in bursts of up to \
         {IMPORT_BURST} (`--rate-limit {IMPORT_RATE} --burst {IMPORT_BURST}`, as `ion emulator` \
         takes them), started afresh for every run so each importer meets a full bucket: \
         `ion import` (a release build; its default adaptive job, and with `--rate` set to the \
         limit) and `benches/python_requests/import_rows.py` (Python `requests`: one session, one \
         request per row in turn, a 429 waited out for its `Retry-After` and the row sent \
         again). Each runs {} time(s), taking turns; the run with the median wall time (spawn \
         to exit, token and schema check included) is shown. 429s are the emulator's count, \
         with the importer's own after the slash. Goal: `ion import` reaches at least 0.9 of \
         the limit.\n",
        thousands(rows),
        plan.import_runs
    )
    .unwrap();
    let Some((ion, python)) = programs.ion_and_python(out) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    let mut text = String::from("title\n");
    for i in 1..=rows {
        writeln!(text, "bench row {i}").unwrap();
    }
    std::fs::write(&csv, text).unwrap();
    let mutation = repository().join("benches/python_requests/create_run.graphql");
    let ion_import = |extra: &[&str]| {
        let mut c = Command::new(ion);
        c.arg("import")
            .arg(&mutation)
            .arg("--rows")
            .arg(&csv)
            .args(extra);
        c
    };
    let rate = IMPORT_RATE.to_string();
    let mut importers = [
        Importer {
            label: "`ion import create_run.graphql --rows rows.csv`",
            command: ion_import(&[]),
            summary: ion_import_summary,
            runs: Vec::new(),
        },
        Importer {
            label: "`ion import ... --rate 200`",
            command: ion_import(&["--rate", &rate]),
            summary: ion_import_summary,
            runs: Vec::new(),
        },
        Importer {
            label: "`python import_rows.py rows.csv` (requests)",
            command: {
                let mut c = Command::new(python);
                c.arg(repository().join("benches/python_requests/import_rows.py"))
                    .arg(&csv)
                    .arg(&mutation);
                c
            },
            summary: python_import_summary,
            runs: Vec::new(),
        },
    ];
    let count = importers.len();
    for round in 0..plan.import_runs {
        for i in 0..count {
            let importer = &mut importers[(i + round) % count];
            eprintln!("import: {} (run {})", importer.label, round + 1);
            let emulator = EmulatorProcess::limited(dir.path(), IMPORT_RATE, IMPORT_BURST);
            emulator.configure(&mut importer.command);
            let started = Instant::now();
            let output = output_within(&mut importer.command);
            let seconds = started.elapsed().as_secs_f64();
            let counters = emulator.stop();
            let (stdout, stderr) = (
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
            assert!(
                output.status.success(),
                "{} failed: {stderr}",
                importer.label
            );
            let (ok, own_429s) = (importer.summary)(&stdout, &stderr);
            assert_eq!(ok, rows as u64, "{}: every row applied", importer.label);
            assert_eq!(
                counters["mutations"].as_u64(),
                Some(rows as u64),
                "{}: each row executed once",
                importer.label
            );
            let refused = counters["rate_limited"].as_u64().unwrap();
            importer.runs.push((seconds, ok, refused, own_429s));
        }
    }
    writeln!(
        out,
        "| importer | rows ok | wall time | rows/s | ratio of the limit | 429s | \
         429s per 1,000 rows |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for importer in &importers {
        let (seconds, ok, refused, own) = median(importer.runs.clone());
        let per_second = ok as f64 / seconds;
        writeln!(
            out,
            "| {} | {} | {seconds:.2} s | {per_second:.1} | {:.2} | {refused} / {own} | {:.1} |",
            importer.label,
            thousands(ok as usize),
            per_second / IMPORT_RATE,
            refused as f64 * 1000.0 / ok as f64
        )
        .unwrap();
    }
    writeln!(out).unwrap();
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
