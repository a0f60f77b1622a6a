//! Pagination: lazy streams of pages and nodes, one page in memory at a time.

use futures_util::{StreamExt, TryStreamExt};
use ion_client::pagination::PageStop;
use ion_client::{ErrorKind, Nodes, Pages};
use serde_json::{Value, json};

use crate::support::MockIon;
use crate::support::ops::{ListThings, PageVars};

const TOTAL: i64 = 7;

/// Offset cursors like ION's: `arrayconnection:<n>`.
fn page(op: &Value) -> Value {
    let first = op["variables"]["first"].as_i64().unwrap_or(10);
    let start = op["variables"]["after"]
        .as_str()
        .and_then(|c| c.strip_prefix("arrayconnection:"))
        .and_then(|n| n.parse::<i64>().ok())
        .map_or(0, |n| n + 1);
    let end = (start + first).min(TOTAL);
    let edges: Vec<Value> = (start..end)
        .map(|i| json!({"node": {"id": i, "title": format!("thing {i}")}, "cursor": format!("arrayconnection:{i}")}))
        .collect();
    json!({"data": {"things": {
        "pageInfo": {"hasNextPage": end < TOTAL, "endCursor": format!("arrayconnection:{}", end - 1)},
        "edges": edges
    }}})
}

#[tokio::test]
async fn nodes_are_fetched_one_page_at_a_time() {
    let ion = MockIon::start();
    ion.respond(page);
    let c = ion.client();
    let mut nodes = c.nodes::<ListThings>(PageVars {
        first: 3,
        after: None,
    });
    assert_eq!(
        ion.graphql_requests(),
        0,
        "lazy: nothing before the first poll"
    );
    for expected in 0..3 {
        let node = nodes.next().await.expect("a node").expect("ok");
        assert_eq!(node.id, expected);
    }
    assert_eq!(
        ion.graphql_requests(),
        1,
        "the first page serves three nodes"
    );
    let fourth = nodes.next().await.expect("a node").expect("ok");
    assert_eq!(fourth.id, 3);
    assert_eq!(
        ion.graphql_requests(),
        2,
        "the second page is fetched only now"
    );
    let rest: Vec<_> = nodes.try_collect().await.expect("rest");
    assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), vec![4, 5, 6]);
    assert_eq!(ion.graphql_requests(), 3);
    assert_eq!(ion.token_requests(), 1);
}

