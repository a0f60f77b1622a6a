//! `ion attach` and `ion download`: files to and from ION's storage through
//! `Client::attach_file` and `Client::download_file`, several at once.
//!
//! stdout holds one JSON line per file done, written and flushed as that file completes;
//! stderr the progress (`progress::Meter`: one line redrawn in place on a terminal, plain lines
//! at a bounded rate and a line per finished file otherwise) and one `error:` line per file
//! that failed, as it fails, naming it and any attachment row it left behind. The exit status
//! is 1 when any failed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{Stream, StreamExt};
use ion_client::{Cleanup, ErrorKind, Id};
use serde_json::json;

use crate::output::{self, Secrets};
use crate::progress::{self, Meter, size};
use crate::target::{self, Target};

/// Files sent or received at once unless `--jobs` says otherwise: enough to hide one file's
/// round trips behind another's bytes, few enough not to crowd one uplink.
const DEFAULT_JOBS: u16 = 4;

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

/// The bytes each transfer has moved so far (a retried file starts again at 0), written by
/// the transfers' progress callbacks and read by the progress line.
struct Moved(Vec<AtomicU64>);

impl Moved {
    fn new(files: usize) -> Arc<Moved> {
        Arc::new(Moved((0..files).map(|_| AtomicU64::new(0)).collect()))
    }

    fn sum(&self) -> u64 {
        self.0.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The progress callback of transfer `i`: its bytes so far.
    fn of(self: &Arc<Self>, i: usize) -> impl Fn(ion_client::Progress) + Send + Sync + 'static {
        let moved = Arc::clone(self);
        move |p| moved.0[i].store(p.done, Ordering::Relaxed)
    }
}

/// Drives `transfers` to their end with the progress line drawn meanwhile, handing each
/// result to `report` as soon as it completes (with the secrets to keep out of what it
/// prints), not after the last.
async fn each_as_done<T>(
    target: &Target,
    meter: &mut Meter,
    moved: &Moved,
    transfers: impl Stream<Item = T>,
    mut report: impl FnMut(&mut Meter, &Secrets, T),
) {
    let mut transfers = std::pin::pin!(transfers);
    let mut secrets = Secrets::default();
    let mut redraw = tokio::time::interval(progress::REDRAW);
    redraw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            biased;
            item = transfers.next() => {
                let Some(item) = item else { break };
                // A refresh during the job brings a new token: each is kept out of the output.
                target.collect_secrets(&mut secrets).await;
                report(meter, &secrets, item);
                meter.update(moved.sum());
            }
            _ = redraw.tick() => meter.update(moved.sum()),
        }
    }
    meter.finish(moved.sum());
}

/// Prints one error line for a file that failed, above the progress line.
fn report_failure(meter: &mut Meter, secrets: &Secrets, text: &str) {
    meter.note(&format!(
        "error: {}",
        output::escape_controls(&secrets.line(text))
    ));
}

/// Prints a JSON line on stdout and flushes it, the progress line cleared first; `false`
/// when stdout is closed.
fn print_json(meter: &mut Meter, value: &serde_json::Value) -> bool {
    meter.clear();
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
    let total: u64 = args
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let moved = Moved::new(args.files.len());
    let mut meter = Meter::bytes("attaching", args.files.len() as u64, Some(total));
    let client = &target.client;
    let transfers = futures_util::stream::iter(args.files.iter().enumerate())
        .map(|(i, file)| {
            let progress = moved.of(i);
            let entity = entity.clone();
            async move {
                let result = client
                    .attach_file(entity, file)
                    .delete_on_failure(args.delete_on_failure)
                    .progress(progress)
                    .await;
                (file, result)
            }
        })
        .buffer_unordered(usize::from(args.jobs));
    let mut failed = 0usize;
    // A closed stdout (`| head -1`) ends the printing, not the uploads under way.
    let mut stdout_open = true;
    each_as_done(
        &target,
        &mut meter,
        &moved,
        transfers,
        |meter, secrets, (file, result)| {
            let shown = file.display().to_string();
            match result {
                Ok(a) => {
                    meter.file_done(&format!(
                        "attached {shown} (attachment {}, {})",
                        a.id,
                        size(a.size)
                    ));
                    let line = json!({
                        "file": shown,
                        "id": a.id,
                        "fileName": a.file_name,
                        "contentType": a.content_type,
                        "size": a.size,
                    });
                    stdout_open = stdout_open && print_json(meter, &secrets.json(line));
                }
                Err(e) => {
                    meter.file_done(&format!("failed {shown}"));
                    failed += 1;
                    let orphan = match e.kind() {
                        ErrorKind::Upload {
                            attachment_id: Some(id),
                            cleanup: Cleanup::Kept | Cleanup::DeleteFailed,
                            ..
                        } => format!(" (attachment {id} is left without its bytes)"),
                        _ => String::new(),
                    };
                    report_failure(meter, secrets, &format!("{shown}{orphan}: {e}"));
                }
            }
        },
    )
    .await;
    finish(&mut meter, failed, args.files.len(), "files", stdout_open)
}

/// The exit status once every transfer ended, with the count of failures on stderr. A closed
/// stdout is the reader's choice, not a failure: the status is then 0.
fn finish(meter: &mut Meter, failed: usize, of: usize, what: &str, stdout_open: bool) -> ExitCode {
    if !stdout_open {
        return ExitCode::SUCCESS;
    }
    if failed > 0 {
        report_failure(
            meter,
            &Secrets::default(),
            &format!("{failed} of {of} {what} failed"),
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
    let moved = Moved::new(args.ids.len());
    let mut meter = Meter::bytes("downloading", args.ids.len() as u64, None);
    let client = &target.client;
    let transfers = futures_util::stream::iter(args.ids.iter().copied().enumerate())
        .map(|(i, id)| {
            let progress = moved.of(i);
            let destination = destination.clone();
            async move {
                let result = client
                    .download_file(id, destination)
                    .progress(progress)
                    .await;
                (id, result)
            }
        })
        .buffer_unordered(usize::from(args.jobs));
    let mut failed = 0usize;
    // A closed stdout ends the printing, not the downloads under way.
    let mut stdout_open = true;
    each_as_done(
        &target,
        &mut meter,
        &moved,
        transfers,
        |meter, secrets, (id, result)| match result {
            Ok(d) => {
                meter.file_done(&format!(
                    "downloaded attachment {id} to {} ({})",
                    d.path.display(),
                    size(d.size)
                ));
                let line = json!({
                    "id": id,
                    "path": d.path.display().to_string(),
                    "fileName": d.file_name,
                    "contentType": d.content_type,
                    "size": d.size,
                });
                stdout_open = stdout_open && print_json(meter, &secrets.json(line));
            }
            Err(e) => {
                meter.file_done(&format!("failed attachment {id}"));
                failed += 1;
                report_failure(meter, secrets, &format!("attachment {id}: {e}"));
            }
        },
    )
    .await;
    finish(&mut meter, failed, args.ids.len(), "downloads", stdout_open)
}
