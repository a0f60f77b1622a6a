//! `ion run FILE [--variables JSON|@path] [--operation NAME] [--all-pages]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use apollo_compiler::ast;
use ion_client::pagination::{NextPage, PageFollower};
use ion_client::{OperationKind, RawRequest};
use ion_client_build::pagination::{self, NotPaginated};
use ion_client_build::{SourceFile, files};
use serde_json::Value;

use crate::output::{self, Secrets};
use crate::progress::Meter;

/// Arguments of `ion run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The .graphql file holding the operation (and any fragments it uses).
    file: PathBuf,
    /// Variables as a JSON object, or @path to a JSON file.
    #[arg(long, value_name = "JSON|@path")]
    variables: Option<String>,
    /// The operation to run when the file defines several.
    #[arg(long, value_name = "NAME")]
    operation: Option<String>,
    /// Follow the `$after` cursor through every page and print each node as one JSON line.
    #[arg(long)]
    all_pages: bool,
    /// The schema to validate the file against before sending it (default: schema/ion.graphql
    /// when the current directory has one, else the schema shipped with ion).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Send the file without validating it locally first (for fields newer than your schema).
    #[arg(long)]
    no_validate: bool,
}

/// The largest `--variables @path` file `ion run` reads.
const MAX_VARIABLES_BYTES: u64 = 16 * 1024 * 1024;

