//! Reads through typed operations: the seed query, pagination, filters and sort, batching,
//! and a cold client under concurrency.

use futures_util::StreamExt;
use ion_client::Nullable;
use ion_client::operations::StarterOperations;
use ion_client::operations::types::{RunSortEnum, RunStatus, RunStatusFilter, RunsInputFilters};
use ion_client::operations::{fragments, get_run, get_runs, list_runs, me};

use super::support::*;

fn page_of(first: i64) -> list_runs::Variables {
    list_runs::Variables {
        first: Nullable::Value(first),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_seed_query_returns_the_demo_runs_with_their_steps() {
    let (e, _clock, client) = setup().await;
    let data = client.get_runs().await.unwrap();
    let runs: Vec<_> = data
        .runs
        .unwrap()
        .edges
        .into_iter()
        .map(|edge| edge.unwrap().node.unwrap())
        .collect();
    let shape: Vec<(i64, usize)> = runs
        .iter()
        .map(|r| (r.id, r.steps.as_ref().map_or(0, Vec::len)))
        .collect();
    assert_eq!(shape, [(1, 5), (2, 5), (3, 5), (4, 3), (5, 3), (6, 2)]);
    assert_eq!(runs[0].title, "TA-100 build SN-0001");
    let first_steps: Vec<&str> = runs[0]
        .steps
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(
        first_steps,
        [
            "Kit parts",
            "Install valve body",
            "Attach nozzle",
            "Torque fasteners",
            "Final inspection"
        ]
    );
    assert_eq!(counts(e.counters()), (1, 1, 0));
}

#[tokio::test]
async fn nodes_walk_every_run_across_pages_of_two() {
    let (e, _clock, client) = setup().await;
    let ids: Vec<i64> = client
        .list_runs_nodes(page_of(2))
        .map(|node| node.unwrap().id)
        .collect()
        .await;
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    // Six runs, two a page: three requests, the last page says there is no next one.
    assert_eq!(counts(e.counters()), (1, 3, 0));
}

#[tokio::test]
async fn pages_follow_the_cursor_and_stop_at_the_last_page() {
    let (e, _clock, client) = setup().await;
    let pages: Vec<list_runs::ResponseData> = client
        .list_runs_pages(page_of(2))
        .map(Result::unwrap)
        .collect()
        .await;
    let per_page: Vec<(Vec<i64>, bool)> = pages
        .iter()
        .map(|p| {
            let runs = p.runs.as_ref().unwrap();
            let ids = runs
                .edges
                .iter()
                .map(|edge| edge.as_ref().unwrap().node.as_ref().unwrap().id)
                .collect();
            (ids, runs.page_info.has_next_page)
        })
        .collect();
    assert_eq!(
        per_page,
        [(vec![1, 2], true), (vec![3, 4], true), (vec![5, 6], false)]
    );
    assert_eq!(e.counters().graphql_requests, 3);
    // Each request after the first carries the previous page's endCursor as `after`.
    let afters: Vec<Option<String>> = e
        .requests()
        .iter()
        .filter(|r| r.path == "/graphql")
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            body["variables"]["after"].as_str().map(str::to_owned)
        })
        .collect();
    let ends: Vec<Option<String>> = pages
        .iter()
        .map(|p| p.runs.as_ref().unwrap().page_info.end_cursor.clone())
        .collect();
    assert_eq!(afters, [None, ends[0].clone(), ends[1].clone()]);
}

#[tokio::test]
async fn typed_filters_and_sort_select_and_order_runs() {
    let (e, _clock, client) = setup().await;
    let by_status = |status: RunStatus| RunsInputFilters {
        status: Nullable::Value(RunStatusFilter {
            eq: Nullable::Value(status),
            ..Default::default()
        }),
        ..Default::default()
    };
    let complete_newest_first = list_runs::Variables {
        filters: Nullable::Value(by_status(RunStatus::Complete)),
        sort: Nullable::Value(vec![Some(RunSortEnum::IdDesc)]),
        first: Nullable::Value(2),
        after: Nullable::Omitted,
    };
    let runs: Vec<_> = client
        .list_runs_nodes(complete_newest_first)
        .map(Result::unwrap)
        .collect()
        .await;
    let got: Vec<(i64, Option<RunStatus>)> =
        runs.iter().map(|r| (r.id, r.status.clone())).collect();
    assert_eq!(
        got,
        [
            (5, Some(RunStatus::Complete)),
            (1, Some(RunStatus::Complete))
        ]
    );
    // `or_` of two statuses, sorted by title descending, pages of two.
    let failed_or_hold = list_runs::Variables {
        filters: Nullable::Value(RunsInputFilters {
            or: Nullable::Value(vec![
                Some(by_status(RunStatus::Failed)),
                Some(by_status(RunStatus::Hold)),
            ]),
            ..Default::default()
        }),
        sort: Nullable::Value(vec![Some(RunSortEnum::TitleDesc)]),
        first: Nullable::Value(2),
        after: Nullable::Omitted,
    };
    let titles: Vec<String> = client
        .list_runs_nodes(failed_or_hold)
        .map(|r| r.unwrap().title)
        .collect()
        .await;
    assert_eq!(
        titles,
        ["Valve leak test VB-1042", "Torque wrench calibration TQ-7"]
    );
    // An explicit `null` filter means no filter: every run, in the default ID_ASC order.
    let all = list_runs::Variables {
        filters: Nullable::Null,
        ..page_of(50)
    };
    let ids: Vec<i64> = client
        .list_runs_nodes(all)
        .map(|r| r.unwrap().id)
        .collect()
        .await;
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    // One page each: every result fits in its first page of two (or fifty).
    assert_eq!(counts(e.counters()), (1, 3, 0));
    let sent: serde_json::Value = serde_json::from_str(&e.requests().last().unwrap().body).unwrap();
    assert!(sent["variables"]["filters"].is_null() && sent["variables"].get("filters").is_some());
}

