//! `ion schema check`, and which schema a command validates against.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ion_client_build::SourceFile;

use crate::output::escape_controls;

/// The schema a repository keeps by convention, used when present in the current directory.
pub const CONVENTIONAL_SCHEMA: &str = "schema/ion.graphql";

/// The schema to validate against: the one named with `--schema`; else `schema/ion.graphql` in
/// the current directory when there is one (a repository laid out as ion-client's template);
/// else the schema shipped inside `ion` (ION's API as of the 2023 reference), so the command
/// works from any directory, as after `cargo install`. Says on stderr which one it uses.
pub fn resolve(explicit: Option<&Path>) -> anyhow::Result<SourceFile> {
    let (path, why) = match explicit {
        Some(path) => (Some(path.to_path_buf()), ""),
        None if Path::new(CONVENTIONAL_SCHEMA).is_file() => (
            Some(PathBuf::from(CONVENTIONAL_SCHEMA)),
            " (found in the current directory)",
        ),
        None => (None, ""),
    };
    match path {
        Some(path) => {
            let schema =
                ion_client_build::files::read_source(&path).context("cannot read the schema")?;
            eprintln!("ion: schema {}{why}", path.display());
            Ok(schema)
        }
        None => {
            eprintln!(
                "ion: schema shipped with ion (no {CONVENTIONAL_SCHEMA} here; --schema FILE for yours)"
            );
            Ok(SourceFile::new(
                "<shipped schema>",
                ion_client_build::SHIPPED_SCHEMA,
            ))
        }
    }
}

/// Validates operations exactly as the build does, without building. Returns whether all passed.
pub fn check(schema: &SourceFile, paths: &[PathBuf]) -> anyhow::Result<bool> {
    let files = read_operations(paths)?;
    match ion_client_build::validate(schema, &files) {
        Ok(warnings) => {
            for w in &warnings {
                eprintln!("warning: {}", escape_controls(w));
            }
            eprintln!(
                "ok: {} file(s) are valid against {}",
                files.len(),
                schema.path.display()
            );
            Ok(true)
        }
        Err(diagnostics) => {
            eprint!("{}", escape_controls(&diagnostics.to_string()));
            Ok(false)
        }
    }
}

/// The `.graphql` files named, or found below the folders named, read as the build reads
/// them (`ion_client_build::files`: the same walker, links refused, regular files only, capped).
pub fn read_operations(paths: &[PathBuf]) -> anyhow::Result<Vec<SourceFile>> {
    Ok(ion_client_build::files::read_sources(paths)?)
}
