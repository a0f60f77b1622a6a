//! `ion export QUERY.graphql [--format jsonl|csv] [-o FILE] [--state FILE] [--page-size N]`:
//! every node of a paginated query, one per line, with one page in memory; a state file to
//! resume an interrupted export and to export only what changed since the last one.
//!
//! The state file is JSON, rewritten (through a temporary file and a rename) after each page
//! is written and flushed: the cursor after that page, the watermark this run filters on, the
//! latest `_updated` exported so far, and whether the export completed. An interrupted export
//! resumes after its last recorded page, appending to its output; a completed one makes the
//! next run fill the query's watermark variable (`$updatedSince` unless
//! `--watermark-variable` names another) with the latest `_updated` it exported.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, anyhow, bail};
use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::{Selection, SelectionSet};
use ion_client::RawRequest;
use ion_client::pagination::{NextPage, PageFollower};
use ion_client_build::pagination;
use ion_client_build::{SourceFile, files};
use serde_json::{Map, Value};

use crate::output::{self, Secrets};
use crate::progress::Meter;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// A header line, then one row per node: columns are the dotted paths of the node's
    /// selection; lists and objects inside lists are JSON.
    Csv,
}

/// Arguments of `ion export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The .graphql file holding a query that pages (`$after`, `pageInfo { hasNextPage
    /// endCursor }`, `edges { node }`).
    file: PathBuf,
    /// The output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Where to write (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Record progress here: resume an interrupted export, or export only what changed since
    /// the last completed one.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Nodes per page (sets `$first`, which the query must declare). Halved automatically
    /// when ION answers 502 or 504 on a large page.
    #[arg(long, value_name = "N")]
    page_size: Option<u32>,
    /// Variables as a JSON object, or @path to a JSON file.
    #[arg(long, value_name = "JSON|@path")]
    variables: Option<String>,
    /// The operation to run when the file defines several.
    #[arg(long, value_name = "NAME")]
    operation: Option<String>,
    /// The query's variable that takes the watermark (a `DateTime` to filter `_updated` on).
    #[arg(long, value_name = "NAME", default_value = "updatedSince")]
    watermark_variable: String,
    /// The schema to validate against (default: schema/ion.graphql when the current directory
    /// has one, else the schema shipped with ion).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
}

/// What the state file holds.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
struct State {
    /// The cursor after the last page written; `None` before the first.
    after: Option<String>,
    /// The watermark this run filters on (`None`: everything).
    since: Option<String>,
    /// The latest `_updated` exported by this run and the ones it continues.
    latest: Option<String>,
    /// Nodes written by this run so far.
    nodes: u64,
    /// The output file's length after the last page written: a resumed export cuts what a
    /// kill left after it (a page written whose state was not), so no node is repeated.
    #[serde(default)]
    bytes: u64,
    /// Whether the last page was written.
    complete: bool,
}

