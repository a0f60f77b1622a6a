//! `cargo xtask <command>`: maintenance commands of the ion-client repository.
//!
//! ```text
//! cargo xtask sync-schema [--check] [--reference PATH]
//! ```
//!
//! `sync-schema` rewrites `schema/ion.graphql` from the 2023 reference SDL kept beside the
//! repository (`<repo>/../shared`), keeping the file's own descriptions (see
//! [`xtask::synced_schema`] and `schema/README.md`); `--check` only says whether the file is
//! up to date and fails when it is not, as `crates/ion-client-build/tests/schema.rs` does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  sync-schema [--check] [--reference PATH]
      Regenerates schema/ion.graphql from the reference SDL (default:
      <repo>/../shared/ion-reference/ion-schema-2023.graphql), keeping its own descriptions.
      --check writes nothing and fails when the file is not what regeneration gives.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("sync-schema") => sync_schema(&args[1..]),
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
