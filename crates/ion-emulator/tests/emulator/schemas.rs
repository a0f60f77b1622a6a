//! Schemas: the crate's own, the full reference SDL, small ones, and introspection.

use std::time::Instant;

use ion_emulator::{EmulatorError, EmulatorOptions, Seed};
use serde_json::Value;
use serde_json::json;

use super::support::*;

#[tokio::test]
async fn shared_reference_schema_loads_and_serves() {
    let Some(path) = reference_sdl_path() else {
        return;
    };
    let t = Instant::now();
    let emulator = start(EmulatorOptions::new().schema_file(&path).seed(Seed::Demo)).await;
    let took = t.elapsed();
    let s = emulator.stats();
    eprintln!(
        "reference SDL: {} types, {} tables, {} emulated queries, {} emulated mutations, started in {:?} (measured {:?}); dropped: {:?}",
        s.types,
        s.entities,
        s.emulated_queries,
        s.emulated_mutations,
        s.startup,
        took,
        s.dropped_seed_data
    );
    assert_eq!(s.types, 1471);
    let d = data(&emulator, "{ runs(first: 2, sort: [ID_ASC]) { edges { node { id title steps { id } } } pageInfo { totalCount } } }", json!({})).await;
    assert_eq!(ids(&d["runs"]), [1, 2]);
    assert_eq!(d["runs"]["pageInfo"]["totalCount"], 6);
}

