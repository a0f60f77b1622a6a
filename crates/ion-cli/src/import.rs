//! `ion import OPERATION.graphql --rows FILE.csv|FILE.jsonl`: one operation per row, every
//! value checked against its variable's schema type before anything is sent, an outcome per
//! row in a ledger that a later run resumes from.
//!
//! Columns name variables (`title`), or fields of input objects with dots (`input.title`); a
//! CSV cell is read as the type asks (`3` for an `Int`, `true` for a `Boolean`, a JSON array for
//! a list, a JSON object for a whole input object), a JSON Lines value as JSON. An empty cell
//! is left out; `null` is null.
//!
//! The ledger is JSON Lines, one line per event, flushed as it happens: `sent` before a row's
//! request starts, then `ok` (with the ids the answer holds), `error` or `unknown`. A row
//! whose last line is `sent` was in flight when the import was killed: its outcome is unknown.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, anyhow, bail};
use apollo_compiler::Schema;
use apollo_compiler::ast::{self, Type};
use apollo_compiler::schema::ExtendedType;
use futures_util::StreamExt as _;
use ion_client::OperationKind;
use ion_client::bulk::{Document, Job, Outcome};
use ion_client_build::{SourceFile, files};
use serde_json::{Map, Value, json};

use crate::output::Secrets;
use crate::progress::Meter;

/// Arguments of `ion import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The .graphql file holding the operation (usually a mutation) to run once per row.
    file: PathBuf,
    /// The rows: a CSV file with a header line, or JSON Lines (`.jsonl`, `.ndjson`).
    #[arg(long, value_name = "FILE")]
    rows: PathBuf,
    /// The operation to run when the file defines several.
    #[arg(long, value_name = "NAME")]
    operation: Option<String>,
    /// The schema to check against (default: schema/ion.graphql when the current directory
    /// has one, else the schema shipped with ion).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Check every row and send nothing; exit 1 when a row is bad.
    #[arg(long)]
    dry_run: bool,
    /// Append each row's outcome to this JSON Lines file as it completes.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Skip the rows this ledger says are done (and append to it unless --ledger names
    /// another file): `ok` rows are skipped, `error` rows run again, `unknown` rows are left
    /// alone unless --retry-unknown.
    #[arg(long, value_name = "LEDGER")]
    resume: Option<PathBuf>,
    /// With --resume, send the rows whose outcome is unknown again (check first that they
    /// did not apply).
    #[arg(long, requires = "resume")]
    retry_unknown: bool,
    /// Requests in flight at most (halved on 429s, grown back slowly).
    #[arg(long, default_value_t = ion_client::bulk::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Requests per second at most, for a known quota.
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
}

/// The largest rows file read.
const MAX_ROWS_BYTES: u64 = 1024 * 1024 * 1024;

/// A row's values as read, before they are checked.
struct Row {
    /// 1 for the first data row.
    number: u64,
    /// The line of the file it starts on.
    line: u64,
    cells: Vec<(String, Cell)>,
}

enum Cell {
    Text(String),
    Json(Value),
}

/// One thing wrong with a row.
struct Problem {
    column: String,
    message: String,
}