/// Runs the command: the response on stdout, errors on stderr, a failure exit code when the
/// request failed or the response carries GraphQL errors. Nothing printed holds the access
/// token, the client secret or a raw control character (`crate::output`).
pub async fn run(args: RunArgs) -> ExitCode {
    if args.all_pages {
        return all_pages(args).await;
    }
    let mut secrets = Secrets::default();
    let response = match execute(&args, &mut secrets).await {
        Ok(response) => response,
        Err(e) => {
            eprintln!("error: {}", secrets.line(&format!("{e:#}")));
            return ExitCode::FAILURE;
        }
    };
    // Pretty for people, one line for pipes.
    let text = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        output::json_pretty(&response)
    } else {
        output::json_line(&response)
    };
    {
        use std::io::Write as _;
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
    let errors = response
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty());
    match errors {
        Some(errors) => {
            for e in errors.iter().take(output::MAX_LISTED_ERRORS) {
                let message = e.get("message").and_then(Value::as_str).unwrap_or("?");
                eprintln!(
                    "error: GraphQL: {}",
                    output::escape_controls(&output::excerpt(message))
                );
            }
            if errors.len() > output::MAX_LISTED_ERRORS {
                eprintln!(
                    "error: GraphQL: and {} more error(s), all in the response above",
                    errors.len() - output::MAX_LISTED_ERRORS
                );
            }
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// Sends the prepared document; the response comes back without the secrets `ion` holds
/// (which `secrets` collects on the way).
async fn execute(args: &RunArgs, secrets: &mut Secrets) -> anyhow::Result<Value> {
    let prepared = prepare(args)?;
    let target = crate::target::connect().await?;
    let response = target
        .client
        .execute_raw(
            RawRequest::new(&prepared.document, prepared.kind)
                .set_operation_name(prepared.name.as_deref())
                .variables(prepared.variables),
        )
        .await;
    target.collect_secrets(secrets).await;
    Ok(secrets.json(response?))
}

/// A document ready to send: checked locally, variables parsed and complete.
struct Prepared {
    document: String,
    name: Option<String>,
    kind: OperationKind,
    variables: Value,
    /// Where the pages are, by `ion_client_build::pagination`'s rule (checked for
    /// `--all-pages` only).
    connection: Result<Vec<String>, NotPaginated>,
}

/// Reads the file, adds the shared fragments it uses, validates it against the schema (unless
/// `--no-validate`) with the build's located diagnostics, picks the operation, and checks that
/// every required variable is given: nothing is sent for a document the server would refuse.
fn prepare(args: &RunArgs) -> anyhow::Result<Prepared> {
    let text = files::read_source(&args.file)?.text;
    let document = with_shared_fragments(&args.file, text)?;
    let source = SourceFile::new(&args.file, document);
    let parsed = ion_client_build::parse_document(&source).map_err(|d| anyhow!("{d}"))?;
    let op = choose(&parsed, args.operation.as_deref())
        .with_context(|| format!("in {}", args.file.display()))?;
    let kind = match op.operation_type {
        ast::OperationType::Query => OperationKind::Query,
        ast::OperationType::Mutation => OperationKind::Mutation,
        ast::OperationType::Subscription => bail!("subscriptions are not supported: ION has none"),
    };
    let schema = if args.no_validate && !args.all_pages {
        None
    } else {
        Some(crate::schema_cmd::resolve(args.schema.as_deref())?)
    };
    if let (false, Some(schema)) = (args.no_validate, &schema) {
        ion_client_build::validate(schema, std::slice::from_ref(&source)).map_err(|d| {
            anyhow!("{d}").context(
                "the operation is not valid against the schema (--no-validate sends it anyway)",
            )
        })?;
    }
    let variables = match &args.variables {
        None => Value::Object(Default::default()),
        Some(raw) => parse_variables(raw)?,
    };
    check_required(op, &variables)?;
    let name = op.name.as_ref().map(|n| n.to_string());
    let connection = match &schema {
        Some(schema) if args.all_pages => {
            pagination::check(schema, &source, name.as_deref()).map(|c| c.path)
        }
        _ => Err(NotPaginated::NoAfterVariable),
    };
    Ok(Prepared {
        document: source.text,
        name,
        kind,
        variables,
        connection,
    })
}

/// Every variable declared non-null without a default must be given, and not as `null`.
fn check_required(op: &ast::OperationDefinition, variables: &Value) -> anyhow::Result<()> {
    let missing: Vec<String> = op
        .variables
        .iter()
        .filter(|v| v.ty.is_non_null() && v.default_value.is_none())
        .filter(|v| variables.get(v.name.as_str()).is_none_or(Value::is_null))
        .map(|v| format!("${}: {}", v.name, v.ty))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "{} requires {} (give them with --variables '{{\"{}\": ...}}')",
        op.name.as_ref().map_or("the operation", |n| n.as_str()),
        missing.join(", "),
        missing[0]
            .trim_start_matches('$')
            .split(':')
            .next()
            .unwrap_or_default()
    )
}

/// Appends the fragments the file uses from the `fragments/` folder beside it (the layout of
/// `queries/`) and from the files beside it, as the build does, so `ion run queries/x.graphql`
/// sends what the typed function sends. Folders are searched and files read by the build's
/// rules (`ion_client_build::files`).
///
/// A neighbour that cannot be read (a symbolic link, a FIFO, a device, an oversized file) or
/// does not parse is left out: it matters only when a fragment the file uses is defined
/// nowhere else, since it may be defined there, and then the error names every file left out.
/// A fragment defined nowhere at all is left to validation (or the server) to report.
pub(crate) fn with_shared_fragments(file: &Path, text: String) -> anyhow::Result<String> {
    // `x.graphql` has the empty path as its parent: its folder is the current one.
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut found = files::search(dir, false);
    let fragments = dir.join("fragments");
    if fragments.is_dir() {
        let below = files::search(&fragments, true);
        found.files.extend(below.files);
        found.refused.extend(below.refused);
    }
    let mut left_out: Vec<String> = found.refused.iter().map(ToString::to_string).collect();
    let own = std::fs::canonicalize(file).ok();
    let mut library = Vec::new();
    for path in found.files {
        if std::fs::canonicalize(&path).ok() == own {
            continue;
        }
        match files::read_source(&path) {
            Ok(source) => library.push(source),
            Err(e) => left_out.push(e.to_string()),
        }
    }
    let source = SourceFile::new(file, text);
    let assembled =
        ion_client_build::with_fragments(&source, &library).map_err(|d| anyhow!("{d}"))?;
    // One line per syntax error: the file and where, not apollo-compiler's full report.
    left_out.extend(
        assembled
            .skipped
            .iter()
            .flat_map(|d| &d.0)
            .map(ToString::to_string),
    );
    if !assembled.missing.is_empty() && !left_out.is_empty() {
        bail!(
            "{} uses {}, defined in no file beside it that could be read; these were left out:\n{}",
            file.display(),
            assembled
                .missing
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
            left_out
                .iter()
                .map(|why| format!("  {}", why.trim_end()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(assembled.text)
}

/// `--all-pages`: every node of the paginated connection as one JSON line on stdout, with a
/// progress line on stderr when it is a terminal.
pub async fn all_pages(args: RunArgs) -> ExitCode {
    let mut secrets = Secrets::default();
    match follow_pages(&args, &mut secrets).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if crate::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", secrets.line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn follow_pages(args: &RunArgs, secrets: &mut Secrets) -> anyhow::Result<()> {
    use std::io::Write as _;
    let Prepared {
        document,
        name,
        kind,
        mut variables,
        connection,
    } = prepare(args)?;
    if kind == OperationKind::Mutation {
        bail!(
            "--all-pages follows a query's cursor; {} is a mutation, and repeating it could write more than once",
            name.as_deref().unwrap_or("the operation")
        );
    }
    let path = match connection {
        Ok(path) => path,
        Err(why) => bail!(
            "--all-pages needs {}; in {}, {why}",
            pagination::REQUIREMENT,
            name.as_deref().unwrap_or("the operation")
        ),
    };
    let target = crate::target::connect().await?;
    target.collect_secrets(secrets).await;
    let mut meter = Meter::new("ion run", "nodes", None);
    let to_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut stdout = std::io::stdout().lock();
    let mut nodes = 0u64;
    // The library's cursor rules: a cursor seen before (a cycle), a run of empty pages or a
    // missing endCursor stop with a typed reason instead of looping.
    let mut follower = PageFollower::new();
    if let Some(after) = variables.get("after").and_then(Value::as_str) {
        follower.starting_after(after);
    }
    loop {
        let response = target
            .client
            .execute_raw(
                RawRequest::new(&document, kind)
                    .set_operation_name(name.as_deref())
                    .variables(variables.clone()),
            )
            .await;
        // A refresh between pages brings a new token: each is removed from what follows.
        target.collect_secrets(secrets).await;
        let response = secrets.json(response?);
        let (connection, page) = connection_page(&response, &path, follower.pages() + 1)?;
        // Nodes written to the terminal the progress line is drawn on start on a clean line.
        if to_terminal {
            meter.clear();
        }
        for node in page {
            writeln!(stdout, "{}", output::json_line(node))?;
            nodes += 1;
        }
        let next = follower.follow_json(connection)?;
        meter.update(nodes);
        match next {
            NextPage::After(cursor) => {
                if let Value::Object(map) = &mut variables {
                    map.insert("after".into(), Value::String(cursor));
                }
            }
            NextPage::Done => break,
        }
    }
    meter.finish(nodes);
    stdout.flush()?;
    Ok(())
}

/// One page of a connection answered to a raw request: the connection at `path` under `data`
/// (null where the answer lacks it) and its non-null `edges[].node`s. GraphQL errors in the
/// answer fail the page, named by its number.
pub(crate) fn connection_page<'r>(
    response: &'r Value,
    path: &[String],
    page: u64,
) -> anyhow::Result<(&'r Value, Vec<&'r Value>)> {
    if let Some(errors) = response
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        bail!(
            "GraphQL errors on page {page}: {}",
            output::excerpt(&output::json_line(&Value::Array(errors.clone())))
        );
    }
    let mut connection = response.get("data").unwrap_or(&Value::Null);
    for key in path {
        connection = connection.get(key).unwrap_or(&Value::Null);
    }
    let nodes = connection
        .get("edges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|edge| edge.get("node").filter(|n| !n.is_null()))
        .collect();
    Ok((connection, nodes))
}

/// `--variables`: inline JSON or `@path`; must be a JSON object.
pub(crate) fn parse_variables(raw: &str) -> anyhow::Result<Value> {
    let (text, origin) = match raw.strip_prefix('@') {
        Some(path) => (
            files::read_capped(Path::new(path), MAX_VARIABLES_BYTES)?,
            path.to_owned(),
        ),
        None => (raw.to_owned(), "--variables".to_owned()),
    };
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{origin} is not valid JSON"))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(Default::default())),
        other => bail!(
            "{origin} must be a JSON object of variables, found {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "something else",
            }
        ),
    }
}

/// Picks the operation to run: the one named, or the only one.
pub(crate) fn choose<'d>(
    document: &'d ast::Document,
    wanted: Option<&str>,
) -> anyhow::Result<&'d ast::OperationDefinition> {
    let operations: Vec<&ast::OperationDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| d.as_operation_definition().map(|op| &**op))
        .collect();
    let names = || {
        operations
            .iter()
            .map(|op| op.name.as_ref().map_or("(anonymous)", |n| n.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (wanted, operations.as_slice()) {
        (Some(w), ops) => ops
            .iter()
            .copied()
            .find(|op| op.name.as_ref().is_some_and(|n| n == w))
            .with_context(|| format!("no operation named {w}; the file defines {}", names())),
        (None, []) => bail!("the file defines no operation"),
        (None, [one]) => Ok(one),
        (None, _) => bail!(
            "the file defines several operations ({}); choose one with --operation",
            names()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> ast::Document {
        ion_client_build::parse_document(&SourceFile::new("t.graphql", doc)).expect("parses")
    }

    #[test]
    fn choosing_an_operation() {
        let doc = parse(
            r#"
            # a comment with mutation { x }
            fragment F on Run { id title }
            query A($f: RunsInputFilters = {title: {eq: "}"}}) { runs(filters: $f) { edges { node { ...F } } } }
            mutation B($input: CreateRunInput!) { createRun(input: $input) { run { id } } }
        "#,
        );
        let b = choose(&doc, Some("B")).expect("found");
        assert_eq!(b.operation_type, ast::OperationType::Mutation);
        assert_eq!(
            choose(&doc, None).expect_err("ambiguous").to_string(),
            "the file defines several operations (A, B); choose one with --operation"
        );
        assert_eq!(
            choose(&doc, Some("C")).expect_err("absent").to_string(),
            "no operation named C; the file defines A, B"
        );
        let anonymous = parse("{ me { id } }");
        assert!(choose(&anonymous, None).expect("one").name.is_none());
    }

    #[test]
    fn required_variables_are_checked_before_sending() {
        let doc = parse("query GetRun($id: ID!, $n: Int! = 3, $f: String) { run(id: $id) { id } }");
        let op = choose(&doc, None).expect("one");
        assert_eq!(
            check_required(op, &serde_json::json!({}))
                .expect_err("missing")
                .to_string(),
            r#"GetRun requires $id: ID! (give them with --variables '{"id": ...}')"#
        );
        assert!(check_required(op, &serde_json::json!({"id": null})).is_err());
        assert!(check_required(op, &serde_json::json!({"id": 7})).is_ok());
    }

    #[test]
    fn variables_must_be_an_object() {
        assert!(parse_variables(r#"{"id": 1}"#).is_ok());
        assert_eq!(
            parse_variables("[1]").expect_err("array").to_string(),
            "--variables must be a JSON object of variables, found an array"
        );
        assert!(parse_variables("{").is_err());
    }
}
