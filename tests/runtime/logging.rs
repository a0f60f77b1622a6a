//! Tracing: the spans the issue asks for, and no secret or token at any level, `trace`
//! included, nor in any `Debug` or `Display`.

use std::time::Duration;

use ion_client::Client;

use crate::support;
use crate::support::ops::{Echo, EchoWrite, IdVars, ListThings, PageVars};
use crate::support::{
    Fault, LogCapture, MockIon, Reply, SECRET, TOKEN_PREFIX, TokenReply, manual_clock,
};

#[tokio::test]
async fn no_secret_or_token_in_logs_debug_or_display() {
    let logs = LogCapture::install();
    let ion = MockIon::start();
    let clock = manual_clock();
    let config = ion.config(&clock).build().expect("config");
    let client = Client::new(config.clone()).expect("client");
    let mut shown: Vec<String> = vec![format!("{config:?}"), format!("{client:?}")];
    let vars = || IdVars { id: 1 };

    client.execute::<Echo>(vars()).await.expect("plain call");
    // A 401 whose body echoes the token; replayed with a new token.
    ion.script([Reply::Before(Fault::status(
        401,
        r#"{"message": "bad token {token}"}"#,
    ))]);
    client.execute::<EchoWrite>(vars()).await.expect("replayed");
    // Retried statuses whose bodies echo the token.
    ion.script([Reply::Before(Fault::status(503, "Bearer {token}"))]);
    client.execute::<Echo>(vars()).await.expect("retried");
    // Errors that would quote the token if they could.
    ion.script([
        Reply::Before(Fault::status(401, "{token} is expired")),
        Reply::Before(Fault::status(401, "{token} is expired")),
        Reply::Before(Fault::status(500, "<html><p>{token}</p></html>")),
    ]);
    let errors = vec![
        client.execute::<Echo>(vars()).await.expect_err("401 twice"),
        client.execute::<Echo>(vars()).await.expect_err("500"),
    ];
    // A background refresh, then pages.
    ion.respond(|_| serde_json::json!({"data": {"things": {"pageInfo": {"hasNextPage": false, "endCursor": null}, "edges": []}}}));
    clock.advance(Duration::from_secs(240));
    let _ = client.pages::<ListThings>(PageVars {
        first: 1,
        after: None,
    });
    use futures_util::StreamExt;
    let pages: Vec<_> = client
        .pages::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert!(pages.iter().all(Result::is_ok));
    ion.wait_token_requests(4).await;
    logs.wait_for("token acquired").await;
    // A wrong secret that the token endpoint echoes back, and a failing token endpoint.
    let wrong = support::client(ion.config(&clock).client_secret(format!("{SECRET}-wrong")));
    let mut errors = errors;
    errors.push(
        wrong
            .execute::<Echo>(vars())
            .await
            .expect_err("wrong secret"),
    );
    ion.script_tokens([TokenReply::Status(
        500,
        format!("{{\"error\": \"{SECRET}\"}}"),
    )]);
    let down = support::client(ion.config(&clock));
    errors.push(
        down.execute::<Echo>(vars())
            .await
            .expect_err("token endpoint down"),
    );

    for e in &errors {
        shown.push(e.to_string());
        shown.push(format!("{e:?}"));
        shown.push(format!("{:?}", e.kind()));
    }
    let text = logs.text();
    shown.push(text.clone());
    for s in &shown {
        assert!(!s.contains(SECRET), "secret leaked: {s}");
        assert!(!s.contains(TOKEN_PREFIX), "token leaked: {s}");
    }

    // The spans carry what the issue asks for.
    for needle in [
        "ion_operation",
        "operation=\"Echo\"",
        "kind=query",
        "kind=mutation",
        &format!("environment={}", ion.base_url()),
        "attempt=2",
        "http.status=200",
        "http.status=503",
        "trace_id=\"trace-1\"",
        "ion_token_fetch",
        "reason=\"refresh\"",
        "token acquired",
    ] {
        assert!(text.contains(needle), "the logs lack `{needle}`:\n{text}");
    }
}