/// Runs the command. Exit status: 0 every row ok, 1 some row failed (or is bad), 2 some row's
/// outcome is unknown.
pub async fn run(args: ImportArgs) -> ExitCode {
    let mut secrets = Secrets::default();
    match import(&args, &mut secrets).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", secrets.line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn import(args: &ImportArgs, secrets: &mut Secrets) -> anyhow::Result<u8> {
    let text = files::read_source(&args.file)?.text;
    let document = crate::run::with_shared_fragments(&args.file, text)?;
    let source = SourceFile::new(&args.file, document);
    let schema_file = crate::schema_cmd::resolve(args.schema.as_deref())?;
    ion_client_build::validate(&schema_file, std::slice::from_ref(&source))
        .map_err(|d| anyhow!("{d}").context("the operation is not valid against the schema"))?;
    let schema = ion_client_build::load_schema(&schema_file).map_err(|d| anyhow!("{d}"))?;
    let parsed = ion_client_build::parse_document(&source).map_err(|d| anyhow!("{d}"))?;
    let op = crate::run::choose(&parsed, args.operation.as_deref())
        .with_context(|| format!("in {}", args.file.display()))?;
    let kind = match op.operation_type {
        ast::OperationType::Query => OperationKind::Query,
        ast::OperationType::Mutation => OperationKind::Mutation,
        ast::OperationType::Subscription => bail!("subscriptions are not supported: ION has none"),
    };
    let rows = read_rows(&args.rows)?;
    let rows_name = args.rows.display().to_string();

    // Check every row first: a bad row is named with its line and column, and nothing of a
    // dry run is sent.
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for row in rows {
        match variables_of(&schema, op, &row) {
            Ok(variables) => good.push((row.number, row.line, variables)),
            Err(problems) => {
                for p in &problems {
                    eprintln!(
                        "{rows_name}:{}: row {}: column `{}`: {}",
                        row.line, row.number, p.column, p.message
                    );
                }
                bad.push((row.number, problems));
            }
        }
    }
    if args.dry_run {
        eprintln!(
            "ion import: {} row(s) checked: {} good, {} bad; nothing sent (--dry-run)",
            good.len() + bad.len(),
            good.len(),
            bad.len()
        );
        return Ok(u8::from(!bad.is_empty()));
    }

    let done = match &args.resume {
        Some(path) => read_ledger(path)?,
        None => BTreeMap::new(),
    };
    let ledger_path = args.ledger.clone().or_else(|| args.resume.clone());
    let ledger = Arc::new(Mutex::new(Ledger::open(ledger_path.as_deref())?));
    let mut counts = Counts::default();
    for (number, problems) in &bad {
        let message = problems
            .iter()
            .map(|p| format!("column `{}`: {}", p.column, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        lock(&ledger).write(json!({ "row": number, "outcome": "error", "error": message }))?;
        counts.error += 1;
    }
    let mut to_send = Vec::new();
    for (number, line, variables) in good {
        match done.get(&number).map(String::as_str) {
            Some("ok") => counts.skipped += 1,
            Some("unknown" | "sent") if !args.retry_unknown => {
                eprintln!(
                    "{rows_name}:{line}: row {number}: its outcome is unknown (see the ledger); \
                     not sent again: check it, then --retry-unknown"
                );
                counts.unknown += 1;
            }
            _ => to_send.push((number, line, variables)),
        }
    }

    let target = crate::target::connect().await?;
    let mut document = Document::with_kind(&source.text, kind);
    if let Some(name) = &op.name {
        document = document.operation_name(name.as_str());
    }
    let numbers: Vec<(u64, u64)> = to_send.iter().map(|(n, l, _)| (*n, *l)).collect();
    let sent_ledger = Arc::clone(&ledger);
    // Inputs are read only as their requests start: `sent` is on disk before each request.
    let inputs = futures_util::stream::iter(to_send).map(move |(number, _, variables)| {
        lock(&sent_ledger).write_quietly(json!({ "row": number, "outcome": "sent" }));
        variables
    });
    let mut results = Job::new(&target.client)
        .concurrency(args.concurrency)
        .set_rate(args.rate)
        .run_document_stream(document, inputs);
    let mut meter = Meter::new("ion import", "rows", Some(numbers.len() as u64));
    let mut finished = 0u64;
    let mut interrupted = false;
    loop {
        let item = tokio::select! {
            item = results.next() => item,
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                meter.note("ion import: interrupted; waiting for the requests in flight");
                interrupted = true;
                results.stop();
                continue;
            }
        };
        let Some(item) = item else { break };
        let (number, line) = numbers[item.index as usize];
        let outcome = item.outcome();
        let entry = match &item.result {
            Ok(data) => {
                let mut ids = Vec::new();
                collect_ids(data, &mut ids);
                json!({ "row": number, "outcome": "ok", "ids": ids })
            }
            Err(e) => {
                target.collect_secrets(secrets).await;
                let message = secrets.line(&e.to_string());
                meter.note(&format!(
                    "{rows_name}:{line}: row {number}: {outcome}: {message}"
                ));
                json!({ "row": number, "outcome": outcome.as_str(), "error": message })
            }
        };
        match outcome {
            Outcome::Ok => counts.ok += 1,
            Outcome::Error => counts.error += 1,
            Outcome::Unknown => counts.unknown += 1,
        }
        finished += 1;
        meter.update(finished);
        if let Err(e) = lock(&ledger).write(entry) {
            results.stop();
            return Err(e);
        }
    }
    meter.finish(finished);
    lock(&ledger).failure()?;
    let stats = results.stats();
    eprintln!(
        "ion import: {} ok, {} error, {} unknown, {} skipped (ok in the ledger); {} request(s), \
         {} answered 429",
        counts.ok, counts.error, counts.unknown, counts.skipped, stats.started, stats.rate_limited
    );
    Ok(if counts.unknown > 0 {
        2
    } else if counts.error > 0 || interrupted {
        1
    } else {
        0
    })
}

#[derive(Default)]
struct Counts {
    ok: u64,
    error: u64,
    unknown: u64,
    skipped: u64,
}

fn lock(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    ledger
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The ledger file (or none), flushed after every line.
struct Ledger {
    out: Option<(PathBuf, BufWriter<File>)>,
    /// The first write that failed, for the caller that could not be told at once.
    failed: Option<String>,
}

impl Ledger {
    fn open(path: Option<&Path>) -> anyhow::Result<Ledger> {
        let out = match path {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open the ledger {}", path.display()))?;
                Some((path.to_owned(), BufWriter::new(file)))
            }
            None => None,
        };
        Ok(Ledger { out, failed: None })
    }

    fn write(&mut self, entry: Value) -> anyhow::Result<()> {
        let Some((path, out)) = &mut self.out else {
            return Ok(());
        };
        writeln!(out, "{entry}")
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write the ledger {}", path.display()))
    }

    fn write_quietly(&mut self, entry: Value) {
        if let Err(e) = self.write(entry) {
            self.failed.get_or_insert_with(|| format!("{e:#}"));
        }
    }

    fn failure(&self) -> anyhow::Result<()> {
        match &self.failed {
            Some(e) => bail!("{e}"),
            None => Ok(()),
        }
    }
}

/// Each row's last outcome in a ledger.
fn read_ledger(path: &Path) -> anyhow::Result<BTreeMap<u64, String>> {
    let file =
        File::open(path).with_context(|| format!("cannot read the ledger {}", path.display()))?;
    let mut last = BTreeMap::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read the ledger {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        // A line cut short by a kill is the last one: what it would have said is unknown,
        // and the row's `sent` line before it says so.
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let (Some(row), Some(outcome)) = (entry["row"].as_u64(), entry["outcome"].as_str()) else {
            bail!(
                "{}:{}: not a ledger line (expected {{\"row\": N, \"outcome\": ...}})",
                path.display(),
                i + 1
            );
        };
        last.insert(row, outcome.to_owned());
    }
    Ok(last)
}

/// Every `id` in an answer, depth first.
fn collect_ids(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "id" && (v.is_number() || v.is_string()) {
                    out.push(v.clone());
                } else {
                    collect_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

/// The rows of a CSV file (a header line, then one row a line) or of a JSON Lines file
/// (`.jsonl`, `.ndjson`: one object a line).
fn read_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text = files::read_capped(path, MAX_ROWS_BYTES)?;
    let jsonl = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    if jsonl {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a JSON object", path.display(), i + 1))?;
            let Value::Object(map) = value else {
                bail!("{}:{}: not a JSON object", path.display(), i + 1);
            };
            rows.push(Row {
                number: rows.len() as u64 + 1,
                line: i as u64 + 1,
                cells: map.into_iter().map(|(k, v)| (k, Cell::Json(v))).collect(),
            });
        }
        return Ok(rows);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header line", path.display()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: not valid CSV", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        rows.push(Row {
            number: rows.len() as u64 + 1,
            line,
            cells: headers
                .iter()
                .cloned()
                .zip(record.iter().map(|c| Cell::Text(c.to_owned())))
                .collect(),
        });
    }
    Ok(rows)
}

/// A row's variables, every value checked against its type; or every problem found.
fn variables_of(
    schema: &Schema,
    op: &ast::OperationDefinition,
    row: &Row,
) -> Result<Value, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut variables = Map::new();
    for (column, cell) in &row.cells {
        let mut path = column.split('.');
        let name = path.next().unwrap_or_default();
        let Some(def) = op.variables.iter().find(|v| v.name == name) else {
            let declared: Vec<String> = op
                .variables
                .iter()
                .map(|v| format!("${}", v.name))
                .collect();
            problems.push(Problem {
                column: column.clone(),
                message: format!(
                    "unknown column: the operation has no variable ${name} (it declares {})",
                    if declared.is_empty() {
                        "none".to_owned()
                    } else {
                        declared.join(", ")
                    }
                ),
            });
            continue;
        };
        let rest: Vec<&str> = path.collect();
        if let Err(message) = place(schema, &def.ty, &rest, cell, &mut variables, name) {
            problems.push(Problem {
                column: column.clone(),
                message,
            });
        }
    }
    for def in &op.variables {
        let name = def.name.as_str();
        // A column of this variable that was refused already says what is wrong with it.
        let refused = |p: &Problem| p.column == name || p.column.starts_with(&format!("{name}."));
        if problems.iter().any(refused) {
            continue;
        }
        match variables.get(name) {
            None | Some(Value::Null) if def.ty.is_non_null() && def.default_value.is_none() => {
                problems.push(Problem {
                    column: name.to_owned(),
                    message: format!("missing required column (${name}: {})", def.ty),
                })
            }
            Some(value) => required_fields(schema, &def.ty, value, name, &mut problems),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(variables))
    } else {
        Err(problems)
    }
}

