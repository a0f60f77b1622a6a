//! Faults, counters, the request recorder and shutdown.

use std::time::{Duration, Instant};

use ion_emulator::{Emulator, EmulatorOptions, Endpoint, Fault};
use serde_json::{Value, json};

use super::support::*;

const ME: &str = "{ me { id } }";

/// Sends `createRun` with `title`: the mutation a fault test watches execute (or not).
async fn create_run(e: &Emulator, token: &str, title: &str) -> reqwest::Result<reqwest::Response> {
    let mutation = json!({
        "query": format!("mutation {{ createRun(input: {{ title: \"{title}\" }}) {{ run {{ id }} }} }}")
    });
    http()
        .post(e.graphql_url())
        .bearer_auth(token)
        .json(&mutation)
        .send()
        .await
}

#[tokio::test]
async fn status_faults_with_retry_after_apply_the_given_number_of_times() {
    let e = demo().await;
    let token = token(&e).await;
    let auth = format!("Bearer {token}");
    e.faults().inject(
        Endpoint::Graphql,
        Fault::status(429).retry_after("2").times(2),
    );
    e.faults().inject(Endpoint::Graphql, Fault::status(503));
    assert_eq!(e.faults().pending(), 3);
    for want in [429, 429, 503, 200] {
        let reply = post_raw(&e, Some(&auth), &json!({ "query": ME })).await;
        assert_eq!(reply.status, want);
        if want == 429 {
            assert_eq!(reply.headers["retry-after"], "2");
            assert_eq!(reply.body["errors"][0]["message"], "Too Many Requests");
        }
        assert!(reply.headers.contains_key("x-b3-trace-id"));
    }
    let c = e.counters();
    assert_eq!(
        (c.graphql_requests, c.operations, c.faults_injected),
        (4, 1, 3),
        "faulted requests do not execute"
    );
}

#[tokio::test]
async fn html_fault_sends_a_gateway_page() {
    let e = demo().await;
    let token = token(&e).await;
    e.faults().inject(Endpoint::Graphql, Fault::html(502));
    let resp = http()
        .post(e.graphql_url())
        .bearer_auth(&token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html");
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("<html>") && text.contains("502 Bad Gateway"),
        "{text}"
    );
}

#[tokio::test]
async fn truncated_json_executes_the_request_but_cuts_the_body() {
    let e = demo().await;
    let token = token(&e).await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::truncated_json());
    let resp = create_run(&e, &token, "Outcome unknown").await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "body should be cut: {text}"
    );
    assert_eq!(
        e.counters().mutations,
        1,
        "the mutation ran even though the client cannot tell"
    );
    let d = data(
        &e,
        "{ runs(filters: { title: { eq: \"Outcome unknown\" } }) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids(&d["runs"]), [7]);
}

