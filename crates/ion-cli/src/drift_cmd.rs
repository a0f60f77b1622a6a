//! `ion schema diff OLD NEW` and `ion schema check --live`: what a schema change does, in
//! general and to the operations at hand. Both exit 0 when nothing (or only safe changes)
//! matter, 1 on anything breaking, 2 when the worst is dangerous, so a scheduled CI job can
//! tell "regenerate and look" from "fine".

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use ion_client_build::SourceFile;
use ion_client_build::drift::{self, Severity};

use crate::output::escape_controls;

fn read(path: &Path) -> anyhow::Result<SourceFile> {
    ion_client_build::files::read_source(path).context("cannot read the schema")
}

/// Every change from `old` to `new`, one line each (`severity: coordinate: what`), most
/// harmful first, then a count per severity on stderr.
pub fn diff(old: &Path, new: &Path) -> anyhow::Result<u8> {
    let (old, new) = (read(old)?, read(new)?);
    let mut changes = drift::diff(&old, &new).map_err(|d| anyhow!("{d}"))?;
    changes.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.cmp(b)));
    let mut out = std::io::stdout().lock();
    for change in &changes {
        writeln!(out, "{}", escape_controls(&change.to_string()))?;
    }
    summary("change", changes.iter().map(|c| c.severity));
    Ok(exit_code(changes.iter().map(|c| c.severity)))
}

/// Pulls the live schema of the configured ION (or the embedded emulator) and reports what its
/// differences from the local schema touch in the operations under `paths`.
pub async fn check_live(schema: Option<&Path>, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let local = crate::schema_cmd::resolve(schema)?;
    let operations = crate::schema_cmd::read_operations(paths)?;
    let target = crate::target::connect().await?;
    let live = crate::info::live_schema(&target).await?;
    eprintln!(
        "ion: comparing {} with the live schema of {}",
        local.path.display(),
        target.client.environment()
    );
    let live = SourceFile::new("<live schema>", live);
    let impacts = drift::impact(&local, &live, &operations).map_err(|d| anyhow!("{d}"))?;
    let mut out = std::io::stdout().lock();
    // The live schema is server text: its deprecation reasons reach these lines.
    for impact in &impacts {
        writeln!(out, "{}", escape_controls(&impact.to_string()))?;
    }
    summary("use", impacts.iter().map(|i| i.severity));
    if impacts.is_empty() {
        eprintln!(
            "ok: no change in the live schema touches the {} operation file(s)",
            operations.len()
        );
    }
    Ok(exit_code(impacts.iter().map(|i| i.severity)))
}

fn exit_code(severities: impl IntoIterator<Item = Severity>) -> u8 {
    // drift::exit_code is 0, 1 or 2 by construction.
    u8::try_from(drift::exit_code(severities)).unwrap_or(1)
}

fn summary(what: &str, severities: impl Iterator<Item = Severity>) {
    let (mut breaking, mut dangerous, mut safe) = (0, 0, 0);
    for s in severities {
        match s {
            Severity::Breaking => breaking += 1,
            Severity::Dangerous => dangerous += 1,
            Severity::Safe => safe += 1,
        }
    }
    eprintln!("{breaking} breaking, {dangerous} dangerous, {safe} safe {what}(s)");
}
