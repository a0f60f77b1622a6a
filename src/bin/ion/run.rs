//! `ion run FILE [--variables JSON|@path] [--operation NAME] [--all-pages]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ion_client::OperationKind;
use serde_json::Value;

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
}

/// Runs the command: the response on stdout, errors on stderr, a failure exit code when the
/// request failed or the response carries GraphQL errors.
pub async fn run(args: RunArgs) -> ExitCode {
    if args.all_pages {
        return all_pages(args).await;
    }
    match execute(&args).await {
        Ok(response) => {
            // Pretty for people, one line for pipes.
            let text = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                serde_json::to_string_pretty(&response)
            } else {
                serde_json::to_string(&response)
            };
            match text {
                Ok(text) => {
                    use std::io::Write as _;
                    // A closed pipe (`| head`) is the reader's choice, not a failure.
                    let _ = writeln!(std::io::stdout().lock(), "{text}");
                }
                Err(e) => {
                    eprintln!("error: cannot print the response: {e}");
                    return ExitCode::FAILURE;
                }
            }
            let errors = response
                .get("errors")
                .and_then(Value::as_array)
                .filter(|e| !e.is_empty());
            match errors {
                Some(errors) => {
                    for e in errors {
                        let message = e.get("message").and_then(Value::as_str).unwrap_or("?");
                        eprintln!("error: GraphQL: {message}");
                    }
                    ExitCode::FAILURE
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(args: &RunArgs) -> anyhow::Result<Value> {
    let (document, name, kind, variables) = prepare(args)?;
    let target = crate::target::connect().await?;
    let response = target
        .client
        .execute_raw(
            ion_client::RawRequest::new(&document, kind)
                .maybe_operation_name(name.as_deref())
                .variables(variables),
        )
        .await?;
    Ok(response)
}

type Prepared = (String, Option<String>, OperationKind, Value);

/// Reads the file, adds the shared fragments it uses, picks the operation, parses variables.
fn prepare(args: &RunArgs) -> anyhow::Result<Prepared> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let document = with_shared_fragments(&args.file, text)?;
    let operations = scan_operations(&document)
        .with_context(|| format!("cannot read the operations of {}", args.file.display()))?;
    let (name, kind) = choose(&operations, args.operation.as_deref())
        .with_context(|| format!("in {}", args.file.display()))?;
    let variables = match &args.variables {
        None => Value::Object(Default::default()),
        Some(raw) => parse_variables(raw)?,
    };
    Ok((document, name, kind, variables))
}

/// Appends the fragments the file uses from the `fragments/` folder beside it (the layout of
/// `queries/`), as the build does, so `ion run queries/x.graphql` sends what the typed
/// function sends.
fn with_shared_fragments(file: &std::path::Path, text: String) -> anyhow::Result<String> {
    let dir = file.parent().unwrap_or(std::path::Path::new("."));
    let mut library = Vec::new();
    for folder in [dir.join("fragments"), dir.to_path_buf()] {
        if !folder.is_dir() {
            continue;
        }
        let mut stack = vec![folder.clone()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                if path.is_dir() && folder != dir {
                    stack.push(path);
                } else if path != file
                    && path.extension().is_some_and(|e| e == "graphql")
                    && let Ok(t) = std::fs::read_to_string(&path)
                {
                    library.push(ion_client_build::SourceFile::new(path, t));
                }
            }
        }
    }
    let source = ion_client_build::SourceFile::new(file, text);
    ion_client_build::document::with_fragments(&source, &library)
        .map_err(|d| anyhow::anyhow!("{d}"))
}

/// `--all-pages`: every node of the paginated connection as one JSON line on stdout, with a
/// progress line on stderr when it is a terminal.
pub async fn all_pages(args: RunArgs) -> ExitCode {
    match follow_pages(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if crate::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn follow_pages(args: &RunArgs) -> anyhow::Result<()> {
    use std::io::{IsTerminal as _, Write as _};
    let (document, name, kind, mut variables) = prepare(args)?;
    let Some(path) = ion_client_build::document::connection_path(&document, name.as_deref()) else {
        bail!(
            "--all-pages needs an operation with an `$after` variable passed as `after:` to a connection selecting `pageInfo {{ hasNextPage endCursor }}` and `edges {{ node }}`"
        );
    };
    let target = crate::target::connect().await?;
    let progress = std::io::stderr().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let (mut pages, mut nodes) = (0usize, 0usize);
    let mut seen_cursors = std::collections::HashSet::new();
    loop {
        let response = target
            .client
            .execute_raw(
                ion_client::RawRequest::new(&document, kind)
                    .maybe_operation_name(name.as_deref())
                    .variables(variables.clone()),
            )
            .await?;
        if let Some(errors) = response
            .get("errors")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            bail!(
                "GraphQL errors on page {}: {}",
                pages + 1,
                Value::Array(errors.clone())
            );
        }
        let mut connection = response.get("data").unwrap_or(&Value::Null);
        for key in &path {
            connection = connection.get(key).unwrap_or(&Value::Null);
        }
        pages += 1;
        for edge in connection
            .get("edges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(node) = edge.get("node").filter(|n| !n.is_null()) {
                writeln!(stdout, "{node}")?;
                nodes += 1;
            }
        }
        if progress {
            eprint!("\rion: {nodes} node(s) from {pages} page(s)");
        }
        let info = connection.get("pageInfo").unwrap_or(&Value::Null);
        let has_next = info
            .get("hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let cursor = info
            .get("endCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match (has_next, cursor) {
            (true, Some(cursor)) => {
                if !seen_cursors.insert(cursor.clone()) {
                    bail!(
                        "the server returned cursor {cursor:?} twice; stopping instead of looping"
                    );
                }
                if let Value::Object(map) = &mut variables {
                    map.insert("after".into(), Value::String(cursor));
                }
            }
            (true, None) => bail!("page {pages} says hasNextPage but has no endCursor"),
            (false, _) => break,
        }
    }
    if progress {
        eprintln!();
    }
    stdout.flush()?;
    Ok(())
}

/// `--variables`: inline JSON or `@path`; must be a JSON object.
fn parse_variables(raw: &str) -> anyhow::Result<Value> {
    let (text, origin) = match raw.strip_prefix('@') {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?,
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

/// Picks the operation to run.
fn choose(
    operations: &[(Option<String>, OperationKind)],
    wanted: Option<&str>,
) -> anyhow::Result<(Option<String>, OperationKind)> {
    let names = || {
        operations
            .iter()
            .map(|(n, _)| n.clone().unwrap_or_else(|| "(anonymous)".into()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (wanted, operations) {
        (Some(w), ops) => ops
            .iter()
            .find(|(n, _)| n.as_deref() == Some(w))
            .cloned()
            .with_context(|| format!("no operation named {w}; the file defines {}", names())),
        (None, []) => bail!("the file defines no operation"),
        (None, [one]) => Ok(one.clone()),
        (None, _) => bail!(
            "the file defines several operations ({}); choose one with --operation",
            names()
        ),
    }
}

/// The operations a GraphQL document defines, with their kinds, in order.
///
/// A small scanner rather than a parser: it skips comments, strings and everything inside
/// selection sets and argument lists, and reads the definitions at the top level. The server
/// validates the document; this only needs the names and kinds, and the kind decides whether
/// the request may be retried, so anything unclear is an error rather than a guess.
fn scan_operations(doc: &str) -> anyhow::Result<Vec<(Option<String>, OperationKind)>> {
    let mut ops = Vec::new();
    let mut braces = 0usize;
    let mut parens = 0usize;
    let mut pending: Option<OperationKind> = None;
    let mut pending_name: Option<String> = None;
    let mut in_fragment = false;
    let chars: Vec<char> = doc.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '"' => {
                let block = chars[i..].starts_with(&['"', '"', '"']);
                i += if block { 3 } else { 1 };
                loop {
                    if i >= chars.len() {
                        bail!("a string is not closed");
                    }
                    if block && chars[i..].starts_with(&['"', '"', '"']) {
                        i += 3;
                        break;
                    }
                    if !block && chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if !block && chars[i] == '"' {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            '(' => parens += 1,
            ')' => parens = parens.checked_sub(1).context("unbalanced `)`")?,
            '{' if parens == 0 => {
                if braces == 0 {
                    if in_fragment {
                        in_fragment = false;
                    } else {
                        // `{ ... }` alone is an anonymous query.
                        let kind = pending.take().unwrap_or(OperationKind::Query);
                        ops.push((pending_name.take(), kind));
                    }
                }
                braces += 1;
            }
            '}' if parens == 0 => braces = braces.checked_sub(1).context("unbalanced `}`")?,
            c if (c.is_ascii_alphabetic() || c == '_') && braces == 0 && parens == 0 => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if pending.is_none() && !in_fragment {
                    match word.as_str() {
                        "query" => pending = Some(OperationKind::Query),
                        "mutation" => pending = Some(OperationKind::Mutation),
                        "subscription" => bail!("subscriptions are not supported: ION has none"),
                        "fragment" => in_fragment = true,
                        other => bail!("unexpected `{other}` at the top level"),
                    }
                } else if pending.is_some() && pending_name.is_none() {
                    pending_name = Some(word);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if braces != 0 || parens != 0 || pending.is_some() {
        bail!("the document ends inside a definition");
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(doc: &str) -> Vec<(Option<String>, OperationKind)> {
        scan_operations(doc).expect("scans")
    }

    #[test]
    fn finds_names_and_kinds() {
        let doc = r#"
            # a comment with mutation { x }
            fragment F on Run { id title }
            query GetRuns($f: RunsInputFilters = {title: {eq: "}"}}) { runs(filters: $f) { edges { node { ...F } } } }
            mutation CreateRun($input: CreateRunInput!) { createRun(input: $input) { run { id } } }
        "#;
        assert_eq!(
            scan(doc),
            vec![
                (Some("GetRuns".into()), OperationKind::Query),
                (Some("CreateRun".into()), OperationKind::Mutation),
            ]
        );
        assert_eq!(scan("{ me { id } }"), vec![(None, OperationKind::Query)]);
        assert_eq!(
            scan("mutation($i: ID!) { deleteRun(id: $i) }"),
            vec![(None, OperationKind::Mutation)]
        );
        assert_eq!(
            scan(r#"query Q { a(s: """ mutation { """) }"#),
            vec![(Some("Q".into()), OperationKind::Query)]
        );
    }

    #[test]
    fn unclear_documents_are_errors() {
        assert!(scan_operations("query Q { a").is_err());
        assert!(scan_operations("subscription S { a }").is_err());
        assert!(scan_operations("querry Q { a }").is_err());
        assert!(scan_operations("query Q { a(s: \"x) }").is_err());
        assert!(scan_operations("query Q").is_err());
    }

    #[test]
    fn choosing_an_operation() {
        let ops = scan("query A { a } mutation B { b }");
        assert_eq!(
            choose(&ops, Some("B")).expect("found"),
            (Some("B".into()), OperationKind::Mutation)
        );
        assert_eq!(
            choose(&ops, None).expect_err("ambiguous").to_string(),
            "the file defines several operations (A, B); choose one with --operation"
        );
        assert!(choose(&ops, Some("C")).is_err());
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
