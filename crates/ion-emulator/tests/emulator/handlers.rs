//! Handlers: the user's own answer for a root field, over the emulator's rows.

use ion_emulator::{Convention, EmulatorError, EmulatorOptions, HandlerError, Rows, Seed};
use serde_json::{Value, json};

use super::support::*;

/// `splitPartInventory(input: {id, etag, quantity})`: the quantity moves to a new row.
fn split(args: &Value, rows: &mut Rows<'_>) -> Result<Value, HandlerError> {
    let input = &args["input"];
    let id = input["id"].as_i64().ok_or("an `id` is required")?;
    let original = rows.get("PartInventory", id).ok_or_else(|| {
        HandlerError::new(format!("PartInventory matching id {id} does not exist."))
    })?;
    let quantity = input["quantity"].as_f64().unwrap_or(0.0);
    let left = original["quantity"].as_f64().unwrap_or(0.0) - quantity;
    if left < 0.0 {
        return Err(HandlerError::new("not enough quantity to split"));
    }
    rows.update(
        "PartInventory",
        id,
        input["etag"].as_str(),
        &json!({ "quantity": left }),
    )?;
    let split = rows.create(
        "PartInventory",
        &json!({ "partId": original["partId"], "locationId": original["locationId"], "quantity": quantity }),
    )?;
    Ok(json!({ "partInventory": split }))
}

#[tokio::test]
async fn a_handler_answers_its_field_with_rows_etags_and_counters() {
    let e = start(
        EmulatorOptions::new()
            .seed(Seed::Demo)
            .handler("splitPartInventory", split)
            .handler("prismaticIntegration", |_, _| {
                Ok(json!({ "token": "t0k3n" }))
            }),
    )
    .await;
    let roots = &e.stats().roots;
    let by = |name: &str| {
        roots
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.answered_by)
    };
    assert_eq!(by("splitPartInventory"), Some(Convention::Handler));
    assert_eq!(by("runs"), Some(Convention::Connection));

    let before = data(&e, "{ partInventory(id: 9) { quantity _etag } }", json!({})).await;
    e.reset_counters();
    let d = data(
        &e,
        "mutation($etag: String!) { splitPartInventory(input: { id: 9, etag: $etag, quantity: 4 }) { partInventory { id quantity _etag createdById part { id } } } }",
        json!({ "etag": before["partInventory"]["_etag"] }),
    )
    .await;
    assert_eq!(e.counters().mutations, 1, "a handler counts as a mutation");
    let split = &d["splitPartInventory"]["partInventory"];
    assert_eq!(split["quantity"], 4.0);
    assert_eq!(split["createdById"], 1, "stamped like a built-in create");
    assert_eq!(split["_etag"].as_str().map(str::len), Some(32));
    assert!(
        split["part"]["id"].is_number(),
        "the answer is the stored row, relations included"
    );
    let after = data(&e, "{ partInventory(id: 9) { quantity _etag } }", json!({})).await;
    assert_eq!(
        after["partInventory"]["quantity"].as_f64(),
        before["partInventory"]["quantity"]
            .as_f64()
            .map(|q| q - 4.0)
    );
    assert_ne!(
        after["partInventory"]["_etag"],
        before["partInventory"]["_etag"]
    );

    // A stale etag is refused with ION's message, and nothing is written.
    let body = gql(
        &e,
        "mutation($etag: String!) { splitPartInventory(input: { id: 9, etag: $etag, quantity: 1 }) { partInventory { id } } }",
        json!({ "etag": before["partInventory"]["_etag"] }),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Etag mismatch: PartInventory 9"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["path"], json!(["splitPartInventory"]));

    let d = data(&e, "{ prismaticIntegration { token } }", json!({})).await;
    assert_eq!(d["prismaticIntegration"]["token"], "t0k3n");
}

#[tokio::test]
async fn a_failing_or_panicking_handler_writes_nothing() {
    let e = start(
        EmulatorOptions::new()
            .seed(Seed::Demo)
            .handler("mergePartInventory", |_, rows| {
                rows.create("Location", &json!({ "name": "half-made" }))?;
                Err(HandlerError::new("cannot merge these"))
            })
            .handler("generateRunSummary", |_, rows| {
                rows.create("Location", &json!({ "name": "half-made" }))?;
                panic!("boom")
            }),
    )
    .await;
    let body = gql(
        &e,
        "mutation { mergePartInventory(input: { partInventories: [] }) { partInventory { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["message"], "cannot merge these");
    let body = gql(
        &e,
        "mutation { generateRunSummary(input: { runIds: [1] }) { message } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "the handler for generateRunSummary panicked: boom"
    );
    let d = data(
        &e,
        "{ locations(filters: { name: { eq: \"half-made\" } }) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["locations"]["edges"], json!([]));
    // The emulator still answers.
    data(&e, "{ run(id: 1) { id } }", json!({})).await;
}

#[tokio::test]
async fn a_handler_for_no_root_field_is_refused_at_start() {
    let err = ion_emulator::Emulator::start(
        EmulatorOptions::new().handler("splitPartInventroy", |_, _| Ok(Value::Null)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, EmulatorError::Handler(_)));
    assert_eq!(
        err.to_string(),
        "emulator handler: `splitPartInventroy` is not a field of the schema's query or mutation type"
    );
}