#[tokio::test]
async fn slow_fault_delays_the_answer_past_a_client_timeout() {
    let e = demo().await;
    let token = token(&e).await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::slow(Duration::from_millis(400)));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .post(e.graphql_url())
        .bearer_auth(&token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // Without a timeout the slow answer still arrives, complete.
    e.faults()
        .inject(Endpoint::Graphql, Fault::slow(Duration::from_millis(200)));
    let started = Instant::now();
    let reply = post_raw(
        &e,
        Some(&format!("Bearer {token}")),
        &json!({ "query": ME }),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(reply.body["data"]["me"]["id"], 1);
}

#[tokio::test]
async fn connection_reset_fails_the_request_and_the_next_one_works() {
    let e = demo().await;
    let token = token(&e).await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::connection_reset());
    let err = http()
        .post(e.graphql_url())
        .bearer_auth(&token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(e.counters().operations, 0, "nothing executed");
    let reply = post_raw(
        &e,
        Some(&format!("Bearer {token}")),
        &json!({ "query": ME }),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn reset_after_executing_runs_the_mutation_and_sends_no_answer() {
    let e = demo().await;
    let token = token(&e).await;
    e.faults()
        .inject(Endpoint::Graphql, Fault::reset_after_executing());
    let err = create_run(&e, &token, "Reset after").await.unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    let counters = e.counters();
    assert_eq!(
        (counters.mutations, counters.faults_injected),
        (1, 1),
        "the mutation ran though no answer came back"
    );
    let d = data(
        &e,
        "{ runs(filters: { title: { eq: \"Reset after\" } }) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids(&d["runs"]), [7]);
}

#[tokio::test]
async fn token_endpoint_faults_and_outage() {
    let e = demo().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "local"),
        ("client_secret", "local-secret"),
    ];
    e.faults().set_token_endpoint_down(true);
    let resp = http().post(e.token_url()).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("503 Service Unavailable")
    );
    e.faults().set_token_endpoint_down(false);
    e.faults()
        .inject(Endpoint::Token, Fault::connection_reset());
    assert!(http().post(e.token_url()).form(&form).send().await.is_err());
    e.faults().inject(Endpoint::Token, Fault::status(500));
    let resp = http().post(e.token_url()).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    let resp = http().post(e.token_url()).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let c = e.counters();
    assert_eq!(
        (c.token_requests, c.tokens_issued, c.faults_injected),
        (4, 1, 3)
    );
    e.faults().inject(Endpoint::Token, Fault::status(500));
    e.faults().clear();
    assert_eq!(e.faults().pending(), 0);
}

#[tokio::test]
async fn counters_and_recorded_requests() {
    let e = demo().await;
    let token = token(&e).await;
    let auth = format!("Bearer {token}");
    post_raw(
        &e,
        Some(&auth),
        &json!({ "query": ME, "operationName": null }),
    )
    .await;
    post_raw(&e, Some(&auth), &json!([{ "query": ME }, { "query": "mutation { deleteRunStep(id: 1, etag: \"x\") { id } }" }])).await;
    post_raw(&e, None, &json!({ "query": ME })).await;
    let c = e.counters();
    assert_eq!(
        (
            c.token_requests,
            c.tokens_issued,
            c.graphql_requests,
            c.operations,
            c.mutations,
            c.unauthorized
        ),
        (1, 1, 3, 3, 1, 1)
    );
    let recorded = e.requests();
    assert_eq!(recorded.len(), 4);
    assert_eq!(recorded[0].endpoint, Endpoint::Token);
    assert!(recorded[0].body.contains("grant_type=client_credentials"));
    assert_eq!(recorded[1].endpoint, Endpoint::Graphql);
    assert!(
        recorded[1]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &auth)
    );
    e.reset_counters();
    assert_eq!(e.counters(), Default::default());
}

#[tokio::test]
async fn shutdown_stops_listening_and_drop_does_too() {
    let e = demo().await;
    let token = token(&e).await;
    let url = e.graphql_url();
    // Keep a connection open in reqwest's pool, then shut down: it must not keep the server alive.
    let client = http();
    client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    e.shutdown().await;
    assert!(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "query": ME }))
            .send()
            .await
            .is_err()
    );
    assert!(
        http()
            .post(&url)
            .json(&json!({ "query": ME }))
            .send()
            .await
            .is_err()
    );

    let e = demo().await;
    let addr = e.addr();
    drop(e);
    // Dropping aborts the server task; the listener closes as soon as the runtime runs the
    // abort, which a bounded number of yields is enough for.
    let mut refused = false;
    for _ in 0..1000 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "listener still open after drop");
}

#[tokio::test]
async fn a_rate_limit_answers_429_with_retry_after_beyond_the_burst_and_counts_it() {
    let e = start(EmulatorOptions::new().rate_limit(ion_emulator::RateLimit::new(0.5, 3))).await;
    let token = token(&e).await;
    let auth = format!("Bearer {token}");
    for _ in 0..3 {
        let r = post_raw(&e, Some(&auth), &json!({ "query": ME })).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let before = e.counters().mutations;
    let refused = create_run(&e, &token, "throttled").await.expect("answered");
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2"),
        "a token every 2 s"
    );
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Too many requests"))
    );
    assert_eq!(e.counters().mutations, before, "refused before it ran");
    assert_eq!(e.counters().rate_limited, 1);
    // Lifting the limit lets the next request through at once.
    e.set_rate_limit(None);
    let r = post_raw(&e, Some(&auth), &json!({ "query": ME })).await;
    assert_eq!(r.status, 200);
    assert_eq!(e.counters().rate_limited, 1);
}