/// The document for one file of `queries/`: the operation plus the fragments it reaches.
fn operation_document(file: &std::path::Path) -> String {
    let root = file.parent().unwrap();
    let mut fragments = Vec::new();
    for entry in std::fs::read_dir(root.join("fragments"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        // Split a fragments file into its definitions.
        let mut current = String::new();
        for line in text.lines() {
            if line.starts_with("fragment ") && !current.trim().is_empty() {
                fragments.push(std::mem::take(&mut current));
            }
            if !line.trim_start().starts_with('#') {
                current.push_str(line);
                current.push('\n');
            }
        }
        if !current.trim().is_empty() {
            fragments.push(current);
        }
    }
    let mut doc = std::fs::read_to_string(file).unwrap();
    let mut added = Vec::new();
    loop {
        let mut grew = false;
        for f in &fragments {
            let name = f.split_whitespace().nth(1).unwrap_or_default().to_owned();
            if !added.contains(&name) && doc.contains(&format!("...{name}")) {
                doc.push('\n');
                doc.push_str(f);
                added.push(name);
                grew = true;
            }
        }
        if !grew {
            return doc;
        }
    }
}

async fn etag(e: &ion_emulator::Emulator, lookup: &str, id: i64) -> String {
    let d = data(
        e,
        &format!("{{ x: {lookup}(id: {id}) {{ _etag }} }}"),
        json!({}),
    )
    .await;
    d["x"]["_etag"].as_str().unwrap().to_owned()
}

/// Every operation the crate ships runs against the demo seed without a GraphQL error.
#[tokio::test]
async fn every_operation_in_queries_runs_against_the_demo_seed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    let e = demo().await;
    let mut ran = 0;
    for file in files {
        let doc = operation_document(&file);
        let parsed = apollo_compiler::ast::Document::parse(&doc, "operation.graphql").unwrap();
        let def = parsed
            .definitions
            .iter()
            .find_map(|d| match d {
                apollo_compiler::ast::Definition::OperationDefinition(op) => Some(op),
                _ => None,
            })
            .unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let mut vars = serde_json::Map::new();
        for v in &def.variables {
            if !v.ty.is_non_null() || v.default_value.is_some() {
                continue;
            }
            // A list variable gets a list of one value of its item type.
            let ty = v.ty.inner_named_type().to_string();
            let value = match (name.as_str(), v.name.as_str(), ty.as_str()) {
                (_, "etag", _) => json!("filled in below"),
                ("create_file_attachment", "filename", _) => json!("photo.jpg"),
                (_, "input", t) => match t {
                    "CreateIssueInput" => {
                        json!({ "title": "Burr on bracket", "partInventoryIds": [8] })
                    }
                    "CreatePartInventoryInput" => {
                        json!({ "partId": "5", "quantity": 10, "locationId": "2" })
                    }
                    "CreatePurchaseOrderInput" => {
                        json!({ "supplierId": 1, "description": "More brackets" })
                    }
                    "CreatePurchaseOrderLineInput" => {
                        json!({ "purchaseOrderId": 3, "partId": 5, "quantity": 5 })
                    }
                    "CreateRunInput" => {
                        json!({ "title": "TA-100 build SN-0004", "procedureId": "1", "partId": "2" })
                    }
                    "UpdatePurchaseOrderLineInput" => {
                        json!({ "id": 3, "etag": etag(&e, "purchaseOrderLine", 3).await, "quantity": 1200 })
                    }
                    "UpdateRunInput" => {
                        json!({ "id": "3", "etag": etag(&e, "run", 3).await, "description": "Rush" })
                    }
                    other => panic!("{name}: no input for {other}"),
                },
                (_, _, "ID") => json!("1"),
                (_, _, "Int") => json!(5),
                (_, _, "Float") => json!(2.5),
                (_, _, "Boolean") => json!(true),
                (_, _, "String") => json!("x"),
                (_, _, enum_type) => {
                    let t = data(
                        &e,
                        &format!("{{ __type(name: \"{enum_type}\") {{ enumValues {{ name }} }} }}"),
                        json!({}),
                    )
                    .await;
                    t["__type"]["enumValues"][1]["name"].clone()
                }
            };
            let value = if v.ty.is_list() {
                json!([value])
            } else {
                value
            };
            vars.insert(v.name.to_string(), value);
        }
        if vars.contains_key("etag") {
            let (lookup, id) = match name.as_str() {
                "delete_part_inventory" => ("partInventory", 12),
                "delete_purchase_order_line" => ("purchaseOrderLine", 4),
                "update_issue_status" => ("issue", 1),
                "update_part_inventory_quantity" => ("partInventory", 1),
                "update_run_step_status" => ("runStep", 1),
                "update_run_step_field_value" => ("runStep", 17),
                other => panic!("{other}: which object's etag?"),
            };
            let current = if name == "update_run_step_field_value" {
                // Run step fields have no root lookup; reach the field through its step.
                let d = data(&e, "{ runStep(id: 17) { fields { id _etag } } }", json!({})).await;
                let field = &d["runStep"]["fields"][0];
                vars.insert("id".into(), field["id"].clone());
                vars.insert("value".into(), json!(3.9));
                field["_etag"].as_str().unwrap().to_owned()
            } else {
                vars.insert("id".into(), json!(id));
                etag(&e, lookup, id).await
            };
            vars.insert("etag".into(), json!(current));
        }
        let body = gql(&e, &doc, Value::Object(vars.clone())).await;
        assert!(body.get("errors").is_none(), "{name} with {vars:?}: {body}");
        assert!(
            body["data"]
                .as_object()
                .is_some_and(|d| d.values().all(|v| !v.is_null())),
            "{name}: {body}"
        );
        ran += 1;
    }
    assert!(ran >= 40, "only {ran} operations found");
}

