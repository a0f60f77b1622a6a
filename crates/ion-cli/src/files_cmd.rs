//! `ion attach` and `ion download`: files to and from ION's storage through
//! `Client::attach_file` and `Client::download_file`, several at once.
//!
//! stdout holds one JSON line per file done; stderr the progress (one line rewritten in place
//! on a terminal, a plain line per finished file otherwise) and one `error:` line per file
//! that failed, naming it and any attachment row it left behind. The exit status is 1 when
//! any failed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use ion_client::{Cleanup, ErrorKind, Id};
use serde_json::json;

use crate::output::{self, Secrets};
use crate::target;

/// Files sent or received at once unless `--jobs` says otherwise: enough to hide one file's
/// round trips behind another's bytes, few enough not to crowd one uplink.
const DEFAULT_JOBS: u16 = 4;

/// How often the progress line on a terminal is redrawn.
const REDRAW: Duration = Duration::from_millis(200);

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// The files to attach.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The id of the entity (run, step, issue, part, receipt, ...) to attach them to.
    #[arg(long = "to", value_name = "ENTITY_ID")]
    to: String,
    /// How many files to upload at once.
    #[arg(long, default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Delete an attachment row whose bytes could not be sent, instead of leaving it.
    #[arg(long)]
    delete_on_failure: bool,
}

#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// The attachments to download.
    #[arg(required = true, value_name = "ATTACHMENT_ID")]
    ids: Vec<i64>,
    /// Where to write: a folder (each file under its attachment's name), or, for one
    /// attachment, a file path. Default: the current folder.
    #[arg(short, long, value_name = "PATH|DIR")]
    output: Option<PathBuf>,
    /// How many files to download at once.
    #[arg(long, default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
}

/// The progress of all transfers together: bytes per file (a retried file starts again at 0)
/// and files done.
struct Tally {
    bytes: Vec<AtomicU64>,
    total: u64,
    files: usize,
    done: AtomicUsize,
    verb: &'static str,
    terminal: bool,
}

impl Tally {
    fn new(files: usize, total: u64, verb: &'static str) -> Arc<Tally> {
        Arc::new(Tally {
            bytes: (0..files).map(|_| AtomicU64::new(0)).collect(),
            total,
            files,
            done: AtomicUsize::new(0),
            verb,
            terminal: std::io::stderr().is_terminal(),
        })
    }

    fn line(&self) -> String {
        let bytes: u64 = self.bytes.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        let total = if self.total > 0 {
            format!(" of {}", human(self.total))
        } else {
            String::new()
        };
        format!(
            "{}: {}/{} files, {}{total}",
            self.verb,
            self.done.load(Ordering::Relaxed),
            self.files,
            human(bytes)
        )
    }

    /// Says a file finished: a plain line when stderr is not a terminal.
    fn finished(&self, what: &str) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if !self.terminal {
            eprintln!("{}", output::escape_controls(what));
        }
    }

    /// The progress callback of transfer `i`: its bytes so far.
    fn of(self: &Arc<Self>, i: usize) -> impl Fn(ion_client::Progress) + Send + Sync + 'static {
        let tally = Arc::clone(self);
        move |p| tally.bytes[i].store(p.done, Ordering::Relaxed)
    }

    /// Awaits `work` with the progress line drawn meanwhile, and ends the line after it.
    async fn around<T>(self: &Arc<Self>, work: impl Future<Output = T>) -> T {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let drawing = tokio::spawn(Arc::clone(self).draw(stopped));
        let out = work.await;
        let _ = stop.send(());
        let _ = drawing.await;
        out
    }

    /// Redraws the progress line on a terminal until `stop` fires.
    async fn draw(self: Arc<Self>, mut stop: tokio::sync::oneshot::Receiver<()>) {
        if !self.terminal {
            return;
        }
        loop {
            eprint!("\r\x1b[2K{}", self.line());
            let _ = std::io::stderr().flush();
            tokio::select! {
                _ = &mut stop => break,
                () = tokio::time::sleep(REDRAW) => {}
            }
        }
        eprint!("\r\x1b[2K{}\n", self.line());
    }
}

/// `1.5 MiB`.
fn human(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes < 1024 * 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB)
    }
}

/// Prints one error line for a file that failed.
fn report_failure(secrets: &Secrets, text: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "error: {}",
        output::escape_controls(&secrets.line(text))
    );
}

/// Prints a JSON line on stdout; `false` when stdout is closed.
fn print_json(value: &serde_json::Value) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", output::json_line(value)).is_ok() && out.flush().is_ok()
}