/// Puts a cell's value at `path` below `key` of `into`, whose type is `ty`.
fn place(
    schema: &Schema,
    ty: &Type,
    path: &[&str],
    cell: &Cell,
    into: &mut Map<String, Value>,
    key: &str,
) -> Result<(), String> {
    let Some((field, rest)) = path.split_first() else {
        if let Some(value) = coerce(schema, ty, cell)? {
            into.insert(key.to_owned(), value);
        }
        return Ok(());
    };
    if ty.is_list() {
        return Err(format!(
            "`{key}` is a list ({ty}): give it whole, as a JSON array in one column"
        ));
    }
    let type_name = ty.inner_named_type();
    let Some(ExtendedType::InputObject(input)) = schema.types.get(type_name) else {
        return Err(format!(
            "`{key}` is a {type_name}, which has no field `{field}`"
        ));
    };
    let Some(def) = input.fields.get(*field) else {
        return Err(format!("{type_name} has no field `{field}`"));
    };
    if matches!(cell, Cell::Text(t) if t.trim().is_empty()) {
        // An empty cell is left out: its column is checked, no object is made for it.
        return place(schema, &def.ty, rest, cell, &mut Map::new(), field);
    }
    let slot = into
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(map) = slot else {
        return Err(format!("`{key}` is given twice: whole and by field"));
    };
    place(schema, &def.ty, rest, cell, map, field)
}

