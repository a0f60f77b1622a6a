//! Every operation in `queries/` through its typed function against the demo seed, snapshotted
//! with the `testing` module's redactions; plus the `Display` of the error kinds a test can
//! trigger. Review changes with `cargo insta review`; CI (`CI=true`) never writes snapshots.

#![cfg(all(feature = "starter", feature = "testing"))]

use std::time::Instant;

use ion_client::operations::*;
use ion_client::testing::{TestIon, redact};
use ion_client::{Nullable, OperationKind};

/// Snapshots (redacted) what a call returned, under `$name`, and prints how long it took:
/// `query` unwraps the result, `mutation` keeps an error's `Display` (see [`outcome`]), and
/// the plain form takes a value already computed since `$started`.
macro_rules! snap {
    (query $name:literal, $call:expr) => {{
        let started = Instant::now();
        snap!($name, started, ok($name, $call.await))
    }};
    (mutation $name:literal, $call:expr) => {{
        let started = Instant::now();
        snap!($name, started, outcome($call.await))
    }};
    ($name:literal, $started:expr, $data:expr) => {{
        let data = $data;
        eprintln!("{}: {:?}", $name, $started.elapsed());
        insta::assert_json_snapshot!($name, redact(&data));
        data
    }};
}

/// A second client for `ion`'s emulator, with `change` applied to its configuration.
fn client_with(
    ion: &TestIon,
    change: impl FnOnce(ion_client::ConfigBuilder) -> ion_client::ConfigBuilder,
) -> ion_client::Client {
    let config = change(ion.config_builder().expect("config"));
    ion_client::Client::new(config.build().expect("config")).expect("client")
}

/// Unwraps an operation result, naming the operation on failure.
fn ok<T>(name: &str, r: Result<T, ion_client::Error>) -> T {
    r.unwrap_or_else(|e| panic!("{name} failed: {e}"))
}

#[tokio::test]
async fn every_query_against_the_demo_seed() {
    let ion = TestIon::start().await.expect("emulator");
    let c = ion.client();
    let id = || ion_client::Id::from(1);
    // Alphabetical, as in queries/, so the order is deterministic.
    snap!(query "get_file_attachment", c.get_file_attachment(get_file_attachment::Variables { id: id() }));
    snap!(query "get_issue", c.get_issue(get_issue::Variables { id: id() }));
    snap!(query "get_location", c.get_location(get_location::Variables { id: id() }));
    snap!(query "get_part", c.get_part(get_part::Variables { id: id() }));
    snap!(query "get_part_inventory", c.get_part_inventory(get_part_inventory::Variables { id: id() }));
    snap!(query "get_procedure", c.get_procedure(get_procedure::Variables { id: id() }));
    snap!(query "get_purchase_order", c.get_purchase_order(get_purchase_order::Variables { id: id() }));
    snap!(query "get_purchase_order_line", c.get_purchase_order_line(get_purchase_order_line::Variables { id: id() }));
    snap!(query "get_receipt", c.get_receipt(get_receipt::Variables { id: id() }));
    snap!(query "get_run", c.get_run(get_run::Variables {
        id: id(),
        with_steps: true
    }));
    snap!(query "get_run_step", c.get_run_step(get_run_step::Variables { id: id() }));
    let runs = snap!(query "get_runs", c.get_runs());
    let edges = runs.runs.expect("runs").edges;
    assert!(!edges.is_empty(), "the demo seed has runs");
    assert!(
        edges
            .iter()
            .flatten()
            .flat_map(|e| e.node.as_ref())
            .any(|n| n.steps.as_ref().is_some_and(|s| !s.is_empty())),
        "some demo run has steps"
    );
    snap!(query "get_user", c.get_user(get_user::Variables { id: id() }));
    snap!(query "list_issues", c.list_issues(list_issues::Variables::default()));
    snap!(query "list_locations", c.list_locations(list_locations::Variables::default()));
    snap!(query "list_part_inventories", c.list_part_inventories(list_part_inventories::Variables::default()));
    snap!(query "list_part_inventories_at_location", c.list_part_inventories_at_location(list_part_inventories_at_location::Variables {
        location_id: id(),
        first: Nullable::Omitted,
        after: Nullable::Omitted
    }));
    snap!(query "list_parts", c.list_parts(list_parts::Variables::default()));
    snap!(query "list_procedure_steps", c.list_procedure_steps(list_procedure_steps::Variables {
        procedure_id: id(),
        first: Nullable::Omitted,
        after: Nullable::Omitted
    }));
    snap!(query "list_procedures", c.list_procedures(list_procedures::Variables::default()));
    snap!(query "list_purchase_order_lines", c.list_purchase_order_lines(list_purchase_order_lines::Variables::default()));
    snap!(query "list_purchase_orders", c.list_purchase_orders(list_purchase_orders::Variables::default()));
    snap!(query "list_receipts", c.list_receipts(list_receipts::Variables::default()));
    snap!(query "list_run_steps", c.list_run_steps(list_run_steps::Variables::default()));
    snap!(query "list_run_steps_by_run", c.list_run_steps_by_run(list_run_steps_by_run::Variables {
        run_id: id(),
        first: Nullable::Omitted,
        after: Nullable::Omitted
    }));
    snap!(query "list_run_steps_by_status", c.list_run_steps_by_status(list_run_steps_by_status::Variables {
        statuses: vec![types::Statusenum::Todo],
        first: Nullable::Omitted,
        after: Nullable::Omitted
    }));
    snap!(query "list_runs", c.list_runs(list_runs::Variables::default()));
    snap!(query "list_suppliers", c.list_suppliers(list_suppliers::Variables::default()));
    snap!(query "list_users", c.list_users(list_users::Variables::default()));
    snap!(query "me", c.me());
}

