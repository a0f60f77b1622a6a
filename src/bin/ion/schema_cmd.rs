//! `ion schema check` and `ion schema pull`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Validates operations exactly as the build does, without building. Returns whether all passed.
pub fn check(schema: &Path, paths: &[PathBuf]) -> anyhow::Result<bool> {
    let schema_text = std::fs::read_to_string(schema)
        .with_context(|| format!("cannot read schema {}", schema.display()))?;
    let schema_file = ion_client_build::SourceFile::new(schema, schema_text);
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
            files.push(ion_client_build::SourceFile::new(file, text));
        }
    }
    match ion_client_build::generate(&schema_file, &files, &ion_client_build::Options::default()) {
        Ok(generated) => {
            for w in &generated.warnings {
                eprintln!("warning: {w}");
            }
            eprintln!(
                "ok: {} operation(s) in {} file(s) are valid against {}",
                generated.operations.len(),
                files.len(),
                schema.display()
            );
            Ok(true)
        }
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            Ok(false)
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
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
