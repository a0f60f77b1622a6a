//! Dispatch: statuses, GraphQL errors and partial data, etag conflicts, decode paths, size
//! limits, redirects, raw execution.

use ion_client::{Client, ErrorKind};
use serde_json::json;

use crate::support::ops::{Echo, GetThing, IdVars, Thing, UpdateThing};
use crate::support::{Fault, MockIon, Reply, client, manual_clock};

#[tokio::test]
async fn typed_data_comes_back() {
    let ion = MockIon::start();
    ion.respond(|op| {
        assert_eq!(op["operationName"], "GetThing");
        assert_eq!(
            op["query"],
            "query GetThing($id: ID!) { thing(id: $id) { id title } }"
        );
        json!({"data": {"thing": {"id": op["variables"]["id"], "title": "Widget"}}})
    });
    let data = ion
        .client()
        .execute::<GetThing>(IdVars { id: 3 })
        .await
        .expect("data");
    assert_eq!(
        data.thing,
        Some(Thing {
            id: 3,
            title: "Widget".into()
        })
    );
    assert_eq!((ion.token_requests(), ion.graphql_requests()), (1, 1));
}

#[tokio::test]
async fn graphql_errors_keep_message_path_locations_extensions_and_partial_data() {
    let ion = MockIon::start();
    ion.respond(|_| {
        json!({
            "data": {"thing": null},
            "errors": [{
                "message": "Thing 3 is not visible to you",
                "path": ["thing"],
                "locations": [{"line": 1, "column": 30}],
                "extensions": {"code": "FORBIDDEN"}
            }]
        })
    });
    let c = ion.client();
    let err = c
        .execute::<GetThing>(IdVars { id: 3 })
        .await
        .expect_err("errors[]");
    assert_eq!(
        err.to_string(),
        "GraphQL errors in query GetThing: thing: Thing 3 is not visible to you"
    );
    assert_eq!(err.operation(), Some("GetThing"));
    assert_eq!(err.trace_id(), Some("trace-1"));
    let ErrorKind::Graphql { errors, data, .. } = err.kind() else {
        panic!("expected GraphQL errors, got {err:?}");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0]
            .locations
            .as_ref()
            .map(|l| (l[0].line, l[0].column)),
        Some((1, 30))
    );
    assert_eq!(
        errors[0].extensions.as_ref().and_then(|e| e.get("code")),
        Some(&json!("FORBIDDEN"))
    );
    assert_eq!(data, &Some(json!({"thing": null})));
    assert_eq!(err.partial_data(), Some(&json!({"thing": null})));

    // Callers that accept partial data get data and errors together, typed.
    let full = c
        .execute_full::<GetThing>(IdVars { id: 3 })
        .await
        .expect("a response");
    assert_eq!(full.data.map(|d| d.thing), Some(None));
    assert_eq!(full.errors.map(|e| e.len()), Some(1));
    assert_eq!(ion.graphql_requests(), 2);
}