/// Every required field of the input objects in `value` (of type `ty`) is there.
fn required_fields(
    schema: &Schema,
    ty: &Type,
    value: &Value,
    at: &str,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::Array(items) if ty.is_list() => {
            for item in items {
                required_fields(schema, ty.item_type(), item, at, problems);
            }
        }
        Value::Object(map) => {
            let Some(ExtendedType::InputObject(input)) = schema.types.get(ty.inner_named_type())
            else {
                return;
            };
            for (name, def) in &input.fields {
                let column = format!("{at}.{name}");
                match map.get(name.as_str()) {
                    None | Some(Value::Null)
                        if def.ty.is_non_null() && def.default_value.is_none() =>
                    {
                        problems.push(Problem {
                            column,
                            message: format!("missing required column ({name}: {})", def.ty),
                        });
                    }
                    Some(v) => required_fields(schema, &def.ty, v, &column, problems),
                    None => {}
                }
            }
        }
        _ => {}
    }
}

/// A cell as a value of `ty`: `None` for an empty cell (left out), an error saying what was
/// expected and what was found.
fn coerce(schema: &Schema, ty: &Type, cell: &Cell) -> Result<Option<Value>, String> {
    let value = match cell {
        Cell::Text(text) if text.trim().is_empty() => return Ok(None),
        Cell::Text(text) if text.trim() == "null" => Value::Null,
        Cell::Text(text) => return coerce_text(schema, ty, text.trim()).map(Some),
        Cell::Json(value) => value.clone(),
    };
    coerce_json(schema, ty, value).map(Some)
}

