//! Store semantics: connections, filters, sorts, relations, writes, seeds.

use ion_emulator::{EmulatorOptions, Seed};
use serde_json::{Value, json};

use super::support::*;

#[tokio::test]
async fn demo_seed_fits_the_crate_schema() {
    let emulator = demo().await;
    let s = emulator.stats();
    eprintln!(
        "crate schema: {} types, {} tables, started in {:?}, rows {:?}",
        s.types, s.entities, s.startup, s.rows
    );
    assert!(
        s.dropped_seed_data.is_empty(),
        "seed data the crate schema cannot hold: {:?}",
        s.dropped_seed_data
    );
    assert_eq!(s.rows.get("Run"), Some(&6));
    assert_eq!(s.rows.get("RunStep"), Some(&23));
    assert_eq!(s.rows.get("RunStepField"), Some(&4));
}

const RUNS_PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String, $sort: [RunSortEnum], $filters: RunsInputFilters) {
  runs(first: $first, after: $after, last: $last, before: $before, sort: $sort, filters: $filters) {
    edges { cursor node { id title status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor count totalCount }
  }
}";

#[tokio::test]
async fn connections_page_with_offset_cursors_and_complete_page_info() {
    let emulator = demo().await;
    let d = data(
        &emulator,
        RUNS_PAGE,
        json!({ "first": 4, "sort": ["ID_ASC"] }),
    )
    .await;
    let runs = &d["runs"];
    assert_eq!(ids(runs), [1, 2, 3, 4]);
    assert_eq!(
        runs["pageInfo"],
        json!({
            "hasNextPage": true, "hasPreviousPage": false,
            "startCursor": "YXJyYXljb25uZWN0aW9uOjA=", "endCursor": "YXJyYXljb25uZWN0aW9uOjM=",
            "count": 4, "totalCount": 6
        })
    );
    assert_eq!(runs["edges"][1]["cursor"], "YXJyYXljb25uZWN0aW9uOjE=");
    let after = runs["pageInfo"]["endCursor"].clone();
    let d = data(
        &emulator,
        RUNS_PAGE,
        json!({ "first": 4, "after": after, "sort": ["ID_ASC"] }),
    )
    .await;
    assert_eq!(ids(&d["runs"]), [5, 6]);
    assert_eq!(d["runs"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(d["runs"]["pageInfo"]["count"], 2);
    // An empty `after` is the first page, as on ION.
    let d = data(&emulator, RUNS_PAGE, json!({ "first": 1, "after": "" })).await;
    assert_eq!(ids(&d["runs"]), [1]);
    // Backwards.
    let d = data(
        &emulator,
        RUNS_PAGE,
        json!({ "last": 2, "before": "YXJyYXljb25uZWN0aW9uOjM=" }),
    )
    .await;
    assert_eq!(ids(&d["runs"]), [2, 3]);
    assert_eq!(d["runs"]["pageInfo"]["hasPreviousPage"], true);
    // No paging arguments: everything, and no next page.
    let d = data(&emulator, RUNS_PAGE, json!({})).await;
    assert_eq!(d["runs"]["pageInfo"]["count"], 6);
    let body = gql(&emulator, RUNS_PAGE, json!({ "first": -1 })).await;
    assert_eq!(
        body["errors"][0]["message"],
        "Argument 'first' must be a non-negative integer."
    );
}

async fn run_ids(emulator: &ion_emulator::Emulator, filters: Value) -> Vec<i64> {
    let d = data(
        emulator,
        RUNS_PAGE,
        json!({ "filters": filters, "sort": ["ID_ASC"] }),
    )
    .await;
    ids(&d["runs"])
}

#[tokio::test]
async fn filters_support_every_operator_and_combinators() {
    let e = demo().await;
    let cases = [
        (json!({ "id": { "eq": "2" } }), vec![2]),
        (json!({ "id": { "neq": 2 } }), vec![1, 3, 4, 5, 6]),
        (json!({ "id": { "in": [1, "3", 9] } }), vec![1, 3]),
        (json!({ "id": { "gt": 4 } }), vec![5, 6]),
        (json!({ "id": { "gte": 4 } }), vec![4, 5, 6]),
        (json!({ "id": { "lt": 2 } }), vec![1]),
        (json!({ "id": { "lte": 2 } }), vec![1, 2]),
        (json!({ "title": { "like": "TA-100%" } }), vec![1, 2, 3]),
        (json!({ "title": { "like": "ta-100%" } }), vec![]),
        (json!({ "title": { "ilike": "%leak%" } }), vec![4, 5]),
        (json!({ "title": { "notlike": "TA-100%" } }), vec![4, 5, 6]),
        (
            json!({ "title": { "notilike": "%LEAK%" } }),
            vec![1, 2, 3, 6],
        ),
        (
            json!({ "title": { "fuzzyMatch": { "value": "Torque wrench calibraton", "similarity": 0.5 } } }),
            vec![6],
        ),
        (json!({ "status": { "eq": "IN_PROGRESS" } }), vec![2]),
        (
            json!({ "status": { "in": ["COMPLETE", "FAILED"] } }),
            vec![1, 4, 5],
        ),
        (
            json!({ "jiraIssueKey": { "isnull": true } }),
            vec![1, 2, 3, 4, 5, 6],
        ),
        (
            json!({ "procedureId": { "isnull": false, "eq": 2 } }),
            vec![4, 5],
        ),
        (
            json!({ "dueDate": { "lt": "2024-01-16T00:00:00+00:00" } }),
            vec![1, 5],
        ),
        (
            json!({ "dueDate": { "gte": "2024-01-29T17:00:00Z" } }),
            vec![3, 6],
        ),
        (
            json!({ "or_": [{ "id": { "eq": 1 } }, { "status": { "eq": "HOLD" } }] }),
            vec![1, 6],
        ),
        (
            json!({ "and_": [{ "procedureId": { "eq": 1 } }, { "status": { "neq": "COMPLETE" } }] }),
            vec![2, 3],
        ),
        (
            json!({ "procedureId": { "eq": 1 }, "title": { "ilike": "%0003" } }),
            vec![3],
        ),
        // Relation filters through the xId foreign key, to-one and to-many.
        (
            json!({ "procedure": { "title": { "ilike": "valve%" } } }),
            vec![4, 5],
        ),
        (
            json!({ "steps": { "status": { "eq": "FAILED" } } }),
            vec![4],
        ),
        // A column of a related object (ION's `partNumber` on runs).
        (json!({ "partNumber": { "eq": "TQ-001" } }), vec![6]),
    ];
    for (filters, want) in cases {
        assert_eq!(run_ids(&e, filters.clone()).await, want, "{filters}");
    }
}

#[tokio::test]
async fn sort_enums_order_rows_with_id_as_the_tie_breaker() {
    let e = demo().await;
    let titles = |d: &Value| -> Vec<i64> { ids(&d["runs"]) };
    let d = data(&e, RUNS_PAGE, json!({ "sort": ["TITLE_DESC"] })).await;
    assert_eq!(titles(&d), [5, 4, 6, 3, 2, 1]);
    let d = data(
        &e,
        RUNS_PAGE,
        json!({ "sort": ["PROCEDURE_ID_DESC", "ID_DESC"] }),
    )
    .await;
    assert_eq!(titles(&d), [6, 5, 4, 3, 2, 1]);
    let d = data(&e, RUNS_PAGE, json!({ "sort": ["_CREATED_ASC"] })).await;
    assert_eq!(
        titles(&d),
        [1, 2, 3, 4, 5, 6],
        "equal timestamps fall back to id"
    );
    let d = data(
        &e,
        RUNS_PAGE,
        json!({ "sort": ["DUE_DATE_ASC"], "first": 2 }),
    )
    .await;
    assert_eq!(titles(&d), [1, 5]);
    let body = gql(&e, "{ runs(distinctOn: [PROCEDURE_ID_ASC], sort: [PROCEDURE_ID_ASC]) { edges { node { id } } } }", json!({})).await;
    assert_eq!(ids(&body["data"]["runs"]), [1, 4, 6]);
}

#[tokio::test]
async fn lookups_and_relations_follow_foreign_keys() {
    let e = demo().await;
    let d = data(
        &e,
        "query($id: ID!) { run(id: $id) {
            id title procedureId
            procedure { id title steps { id position } }
            part { partNumber revision revisions { id revision } }
            partInventory { serialNumber location { name } }
            assignedTo { name }
            startedBy { name }
            steps { id runId position status }
            failed: steps(filters: { status: { eq: TODO } }) { id }
        } missing: run(id: 999) { id } }",
        json!({ "id": 2 }),
    )
    .await;
    let run = &d["run"];
    assert_eq!(run["procedure"]["title"], "Thruster assembly build");
    assert_eq!(run["procedure"]["steps"].as_array().unwrap().len(), 5);
    assert_eq!(
        run["part"],
        json!({ "partNumber": "TA-100", "revision": "B", "revisions": [] })
    );
    assert_eq!(
        run["partInventory"],
        json!({ "serialNumber": "SN-0002", "location": { "name": "Assembly Cell 1" } })
    );
    assert_eq!(run["assignedTo"]["name"], "Grace Hopper");
    assert_eq!(
        run["startedBy"]["name"], "Grace Hopper",
        "hidden foreign key startedById"
    );
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    assert!(steps.iter().all(|s| s["runId"] == 2));
    assert_eq!(run["failed"].as_array().unwrap().len(), 2);
    assert!(d["missing"].is_null());
    // Self relation through `revisedFrom`, and a many-to-many the seed lists by id.
    let d = data(
        &e,
        "{ part(id: 1) { revisions { id revision } } me { id name teams { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["part"]["revisions"],
        json!([{ "id": 2, "revision": "B" }])
    );
    assert_eq!(
        d["me"],
        json!({ "id": 1, "name": "ION API (local)", "teams": [{ "name": "Assembly" }, { "name": "Quality" }] })
    );
    // Inventory at a location, from the location's side.
    let d = data(
        &e,
        "{ location(id: 2) { partInventories { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["location"]["partInventories"].as_array().unwrap().len(),
        5
    );
}

const CREATE_RUN: &str = "mutation($input: CreateRunInput!) { createRun(input: $input) { run { id _etag title status procedureId createdById _created procedure { title } } } }";
const UPDATE_RUN: &str =
    "mutation($input: UpdateRunInput!) { updateRun(input: $input) { run { id _etag title } } }";

#[tokio::test]
async fn writes_assign_ids_and_etags_and_refuse_stale_etags() {
    let e = demo().await;
    let token = token(&e).await;
    let created = gql_with(
        &e,
        &token,
        CREATE_RUN,
        json!({ "input": { "title": "New run", "procedureId": "2" } }),
    )
    .await;
    let run = &created["data"]["createRun"]["run"];
    assert_eq!(run["id"], 7);
    assert_eq!(run["status"], "TODO");
    assert_eq!(
        run["procedureId"], 2,
        "an ID input lands in an Int column as a number"
    );
    assert_eq!(run["createdById"], 1);
    assert_eq!(run["procedure"]["title"], "Valve leak test");
    // As on ION, a run made from a procedure gets a copy of the procedure's steps.
    let d = data(
        &e,
        "{ run(id: 7) { steps { id title position status runId } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["run"]["steps"],
        json!([
            { "id": 24, "title": "Pressurize to 300 psi", "position": 1, "status": "TODO", "runId": 7 },
            { "id": 25, "title": "Hold and record leak rate", "position": 2, "status": "TODO", "runId": 7 },
            { "id": 26, "title": "Vent and tag", "position": 3, "status": "TODO", "runId": 7 },
        ])
    );
    let etag1 = run["_etag"].as_str().unwrap().to_owned();
    assert!(etag1.len() == 32 && etag1.chars().all(|c| c.is_ascii_hexdigit()));

    let updated = gql_with(
        &e,
        &token,
        UPDATE_RUN,
        json!({ "input": { "id": 7, "etag": etag1, "title": "Renamed" } }),
    )
    .await;
    let run = &updated["data"]["updateRun"]["run"];
    assert_eq!(run["title"], "Renamed");
    let etag2 = run["_etag"].as_str().unwrap().to_owned();
    assert_ne!(etag1, etag2, "every write changes the etag");

    let stale = gql_with(
        &e,
        &token,
        UPDATE_RUN,
        json!({ "input": { "id": 7, "etag": etag1, "title": "Lost update" } }),
    )
    .await;
    assert!(stale["data"]["updateRun"].is_null());
    let message = stale["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Etag mismatch"), "{message}");
    assert_eq!(stale["errors"][0]["path"], json!(["updateRun"]));
    let d = data(&e, "{ run(id: 7) { title _etag } }", json!({})).await;
    assert_eq!(d["run"], json!({ "title": "Renamed", "_etag": etag2 }));

    let missing = gql_with(
        &e,
        &token,
        UPDATE_RUN,
        json!({ "input": { "id": 99, "etag": etag2 } }),
    )
    .await;
    assert_eq!(
        missing["errors"][0]["message"],
        "Run matching id 99 does not exist."
    );

    // Deletes take `etag` too and answer the deleted id.
    const DELETE: &str =
        "mutation($id: ID!, $etag: String!) { deletePartInventory(id: $id, etag: $etag) { id } }";
    let inv = data(&e, "{ partInventory(id: 12) { _etag } }", json!({})).await;
    let etag = inv["partInventory"]["_etag"].as_str().unwrap().to_owned();
    let stale = gql_with(
        &e,
        &token,
        DELETE,
        json!({ "id": 12, "etag": "0".repeat(32) }),
    )
    .await;
    assert!(
        stale["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Etag mismatch")
    );
    let deleted = gql_with(&e, &token, DELETE, json!({ "id": 12, "etag": etag })).await;
    assert_eq!(deleted["data"]["deletePartInventory"]["id"], 12);
    let d = data(
        &e,
        "{ partInventory(id: 12) { id } partInventories { pageInfo { totalCount } } }",
        json!({}),
    )
    .await;
    assert!(d["partInventory"].is_null());
    assert_eq!(d["partInventories"]["pageInfo"]["totalCount"], 11);
    assert_eq!(e.counters().mutations, 6);
}