/// The `Display` of the error kinds a test can trigger against the emulator, with the port
/// (which changes every run) replaced.
#[tokio::test]
async fn error_messages() {
    let ion = TestIon::start().await.expect("emulator");
    let port = ion.emulator().addr().port().to_string();
    let show = |e: ion_client::Error| e.to_string().replace(&port, "[port]");

    let missing = ion
        .client()
        .get_run(get_run::Variables {
            id: "999999".into(),
            with_steps: false,
        })
        .await;
    let not_found = match missing {
        Ok(data) => format!("no error; data: {}", redact(&data)),
        Err(e) => show(e),
    };
    let graphql = ion
        .client()
        .execute_raw(ion_client::RawRequest::new(
            "query { nope }",
            OperationKind::Query,
        ))
        .await
        .map(|v| v["errors"][0]["message"].to_string())
        .unwrap_or_else(show);
    let bad_secret = client_with(&ion, |c| c.client_secret("wrong"))
        .me()
        .await
        .map(|_| "no error".to_owned())
        .unwrap_or_else(show);
    let configuration = ion_client::Config::builder()
        .build()
        .map(|_| "no error".to_owned())
        .unwrap_or_else(show);
    let stopped_client = ion.client().clone();
    ion.stop().await;
    let transport = stopped_client
        .me()
        .await
        .map(|_| "no error".to_owned())
        .unwrap_or_else(|e| e.to_string());
    let transport = transport.split(&port).collect::<Vec<_>>().join("[port]");
    insta::assert_snapshot!(
        "error_messages",
        format!(
            "not found: {not_found}\ngraphql (raw): {graphql}\nauthentication: {bad_secret}\nconfiguration: {configuration}\ntransport: {transport}\n"
        )
    );
}