fn coerce_text(schema: &Schema, ty: &Type, text: &str) -> Result<Value, String> {
    let named = ty.inner_named_type();
    let is_object = matches!(schema.types.get(named), Some(ExtendedType::InputObject(_)));
    if ty.is_list() || is_object {
        let value: Value = serde_json::from_str(text).map_err(|_| {
            let what = if ty.is_list() {
                "a JSON array"
            } else {
                "a JSON object"
            };
            format!("expected {what} for {ty}, found `{}`", clip(text))
        })?;
        return coerce_json(schema, ty, value);
    }
    scalar(schema, named.as_str(), ty, Scalar::Text(text))
}

fn coerce_json(schema: &Schema, ty: &Type, value: Value) -> Result<Value, String> {
    if value.is_null() {
        if ty.is_non_null() {
            return Err(format!("null for the required {ty}"));
        }
        return Ok(Value::Null);
    }
    if ty.is_list() {
        let items = match value {
            Value::Array(items) => items,
            // GraphQL's input coercion: one value where a list is expected is a list of one.
            one => vec![one],
        };
        let item_ty = ty.item_type();
        return items
            .into_iter()
            .map(|v| coerce_json(schema, item_ty, v))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    let named = ty.inner_named_type();
    if let Some(ExtendedType::InputObject(input)) = schema.types.get(named) {
        let Value::Object(map) = value else {
            return Err(format!(
                "expected a JSON object for {ty}, found {}",
                clip(&value.to_string())
            ));
        };
        let mut out = Map::new();
        for (k, v) in map {
            let Some(def) = input.fields.get(k.as_str()) else {
                return Err(format!("{named} has no field `{k}`"));
            };
            out.insert(
                k.clone(),
                coerce_json(schema, &def.ty, v).map_err(|e| format!("{k}: {e}"))?,
            );
        }
        return Ok(Value::Object(out));
    }
    match &value {
        Value::String(s) => scalar(schema, named.as_str(), ty, Scalar::Text(s)),
        other => scalar(schema, named.as_str(), ty, Scalar::Json(other)),
    }
}

enum Scalar<'a> {
    Text(&'a str),
    Json(&'a Value),
}

/// A scalar or enum value of the type named `name`.
fn scalar(schema: &Schema, name: &str, ty: &Type, value: Scalar<'_>) -> Result<Value, String> {
    let found = || match &value {
        Scalar::Text(t) => format!("`{}`", clip(t)),
        Scalar::Json(v) => clip(&v.to_string()),
    };
    let expected = |what: &str| Err(format!("expected {what} for {ty}, found {}", found()));
    match (name, &value) {
        ("Int", Scalar::Json(Value::Number(n))) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(Value::from(i)),
            _ => expected("a 32-bit integer"),
        },
        ("Int", Scalar::Text(t)) => match t.parse::<i32>() {
            Ok(i) => Ok(Value::from(i)),
            Err(_) => expected("a 32-bit integer"),
        },
        ("Float", Scalar::Json(Value::Number(n))) => Ok(Value::Number(n.clone())),
        ("Float", Scalar::Text(t)) => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::from(f)),
            _ => expected("a number"),
        },
        ("Boolean", Scalar::Json(Value::Bool(b))) => Ok(Value::Bool(*b)),
        ("Boolean", Scalar::Text(t)) if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        ("Boolean", Scalar::Text(t)) if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        ("Boolean", _) => expected("true or false"),
        ("String", Scalar::Text(t)) => Ok(Value::from(*t)),
        ("ID", Scalar::Text(t)) => Ok(Value::from(*t)),
        ("ID", Scalar::Json(Value::Number(n))) if n.is_i64() => Ok(Value::Number(n.clone())),
        ("DateTime", Scalar::Text(t)) => match t.parse::<jiff::Timestamp>() {
            Ok(_) => Ok(Value::from(*t)),
            Err(_) => expected("an ISO-8601 date-time with an offset (2024-01-15T08:00:00Z)"),
        },
        ("Date", Scalar::Text(t)) => match t.parse::<jiff::civil::Date>() {
            Ok(_) => Ok(Value::from(*t)),
            Err(_) => expected("a date (2024-01-15)"),
        },
        ("Decimal", Scalar::Json(Value::Number(n))) => Ok(Value::Number(n.clone())),
        ("Decimal", Scalar::Text(t)) if is_decimal(t) => Ok(Value::from(*t)),
        ("Decimal", _) => expected("a decimal number"),
        ("JSONString", Scalar::Text(t)) => match serde_json::from_str::<Value>(t) {
            Ok(_) => Ok(Value::from(*t)),
            Err(_) => expected("JSON text"),
        },
        ("JSONString", Scalar::Json(v)) => Ok(Value::from(v.to_string())),
        _ => match schema.types.get(name) {
            Some(ExtendedType::Enum(e)) => match value {
                Scalar::Text(t) if e.values.contains_key(t) => Ok(Value::from(t)),
                _ => {
                    let values: Vec<&str> = e.values.keys().map(|k| k.as_str()).take(12).collect();
                    let more = if e.values.len() > 12 { ", ..." } else { "" };
                    expected(&format!("one of {}{more}", values.join(", ")))
                }
            },
            Some(ExtendedType::Scalar(_)) if !is_builtin(name) => Ok(match value {
                Scalar::Text(t) => Value::from(t),
                Scalar::Json(v) => v.clone(),
            }),
            _ => expected(match name {
                "Int" => "a 32-bit integer",
                "Float" => "a number",
                "DateTime" => "an ISO-8601 date-time string",
                "Date" => "a date string",
                _ => "a string",
            }),
        },
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "Int" | "Float" | "String" | "Boolean" | "ID")
}

/// `-12`, `3.50`, `1e-3`: what PostgreSQL's numeric reads.
fn is_decimal(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction) && exponent_ok
}

/// A value quoted in a message: its first 40 characters.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    crate::output::escape_controls(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for ok in ["1", "-12", "3.50", ".5", "5.", "1e-3", "+2E10"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".", "1.2.3", "abc", "1e", "--1", "1,5"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_collected_depth_first() {
        let mut ids = Vec::new();
        collect_ids(
            &json!({"createRun": {"run": {"id": 7, "steps": [{"id": "8"}]}}}),
            &mut ids,
        );
        assert_eq!(ids, [json!(7), json!("8")]);
    }
}