#[tokio::test]
async fn batches_are_answered_with_arrays() {
    let e = demo().await;
    let token = token(&e).await;
    let batch = json!([
        { "query": "query A { run(id: 1) { id } }", "operationName": "A" },
        { "query": "query B($id: ID!) { run(id: $id) { title } }", "variables": { "id": 5 } },
        { "query": "{ nope }" },
    ]);
    let reply = post_raw(&e, Some(&format!("Bearer {token}")), &batch).await;
    assert_eq!(reply.status, 200);
    let items = reply.body.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["data"]["run"]["id"], 1);
    assert_eq!(items[1]["data"]["run"]["title"], "Valve leak test VB-1043");
    assert!(
        items[2]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nope")
    );
    let c = e.counters();
    assert_eq!((c.graphql_requests, c.operations), (1, 3));
}

#[tokio::test]
async fn introspection_describes_the_schema() {
    let e = demo().await;
    let d = data(
        &e,
        "{ __schema { queryType { name } mutationType { name } types { name } }
           __type(name: \"Run\") { fields { name type { kind name ofType { name } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["__schema"]["queryType"]["name"], "Query");
    assert_eq!(d["__schema"]["mutationType"]["name"], "Mutation");
    let names: Vec<&str> = d["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for t in [
        "Run",
        "RunsConnection",
        "IonPageInfo",
        "RunsInputFilters",
        "RunSortEnum",
        "DateTime",
    ] {
        assert!(names.contains(&t), "{t} missing from introspection");
    }
    let fields = d["__type"]["fields"].as_array().unwrap();
    let id = fields.iter().find(|f| f["name"] == "id").unwrap();
    assert_eq!(
        id["type"],
        json!({ "kind": "NON_NULL", "name": null, "ofType": { "name": "Int" } })
    );
}

#[tokio::test]
async fn fields_that_are_not_emulated_say_so() {
    let e = demo().await;
    let body = gql(
        &e,
        "mutation { splitPartInventory(input: { id: 1, etag: \"x\", quantity: 1 }) { __typename } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "not emulated: splitPartInventory (no convention of the ION emulator answers this \
         mutation; serve it with a handler)"
    );
    assert_eq!(body["errors"][0]["path"], json!(["splitPartInventory"]));
    assert_eq!(body["data"], json!({ "splitPartInventory": null }));
    let body = gql(&e, "{ prismaticIntegration { token } }", json!({})).await;
    assert_eq!(
        body["errors"][0]["message"],
        "not emulated: prismaticIntegration (no convention of the ION emulator answers this \
         query; serve it with a handler)"
    );
}

#[tokio::test]
async fn seeds_save_and_load_and_unknown_data_is_dropped() {
    let e = demo().await;
    let token = token(&e).await;
    gql_with(
        &e,
        &token,
        CREATE_RUN,
        json!({ "input": { "title": "Saved run" } }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    e.save_seed(&path).unwrap();
    let again = start(EmulatorOptions::new().seed(Seed::File(path.clone()))).await;
    assert_eq!(
        again.snapshot(),
        e.snapshot(),
        "a saved seed loads back identically"
    );
    let d = data(
        &again,
        "{ runs(filters: { title: { eq: \"Saved run\" } }) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids(&d["runs"]), [7]);

    let empty = start(EmulatorOptions::new().seed(Seed::Empty)).await;
    let d = data(
        &empty,
        "{ runs { pageInfo { totalCount } } me { id name } }",
        json!({}),
    )
    .await;
    assert_eq!(d["runs"]["pageInfo"]["totalCount"], 0);
    assert_eq!(d["me"]["id"], 1, "`me` answers even without a user row");

    let custom = start(EmulatorOptions::new().seed(Seed::Json(json!({
        "Run": [{ "id": 10, "title": "Only run", "flux": 1 }],
        "Spaceship": [{ "id": 1 }],
    }))))
    .await;
    let dropped = &custom.stats().dropped_seed_data;
    assert!(
        dropped.iter().any(|d| d.contains("Spaceship"))
            && dropped.iter().any(|d| d.contains("Run.flux")),
        "{dropped:?}"
    );
    let d = data(
        &custom,
        "{ run(id: 10) { title archived _etag } }",
        json!({}),
    )
    .await;
    assert_eq!(d["run"]["title"], "Only run");
    assert_eq!(d["run"]["archived"], false, "non-null columns get defaults");
    assert_eq!(d["run"]["_etag"].as_str().unwrap().len(), 32);
    assert!("demo".parse::<Seed>().is_ok() && "".parse::<Seed>().is_err());
}

/// A seed of `n` runs, every third one `IN_PROGRESS`.
fn many_runs(n: i64) -> Seed {
    let runs: Vec<Value> = (1..=n)
        .map(|id| {
            let status = if id % 3 == 0 { "IN_PROGRESS" } else { "TODO" };
            json!({ "id": id, "title": format!("run {id}"), "status": status })
        })
        .collect();
    Seed::Json(json!({ "Run": runs }))
}

/// Every page of `runs` with `variables`, `first` at a time: the ids in order and the
/// `totalCount` of each page.
async fn follow(
    emulator: &ion_emulator::Emulator,
    first: i64,
    variables: Value,
) -> (Vec<i64>, Vec<i64>) {
    let (mut all, mut totals) = (Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let mut vars = variables.clone();
        vars["first"] = json!(first);
        vars["after"] = after.clone();
        let d = data(emulator, RUNS_PAGE, vars).await;
        all.extend(ids(&d["runs"]));
        totals.push(d["runs"]["pageInfo"]["totalCount"].as_i64().unwrap_or(-1));
        if d["runs"]["pageInfo"]["hasNextPage"] != true {
            return (all, totals);
        }
        after = d["runs"]["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn pages_in_id_order_start_where_the_last_one_ended_and_agree_with_the_whole_listing() {
    let emulator = start(EmulatorOptions::new().seed(many_runs(100))).await;
    let in_progress = json!({ "status": { "eq": "IN_PROGRESS" } });
    for (variables, expected) in [
        (json!({}), (1..=100).collect::<Vec<i64>>()),
        (json!({ "sort": ["ID_ASC"] }), (1..=100).collect()),
        (
            json!({ "filters": in_progress, "sort": ["ID_ASC"] }),
            (1..=100).filter(|i| i % 3 == 0).collect(),
        ),
    ] {
        let (got, totals) = follow(&emulator, 7, variables.clone()).await;
        assert_eq!(got, expected, "{variables}");
        assert!(
            totals.iter().all(|t| *t == expected.len() as i64),
            "{totals:?}"
        );
        // Backwards paging takes the whole listing: the same rows.
        let mut whole = variables.clone();
        whole["last"] = json!(1000);
        assert_eq!(
            ids(&data(&emulator, RUNS_PAGE, whole).await["runs"]),
            expected
        );
    }
    // A cursor from before a write still counts rows: the write is seen, as on ION.
    let titled = json!({ "title": { "like": "run%" } });
    let first = data(
        &emulator,
        RUNS_PAGE,
        json!({ "first": 10, "filters": titled }),
    )
    .await;
    let after = first["runs"]["pageInfo"]["endCursor"].clone();
    assert_eq!(ids(&first["runs"]).last(), Some(&10));
    let body = gql(
        &emulator,
        "mutation { createRun(input: { title: \"run new\" }) { run { id } } }",
        json!({}),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let next = data(
        &emulator,
        RUNS_PAGE,
        json!({ "first": 100, "after": after, "filters": titled }),
    )
    .await;
    assert_eq!(ids(&next["runs"]), (11..=101).collect::<Vec<i64>>());
    assert_eq!(next["runs"]["pageInfo"]["totalCount"], 101);
    // A sort other than by id, and `distinctOn`, take the whole listing.
    let (desc, _) = follow(&emulator, 9, json!({ "sort": ["ID_DESC"] })).await;
    assert_eq!(desc, (1..=101).rev().collect::<Vec<i64>>());
}