/// Runs the command.
pub async fn run(args: ExportArgs) -> ExitCode {
    let mut secrets = Secrets::default();
    match export(&args, &mut secrets).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if crate::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", secrets.line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn export(args: &ExportArgs, secrets: &mut Secrets) -> anyhow::Result<()> {
    let text = files::read_source(&args.file)?.text;
    let document = crate::run::with_shared_fragments(&args.file, text)?;
    let source = SourceFile::new(&args.file, document);
    let schema_file = crate::schema_cmd::resolve(args.schema.as_deref())?;
    ion_client_build::validate(&schema_file, std::slice::from_ref(&source))
        .map_err(|d| anyhow!("{d}").context("the query is not valid against the schema"))?;
    let parsed = ion_client_build::parse_document(&source).map_err(|d| anyhow!("{d}"))?;
    let op = crate::run::choose(&parsed, args.operation.as_deref())
        .with_context(|| format!("in {}", args.file.display()))?;
    let name = op.name.as_ref().map(|n| n.to_string());
    if op.operation_type != apollo_compiler::ast::OperationType::Query {
        bail!(
            "ion export follows a query's pages; {} is not a query",
            name.as_deref().unwrap_or("the operation")
        );
    }
    let path = pagination::check(&schema_file, &source, name.as_deref())
        .map_err(|why| {
            anyhow!(
                "ion export needs {}; in {}, {why}",
                pagination::REQUIREMENT,
                name.as_deref().unwrap_or("the operation")
            )
        })?
        .path;
    let declares = |var: &str| op.variables.iter().any(|v| v.name == var);
    let columns = match args.format {
        Format::Csv => node_columns(&schema_file, &source, name.as_deref(), &path)?,
        Format::Jsonl => Vec::new(),
    };

    let mut variables = match &args.variables {
        Some(raw) => crate::run::parse_variables(raw)?,
        None => Value::Object(Map::new()),
    };
    let mut page_size = match args.page_size {
        Some(_) if !declares("first") => bail!(
            "--page-size sets $first, which {} does not declare",
            name.as_deref().unwrap_or("the query")
        ),
        Some(n) => Some(n.max(1)),
        None if declares("first") => Some(first_of(op, &variables)),
        None => None,
    };

    // Resume an interrupted export, or start one after the last completed one.
    let previous = match &args.state {
        Some(path) if path.exists() => Some(read_state(path)?),
        _ => None,
    };
    let mut state = match previous {
        Some(s) if !s.complete => s,
        Some(done) => State {
            since: done.latest.or(done.since),
            ..State::default()
        },
        None => State::default(),
    };
    let resuming = state.after.is_some();
    if let (Some(since), true) = (&state.since, declares(&args.watermark_variable)) {
        variables[&args.watermark_variable] = Value::from(since.as_str());
    }
    if let Some(after) = &state.after {
        variables["after"] = Value::from(after.as_str());
    }

    let out: Box<dyn Write> = match &args.output {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(!resuming)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            if resuming {
                file.set_len(state.bytes)
                    .with_context(|| format!("cannot resume {}", path.display()))?;
            }
            let mut file = file;
            std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0))?;
            Box::new(file)
        }
        None => Box::new(std::io::stdout()),
    };
    let written = Arc::new(AtomicU64::new(if resuming { state.bytes } else { 0 }));
    let out: Box<dyn Write> = Box::new(Counting {
        inner: out,
        written: Arc::clone(&written),
    });
    let mut sink = Sink::new(args.format, out, columns, !resuming)?;

    let target = crate::target::connect().await?;
    // Progress counts this run's nodes (a resumed export's rate is its own).
    let resumed_nodes = state.nodes;
    let mut meter = Meter::new("ion export", "nodes", None);
    let to_terminal = args.output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut follower = PageFollower::new();
    if let Some(after) = &state.after {
        follower.starting_after(after.as_str());
    }
    loop {
        if let Some(n) = page_size {
            variables["first"] = Value::from(n);
        }
        let response = target
            .client
            .execute_raw(
                RawRequest::query(&source.text)
                    .set_operation_name(name.as_deref())
                    .variables(variables.clone()),
            )
            .await;
        target.collect_secrets(secrets).await;
        let response = match response {
            Ok(response) => secrets.json(response),
            // A page too large for the gateway's 30 s: ask for a smaller one.
            Err(e) if matches!(e.status(), Some(502 | 504)) && page_size.is_some_and(|n| n > 1) => {
                let smaller = page_size.map_or(1, |n| (n / 2).max(1));
                meter.note(&format!(
                    "ion export: {}; asking for pages of {smaller} instead",
                    secrets.line(&e.to_string())
                ));
                page_size = Some(smaller);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let (connection, page) =
            crate::run::connection_page(&response, &path, follower.pages() + 1)?;
        // Nodes written to the terminal the progress line is drawn on start on a clean line.
        if to_terminal {
            meter.clear();
        }
        for node in page {
            sink.write(node)?;
            state.nodes += 1;
            if let Some(updated) = node.get("_updated").and_then(Value::as_str) {
                state.latest = Some(later(state.latest.take(), updated));
            }
        }
        sink.flush()?;
        state.bytes = written.load(Ordering::Relaxed);
        meter.update(state.nodes - resumed_nodes);
        let next = follower.follow_json(connection)?;
        match next {
            NextPage::After(cursor) => {
                variables["after"] = Value::from(cursor.as_str());
                state.after = Some(cursor);
            }
            NextPage::Done => {
                state.after = None;
                state.complete = true;
            }
        }
        if let Some(path) = &args.state {
            write_state(path, &state)?;
        }
        if state.complete {
            break;
        }
    }
    meter.finish(state.nodes - resumed_nodes);
    eprintln!(
        "ion export: {} node(s) from {} page(s){}",
        state.nodes,
        follower.pages(),
        match &state.since {
            Some(since) => format!(", updated after {since}"),
            None => String::new(),
        }
    );
    Ok(())
}

/// `$first`'s value: given, else its default, else 100.
fn first_of(op: &apollo_compiler::ast::OperationDefinition, variables: &Value) -> u32 {
    if let Some(n) = variables.get("first").and_then(Value::as_u64) {
        return u32::try_from(n).unwrap_or(u32::MAX).max(1);
    }
    op.variables
        .iter()
        .find(|v| v.name == "first")
        .and_then(|v| v.default_value.as_ref())
        .and_then(|d| d.to_i32())
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(100)
        .max(1)
}

/// The later of two `_updated` values (as instants when both read as such).
fn later(current: Option<String>, candidate: &str) -> String {
    let Some(current) = current else {
        return candidate.to_owned();
    };
    let newer = match (
        current.parse::<jiff::Timestamp>(),
        candidate.parse::<jiff::Timestamp>(),
    ) {
        (Ok(a), Ok(b)) => b > a,
        _ => candidate > current.as_str(),
    };
    if newer { candidate.to_owned() } else { current }
}

fn read_state(path: &Path) -> anyhow::Result<State> {
    let text = files::read_capped(path, 1024 * 1024)?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an export state file (remove it to start over)",
            path.display()
        )
    })
}

