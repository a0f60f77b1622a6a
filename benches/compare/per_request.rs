//! Requests per second through each client against the canned
//! server, at a given concurrency, on one single-threaded runtime (the bench's main thread).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper_util::rt::TokioIo;
use ion_client::operations::StarterOperations;

use crate::baselines::{self, HandRequest, hand};
use crate::data::Page;
use crate::server::Server;

/// The clients compared, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    Ion,
    GraphqlClient,
    Reqwest,
    Hyper,
}

impl Contender {
    pub const ALL: [Contender; 4] = [
        Contender::Ion,
        Contender::GraphqlClient,
        Contender::Reqwest,
        Contender::Hyper,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Contender::Ion => "ion-client `get_runs()`",
            Contender::GraphqlClient => "graphql_client 0.16 `post_graphql`",
            Contender::Reqwest => "raw reqwest 0.13 + hand-written serde struct",
            Contender::Hyper => "raw hyper, pre-serialised request, body collected (floor)",
        }
    }
}

/// Every client, configured once for one page and reused across slices (warm pools, cached
/// token), as an application would hold them.
pub struct Clients {
    page_runs: usize,
    page_len: usize,
    url: String,
    /// The floor's request target (origin form) and `Host`.
    path: String,
    authority: String,
    ion: ion_client::Client,
    graphql_client: reqwest012::Client,
    reqwest: reqwest::Client,
    token: String,
    /// The floor's request body, serialised once.
    body: Bytes,
    bearer: HeaderValue,
}

/// The token the canned server hands out (the baselines skip the exchange; ion-client does it
/// once, then serves it from its cache).
const TOKEN: &str = "bench-access-token";

impl Clients {
    pub async fn new(server: &Server, page: &Page) -> Clients {
        let config = ion_client::Config::builder()
            .environment(
                ion_client::Environment::custom(&server.api_base(page.path), &server.token_url())
                    .expect("canned environment"),
            )
            .client_id("bench")
            .client_secret("bench-secret")
            .max_response_bytes(64 << 20)
            .build()
            .expect("config");
        let ion = ion_client::Client::new(config).expect("ion client");
        let bearer = format!("Bearer {TOKEN}");
        let mut headers = reqwest012::header::HeaderMap::new();
        headers.insert(
            reqwest012::header::AUTHORIZATION,
            reqwest012::header::HeaderValue::from_str(&bearer).expect("header"),
        );
        let graphql_client = reqwest012::Client::builder()
            .default_headers(headers)
            .build()
            .expect("reqwest 0.12 client");
        let reqwest = reqwest::Client::builder().build().expect("reqwest client");
        let body = serde_json::to_vec(&HandRequest {
            query: baselines::get_runs::QUERY,
            operation_name: "GetRuns",
        })
        .expect("request body");
        Clients {
            page_runs: page.runs,
            page_len: page.body.len(),
            url: server.graphql_url(page.path),
            path: format!("/{}/graphql", page.path),
            authority: server.addr.to_string(),
            ion,
            graphql_client,
            reqwest,
            token: TOKEN.to_owned(),
            body: body.into(),
            bearer: HeaderValue::from_str(&bearer).expect("header"),
        }
    }
}

/// One slice: `requests` requests through `contender` with `concurrency` in flight.
/// Returns (requests per second, client-thread CPU microseconds per request).
pub async fn slice(
    clients: &Arc<Clients>,
    contender: Contender,
    concurrency: usize,
    requests: usize,
) -> (f64, f64) {
    let issued = Arc::new(AtomicUsize::new(0));
    // The floor opens its connections before the clock starts (the others keep pools warm
    // from their warm-up request and earlier slices).
    let mut senders = Vec::new();
    if contender == Contender::Hyper {
        for _ in 0..concurrency {
            senders.push(Some(hyper_connection(&clients.authority).await));
        }
    }
    let cpu_before = crate::thread_cpu_ns();
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let clients = Arc::clone(clients);
        let issued = Arc::clone(&issued);
        let mut sender = senders.get_mut(worker).and_then(Option::take);
        workers.push(tokio::spawn(async move {
            while issued.fetch_add(1, Ordering::Relaxed) < requests {
                one(&clients, contender, sender.as_mut()).await;
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = crate::thread_cpu_ns().saturating_sub(cpu_before) as f64 / 1e3;
    (requests as f64 / elapsed, cpu / requests as f64)
}

/// One request, checked: every client must decode every run of the page.
pub async fn one(
    clients: &Clients,
    contender: Contender,
    sender: Option<&mut hyper::client::conn::http1::SendRequest<Full<Bytes>>>,
) {
    match contender {
        Contender::Ion => {
            let data = clients.ion.get_runs().await.expect("ion-client get_runs");
            let runs = data
                .runs
                .map_or(0, |r| r.edges.into_iter().flatten().count());
            assert_eq!(runs, clients.page_runs);
        }
        Contender::GraphqlClient => {
            let response = graphql_client::reqwest::post_graphql::<baselines::GetRuns, _>(
                &clients.graphql_client,
                &clients.url,
                baselines::get_runs::Variables,
            )
            .await
            .expect("graphql_client post_graphql");
            let data = response.data.expect("data");
            assert_eq!(data.run_count(), clients.page_runs);
        }
        Contender::Reqwest => {
            let envelope: hand::Envelope = clients
                .reqwest
                .post(&clients.url)
                .bearer_auth(&clients.token)
                .json(&HandRequest {
                    query: baselines::get_runs::QUERY,
                    operation_name: "GetRuns",
                })
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .expect("reqwest send")
                .json()
                .await
                .expect("reqwest decode");
            assert!(envelope.errors.is_empty());
            assert_eq!(envelope.run_count(), clients.page_runs);
        }
        Contender::Hyper => {
            let sender = match sender {
                Some(sender) => sender,
                None => &mut hyper_connection(&clients.authority).await,
            };
            let request = hyper::Request::post(clients.path.as_str())
                .header(HOST, clients.authority.as_str())
                .header(CONTENT_TYPE, "application/json")
                .header(AUTHORIZATION, clients.bearer.clone())
                .body(Full::new(clients.body.clone()))
                .expect("request");
            let response = sender.send_request(request).await.expect("hyper send");
            assert_eq!(response.status(), 200);
            let body = response
                .into_body()
                .collect()
                .await
                .expect("hyper body")
                .to_bytes();
            assert_eq!(body.len(), clients.page_len);
        }
    }
}

/// A raw HTTP/1.1 connection to the canned server, its driver spawned on this runtime.
async fn hyper_connection(authority: &str) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}
