//! `ion` against a server that misbehaves on purpose: it echoes the bearer token (and the
//! client secret) it was sent, sends terminal escape sequences, or answers introspection as
//! graphene on graphql-core 3.3 does. Nothing secret and no raw control character reaches
//! stdout or stderr, whatever the path (the response, GraphQL error lines, `--all-pages`
//! lines and errors, `token`, `schema pull`, error messages, `RUST_LOG=trace` logs).

use std::process::Output;

use serde_json::{Value, json};

use super::mock::{Mock, SECRET};

/// A paginated query `ion run --all-pages` accepts (the shipped schema validates it).
const PAGED: &str = "query Runs($after: String) {\n  runs(after: $after, first: 2) {\n    \
                     pageInfo { hasNextPage endCursor }\n    edges { node { id title } }\n  }\n}\n";

/// A runs page whose strings and keys carry `text`, with no next page.
fn page(text: &str) -> Value {
    json!({"runs": {
        "pageInfo": {"hasNextPage": false, "endCursor": text},
        "edges": [{"node": {"id": 1, "title": text, text: text}}]
    }})
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Neither stream of `out` shows the token or the secret.
#[track_caller]
fn no_secret(out: &Output, token: &str) {
    for (stream, text) in [("stdout", stdout(out)), ("stderr", stderr(out))] {
        assert!(!text.contains(token), "the token on {stream}:\n{text}");
        assert!(!text.contains(SECRET), "the secret on {stream}:\n{text}");
    }
}

fn query_file() -> (tempfile::TempDir, &'static str) {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("runs.graphql"), PAGED).expect("write");
    (tmp, "runs.graphql")
}

/// The server puts `Bearer <token>` and the client secret in `errors[0].message`, an error
/// path and everywhere in `data`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_token_is_printed_on_neither_stream() {
    let mock = Mock::start(|authorization| {
        let echo = format!("{authorization} / {SECRET}");
        let body = json!({
            "data": page(&echo),
            "errors": [{"message": format!("token refused: {echo}"), "path": ["runs", echo]}]
        });
        (200, body.to_string())
    })
    .await;
    let (tmp, file) = query_file();

    // The response on stdout (this assertion also holds through the library's own redaction
    // of `execute_raw`'s body), the GraphQL error lines and the trace logs on stderr.
    let out = mock.ion(tmp.path(), &["run", file]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    no_secret(&out, mock.token());
    let body: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    assert_eq!(
        body["errors"][0]["message"],
        "token refused: Bearer [redacted] / [redacted]"
    );
    assert!(
        stderr(&out).contains("error: GraphQL: token refused: Bearer [redacted] / [redacted]"),
        "{}",
        stderr(&out)
    );

    // --all-pages stops on the errors, quoting them.
    let out = mock.ion(tmp.path(), &["run", file, "--all-pages"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("GraphQL errors on page 1"),
        "{}",
        stderr(&out)
    );
    no_secret(&out, mock.token());

    // `ion token` prints the claims, never the token, unless asked.
    let out = mock.ion(tmp.path(), &["token"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("hostile-test-client"),
        "{}",
        stdout(&out)
    );
    no_secret(&out, mock.token());
    let shown = mock.ion(tmp.path(), &["token", "--show"]).await;
    assert!(stdout(&shown).contains(mock.token()));
    assert!(!stderr(&shown).contains(mock.token()));

    // Introspection answered with the echo as its error.
    let out = mock.ion(tmp.path(), &["schema", "pull"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("token refused"), "{}", stderr(&out));
    no_secret(&out, mock.token());
}

/// Pages whose nodes carry the token: the node lines on stdout do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_pages_lines_never_carry_the_token() {
    let mock = Mock::start(|authorization| {
        let echo = format!("{authorization} / {SECRET}");
        (200, json!({ "data": page(&echo) }).to_string())
    })
    .await;
    let (tmp, file) = query_file();
    let out = mock.ion(tmp.path(), &["run", file, "--all-pages"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let line: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON line");
    assert_eq!(line["title"], "Bearer [redacted] / [redacted]");
    no_secret(&out, mock.token());
}

/// An error status whose body echoes the token: the error on stderr quotes the body without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_status_echoing_the_token_does_not_print_it() {
    let mock = Mock::start(|authorization| {
        let body = json!({"errors": [{"message": format!("denied for {authorization} {SECRET}")}]});
        (403, body.to_string())
    })
    .await;
    let (tmp, file) = query_file();
    let out = mock.ion(tmp.path(), &["run", file]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));
    no_secret(&out, mock.token());
}

/// Control characters a terminal acts on: ESC (with OSC and CSI sequences), BEL, CSI as one C1
/// character, DEL, a carriage return.
const ESCAPES: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{7f}\r";

/// Whether `bytes` (UTF-8) hold a control character other than newline and tab.
fn has_raw_controls(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_from_the_server_are_printed_escaped() {
    let mock = Mock::start(|_| {
        let body = json!({"data": page(ESCAPES), "errors": [{"message": ESCAPES}]});
        (200, body.to_string())
    })
    .await;
    let (tmp, file) = query_file();
    for args in [
        vec!["run", file],
        vec!["run", file, "--all-pages"],
        vec!["schema", "pull"],
    ] {
        let out = mock.ion(tmp.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            !has_raw_controls(&out.stdout),
            "{args:?}: {:?}",
            stdout(&out)
        );
        assert!(
            !has_raw_controls(&out.stderr),
            "{args:?}: {:?}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(r"\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{7f}\u{d}")
                || stderr(&out).contains(r#"\u001b]0;owned\u0007\u001b[2J\u009b31m\u007f\r"#),
            "{args:?}: {}",
            stderr(&out)
        );
    }

    // The same page without errors: the node line is JSON with every control escaped.
    let mock = Mock::start(|_| (200, json!({ "data": page(ESCAPES) }).to_string())).await;
    let out = mock.ion(tmp.path(), &["run", file, "--all-pages"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!has_raw_controls(&out.stdout), "{:?}", stdout(&out));
    let line: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON line");
    assert_eq!(line["title"], ESCAPES, "the same value, escaped");
}

/// graphene on graphql-core 3.3 lists `DIRECTIVE_DEFINITION` among directive locations:
/// `ion schema pull` and `ion schema check --live` work against it end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_pull_and_check_live_read_a_graphql_core_3_3_server() {
    const GRAPHENE: &str = include_str!("../../src/introspection/fixtures/graphene.json");
    let mock = Mock::start(|_| (200, GRAPHENE.to_string())).await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();

    let out = mock
        .ion(dir, &["schema", "pull", "-o", "pulled.graphql"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "warning: left location `DIRECTIVE_DEFINITION` off directive `@audited`: unknown location"
        ),
        "{}",
        stderr(&out)
    );
    let pulled = std::fs::read_to_string(dir.join("pulled.graphql")).expect("pulled");
    assert!(pulled.contains("type Run {"), "{pulled}");

    std::fs::write(
        dir.join("runs.graphql"),
        "query Runs {\n  runs(first: 5) {\n    id\n    title\n  }\n}\n",
    )
    .expect("write");
    let check = ["schema", "check", "--live", "--schema"];
    let out = mock
        .ion(
            dir,
            &[&check[..], &["pulled.graphql", "runs.graphql"]].concat(),
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));

    // A local schema with a field the server no longer has, which the operation selects.
    std::fs::write(
        dir.join("older.graphql"),
        pulled.replacen("type Run {\n", "type Run {\n  legacy: String\n", 1),
    )
    .expect("write");
    std::fs::write(
        dir.join("runs.graphql"),
        "query Runs {\n  runs(first: 5) {\n    id\n    legacy\n  }\n}\n",
    )
    .expect("write");
    let out = mock
        .ion(
            dir,
            &[&check[..], &["older.graphql", "runs.graphql"]].concat(),
        )
        .await;
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}\n{}", stderr(&out));
    assert!(report.contains("runs.graphql:4:5: breaking"), "{report}");
}