#[tokio::test]
async fn two_typed_operations_batch_into_one_request() {
    let (e, _clock, client) = setup().await;
    let mut batch = client.batch();
    let runs = batch.add::<get_runs::GetRuns>(get_runs::Variables {});
    let who = batch.add::<me::Me>(me::Variables {});
    let mut response = batch.send().await.unwrap();
    let runs = response.take(runs).unwrap();
    let who = response.take(who).unwrap();
    assert_eq!(runs.runs.unwrap().edges.len(), 6);
    assert_eq!(who.me.unwrap().user_summary.id, 1);
    let c = e.counters();
    assert_eq!(counts(c), (1, 1, 0), "one HTTP request for the batch");
    assert_eq!(c.operations, 2, "both operations executed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_queries_on_a_cold_client_fetch_one_token() {
    let (e, _clock, client) = setup().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let client = client.clone();
        tasks.spawn(async move { client.me().await });
    }
    let mut ok = 0;
    while let Some(joined) = tasks.join_next().await {
        assert_eq!(joined.unwrap().unwrap().me.unwrap().user_summary.id, 1);
        ok += 1;
    }
    assert_eq!(ok, 200);
    let c = e.counters();
    assert_eq!(counts(c), (1, 200, 0));
    assert_eq!((c.tokens_issued, c.unauthorized), (1, 0));
}

#[tokio::test]
async fn a_run_id_from_one_response_is_the_next_operations_id_variable() {
    let (_e, _clock, client) = setup().await;
    let page = client.list_runs(page_of(1)).await.unwrap();
    let listed = page.runs.unwrap().edges.into_iter().flatten().next();
    let listed = listed.and_then(|edge| edge.node).unwrap();
    // `Run.id` is an `Int`; `run(id:)` takes an `ID`: the integer goes straight in.
    let variables = get_run::Variables {
        id: listed.id.into(),
        with_steps: false,
    };
    let run = client.get_run(variables).await.unwrap().run.unwrap();
    assert_eq!(run.run_summary.id, listed.id);

    // Ids as ION's documentation writes them: numbers (strings work too); a numeric id is
    // sent as a number.
    let from_docs: ion_client::Id = serde_json::from_str("1135").unwrap();
    assert_eq!(from_docs, 1135);
    let as_string: ion_client::Id = serde_json::from_str(r#""1135""#).unwrap();
    assert_eq!(as_string, from_docs);
    let variables = get_run::Variables {
        id: from_docs,
        with_steps: true,
    };
    assert_eq!(serde_json::to_value(&variables).unwrap()["id"], 1135);
}

/// Takes a part summary wherever it came from.
fn part_label(part: &fragments::PartSummary) -> String {
    format!("{} rev {}", part.part_number, part.revision)
}

#[test]
fn get_run_has_one_part_summary_type_for_its_part_and_for_attribute_values() {
    let part = serde_json::json!({
        "id": 3, "_etag": "e3", "partNumber": "TA-100", "revision": "B",
        "description": null, "partType": "PART", "trackingType": null, "unitOfMeasureId": null
    });
    let mut attribute_part = part.clone();
    attribute_part["__typename"] = "Part".into();
    let data: get_run::ResponseData = serde_json::from_value(serde_json::json!({"run": {
        "id": 1, "_etag": "e1", "title": "Run", "status": null, "procedureId": null,
        "partId": 3, "partInventoryId": null, "quantity": 1, "dueDate": null,
        "percentComplete": null, "description": null, "scheduledStart": null,
        "scheduledEnd": null, "procedure": null, "part": part,
        "attributes": [{"Etag": "a", "key": "made-of", "type": null, "value": null,
                        "ionValue": attribute_part}]
    }}))
    .unwrap();
    let run = data.run.unwrap();
    let from_part = part_label(run.part.as_ref().unwrap());
    let attribute = run.attributes.iter().flatten().flatten().next().unwrap();
    let Some(get_run::AttributesIonValue::Part(value)) = &attribute.ion_value else {
        panic!("expected a Part, got {:?}", attribute.ion_value);
    };
    assert_eq!(from_part, part_label(value));
    assert_eq!(from_part, "TA-100 rev B");
    // The abstract value keeps its `__typename` on the way out, so it decodes again.
    let again = serde_json::to_value(&attribute.ion_value).unwrap();
    assert_eq!(again["__typename"], "Part");
}
