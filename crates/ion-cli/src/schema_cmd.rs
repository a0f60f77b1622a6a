//! `ion schema check`, and which schema a command validates against.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ion_client_build::SourceFile;

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
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read schema {}", path.display()))?;
            eprintln!("ion: schema {}{why}", path.display());
            Ok(SourceFile::new(path, text))
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
                eprintln!("warning: {w}");
            }
            eprintln!(
                "ok: {} file(s) are valid against {}",
                files.len(),
                schema.path.display()
            );
            Ok(true)
        }
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            Ok(false)
        }
    }
}

/// The `.graphql` files named, or found below the folders named.
pub fn read_operations(paths: &[PathBuf]) -> anyhow::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    for path in paths {
        let found = if path.is_dir() {
            let mut found = Vec::new();
            collect(path, &mut found)
                .with_context(|| format!("cannot read directory {}", path.display()))?;
            found
        } else {
            vec![path.clone()]
        };
        for file in found {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            files.push(SourceFile::new(file, text));
        }
    }
    Ok(files)
}

/// Every `.graphql`/`.gql` file below `dir`, sorted. Symbolic links to folders are not
/// followed, so a link cycle cannot make the walk endless.
pub fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "graphql" || e == "gql")
        {
            out.push(path);
        }
    }
    Ok(())
}