/// Writes the state through a temporary file and a rename, so a kill leaves the old state
/// or the new one, never half of one.
fn write_state(path: &Path, state: &State) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_string_pretty(state).unwrap_or_default();
    std::fs::write(&tmp, text + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write the state file {}", path.display()))
}

/// The dotted paths of the node's selection, in order: a leaf, or a list (as JSON), is a
/// column; an object's fields are columns below its name; fragments add their fields.
fn node_columns(
    schema_file: &SourceFile,
    source: &SourceFile,
    name: Option<&str>,
    path: &[String],
) -> anyhow::Result<Vec<String>> {
    let schema = ion_client_build::load_schema(schema_file).map_err(|d| anyhow!("{d}"))?;
    let document = ExecutableDocument::parse_and_validate(&schema, &source.text, &source.path)
        .map_err(|e| anyhow!("{}", e.errors))?;
    let operation = document
        .operations
        .get(name)
        .map_err(|_| anyhow!("no operation to export"))?;
    let mut set = &operation.selection_set;
    let wanted: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .chain(["edges", "node"])
        .collect();
    for key in wanted {
        set = field_set(&document, set, key)
            .ok_or_else(|| anyhow!("the selection has no `{key}` on the way to the nodes"))?;
    }
    let mut columns = Vec::new();
    collect_columns(&document, set, "", &mut columns, 0);
    Ok(columns)
}