#[tokio::test]
async fn a_400_with_graphql_errors_is_a_graphql_error() {
    let ion = MockIon::start();
    ion.script([Reply::Before(Fault::status(
        400,
        r#"{"errors": [{"message": "Cannot query field \"nope\" on type \"Query\"."}]}"#,
    ))]);
    let err = ion
        .client()
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect_err("invalid");
    assert!(matches!(err.kind(), ErrorKind::Graphql { data: None, .. }));
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn a_stale_etag_is_an_etag_conflict() {
    let ion = MockIon::start();
    ion.respond(|_| {
        json!({"data": {"thing": null}, "errors": [{"message": "Etag mismatch: the thing was modified by someone else", "path": ["thing"]}]})
    });
    let err = ion
        .client()
        .execute::<UpdateThing>(IdVars { id: 3 })
        .await
        .expect_err("stale");
    assert!(
        matches!(err.kind(), ErrorKind::EtagConflict { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "etag conflict in mutation UpdateThing: thing: Etag mismatch: the thing was modified by someone else"
    );
    assert_eq!(err.graphql_errors().len(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}

#[tokio::test]
async fn decode_errors_name_the_operation_and_the_json_path() {
    let ion = MockIon::start();
    ion.respond(|_| json!({"data": {"thing": {"id": "not a number", "title": "x"}}}));
    let err = ion
        .client()
        .execute::<GetThing>(IdVars { id: 3 })
        .await
        .expect_err("bad id");
    assert!(matches!(
        err.kind(),
        ErrorKind::Decode { operation, path, .. } if operation == "GetThing" && path == "data.thing.id"
    ));
    assert_eq!(
        err.to_string(),
        "cannot decode the response to GetThing at data.thing.id: invalid type: string \"not a number\", expected i64"
    );
}

#[tokio::test]
async fn a_body_that_is_not_graphql_is_a_decode_error() {
    let ion = MockIon::start();
    ion.script([Reply::Before(Fault::status(
        200,
        "<html>maintenance</html>",
    ))]);
    let err = ion
        .client()
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect_err("html");
    assert_eq!(
        err.to_string(),
        "cannot decode the response to Echo: the response is not a GraphQL response object (invalid JSON at line 1 column 1)"
    );
}

#[tokio::test]
async fn http_status_errors_carry_a_short_excerpt_of_html_pages() {
    let ion = MockIon::start();
    let page = format!(
        "<!DOCTYPE html><html><head><title>404 Not Found</title><style>h1{{}}</style></head><body><h1>Not Found</h1><p>{}</p></body></html>",
        "The requested URL was not found on this server. ".repeat(10)
    );
    ion.script([Reply::Before(Fault::status(404, &page))]);
    let err = ion
        .client()
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect_err("404");
    let ErrorKind::HttpStatus {
        status, excerpt, ..
    } = err.kind()
    else {
        panic!("expected an HTTP status error, got {err:?}");
    };
    assert_eq!(*status, 404);
    assert!(
        excerpt.starts_with("404 Not Found Not Found The requested URL was not found"),
        "{excerpt}"
    );
    assert_eq!(
        excerpt.chars().count(),
        201,
        "200 characters and an ellipsis"
    );
    assert!(!excerpt.contains('<'));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let ion = MockIon::start();
    let target = format!("{}/elsewhere", ion.base_url());
    ion.script([Reply::Before(Fault::status_with(
        302, "location", &target, "",
    ))]);
    let err = ion
        .client()
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect_err("302");
    assert_eq!(
        err.to_string(),
        format!(
            "query Echo failed: {}/graphql answered HTTP 302 Found (redirect to {target}, not followed): (empty body)",
            ion.base_url()
        )
    );
    assert_eq!(ion.other_requests(), 0);
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn responses_over_the_size_limit_are_refused() {
    let ion = MockIon::start();
    ion.respond(|_| json!({"data": {"echo": "x".repeat(10_000)}}));
    let c = client(ion.config(&manual_clock()).max_response_bytes(1024));
    let err = c
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect_err("too large");
    assert!(matches!(
        err.kind(),
        ErrorKind::ResponseTooLarge { limit: 1024, .. }
    ));
    assert_eq!(
        err.to_string(),
        "the response to query Echo is larger than the limit of 1024 bytes"
    );
    assert_eq!(ion.graphql_requests(), 1, "not retried");
}

#[tokio::test]
async fn execute_raw_returns_the_whole_body() {
    let ion = MockIon::start();
    ion.respond(|op| {
        json!({"data": {"n": op["variables"]["n"]}, "errors": [{"message": "partial"}], "extensions": {"cost": 3}})
    });
    let body = ion
        .client()
        .execute_raw(ion_client::RawRequest::query("query { n }").variables(json!({"n": 5})))
        .await
        .expect("raw");
    assert_eq!(
        body,
        json!({"data": {"n": 5}, "errors": [{"message": "partial"}], "extensions": {"cost": 3}})
    );
}

/// Generated code and users spawn these futures: they must be `Send`, and the client
/// `Send + Sync + Clone`.
#[test]
fn futures_are_send_and_the_client_is_shareable() {
    fn send<T: Send>(_: &T) {}
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Client>();
    shareable::<ion_client::Error>();
    let ion = MockIon::start();
    let c = ion.client();
    send(&c.execute::<GetThing>(IdVars { id: 1 }));
    send(&c.execute_full::<GetThing>(IdVars { id: 1 }));
    send(&c.execute_raw(ion_client::RawRequest::query("{ a }")));
    send(&c.batch().send());
    assert_eq!(ion.graphql_requests(), 0, "futures are lazy");
}