/// The redacted data, or the error's `Display` for a mutation the emulator answers with an
/// error (both are stable, and both are worth noticing when they change).
fn outcome<T: serde::Serialize>(r: Result<T, ion_client::Error>) -> serde_json::Value {
    match r {
        Ok(data) => redact(&data),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}

/// The `_etag` at a JSON pointer of a typed response.
fn etag_at<T: serde::Serialize>(data: &T, pointer: &str) -> String {
    let json = serde_json::to_value(data).expect("typed data serializes");
    json.pointer(pointer)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no etag at {pointer}"))
        .to_owned()
}

/// The id at a JSON pointer of a redacted outcome, as the `ID` mutations take.
fn id_at(value: &serde_json::Value, pointer: &str) -> ion_client::Id {
    match value.pointer(pointer) {
        Some(serde_json::Value::Number(n)) => n.to_string().into(),
        Some(serde_json::Value::String(s)) => s.as_str().into(),
        other => panic!("no id at {pointer}: {other:?} in {value}"),
    }
}

/// Every mutation, after the queries and on its own emulator so its data is predictable:
/// creates first, then updates of demo rows (with the etag read just before), then deletes of
/// what was created.
#[tokio::test]
async fn every_mutation_against_the_demo_seed() {
    let ion = TestIon::start().await.expect("emulator");
    let c = ion.client();
    let started = Instant::now();

    snap!(mutation "create_file_attachment", c.create_file_attachment(create_file_attachment::Variables {
        entity_id: "1".into(),
        filename: "traveler.pdf".into()
    }));
    snap!(mutation "create_issue", c.create_issue(create_issue::Variables {
        input: types::CreateIssueInput {
            title: Nullable::Value("Scratch on housing".into()),
            run_step_id: Nullable::Value("1".into()),
            ..Default::default()
        }
    }));
    let inventory = snap!(mutation "create_part_inventory", c.create_part_inventory(create_part_inventory::Variables {
        input: types::CreatePartInventoryInput {
            quantity: Nullable::Value(3.0),
            ..types::CreatePartInventoryInput::new("1".into())
        }
    }));
    snap!(mutation "create_purchase_order", c.create_purchase_order(create_purchase_order::Variables {
        input: types::CreatePurchaseOrderInput {
            description: Nullable::Value("Fasteners".into()),
            supplier_id: Nullable::Value(1),
            ..Default::default()
        }
    }));
    let line = snap!(mutation "create_purchase_order_line", c.create_purchase_order_line(create_purchase_order_line::Variables {
        input: types::CreatePurchaseOrderLineInput {
            part_id: Nullable::Value(1),
            quantity: Nullable::Value(10.0),
            ..types::CreatePurchaseOrderLineInput::new(1)
        }
    }));
    snap!(mutation "create_run", c.create_run(create_run::Variables {
        input: types::CreateRunInput {
            procedure_id: Nullable::Value("1".into()),
            title: Nullable::Value("Snapshot run".into()),
            ..Default::default()
        }
    }));

    let issue = ok(
        "GetIssue",
        c.get_issue(get_issue::Variables { id: "1".into() }).await,
    );
    snap!(mutation "update_issue_status", c.update_issue_status(update_issue_status::Variables {
        id: "1".into(),
        etag: etag_at(&issue, "/issue/_etag"),
        status: types::Issuestatusenum::Resolved
    }));
    let pi = ok(
        "GetPartInventory",
        c.get_part_inventory(get_part_inventory::Variables { id: "1".into() })
            .await,
    );
    snap!(mutation "update_part_inventory_quantity", c.update_part_inventory_quantity(update_part_inventory_quantity::Variables {
        id: "1".into(),
        etag: etag_at(&pi, "/partInventory/_etag"),
        quantity: 7.0
    }));
    let pol = ok(
        "GetPurchaseOrderLine",
        c.get_purchase_order_line(get_purchase_order_line::Variables { id: "1".into() })
            .await,
    );
    snap!(mutation "update_purchase_order_line", c.update_purchase_order_line(update_purchase_order_line::Variables {
        input: types::UpdatePurchaseOrderLineInput {
            quantity: Nullable::Value(12.0),
            ..types::UpdatePurchaseOrderLineInput::new(etag_at(&pol, "/purchaseOrderLine/_etag"), 1)
        }
    }));
    let run = ok(
        "GetRun",
        c.get_run(get_run::Variables {
            id: "1".into(),
            with_steps: false,
        })
        .await,
    );
    snap!(mutation "update_run", c.update_run(update_run::Variables {
        input: types::UpdateRunInput {
            title: Nullable::Value("Renamed run".into()),
            ..types::UpdateRunInput::new("1".into(), etag_at(&run, "/run/_etag"))
        }
    }));
    let step = ok(
        "GetRunStep",
        c.get_run_step(get_run_step::Variables { id: "1".into() })
            .await,
    );
    snap!(mutation "update_run_step_status", c.update_run_step_status(update_run_step_status::Variables {
        id: "1".into(),
        etag: etag_at(&step, "/runStep/_etag"),
        status: types::Statusenum::InProgress
    }));
    let field = serde_json::to_value(&step).expect("serializes");
    let t = Instant::now();
    let field_outcome = match (
        field.pointer("/runStep/fields/0/id"),
        field
            .pointer("/runStep/fields/0/_etag")
            .and_then(|e| e.as_str()),
    ) {
        (Some(id), Some(etag)) => outcome(
            c.update_run_step_field_value(update_run_step_field_value::Variables {
                id: id.to_string().trim_matches('"').into(),
                etag: etag.to_owned(),
                value: Nullable::Value(serde_json::json!("42")),
                not_applicable: Nullable::Omitted,
            })
            .await,
        ),
        _ => serde_json::json!({"skipped": "run step 1 has no fields in the demo seed"}),
    };
    snap!("update_run_step_field_value", t, field_outcome);

    let t = Instant::now();
    let deleted = match inventory.pointer("/createPartInventory/partInventory/id") {
        Some(_) => {
            let id = id_at(&inventory, "/createPartInventory/partInventory/id");
            let fresh = ok(
                "GetPartInventory",
                c.get_part_inventory(get_part_inventory::Variables { id: id.clone() })
                    .await,
            );
            outcome(
                c.delete_part_inventory(delete_part_inventory::Variables {
                    id,
                    etag: etag_at(&fresh, "/partInventory/_etag"),
                })
                .await,
            )
        }
        None => {
            serde_json::json!({"skipped": "create_part_inventory returned no row", "create": inventory})
        }
    };
    snap!("delete_part_inventory", t, deleted);
    let t = Instant::now();
    let deleted = match line.pointer("/createPurchaseOrderLine/purchaseOrderLine/id") {
        Some(_) => {
            let id = id_at(&line, "/createPurchaseOrderLine/purchaseOrderLine/id");
            let fresh = ok(
                "GetPurchaseOrderLine",
                c.get_purchase_order_line(get_purchase_order_line::Variables { id: id.clone() })
                    .await,
            );
            outcome(
                c.delete_purchase_order_line(delete_purchase_order_line::Variables {
                    id,
                    etag: etag_at(&fresh, "/purchaseOrderLine/_etag"),
                })
                .await,
            )
        }
        None => {
            serde_json::json!({"skipped": "create_purchase_order_line returned no row", "create": line})
        }
    };
    snap!("delete_purchase_order_line", t, deleted);
    eprintln!("all mutations: {:?}", started.elapsed());
}

/// Record against the emulator, stop it, replay offline: identical typed results; and the two
/// replay failures name what the user has to fix.
#[tokio::test]
async fn record_then_replay_without_the_emulator() {
    use ion_client::testing::Fixtures;

    let temp = tempfile::tempdir().expect("a temporary folder");
    // A folder that does not exist yet: recording creates it.
    let dir = temp.path().join("fixtures");
    let fixtures = Fixtures::new(&dir);
    let ion = TestIon::start().await.expect("emulator");
    let token = ion.emulator().issue_token();
    let recorder = fixtures
        .recording(ion.config_builder().expect("config"))
        .expect("client");
    let runs = ok("GetRuns", recorder.get_runs().await);
    let run = ok(
        "GetRun",
        recorder
            .get_run(get_run::Variables {
                id: "1".into(),
                with_steps: true,
            })
            .await,
    );
    let listed = ok(
        "ListRuns",
        recorder
            .list_runs(list_runs::Variables {
                first: Nullable::Value(2),
                ..Default::default()
            })
            .await,
    );
    let secret = ion.emulator().client_secret().to_owned();
    ion.stop().await;

    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        3,
        "one fixture per operation and variables: {names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("GetRuns-") && n.ends_with(".json")),
        "{names:?}"
    );
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
        assert!(!text.contains(&secret), "{name} contains the client secret");
        assert!(
            !text.contains("eyJ"),
            "{name} contains something token-shaped"
        );
        assert!(!text.contains(&token[..20]), "{name} contains a token");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{name} contains a header"
        );
    }

    let replay = fixtures.replaying().expect("client");
    assert_eq!(ok("GetRuns", replay.get_runs().await), runs);
    assert_eq!(
        ok(
            "GetRun",
            replay
                .get_run(get_run::Variables {
                    id: "1".into(),
                    with_steps: true
                })
                .await
        ),
        run
    );
    assert_eq!(
        ok(
            "ListRuns",
            replay
                .list_runs(list_runs::Variables {
                    first: Nullable::Value(2),
                    ..Default::default()
                })
                .await
        ),
        listed
    );

    let missing = replay
        .get_run(get_run::Variables {
            id: "2".into(),
            with_steps: true,
        })
        .await
        .expect_err("no fixture for run 2")
        .to_string();
    assert!(
        missing.contains("GetRun") && missing.contains(r#""id":2"#),
        "{missing}"
    );

    // Someone adds a field to the selection set: simulated by removing it from the fixture.
    let get_runs = names
        .iter()
        .find(|n| n.starts_with("GetRuns-"))
        .expect("GetRuns fixture");
    let path = dir.join(get_runs);
    let mut fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    fixture["response"]["data"]["runs"]["edges"][0]["node"]
        .as_object_mut()
        .expect("node")
        .remove("title");
    std::fs::write(&path, fixture.to_string()).expect("write");
    let stale = replay
        .get_runs()
        .await
        .expect_err("stale fixture")
        .to_string();
    assert!(
        stale.contains(get_runs.as_str()) && stale.contains("GetRuns") && stale.contains("title"),
        "{stale}"
    );

    // Someone removes a field from the selection set: the fixture has a field too many.
    fixture["response"]["data"]["runs"]["edges"][0]["node"]["title"] = "Run".into();
    fixture["response"]["data"]["runs"]["edges"][0]["node"]["retired"] = true.into();
    std::fs::write(&path, fixture.to_string()).expect("write");
    let extra = replay
        .get_runs()
        .await
        .expect_err("fixture with a field the operation no longer selects")
        .to_string();
    assert!(
        extra.contains(get_runs.as_str()) && extra.contains("retired"),
        "{extra}"
    );

    let shown = stale.replace(&dir.display().to_string(), "[dir]");
    insta::assert_snapshot!(
        "replay_errors",
        format!(
            "missing: {}\nstale: {shown}\n",
            missing.replace(&dir.display().to_string(), "[dir]")
        )
    );
}

