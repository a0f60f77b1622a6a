//! Batching: several operations in one request, typed per operation.

use ion_client::ErrorKind;
use serde_json::json;

use crate::support::ops::{Echo, EchoWrite, GetThing, IdVars, Thing};
use crate::support::{Fault, MockIon, Reply};

fn answer(op: &serde_json::Value) -> serde_json::Value {
    match op["operationName"].as_str() {
        Some("GetThing") => {
            json!({"data": {"thing": {"id": op["variables"]["id"], "title": "Widget"}}})
        }
        Some("Echo") if op["variables"]["id"] == 99 => {
            json!({"data": null, "errors": [{"message": "no 99"}]})
        }
        _ => json!({"data": {"echo": op["variables"]}}),
    }
}

#[tokio::test]
async fn several_operations_in_one_request_come_back_typed() {
    let ion = MockIon::start();
    ion.respond(answer);
    let c = ion.client();
    let mut batch = c.batch();
    let thing = batch.add::<GetThing>(IdVars { id: 4 });
    let echo = batch.add::<Echo>(IdVars { id: 5 });
    let missing = batch.add::<Echo>(IdVars { id: 99 });
    let write = batch.add::<EchoWrite>(IdVars { id: 6 });
    assert_eq!(batch.len(), 4);
    let mut response = batch.send().await.expect("one request");
    assert_eq!(response.len(), 4);
    assert_eq!(response.trace_id(), Some("trace-1"));

    assert_eq!(
        response.take(thing).expect("thing").thing,
        Some(Thing {
            id: 4,
            title: "Widget".into()
        })
    );
    assert_eq!(response.take(echo).expect("echo").echo, json!({"id": 5}));
    let err = response
        .take(missing)
        .expect_err("errors for one operation");
    assert_eq!(err.to_string(), "GraphQL errors in query Echo: no 99");
    assert_eq!(
        response
            .take_full(write)
            .expect("write")
            .data
            .map(|d| d.echo),
        Some(json!({"id": 6}))
    );

    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}

#[tokio::test]
async fn a_slot_of_another_batch_is_refused() {
    let ion = MockIon::start();
    let c = ion.client();
    let mut first = c.batch();
    let _ = first.add::<Echo>(IdVars { id: 1 });
    let mut second = c.batch();
    let foreign = second.add::<Echo>(IdVars { id: 2 });
    let mut response = first.send().await.expect("sent");
    let err = response.take(foreign).expect_err("foreign slot");
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert_eq!(
        err.to_string(),
        "batch slot 0 does not belong to this batch response (batch of 1)"
    );
}

#[tokio::test]
async fn an_empty_batch_sends_nothing() {
    let ion = MockIon::start();
    let response = ion.client().batch().send().await.expect("empty");
    assert!(response.is_empty());
    assert_eq!((ion.token_requests(), ion.graphql_requests()), (0, 0));
}

#[tokio::test]
async fn a_short_answer_array_is_a_decode_error() {
    let ion = MockIon::start();
    ion.script([Reply::Before(Fault::status(
        200,
        r#"[{"data": {"echo": 1}}]"#,
    ))]);
    let c = ion.client();
    let mut batch = c.batch();
    let _ = batch.add::<Echo>(IdVars { id: 1 });
    let _ = batch.add::<Echo>(IdVars { id: 2 });
    let err = batch.send().await.expect_err("one answer for two");
    assert_eq!(
        err.to_string(),
        "cannot decode the response to batch[Echo, Echo]: expected an array of 2 responses, found 1"
    );
}

#[tokio::test]
async fn a_batch_with_a_mutation_is_never_replayed() {
    let ion = MockIon::start();
    ion.script([Reply::After(Fault::status(502, "bad gateway"))]);
    let c = ion.client();
    let mut batch = c.batch();
    let _ = batch.add::<Echo>(IdVars { id: 1 });
    let _ = batch.add::<EchoWrite>(IdVars { id: 2 });
    let err = batch.send().await.expect_err("502");
    assert!(matches!(
        err.kind(),
        ErrorKind::OutcomeUnknown {
            status: Some(502),
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 1);
    assert_eq!(ion.mutations_executed(), 1);
}