#[tokio::test]
async fn pages_follow_end_cursors_from_the_given_start() {
    let ion = MockIon::start();
    ion.respond(page);
    let c = ion.client();
    let pages: Vec<_> = c
        .pages::<ListThings>(PageVars {
            first: 2,
            after: Some("arrayconnection:1".into()),
        })
        .try_collect()
        .await
        .expect("pages");
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p.things.as_ref().map_or(0, |t| t.edges.len()))
        .collect();
    assert_eq!(sizes, vec![2, 2, 1], "nodes 2..7 in pages of two");
    assert_eq!(ion.graphql_requests(), 3);
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_stream_with_an_error() {
    let ion = MockIon::start();
    ion.respond(|_| {
        json!({"data": {"things": {"pageInfo": {"hasNextPage": true, "endCursor": "same"}, "edges": [{"node": {"id": 1, "title": "a"}}]}}})
    });
    let c = ion.client();
    let items: Vec<_> = c
        .pages::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok());
    let err = items[2].as_ref().expect_err("loop detected");
    assert_eq!(
        err.to_string(),
        "cannot follow the pages of ListThings: page 2 returned the endCursor `same`, which was \
         seen before; stopping instead of looping"
    );
    assert!(matches!(
        err.kind(),
        ErrorKind::Pagination {
            stop: PageStop::CursorRepeated { page: 2, .. },
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 2);
}

#[tokio::test]
async fn has_next_page_without_a_cursor_is_an_error() {
    let ion = MockIon::start();
    ion.respond(|_| json!({"data": {"things": {"pageInfo": {"hasNextPage": true, "endCursor": null}, "edges": []}}}));
    let c = ion.client();
    let items: Vec<_> = c
        .pages::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert_eq!(items.len(), 2, "the page, then the error");
    assert!(items[1].as_ref().is_err_and(|e| {
        e.to_string()
            .ends_with("page 1 says pageInfo.hasNextPage but its pageInfo.endCursor is null")
    }));
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn an_error_ends_the_stream() {
    let ion = MockIon::start();
    ion.respond(|_| json!({"errors": [{"message": "nope"}]}));
    let c = ion.client();
    let items: Vec<_> = c
        .nodes::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn a_null_connection_ends_the_stream() {
    let ion = MockIon::start();
    ion.respond(|_| json!({"data": {"things": null}}));
    let c = ion.client();
    let items: Vec<_> = c
        .nodes::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert!(items.is_empty());
    assert_eq!(ion.graphql_requests(), 1);
}

/// The streams are `Send + 'static`: they can be spawned.
#[tokio::test]
async fn streams_can_be_spawned() {
    let ion = MockIon::start();
    ion.respond(page);
    let c = ion.client();
    let stream = c.nodes::<ListThings>(PageVars {
        first: 5,
        after: None,
    });
    let count = tokio::spawn(async move { stream.count().await })
        .await
        .expect("joined");
    assert_eq!(count, TOTAL as usize);
}

/// A server whose cursors go `A → B → A`: each page has a cursor differing from the previous
/// one, so only remembering every cursor catches the loop.
#[tokio::test]
async fn a_cursor_cycle_ends_the_stream_with_a_typed_error() {
    let ion = MockIon::start();
    ion.respond(|op| {
        let next = match op["variables"]["after"].as_str() {
            None | Some("B") => "A",
            _ => "B",
        };
        json!({"data": {"things": {"pageInfo": {"hasNextPage": true, "endCursor": next}, "edges": [{"node": {"id": 1, "title": "a"}}]}}})
    });
    let c = ion.client();
    let items: Vec<_> = c
        .nodes::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert_eq!(items.len(), 4, "three nodes, then the error");
    assert!(matches!(
        items[3].as_ref().expect_err("cycle").kind(),
        ErrorKind::Pagination {
            stop: PageStop::CursorRepeated { page: 3, .. },
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 3);
}

/// Fresh cursors forever, and never a node (an empty edge list, or only null edges and nodes).
fn endless_empty_pages(op: &Value) -> Value {
    let n = op["variables"]["after"]
        .as_str()
        .and_then(|c| c.parse::<u64>().ok())
        .map_or(0, |n| n + 1);
    let edges = match n % 3 {
        0 => json!([]),
        1 => json!([null]),
        _ => json!([{"node": null}]),
    };
    json!({"data": {"things": {"pageInfo": {"hasNextPage": true, "endCursor": n.to_string()}, "edges": edges}}})
}

#[tokio::test]
async fn a_run_of_empty_pages_ends_the_stream() {
    let ion = MockIon::start();
    ion.respond(endless_empty_pages);
    let c = ion.client();
    let items: Vec<_> = c
        .nodes::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert!(matches!(
        items[0].as_ref().expect_err("empty run").kind(),
        ErrorKind::Pagination {
            stop: PageStop::EmptyPages { count: 3 },
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 3);
}

/// The typed page stream applies the same rule as the node stream: three empty pages in a
/// row end it with the same error, after the same three requests.
#[tokio::test]
async fn a_run_of_empty_pages_ends_the_page_stream_too() {
    let ion = MockIon::start();
    ion.respond(endless_empty_pages);
    let c = ion.client();
    // Bounded, so a stream that ignores the rule fails here instead of paging forever.
    let items: Vec<_> = c
        .pages::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .take(10)
        .collect()
        .await;
    assert_eq!(items.len(), 4, "three empty pages, then the error");
    assert!(items[..3].iter().all(Result::is_ok));
    assert!(matches!(
        items[3].as_ref().expect_err("empty run").kind(),
        ErrorKind::Pagination {
            stop: PageStop::EmptyPages { count: 3 },
            ..
        }
    ));
    assert_eq!(ion.graphql_requests(), 3);

    // `max_empty_pages` tunes it on pages as on nodes.
    let ion = MockIon::start();
    ion.respond(endless_empty_pages);
    let items: Vec<_> = ion
        .client()
        .pages::<ListThings>(PageVars {
            first: 1,
            after: None,
        })
        .max_empty_pages(1)
        .take(10)
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert_eq!(ion.graphql_requests(), 1);
}

#[tokio::test]
async fn a_page_cap_ends_the_stream_with_a_typed_error() {
    let ion = MockIon::start();
    ion.respond(page);
    let c = ion.client();
    let mut pages: Pages<ListThings> = c
        .pages::<ListThings>(PageVars {
            first: 2,
            after: None,
        })
        .max_pages(2);
    // Named and `Unpin`: polled in place, no `pin!`.
    assert!(pages.next().await.expect("page 1").is_ok());
    assert!(pages.next().await.expect("page 2").is_ok());
    let err = pages.next().await.expect("the cap").expect_err("capped");
    assert_eq!(
        err.to_string(),
        "cannot follow the pages of ListThings: the cap of 2 pages was reached and the server \
         has more"
    );
    assert!(pages.next().await.is_none());
    assert_eq!(pages.pages_fetched(), 2);
    assert_eq!(ion.graphql_requests(), 2);

    // A cap the pages never reach changes nothing.
    let nodes: Nodes<ListThings> = c
        .nodes::<ListThings>(PageVars {
            first: 5,
            after: None,
        })
        .max_pages(2);
    let all: Vec<_> = nodes.try_collect().await.expect("two pages hold all 7");
    assert_eq!(all.len(), TOTAL as usize);
}