/// The `Display` of every error kind the emulator can provoke without waiting on a clock: what
/// a user reads in a log or a snapshot of their own.
#[tokio::test]
async fn every_error_kind_displays_readably() {
    use ion_client::operations::types::{CreateRunInput, Statusenum};
    use ion_client::testing::emulator::{Endpoint, Fault};

    let ion = TestIon::start().await.expect("emulator");
    let port = ion.emulator().addr().port().to_string();
    let show = |e: ion_client::Error| {
        let kind = format!("{:?}", e.kind());
        let kind = kind
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_owned();
        // Etags are data, not wording: keep the message, hide the values.
        let text = e
            .to_string()
            .replace(&port, "[port]")
            .split(' ')
            .map(|w| {
                let hex = w.trim_end_matches('.');
                if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    w.replace(hex, "[etag]")
                } else {
                    w.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        format!("{kind}: {text}")
    };
    let new_run = || create_run::Variables {
        input: CreateRunInput {
            title: Nullable::Value("faulted".into()),
            ..Default::default()
        },
    };
    let faults = ion.emulator().faults();
    let mut lines = Vec::new();

    // A mutation refused with 429 did not run and is sent again after the wait; a client
    // that makes one attempt shows the error itself.
    let one_attempt = ion_client::Client::new(
        ion.config_builder()
            .expect("emulator config")
            .retry_policy(ion_client::RetryPolicy::never())
            .build()
            .expect("config"),
    )
    .expect("client");
    faults.inject(Endpoint::Graphql, Fault::status(429).retry_after("5"));
    lines.push(show(
        one_attempt.create_run(new_run()).await.expect_err("429"),
    ));

    faults.inject(Endpoint::Graphql, Fault::html(502));
    lines.push(show(
        ion.client().create_run(new_run()).await.expect_err("502"),
    ));

    faults.inject(Endpoint::Graphql, Fault::html(500));
    lines.push(show(ion.client().get_runs().await.expect_err("500")));

    let stale = ion
        .client()
        .update_run_step_status(update_run_step_status::Variables {
            id: "1".into(),
            etag: "00000000000000000000000000000000".into(),
            status: Statusenum::InProgress,
        })
        .await
        .expect_err("stale etag");
    lines.push(show(stale));

    let small = client_with(&ion, |c| c.max_response_bytes(64));
    lines.push(show(small.get_runs().await.expect_err("too large")));

    let mut first = ion.client().batch();
    let slot = first.add::<me::Me>(me::Variables {});
    let mut second = ion.client().batch();
    second.add::<me::Me>(me::Variables {});
    let mut answers = second.send().await.expect("batch");
    lines.push(show(
        answers.take(slot).expect_err("a slot of another batch"),
    ));

    faults.inject(Endpoint::Storage, Fault::expired_url());
    let source = ion_client::FileSource::reader(std::io::Cursor::new(b"x".to_vec()), "a.txt", 1);
    let upload = ion.client().attach_file(1, source).delete_on_failure(true);
    lines.push(show(upload.await.expect_err("expired URL")));
    let download = ion.client().download_file(999_999, std::env::temp_dir());
    lines.push(show(download.await.expect_err("no such attachment")));

    insta::assert_snapshot!("every_error_kind", lines.join("\n"));
}
