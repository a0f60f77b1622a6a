//! `cargo xtask <command>`: maintenance commands of the ion-client repository.
//!
//! ```text
//! cargo xtask sync-schema [--check] [--reference PATH]
//! cargo xtask cold-build [--save PATH] [--top N]
//! cargo xtask timings LABEL=REPORT... [--top N]
//! ```
//!
//! `sync-schema` rewrites `schema/ion.graphql` from the 2023 reference SDL kept beside the
//! repository (`<repo>/../shared`), keeping the file's own descriptions (see
//! [`xtask::synced_schema`] and `schema/README.md`); `--check` only says whether the file is
//! up to date and fails when it is not, as `crates/ion-client-build/tests/schema.rs` does.
//!
//! `cold-build` runs `cargo build --release --timings` of the default members (the README's
//! first command's build) in an empty target directory it deletes afterwards, and prints the
//! Markdown of BENCHMARKS.md's "Cold build" section; `timings` prints the same from saved
//! reports, side by side.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  sync-schema [--check] [--reference PATH]
      Regenerates schema/ion.graphql from the reference SDL (default:
      <repo>/../shared/ion-reference/ion-schema-2023.graphql), keeping its own descriptions.
      --check writes nothing and fails when the file is not what regeneration gives.
  cold-build [--save PATH] [--top N]
      `cargo build --release --timings` from an empty target directory (deleted afterwards);
      prints wall time, units, the sum of unit times and the N longest crates (default 12).
      --save keeps a copy of cargo-timing.html.
  timings LABEL=REPORT... [--top N]
      The same tables from saved cargo-timing.html reports, side by side.";

/// Crates listed per build unless `--top` says otherwise.
const DEFAULT_TOP: usize = 12;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("sync-schema") => sync_schema(&args[1..]),
        Some("cold-build") => cold_build(&args[1..]),
        Some("timings") => timings(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root: this crate lives at `<repo>/xtask`.
fn repository() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

fn sync_schema(args: &[String]) -> Result<(), String> {
    let mut check = false;
    let mut reference = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--reference" => match args.next() {
                Some(path) => reference = Some(PathBuf::from(path)),
                None => return Err("--reference expects a path".to_string()),
            },
            other => return Err(format!("sync-schema: unexpected argument `{other}`")),
        }
    }
    let repo = repository();
    let reference = reference.unwrap_or_else(|| match repo.parent() {
        Some(parent) => parent.join(xtask::REFERENCE_SCHEMA),
        None => repo.join("..").join(xtask::REFERENCE_SCHEMA),
    });
    let ours_path = repo.join("schema/ion.graphql");
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let ours = read(&ours_path)?;
    let synced = xtask::synced_schema(&read(&reference)?, &ours).map_err(|e| e.to_string())?;
    if synced == ours {
        eprintln!("{} is up to date", ours_path.display());
        return Ok(());
    }
    if check {
        return Err(format!(
            "{} is not what regeneration from {} gives; run `cargo xtask sync-schema` and \
             review the diff",
            ours_path.display(),
            reference.display()
        ));
    }
    std::fs::write(&ours_path, &synced)
        .map_err(|e| format!("cannot write {}: {e}", ours_path.display()))?;
    eprintln!(
        "rewrote {} from {}",
        ours_path.display(),
        reference.display()
    );
    Ok(())
}

/// `--top N` among `args`, and the other arguments.
fn top_and_rest(args: &[String]) -> Result<(usize, Vec<&String>), String> {
    let mut top = DEFAULT_TOP;
    let mut rest = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--top" {
            top = args
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or("--top expects a number")?;
        } else {
            rest.push(arg);
        }
    }
    Ok((top, rest))
}

fn read_report(path: &Path) -> Result<xtask::timings::Timings, String> {
    let html = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    xtask::timings::Timings::parse(&html).map_err(|e| format!("{}: {e}", path.display()))
}

fn cold_build(args: &[String]) -> Result<(), String> {
    let (top, rest) = top_and_rest(args)?;
    let mut save = None;
    let mut rest = rest.into_iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--save" => save = Some(PathBuf::from(rest.next().ok_or("--save expects a path")?)),
            other => return Err(format!("cold-build: unexpected argument `{other}`")),
        }
    }
    let target = tempfile::Builder::new()
        .prefix("ion-cold-build-")
        .tempdir()
        .map_err(|e| format!("cannot make a target directory: {e}"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "cargo build --release --timings, target directory {} (deleted afterwards)",
        target.path().display()
    );
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--timings"])
        .current_dir(repository())
        .env("CARGO_TARGET_DIR", target.path())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build failed: {status}"));
    }
    let report = target.path().join("cargo-timings/cargo-timing.html");
    if let Some(save) = &save {
        std::fs::copy(&report, save)
            .map_err(|e| format!("cannot save the report to {}: {e}", save.display()))?;
    }
    let timings = read_report(&report)?;
    println!(
        "{}",
        xtask::timings::markdown(&[("this build", &timings)], top)
    );
    Ok(())
}

fn timings(args: &[String]) -> Result<(), String> {
    let (top, rest) = top_and_rest(args)?;
    let mut builds = Vec::new();
    for arg in rest {
        let (label, path) = arg
            .split_once('=')
            .ok_or_else(|| format!("timings: expected LABEL=REPORT, found `{arg}`"))?;
        builds.push((label.to_string(), read_report(Path::new(path))?));
    }
    if builds.is_empty() {
        return Err("timings: expected at least one LABEL=REPORT".to_string());
    }
    let builds: Vec<(&str, &xtask::timings::Timings)> =
        builds.iter().map(|(l, t)| (l.as_str(), t)).collect();
    println!("{}", xtask::timings::markdown(&builds, top));
    Ok(())
}