/// The selection set of the field answering `key` in `set` (through fragments).
fn field_set<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    key: &str,
) -> Option<&'a SelectionSet> {
    set.selections.iter().find_map(|s| match s {
        Selection::Field(f) if f.response_key() == key => Some(&f.selection_set),
        Selection::Field(_) => None,
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.fragment_name)
            .and_then(|f| field_set(document, &f.selection_set, key)),
        Selection::InlineFragment(inline) => field_set(document, &inline.selection_set, key),
    })
}

/// Fragments nest at most this deep here; a validated document has no cycle, and this bounds
/// the walk anyway.
const MAX_DEPTH: usize = 64;

fn collect_columns(
    document: &ExecutableDocument,
    set: &SelectionSet,
    prefix: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                let column = format!("{prefix}{}", f.response_key());
                if f.selection_set.selections.is_empty() || f.ty().is_list() {
                    if !out.contains(&column) {
                        out.push(column);
                    }
                } else {
                    let below = format!("{column}.");
                    collect_columns(document, &f.selection_set, &below, out, depth + 1);
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                    collect_columns(document, &fragment.selection_set, prefix, out, depth + 1);
                }
            }
            Selection::InlineFragment(inline) => {
                collect_columns(document, &inline.selection_set, prefix, out, depth + 1);
            }
        }
    }
}

/// Counts the bytes written through it.
struct Counting {
    inner: Box<dyn Write>,
    written: Arc<AtomicU64>,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where nodes go, in their format.
enum Sink {
    Jsonl(BufWriter<Box<dyn Write>>),
    Csv {
        // Boxed: the CSV writer holds its buffer and state inline.
        writer: Box<csv::Writer<Box<dyn Write>>>,
        columns: Vec<String>,
    },
}

impl Sink {
    fn new(
        format: Format,
        out: Box<dyn Write>,
        columns: Vec<String>,
        header: bool,
    ) -> anyhow::Result<Sink> {
        Ok(match format {
            Format::Jsonl => Sink::Jsonl(BufWriter::new(out)),
            Format::Csv => {
                let mut writer = Box::new(csv::Writer::from_writer(out));
                if header {
                    writer.write_record(&columns)?;
                }
                Sink::Csv { writer, columns }
            }
        })
    }

    fn write(&mut self, node: &Value) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(out) => writeln!(out, "{}", output::json_line(node))?,
            Sink::Csv { writer, columns } => {
                let cells: Vec<String> = columns.iter().map(|c| cell(node, c)).collect();
                writer.write_record(&cells)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(out) => out.flush()?,
            Sink::Csv { writer, .. } => writer.flush()?,
        }
        Ok(())
    }
}

/// A node's value at a dotted column as CSV text: strings as they are, null and absent as an
/// empty cell, numbers and booleans as JSON, lists and objects as JSON. Control characters
/// are escaped, as everything `ion` prints.
fn cell(node: &Value, column: &str) -> String {
    let mut value = node;
    for key in column.split('.') {
        value = value.get(key).unwrap_or(&Value::Null);
    }
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    output::escape_controls(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_follow_dotted_paths() {
        let node = json!({"id": 3, "part": {"partNumber": "P-1"}, "tags": ["a"], "note": null});
        assert_eq!(cell(&node, "id"), "3");
        assert_eq!(cell(&node, "part.partNumber"), "P-1");
        assert_eq!(cell(&node, "tags"), "[\"a\"]");
        assert_eq!(cell(&node, "note"), "");
        assert_eq!(cell(&node, "missing.deeper"), "");
    }

    #[test]
    fn the_latest_update_wins_as_an_instant() {
        let a = "2024-01-15T08:00:00.000000+00:00";
        let b = "2024-01-15T09:00:00.000000+01:00";
        assert_eq!(
            later(Some(a.into()), b),
            a,
            "09:00+01:00 is 08:00Z, not later"
        );
        assert_eq!(later(None, b), b);
        assert_eq!(
            later(Some(b.into()), "2025-01-01T00:00:00Z"),
            "2025-01-01T00:00:00Z"
        );
    }
}