#[tokio::test]
async fn an_empty_or_broken_schema_is_an_error_not_a_panic() {
    for (sdl, want) in [
        ("", "empty"),
        ("type Query {", "does not parse"),
        ("type Mutation { x: Int }", "no `Query`"),
    ] {
        let err = ion_emulator::Emulator::start(EmulatorOptions::new().schema_sdl(sdl))
            .await
            .unwrap_err();
        assert!(
            matches!(err, EmulatorError::Schema(_)) && err.to_string().contains(want),
            "{sdl:?}: {err}"
        );
    }
    let err = ion_emulator::Emulator::start(
        EmulatorOptions::new().schema_file("/nonexistent/ion.graphql"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot read"), "{err}");
}

/// A schema of our own, far from ION's size, works by the same conventions.
#[tokio::test]
async fn a_small_sdl_of_its_own_is_served_by_convention() {
    let sdl = r#"
        type Query {
          widgets(filters: WidgetsInputFilters, sort: [WidgetSortEnum], first: Int, after: String): WidgetsConnection
          widget(id: ID!): Widget
        }
        type Mutation {
          createWidget(input: CreateWidgetInput!): CreateWidget
          deleteWidget(id: ID!, etag: String!): DeleteWidget
        }
        type Widget { id: Int! _etag: String name: String! colour: Colour binId: Int bin: Bin }
        type Bin { id: Int! label: String widgets: [Widget] _WidgetsCount: Int }
        enum Colour { RED BLUE }
        type WidgetsConnection { pageInfo: IonPageInfo! edges: [WidgetsEdge]! }
        type WidgetsEdge { node: Widget cursor: String! }
        type IonPageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String count: Int! totalCount: Int! }
        type CreateWidget { widget: Widget }
        type DeleteWidget { id: Int }
        input CreateWidgetInput { name: String! colour: Colour binId: ID }
        input WidgetsInputFilters { name: StringFilter colour: ColourFilter bin: BinsInputFilters and_: [WidgetsInputFilters] or_: [WidgetsInputFilters] }
        input BinsInputFilters { label: StringFilter }
        input StringFilter { eq: String like: String ilike: String isnull: Boolean }
        input ColourFilter { eq: Colour in: [Colour] isnull: Boolean }
        enum WidgetSortEnum { ID_ASC ID_DESC NAME_ASC NAME_DESC }
    "#;
    let seed = json!({ "Bin": [{ "id": 1, "label": "top" }, { "id": 2, "label": "bottom" }],
                       "Widget": [{ "id": 1, "name": "cog", "colour": "RED", "binId": 1 }] });
    let e = start(
        EmulatorOptions::new()
            .schema_sdl(sdl)
            .seed(Seed::Json(seed)),
    )
    .await;
    let d = data(&e, "mutation { createWidget(input: { name: \"axle\", colour: BLUE, binId: \"2\" }) { widget { id bin { label _WidgetsCount } } } }", json!({})).await;
    assert_eq!(
        d["createWidget"]["widget"],
        json!({ "id": 2, "bin": { "label": "bottom", "_WidgetsCount": 1 } })
    );
    let d = data(&e, "{ widgets(filters: { bin: { label: { eq: \"top\" } } }, sort: [NAME_DESC]) { edges { node { name } } pageInfo { totalCount } } }", json!({})).await;
    assert_eq!(
        d["widgets"]["edges"],
        json!([{ "node": { "name": "cog" } }])
    );
    let d = data(
        &e,
        "{ __type(name: \"Colour\") { enumValues { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["__type"]["enumValues"],
        json!([{ "name": "RED" }, { "name": "BLUE" }])
    );
}

/// A test suite starts an emulator per test: the first start of an SDL in a process builds
/// the executable schema, later ones reuse it, and every emulator keeps its own rows.
#[tokio::test]
async fn later_starts_reuse_the_schema_and_keep_their_own_data() {
    // An SDL no other test serves, so this test sees its first start.
    let sdl = format!(
        "# later_starts_reuse_the_schema {}\n{}",
        std::process::id(),
        ion_emulator::SHIPPED_SCHEMA
    );
    let options = || {
        EmulatorOptions::new()
            .schema_sdl(sdl.clone())
            .seed(Seed::Demo)
    };
    let first = start(options()).await;
    let second = start(options()).await;
    let third = start(options()).await;
    assert!(!first.stats().schema_cached);
    assert!(second.stats().schema_cached && third.stats().schema_cached);
    eprintln!(
        "emulator start with the shipped schema ({} build): first {:?}, later {:?} and {:?}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        first.stats().startup,
        second.stats().startup,
        third.stats().startup
    );

    let created = gql(
        &second,
        "mutation { createLocation(input: {name: \"only in the second\"}) { location { id } } }",
        json!({}),
    )
    .await;
    assert!(created["errors"].is_null(), "{created}");
    let find =
        "{ locations(filters: {name: {eq: \"only in the second\"}}) { edges { node { id } } } }";
    let in_second = gql(&second, find, json!({})).await;
    assert_eq!(
        in_second["data"]["locations"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let in_third = gql(&third, find, json!({})).await;
    assert_eq!(
        in_third["data"]["locations"]["edges"],
        json!([]),
        "{in_third}"
    );
}

/// First Resonance's own operations (the evidence kept beside the reference SDL), each with its
/// variables file, run against the reference schema. Placeholder variables make some of them
/// fail as ION would (unknown ids, bad enum values, stale etags); none may fail inside the
/// emulator itself, and none may find its root field not emulated.
#[tokio::test]
async fn shared_evidence_operations_run_against_the_reference_schema() {
    let (Some(sdl), Some(manifest)) = (
        reference_sdl_path(),
        shared_file("ion-evidence/operations/MANIFEST.tsv"),
    ) else {
        return;
    };
    let ops_dir = manifest.parent().unwrap().to_path_buf();
    let manifest = std::fs::read_to_string(&manifest).unwrap();
    let e = start(EmulatorOptions::new().schema_file(&sdl).seed(Seed::Demo)).await;
    let token = token(&e).await;
    let (mut clean, mut refused, mut not_emulated, mut internal) = (0, 0, Vec::new(), Vec::new());
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 || !cols[4].contains("valid vs 2023 SDL") {
            continue;
        }
        let path = ops_dir.join(cols[0]);
        let query = std::fs::read_to_string(&path).unwrap();
        let vars: Value = std::fs::read_to_string(path.with_extension("variables.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(json!({}));
        let body = gql_with(&e, &token, &query, vars).await;
        let messages: Vec<String> = body["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .filter_map(|m| m["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if messages.is_empty() {
            clean += 1;
        } else if messages.iter().any(|m| m.contains("internal")) {
            internal.push(format!("{}: {messages:?}", cols[0]));
        } else if messages.iter().any(|m| m.starts_with("not emulated: ")) {
            not_emulated.push(format!("{}: {messages:?}", cols[0]));
        } else {
            eprintln!("refused {}: {messages:?}", cols[0]);
            refused += 1;
        }
    }
    eprintln!(
        "evidence operations: {clean} clean, {refused} refused (placeholder variables), {} not emulated",
        not_emulated.len()
    );
    assert!(
        internal.is_empty(),
        "emulator-internal failures:\n{}",
        internal.join("\n")
    );
    assert!(
        not_emulated.is_empty(),
        "not emulated:\n{}",
        not_emulated.join("\n")
    );
    assert!(clean >= 40, "only {clean} evidence operations ran cleanly");
}

/// Schema and seed files are read as `ion` reads `.graphql` files: a FIFO is refused without
/// waiting for a writer, a device (here `/dev/zero` behind a link, which would never end) is
/// never read.
#[cfg(unix)]
#[test]
fn schema_and_seed_files_that_are_not_regular_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let zero = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();

    // Bounded: a blocking open would hang forever, so each start runs on a thread of its own
    // (left behind if it blocks) and the test waits for its answer a limited time.
    let refusal = |options: EmulatorOptions| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let started = runtime.block_on(ion_emulator::Emulator::start(options));
            let _ = tx.send(started.err());
        });
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("refused at once, not blocked")
            .expect("refused")
    };
    let err = refusal(EmulatorOptions::new().schema_file(&fifo));
    assert!(matches!(err, EmulatorError::Schema(_)), "{err}");
    assert!(
        err.to_string()
            .contains("pipe is a named pipe, not a regular file"),
        "{err}"
    );
    for (seed, want) in [
        (&fifo, "pipe is a named pipe, not a regular file"),
        (&zero, "zero.json is a device, not a regular file"),
    ] {
        let err = refusal(EmulatorOptions::new().seed(Seed::File(seed.clone())));
        assert!(matches!(err, EmulatorError::Seed(_)), "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
}
