//! Writes with `_etag` concurrency through typed mutations: create, update with the current
//! etag, refuse a stale one, delete.

use ion_client::operations::StarterOperations;
use ion_client::operations::types::{CreateRunInput, RunStatus, Statusenum};
use ion_client::operations::{
    create_run, delete_part_inventory, get_part_inventory, update_part_inventory_quantity,
    update_run_step_status,
};
use ion_client::{Error, ErrorKind, Nullable};

use super::support::*;

fn assert_etag_conflict(err: &Error) {
    assert!(
        matches!(err.kind(), ErrorKind::EtagConflict { .. }),
        "{err:?}"
    );
    assert!(
        err.graphql_errors()[0].message.starts_with("Etag mismatch"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_write_chain_with_etags_and_a_stale_etag_refused() {
    let (e, _clock, client) = setup().await;

    // A run started from procedure 1 gets that procedure's steps, each with its etag.
    let created = client
        .create_run(create_run::Variables {
            input: CreateRunInput {
                title: Nullable::Value("TA-100 build SN-0004".into()),
                procedure_id: Nullable::Value("1".into()),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    let run = created.create_run.unwrap().run.unwrap();
    assert_eq!(
        run.run_summary.id, 7,
        "the next id after the demo seed's six runs"
    );
    assert_eq!(run.run_summary.status, Some(RunStatus::Todo));
    let steps: Vec<_> = run.steps.unwrap().into_iter().flatten().collect();
    assert_eq!(steps.len(), 5);
    assert!(
        steps
            .iter()
            .all(|s| s.run_id == 7 && s.status == Some(Statusenum::Todo) && s.etag.is_some())
    );

    // Move the first step on with its etag; a new etag comes back.
    let step = &steps[0];
    let first_etag = step.etag.clone().unwrap();
    let updated = client
        .update_run_step_status(update_run_step_status::Variables {
            id: step.id.into(),
            etag: first_etag.clone(),
            status: Statusenum::InProgress,
        })
        .await
        .unwrap()
        .update_run_step
        .unwrap()
        .run_step
        .unwrap();
    assert_eq!(updated.status, Some(Statusenum::InProgress));
    assert_ne!(updated.etag.as_deref(), Some(first_etag.as_str()));

    // The same write with the etag it started from is refused.
    let err = client
        .update_run_step_status(update_run_step_status::Variables {
            id: step.id.into(),
            etag: first_etag,
            status: Statusenum::Complete,
        })
        .await
        .unwrap_err();
    assert_etag_conflict(&err);

    // Inventory: read the etag, set the quantity, then a stale etag is refused.
    let read = client
        .get_part_inventory(get_part_inventory::Variables { id: "8".into() })
        .await
        .unwrap()
        .part_inventory
        .unwrap();
    assert_eq!(
        (
            read.part_inventory_summary.quantity,
            read.part_inventory_summary.lot_number.as_deref()
        ),
        (40.0, Some("L-2401"))
    );
    let stale = read.part_inventory_summary.etag.unwrap();
    let set = client
        .update_part_inventory_quantity(update_part_inventory_quantity::Variables {
            id: "8".into(),
            etag: stale.clone(),
            quantity: 35.0,
        })
        .await
        .unwrap()
        .update_part_inventory
        .unwrap()
        .part_inventory
        .unwrap();
    assert_eq!(set.quantity, 35.0);
    let current = set.etag.unwrap();
    assert_ne!(current, stale);
    let err = client
        .update_part_inventory_quantity(update_part_inventory_quantity::Variables {
            id: "8".into(),
            etag: stale.clone(),
            quantity: 30.0,
        })
        .await
        .unwrap_err();
    assert_etag_conflict(&err);

    // Delete: a stale etag is refused, the current one deletes.
    let err = client
        .delete_part_inventory(delete_part_inventory::Variables {
            id: "8".into(),
            etag: stale,
        })
        .await
        .unwrap_err();
    assert_etag_conflict(&err);
    let deleted = client
        .delete_part_inventory(delete_part_inventory::Variables {
            id: "8".into(),
            etag: current,
        })
        .await
        .unwrap();
    assert_eq!(deleted.delete_part_inventory.unwrap().id, Some(8));
    let gone = client
        .get_part_inventory(get_part_inventory::Variables { id: "8".into() })
        .await;
    match gone {
        Ok(data) => assert!(data.part_inventory.is_none()),
        Err(err) => assert!(matches!(err.kind(), ErrorKind::Graphql { .. }), "{err:?}"),
    }

    // Seven mutations executed (three refused), each sent once; two reads.
    assert_eq!(counts(e.counters()), (1, 9, 7));
}