/// `ion attach FILE... --to ENTITY_ID`.
pub async fn attach(args: AttachArgs) -> ExitCode {
    let target = match target::connect().await {
        Ok(target) => target,
        Err(e) => {
            eprintln!("error: {}", output::escape_controls(&format!("{e:#}")));
            return ExitCode::FAILURE;
        }
    };
    let entity = Id::from(args.to.as_str());
    let sizes: Vec<u64> = args
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .collect();
    let tally = Tally::new(args.files.len(), sizes.iter().sum(), "attaching");
    let client = &target.client;
    let results: Vec<(PathBuf, Result<ion_client::Attachment, ion_client::Error>)> = tally
        .around(
            futures_util::stream::iter(args.files.iter().enumerate())
                .map(|(i, file)| {
                    let tally = Arc::clone(&tally);
                    let entity = entity.clone();
                    async move {
                        let result = client
                            .attach_file(entity, file)
                            .delete_on_failure(args.delete_on_failure)
                            .progress(tally.of(i))
                            .await;
                        let shown = file.display().to_string();
                        match &result {
                            Ok(a) => tally.finished(&format!(
                                "attached {shown} (attachment {}, {})",
                                a.id,
                                human(a.size)
                            )),
                            Err(_) => tally.finished(&format!("failed {shown}")),
                        }
                        (file.clone(), result)
                    }
                })
                .buffer_unordered(usize::from(args.jobs))
                .collect(),
        )
        .await;
    let mut secrets = Secrets::default();
    target.collect_secrets(&mut secrets).await;
    let mut failed = 0usize;
    for (file, result) in results {
        let shown = file.display().to_string();
        match result {
            Ok(a) => {
                let line = json!({
                    "file": shown,
                    "id": a.id,
                    "fileName": a.file_name,
                    "contentType": a.content_type,
                    "size": a.size,
                });
                if !print_json(&secrets.json(line)) {
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                failed += 1;
                let orphan = match e.kind() {
                    ErrorKind::Upload {
                        attachment_id: Some(id),
                        cleanup: Cleanup::Kept | Cleanup::DeleteFailed,
                        ..
                    } => format!(" (attachment {id} is left without its bytes)"),
                    _ => String::new(),
                };
                report_failure(&secrets, &format!("{shown}{orphan}: {e}"));
            }
        }
    }
    if failed > 0 {
        report_failure(
            &secrets,
            &format!("{failed} of {} files failed", args.files.len()),
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `ion download ATTACHMENT_ID... [-o PATH|DIR]`.
pub async fn download(args: DownloadArgs) -> ExitCode {
    let destination = args.output.clone().unwrap_or_else(|| PathBuf::from("."));
    if args.ids.len() > 1 && !destination.is_dir() {
        eprintln!(
            "error: {} is not a folder; with several attachments -o names the folder they go to",
            output::escape_controls(&destination.display().to_string())
        );
        return ExitCode::FAILURE;
    }
    let target = match target::connect().await {
        Ok(target) => target,
        Err(e) => {
            eprintln!("error: {}", output::escape_controls(&format!("{e:#}")));
            return ExitCode::FAILURE;
        }
    };
    let tally = Tally::new(args.ids.len(), 0, "downloading");
    let client = &target.client;
    let results: Vec<(i64, Result<ion_client::Downloaded, ion_client::Error>)> = tally
        .around(
            futures_util::stream::iter(args.ids.iter().copied().enumerate())
                .map(|(i, id)| {
                    let tally = Arc::clone(&tally);
                    let destination = destination.clone();
                    async move {
                        let result = client
                            .download_file(id, destination)
                            .progress(tally.of(i))
                            .await;
                        match &result {
                            Ok(d) => tally.finished(&format!(
                                "downloaded attachment {id} to {} ({})",
                                d.path.display(),
                                human(d.size)
                            )),
                            Err(_) => tally.finished(&format!("failed attachment {id}")),
                        }
                        (id, result)
                    }
                })
                .buffer_unordered(usize::from(args.jobs))
                .collect(),
        )
        .await;
    let mut secrets = Secrets::default();
    target.collect_secrets(&mut secrets).await;
    let mut failed = 0usize;
    for (id, result) in results {
        match result {
            Ok(d) => {
                let line = json!({
                    "id": id,
                    "path": d.path.display().to_string(),
                    "fileName": d.file_name,
                    "contentType": d.content_type,
                    "size": d.size,
                });
                if !print_json(&secrets.json(line)) {
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                failed += 1;
                report_failure(&secrets, &format!("attachment {id}: {e}"));
            }
        }
    }
    if failed > 0 {
        report_failure(
            &secrets,
            &format!("{failed} of {} downloads failed", args.ids.len()),
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
