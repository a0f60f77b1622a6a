//! The mutation conventions beyond create/update/delete, each against the demo factory
//! (plus the rows a test seeds): links, keyless rows, state changes, reorders, copies,
//! versions, settings entries, create-for, events and resets, and batches that fail whole.

use ion_emulator::{Emulator, EmulatorOptions, Seed};
use serde_json::{Value, json};

use super::support::*;

/// The demo factory with `extra` rows added (`{"PermissionGroup": [...]}`).
async fn seeded(extra: Value) -> Emulator {
    let mut seed = demo().await.snapshot();
    for (entity, rows) in extra.as_object().into_iter().flatten() {
        seed[entity] = rows.clone();
    }
    start(EmulatorOptions::new().seed(Seed::Json(seed))).await
}

/// `_etag` of `lookup(id:)`.
async fn etag_of(e: &Emulator, lookup: &str, id: i64) -> String {
    let d = data(
        e,
        &format!("{{ x: {lookup}(id: {id}) {{ _etag }} }}"),
        json!({}),
    )
    .await;
    d["x"]["_etag"].as_str().unwrap().to_owned()
}

fn ids_of(list: &Value) -> Vec<i64> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn links_are_kept_in_join_rows_lists_and_child_rows() {
    let e =
        seeded(json!({ "PermissionGroup": [{ "id": 7, "name": "Runs", "family": "RUNS" }] })).await;
    // The demo seed lists users' teams; they are join rows both sides read.
    let d = data(
        &e,
        "{ team(id: 2) { users { id } _UsersCount teamUsers { userId } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids_of(&d["team"]["users"]), [1, 4, 5]);
    assert_eq!(d["team"]["_UsersCount"], 3);

    let added = data(
        &e,
        "mutation { addUserToTeam(input: { teamId: 2, userId: 2 }) { teamId userId } }",
        json!({}),
    )
    .await;
    assert_eq!(added["addUserToTeam"], json!({ "teamId": 2, "userId": 2 }));
    let d = data(
        &e,
        "{ user(id: 2) { teams { id } } team(id: 2) { users { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids_of(&d["user"]["teams"]), [1, 2]);
    assert_eq!(ids_of(&d["team"]["users"]), [1, 2, 4, 5]);
    data(
        &e,
        "mutation { removeUserFromTeam(input: { teamId: 2, userId: 2 }) { teamId } }",
        json!({}),
    )
    .await;
    let d = data(&e, "{ user(id: 2) { teams { id } } }", json!({})).await;
    assert_eq!(ids_of(&d["user"]["teams"]), [1]);

    // A label on any row, named by its global entityId.
    let label = data(
        &e,
        "mutation { createLabel(input: { value: \"Rush\" }) { label { id } } }",
        json!({}),
    )
    .await;
    let label_id = label["createLabel"]["label"]["id"].as_i64().unwrap();
    let run = data(&e, "{ run(id: 1) { entityId _etag } }", json!({})).await;
    let entity_id = run["run"]["entityId"].as_i64().unwrap();
    let added = data(
        &e,
        "mutation($l: Int!, $e: Int!) { addLabelToItem(input: { labelId: $l, entityId: $e }) { labelId entityId } }",
        json!({ "l": label_id, "e": entity_id }),
    )
    .await;
    assert_eq!(
        added["addLabelToItem"],
        json!({ "labelId": label_id, "entityId": entity_id })
    );
    let d = data(&e, "{ run(id: 1) { labels { value } _etag } }", json!({})).await;
    assert_eq!(d["run"]["labels"], json!([{ "value": "Rush" }]));
    assert_ne!(
        d["run"]["_etag"], run["run"]["_etag"],
        "the labelled row gets a new etag"
    );
    data(
        &e,
        "mutation($l: Int!, $e: Int!) { removeLabelFromItem(input: { labelId: $l, entityId: $e }) { labelId } }",
        json!({ "l": label_id, "e": entity_id }),
    )
    .await;
    let d = data(&e, "{ run(id: 1) { labels { value } } }", json!({})).await;
    assert_eq!(d["run"]["labels"], json!([]));

    // Ids stored on both rows when each lists the other.
    let role = data(
        &e,
        "mutation { createRole(input: { name: \"Lead\" }) { role { id } } }",
        json!({}),
    )
    .await;
    let role_id = role["createRole"]["role"]["id"].as_i64().unwrap();
    let d = data(
        &e,
        "mutation($r: Int!) { attachPermissionGroupToRole(input: { roleId: $r, permissionGroupId: 7 }) { role { permissionGroups { name } } } }",
        json!({ "r": role_id }),
    )
    .await;
    assert_eq!(
        d["attachPermissionGroupToRole"]["role"]["permissionGroups"],
        json!([{ "name": "Runs" }])
    );
    let d = data(
        &e,
        "{ permissionGroup(id: 7) { roles { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["permissionGroup"]["roles"], json!([{ "name": "Lead" }]));

    // A child row holding both ids and the input's other columns.
    let receipt_etag = etag_of(&e, "receipt", 1).await;
    let d = data(
        &e,
        "mutation($etag: String!) { addInventoryToReceipt(input: { receiptId: 1, partInventoryId: 5, quantity: 3, etag: $etag }) { receipt { receiptItems { partInventoryId quantity } } } }",
        json!({ "etag": receipt_etag }),
    )
    .await;
    let items = &d["addInventoryToReceipt"]["receipt"]["receiptItems"];
    assert!(
        items
            .as_array()
            .unwrap()
            .contains(&json!({ "partInventoryId": 5, "quantity": 3.0 })),
        "{items}"
    );
    let body = gql(
        &e,
        "mutation($etag: String!) { removeInventoryFromReceipt(input: { receiptId: 1, partInventoryId: 5, etag: $etag }) { receipt { id } } }",
        json!({ "etag": receipt_etag }),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Etag mismatch: Receipt 1"),
        "the receipt's etag changed when the item was added: {body}"
    );
}

#[tokio::test]
async fn keyless_rows_are_found_by_their_columns() {
    let e = seeded(json!({
        "RunAttribute": [{ "runId": 1, "key": "Customer", "value": "ACME", "type": "STRING" }]
    }))
    .await;
    let d = data(
        &e,
        "{ run(id: 1) { attributes { key value Etag } } }",
        json!({}),
    )
    .await;
    let etag = d["run"]["attributes"][0]["Etag"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = data(
        &e,
        "mutation($etag: String!) { updateRunAttribute(input: { runId: 1, key: \"Customer\", value: \"Initech\", etag: $etag }) { runAttribute { key value Etag } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(d["updateRunAttribute"]["runAttribute"]["value"], "Initech");
    assert_ne!(d["updateRunAttribute"]["runAttribute"]["Etag"], json!(etag));
    let body = gql(
        &e,
        "mutation { updateRunAttribute(input: { runId: 1, key: \"Colour\", value: \"red\", etag: \"x\" }) { runAttribute { key } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "RunAttribute matching runId 1, key \"Colour\" does not exist."
    );

    // A join row: created, looked up by its keys, read through the relation, deleted.
    data(
        &e,
        "mutation { createIssuePartInventory(input: { issueId: 1, partInventoryId: 2 }) { issuePartInventory { issueId } } }",
        json!({}),
    )
    .await;
    let d = data(
        &e,
        "{ issuePartInventory(issueId: 1, partInventoryId: 2) { _etag partInventory { id } } issue(id: 1) { partInventories { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["issuePartInventory"]["partInventory"]["id"], 2);
    assert!(ids_of(&d["issue"]["partInventories"]).contains(&2));
    let etag = d["issuePartInventory"]["_etag"].clone();
    data(
        &e,
        "mutation($etag: String!) { deleteIssuePartInventory(input: { issueId: 1, partInventoryId: 2, etag: $etag }) { issuePartInventory { issueId partInventoryId } } }",
        json!({ "etag": etag }),
    )
    .await;
    let d = data(
        &e,
        "{ issuePartInventory(issueId: 1, partInventoryId: 2) { issueId } }",
        json!({}),
    )
    .await;
    assert_eq!(d["issuePartInventory"], Value::Null);

    // `set` creates the value its keys name, then updates it.
    for value in ["first", "second"] {
        data(
            &e,
            "mutation($v: ScalarValue) { setDatagridValue(input: { rowId: 3, columnId: 4, value: $v }) { datagridValue { value } } }",
            json!({ "v": value }),
        )
        .await;
    }
    let d = data(
        &e,
        "{ datagridValues { edges { node { rowId columnId value } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["datagridValues"]["edges"],
        json!([{ "node": { "rowId": 3, "columnId": 4, "value": "second" } }])
    );
}

#[tokio::test]
async fn state_changes_follow_the_verb_and_check_etags() {
    let e = seeded(
        json!({ "Invite": [{ "id": 1, "email": "a@b.c", "status": "PENDING", "resendCount": 0 }] }),
    )
    .await;
    let etag = etag_of(&e, "run", 3).await;
    let d = data(
        &e,
        "mutation($etag: String!) { archiveRun(input: { id: 3, archived: true, etag: $etag }) { run { archived _etag } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(d["archiveRun"]["run"]["archived"], true);
    let body = gql(
        &e,
        "mutation($etag: String!) { cancelRun(input: { id: 3, etag: $etag }) { run { status } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Etag mismatch: Run 3")
    );
    let fresh = d["archiveRun"]["run"]["_etag"].clone();
    let d = data(
        &e,
        "mutation($etag: String!) { cancelRun(input: { id: 3, etag: $etag }) { run { status archived } } }",
        json!({ "etag": fresh }),
    )
    .await;
    assert_eq!(
        d["cancelRun"]["run"],
        json!({ "status": "CANCELED", "archived": true })
    );

    let d = data(&e, "{ invites { edges { node { _etag } } } }", json!({})).await;
    let etag = d["invites"]["edges"][0]["node"]["_etag"].clone();
    let d = data(
        &e,
        "mutation($etag: String!) { resendInvite(id: 1, etag: $etag) { invite { resendCount _etag } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(d["resendInvite"]["invite"]["resendCount"], 1);
    let d = data(
        &e,
        "mutation($etag: String!) { revokeInvite(id: 1, etag: $etag) { invite { status } } }",
        json!({ "etag": d["resendInvite"]["invite"]["_etag"] }),
    )
    .await;
    assert_eq!(d["revokeInvite"]["invite"]["status"], "REVOKED");
}

#[tokio::test]
async fn reorders_move_rows_among_their_siblings() {
    let e = demo().await;
    // Purchase order 3 has lines 3 (position 1) and 4 (position 2).
    let etag = etag_of(&e, "purchaseOrderLine", 4).await;
    let d = data(
        &e,
        "mutation($etag: String!) { reorderPurchaseOrderLine(input: { id: 4, position: 1, etag: $etag }) { purchaseOrderLine { id position } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(
        d["reorderPurchaseOrderLine"]["purchaseOrderLine"],
        json!({ "id": 4, "position": 1 })
    );
    let d = data(
        &e,
        "{ a: purchaseOrderLine(id: 3) { position } b: purchaseOrderLine(id: 1) { position } }",
        json!({}),
    )
    .await;
    assert_eq!(d["a"]["position"], 2, "the sibling moved down");
    assert_eq!(d["b"]["position"], 1, "another order's line stays");

    let etag = etag_of(&e, "step", 1).await;
    let d = data(
        &e,
        "mutation($etag: String!) { reorderSteps(input: { procedureId: 1, steps: [{ id: 1, position: 9, etag: $etag }] }) { steps { id position } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(
        d["reorderSteps"]["steps"],
        json!([{ "id": 1, "position": 9 }])
    );
}

#[tokio::test]
async fn copies_and_versions_take_their_ordered_content() {
    let e = demo().await;
    let d = data(
        &e,
        "mutation { copyStep(input: { stepId: 1, procedureId: 2 }) { step { id title procedureId originStepId } } }",
        json!({}),
    )
    .await;
    let copy = &d["copyStep"]["step"];
    let original = data(&e, "{ step(id: 1) { title } }", json!({})).await;
    assert_eq!(copy["title"], original["step"]["title"]);
    assert_eq!(
        (copy["procedureId"].clone(), copy["originStepId"].clone()),
        (json!(2), json!(1))
    );

    let d = data(
        &e,
        "mutation { copyStepToRun(input: { stepId: 2, runId: 3 }) { runStep { runId originStepId status } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["copyStepToRun"]["runStep"],
        json!({ "runId": 3, "originStepId": 2, "status": "TODO" })
    );

    let d = data(
        &e,
        "mutation { createProcedureVersion(familyId: 1, procedureId: 1) { procedure { id version status isLatestVersion steps { id } } } }",
        json!({}),
    )
    .await;
    let version = &d["createProcedureVersion"]["procedure"];
    assert_eq!(
        (
            version["version"].clone(),
            version["status"].clone(),
            version["isLatestVersion"].clone()
        ),
        (json!(2), json!("DRAFT"), json!(true))
    );
    assert_eq!(
        version["steps"].as_array().map(Vec::len),
        Some(5),
        "its steps are copied"
    );
    let d = data(
        &e,
        "{ procedure(id: 1) { isLatestVersion steps { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["procedure"]["isLatestVersion"], false);
    assert_eq!(
        ids_of(&d["procedure"]["steps"]),
        [1, 2, 3, 4, 5],
        "the original keeps its own"
    );

    let etag = etag_of(&e, "part", 2).await;
    let d = data(
        &e,
        "mutation($etag: String!) { createPartRevision(input: { id: 2, etag: $etag }) { part { partNumber revision revisedFromId isLatestRevision } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(
        d["createPartRevision"]["part"],
        json!({ "partNumber": "TA-100", "revision": "C", "revisedFromId": 2, "isLatestRevision": true })
    );
}

#[tokio::test]
async fn create_for_events_settings_and_resets() {
    let e = seeded(json!({
        "Organization": [{ "id": 1, "name": "Demo", "domain": "demo", "orgSchema": "demo" }],
        "IssueApproval": [{ "id": 1, "issueId": 1, "reviewerId": 2, "depth": 0, "resolved": false }]
    }))
    .await;
    let d = data(
        &e,
        "mutation { createKitForRun(input: { runId: 2 }) { partKit { runId run { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["createKitForRun"]["partKit"],
        json!({ "runId": 2, "run": { "id": 2 } })
    );
    let etag = etag_of(&e, "partInventory", 1).await;
    let d = data(
        &e,
        "mutation($etag: String!) { createAbomForPartInventory(id: 1, etag: $etag) { abomItem { partInventoryId partId } } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(
        d["createAbomForPartInventory"]["abomItem"],
        json!({ "partInventoryId": 1, "partId": 2 }),
        "the item takes the inventory's part"
    );
    let d = data(
        &e,
        "mutation { checkIn(input: { runStepId: 1 }) { checkInEvent { eventType runStepId } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["checkIn"]["checkInEvent"],
        json!({ "eventType": "CHECK_IN", "runStepId": 1 })
    );

    let etag = etag_of(&e, "organization", 1).await;
    let d = data(
        &e,
        "mutation($etag: String!) { updateOrganizationRunAttributes(input: { id: 1, etag: $etag, key: \"Customer\", type: STRING }) { organization { name _etag settings { runs { attributes { key type } } } } } }",
        json!({ "etag": etag }),
    )
    .await;
    let organization = &d["updateOrganizationRunAttributes"]["organization"];
    assert_eq!(
        organization["name"], "Demo",
        "the organization itself is untouched"
    );
    assert_eq!(
        organization["settings"]["runs"]["attributes"],
        json!([{ "key": "Customer", "type": "STRING" }])
    );
    let etag = organization["_etag"].clone();
    let d = data(
        &e,
        "mutation($etag: String!) { deleteOrganizationRunAttributes(input: { id: 1, etag: $etag, key: \"Customer\" }) { organization { _etag settings { runs { attributes { key } } } } } }",
        json!({ "etag": etag }),
    )
    .await;
    let organization = &d["deleteOrganizationRunAttributes"]["organization"];
    assert_eq!(organization["settings"]["runs"]["attributes"], json!([]));
    let body = gql(
        &e,
        "mutation($etag: String!) { deleteOrganizationRunAttributes(input: { id: 1, etag: $etag, key: \"Customer\" }) { organization { id } } }",
        json!({ "etag": organization["_etag"] }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "Organization 1 has no settings.runs.attributes with key \"Customer\"."
    );

    let etag = etag_of(&e, "issue", 1).await;
    let d = data(
        &e,
        "mutation($etag: String!) { resetIssueApprovals(input: { issueId: 1, etag: $etag }) { issueId } }",
        json!({ "etag": etag }),
    )
    .await;
    assert_eq!(d["resetIssueApprovals"]["issueId"], 1);
    let d = data(&e, "{ issue(id: 1) { approvals { id } } }", json!({})).await;
    assert_eq!(d["issue"]["approvals"], json!([]));
}

#[tokio::test]
async fn api_keys_get_credentials_and_are_found_by_client_id() {
    let e = demo().await;
    let d = data(
        &e,
        "mutation { createApiKey { apikey { clientId clientSecret _etag } } }",
        json!({}),
    )
    .await;
    let key = d["createApiKey"]["apikey"].clone();
    assert_eq!(key["clientId"].as_str().map(str::len), Some(32));
    assert_eq!(key["clientSecret"].as_str().map(str::len), Some(32));
    let d = data(
        &e,
        "mutation($id: String!, $etag: String!) { updateApiKey(input: { clientId: $id, _etag: $etag, enabled: false, regenerateSecret: true }) { apikey { clientId clientSecret enabled _etag } } }",
        json!({ "id": key["clientId"], "etag": key["_etag"] }),
    )
    .await;
    let updated = &d["updateApiKey"]["apikey"];
    assert_eq!(
        (updated["clientId"].clone(), updated["enabled"].clone()),
        (key["clientId"].clone(), json!(false))
    );
    assert_ne!(updated["clientSecret"], key["clientSecret"]);
    data(
        &e,
        "mutation($id: String!, $etag: String!) { deleteApiKey(input: { clientId: $id, _etag: $etag }) { apikey { clientId } } }",
        json!({ "id": key["clientId"], "etag": updated["_etag"] }),
    )
    .await;
    let d = data(&e, "{ apiKeys { edges { node { clientId } } } }", json!({})).await;
    assert_eq!(d["apiKeys"]["edges"], json!([]));
}

#[tokio::test]
async fn a_batch_that_fails_writes_nothing() {
    let e = demo().await;
    let before = data(
        &e,
        "{ receipt(id: 1) { _etag receiptItems { id } } }",
        json!({}),
    )
    .await;
    let body = gql(
        &e,
        "mutation($etag: String!) { addInventoriesToReceipt(input: [{ receiptId: 1, partInventoryId: 5, quantity: 1, etag: $etag }, { receiptId: 99, partInventoryId: 6, quantity: 1, etag: $etag }]) { receipt { id } } }",
        json!({ "etag": before["receipt"]["_etag"] }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "Receipt matching id 99 does not exist."
    );
    let after = data(
        &e,
        "{ receipt(id: 1) { _etag receiptItems { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(after, before);
}
