//! Test support: a mock ION (token endpoint + `/graphql`) on 127.0.0.1, clients for it on a
//! clock driven by hand (the library's `ManualClock`), a log capture, and operations written
//! by hand.
//!
//! The mock runs on its own thread and runtime, so its work never mixes with the client's
//! (and its logs are not captured). It counts what it receives, can be scripted to fail in
//! every way the runtime must handle, and shuts down on drop.

#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
pub use ion_client::clock::ManualClock;
use ion_client::{Client, Config, ConfigBuilder, Environment, RetryPolicy};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

pub const CLIENT_ID: &str = "ion-test-client";
/// Searched for in logs, `Debug` and `Display`: it must never appear.
pub const SECRET: &str = "s3cr3t-Value-Never-Logged";
/// Every token the mock issues starts with this; it must never appear in logs either.
pub const TOKEN_PREFIX: &str = "tok-SENSITIVE-";
pub const TOKEN_PATH: &str = "/realms/api-keys/protocol/openid-connect/token";
pub const LEGACY_TOKEN_PATH: &str = "/auth/realms/api-keys/protocol/openid-connect/token";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A gate requests can wait at until the test opens it.
#[derive(Clone)]
pub struct Gate(Arc<Semaphore>);

impl Gate {
    pub fn new() -> Gate {
        Gate(Arc::new(Semaphore::new(0)))
    }
    pub fn open(&self) {
        self.0.add_permits(Semaphore::MAX_PERMITS / 2);
    }
    async fn wait(&self) {
        let _ = self.0.acquire().await;
    }
}

/// What the token endpoint does with one request.
#[derive(Clone)]
pub enum TokenReply {
    /// Check the form and issue a token with the mock's lifetime.
    Issue,
    /// Answer this status and body.
    Status(u16, String),
    /// Answer this status, these headers and this body.
    StatusWith(u16, Vec<(&'static str, String)>, String),
    /// Wait at the gate, then issue.
    WaitThenIssue(Gate),
    /// Fail as `/graphql` would with this fault (a reset, a cut body, a gate never opened).
    Fail(Fault),
}

/// A failure injected into a `/graphql` request.
#[derive(Clone)]
pub enum Fault {
    /// Answer this status, headers and body; `{token}` in the body is replaced by the token
    /// the request carried (a misbehaving proxy echoing the request).
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Close the connection without an answer.
    Reset,
    /// Answer 200 with a body cut short.
    Truncate,
    /// Wait at the gate, then go on (a gate never opened makes the request hang).
    Wait(Gate),
    /// Answer this status with a body of `total` bytes, produced in 64 KiB chunks only as
    /// the connection takes them; `produced` counts the bytes handed to the connection.
    Stream {
        status: u16,
        total: usize,
        produced: Arc<AtomicUsize>,
    },
}

impl Fault {
    pub fn status(status: u16, body: &str) -> Fault {
        Fault::Status {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }
    pub fn status_with(status: u16, header: &'static str, value: &str, body: &str) -> Fault {
        Fault::Status {
            status,
            headers: vec![(header, value.to_owned())],
            body: body.to_owned(),
        }
    }
}

/// What `/graphql` does with one request.
#[derive(Clone)]
pub enum Reply {
    /// Check the token, execute, answer.
    Pass,
    /// Fail before the token is checked and anything executes (a gateway, a load balancer).
    Before(Fault),
    /// Check the token and execute, then fail instead of answering.
    After(Fault),
}

type Responder = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

pub struct State {
    token_requests: AtomicUsize,
    graphql_requests: AtomicUsize,
    other_requests: AtomicUsize,
    mutations_executed: AtomicUsize,
    issued: AtomicUsize,
    token_lifetime: AtomicU64,
    token_path: Mutex<&'static str>,
    token_script: Mutex<VecDeque<TokenReply>>,
    graphql_script: Mutex<VecDeque<Reply>>,
    responder: Mutex<Responder>,
    valid_tokens: Mutex<HashSet<String>>,
    refuse_every_token: std::sync::atomic::AtomicBool,
    seen_auth: Mutex<Vec<Option<String>>>,
    token_forms: Mutex<Vec<Vec<(String, String)>>>,
    token_auth_headers: Mutex<Vec<Option<String>>>,
    token_count: watch::Sender<usize>,
    graphql_count: watch::Sender<usize>,
}

/// A mock ION on 127.0.0.1.
pub struct MockIon {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockIon {
    /// Starts a mock on a free port.
    pub fn start() -> MockIon {
        MockIon::start_on(0)
    }

    /// Starts a mock on `port` (0 for any).
    pub fn start_on(port: u16) -> MockIon {
        // Before any client code runs in this test: see `LogCapture`.
        LogCapture::init_global();
        let (token_count, _) = watch::channel(0);
        let (graphql_count, _) = watch::channel(0);
        let state = Arc::new(State {
            token_requests: AtomicUsize::new(0),
            graphql_requests: AtomicUsize::new(0),
            other_requests: AtomicUsize::new(0),
            mutations_executed: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            token_lifetime: AtomicU64::new(300),
            token_path: Mutex::new(TOKEN_PATH),
            token_script: Mutex::new(VecDeque::new()),
            graphql_script: Mutex::new(VecDeque::new()),
            responder: Mutex::new(Arc::new(
                |op: &Value| json!({"data": {"echo": op.get("variables").cloned().unwrap_or(Value::Null)}}),
            )),
            valid_tokens: Mutex::new(HashSet::new()),
            refuse_every_token: std::sync::atomic::AtomicBool::new(false),
            seen_auth: Mutex::new(Vec::new()),
            token_forms: Mutex::new(Vec::new()),
            token_auth_headers: Mutex::new(Vec::new()),
            token_count,
            graphql_count,
        });
        MockIon::listen_with(port, state)
    }

    /// The mock's state, to serve it on a second port with [`MockIon::listen_with`].
    pub fn shared_state(&self) -> Arc<State> {
        Arc::clone(&self.state)
    }

    /// Serves `state` (tokens, scripts and counters) on `port`.
    pub fn listen_with(port: u16, state: Arc<State>) -> MockIon {
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind a loopback port");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server_state = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("mock runtime");
            rt.block_on(serve(listener, server_state, rx));
        });
        MockIon {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url())
    }
    pub fn environment(&self) -> Environment {
        Environment::custom(&self.base_url(), &self.token_url()).expect("loopback environment")
    }

    /// A config for this mock with retries that wait on `clock`.
    pub fn config(&self, clock: &Arc<ManualClock>) -> ConfigBuilder {
        Config::builder()
            .environment(self.environment())
            .client_id(CLIENT_ID)
            .client_secret(SECRET)
            .clock(clock.clone())
            .retry_policy(RetryPolicy::default())
    }

    /// A client for this mock with the default settings on a clock of its own.
    pub fn client(&self) -> Client {
        client(self.config(&manual_clock()))
    }

    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }
    pub fn graphql_requests(&self) -> usize {
        self.state.graphql_requests.load(Ordering::SeqCst)
    }
    pub fn other_requests(&self) -> usize {
        self.state.other_requests.load(Ordering::SeqCst)
    }
    pub fn mutations_executed(&self) -> usize {
        self.state.mutations_executed.load(Ordering::SeqCst)
    }
    /// The `Authorization` header of every `/graphql` request, in order.
    pub fn seen_auth(&self) -> Vec<Option<String>> {
        lock(&self.state.seen_auth).clone()
    }
    /// The form fields of every token request, in order.
    pub fn token_forms(&self) -> Vec<Vec<(String, String)>> {
        lock(&self.state.token_forms).clone()
    }
    /// The `Authorization` header of every token request (client_secret_post sends none).
    pub fn token_auth_headers(&self) -> Vec<Option<String>> {
        lock(&self.state.token_auth_headers).clone()
    }

    pub fn set_token_lifetime(&self, secs: u64) {
        self.state.token_lifetime.store(secs, Ordering::SeqCst);
    }
    /// Serves the token endpoint at `path` only; the other form answers 404 like Keycloak.
    pub fn serve_token_at(&self, path: &'static str) {
        *lock(&self.state.token_path) = path;
    }
    pub fn script_tokens(&self, replies: impl IntoIterator<Item = TokenReply>) {
        lock(&self.state.token_script).extend(replies);
    }
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.state.graphql_script).extend(replies);
    }
    pub fn respond(&self, f: impl Fn(&Value) -> Value + Send + Sync + 'static) {
        *lock(&self.state.responder) = Arc::new(f);
    }
    /// Makes every token issued so far invalid ("Token is expired.").
    pub fn expire_tokens(&self) {
        lock(&self.state.valid_tokens).clear();
    }
    /// Answers 401 to every token, the ones issued later too (clock skew, a wrong realm or
    /// audience, revoked permissions), until turned off again.
    pub fn refuse_every_token(&self, refuse: bool) {
        self.state
            .refuse_every_token
            .store(refuse, Ordering::SeqCst);
    }

    /// Waits until at least `n` token requests have arrived.
    pub async fn wait_token_requests(&self, n: usize) {
        let mut rx = self.state.token_count.subscribe();
        let _ = bounded(rx.wait_for(|c| *c >= n), "token requests").await;
    }
    /// Waits until at least `n` `/graphql` requests have arrived.
    pub async fn wait_graphql_requests(&self, n: usize) {
        let mut rx = self.state.graphql_count.subscribe();
        let _ = bounded(rx.wait_for(|c| *c >= n), "GraphQL requests").await;
    }
}

impl Drop for MockIon {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Body = BoxBody<Bytes, io::Error>;

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(Arc::clone(&state), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

fn full(status: u16, headers: &[(&str, String)], body: impl Into<Bytes>) -> Response<Body> {
    let mut builder = Response::builder().status(status);
    for (k, v) in headers {
        builder = builder.header(*k, v);
    }
    builder
        .body(
            Full::new(body.into())
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .expect("valid response")
}

fn json_response(status: u16, value: &Value, trace: Option<String>) -> Response<Body> {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(t) = trace {
        headers.push(("x-b3-trace-id", t));
    }
    full(status, &headers, value.to_string())
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, io::Error> {
    let path = req.uri().path().to_owned();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?
        .to_bytes();
    if path == TOKEN_PATH || path == LEGACY_TOKEN_PATH {
        return token(&state, &path, auth, &body).await;
    }
    if path == "/graphql" {
        return graphql(&state, auth, &body).await;
    }
    state.other_requests.fetch_add(1, Ordering::SeqCst);
    Ok(full(404, &[], "not found"))
}

async fn token(
    state: &State,
    path: &str,
    auth: Option<String>,
    body: &[u8],
) -> Result<Response<Body>, io::Error> {
    let n = state.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    state.token_count.send_replace(n);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    lock(&state.token_forms).push(form.clone());
    lock(&state.token_auth_headers).push(auth);
    if path != *lock(&state.token_path) {
        return Ok(json_response(
            404,
            &json!({"error": "Realm does not exist"}),
            None,
        ));
    }
    let reply = lock(&state.token_script)
        .pop_front()
        .unwrap_or(TokenReply::Issue);
    match reply {
        TokenReply::Status(status, body) => return Ok(full(status, &[], body)),
        TokenReply::StatusWith(status, headers, body) => return Ok(full(status, &headers, body)),
        TokenReply::WaitThenIssue(gate) => gate.wait().await,
        TokenReply::Fail(fault) => {
            if let Some(response) = apply(fault, "").await? {
                return Ok(response);
            }
        }
        TokenReply::Issue => {}
    }
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if field("grant_type") != Some("client_credentials") {
        return Ok(json_response(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"}),
            None,
        ));
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(SECRET) {
        // Some Keycloak versions say which secret they saw; the client must not repeat it.
        let seen = field("client_secret").unwrap_or_default();
        return Ok(json_response(
            401,
            &json!({"error": "unauthorized_client", "error_description": format!("Invalid client secret {seen}")}),
            None,
        ));
    }
    let id = state.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let token = format!("{TOKEN_PREFIX}{id}");
    lock(&state.valid_tokens).insert(token.clone());
    Ok(json_response(
        200,
        &json!({
            "access_token": token,
            "expires_in": state.token_lifetime.load(Ordering::SeqCst),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "profile email"
        }),
        None,
    ))
}

async fn apply(fault: Fault, token: &str) -> Result<Option<Response<Body>>, io::Error> {
    match fault {
        Fault::Status {
            status,
            headers,
            body,
        } => Ok(Some(full(status, &headers, body.replace("{token}", token)))),
        Fault::Reset => Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
        Fault::Truncate => {
            let chunks: Vec<Result<Frame<Bytes>, io::Error>> = vec![
                Ok(Frame::data(Bytes::from_static(b"{\"data\": {\"ec"))),
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "cut")),
            ];
            let body = StreamBody::new(futures_util::stream::iter(chunks)).boxed();
            Ok(Some(
                Response::builder()
                    .status(200)
                    .header("content-length", "1000")
                    .body(body)
                    .expect("valid response"),
            ))
        }
        Fault::Wait(gate) => {
            gate.wait().await;
            Ok(None)
        }
        Fault::Stream {
            status,
            total,
            produced,
        } => {
            const CHUNK: usize = 64 * 1024;
            let chunks = futures_util::stream::unfold(0usize, move |sent| {
                let produced = Arc::clone(&produced);
                async move {
                    if sent >= total {
                        return None;
                    }
                    let n = CHUNK.min(total - sent);
                    produced.fetch_add(n, Ordering::SeqCst);
                    let frame: Result<Frame<Bytes>, io::Error> =
                        Ok(Frame::data(Bytes::from(vec![b'x'; n])));
                    Some((frame, sent + n))
                }
            });
            Ok(Some(
                Response::builder()
                    .status(status)
                    .header("content-length", total.to_string())
                    .body(StreamBody::new(chunks).boxed())
                    .expect("valid response"),
            ))
        }
    }
}

async fn graphql(
    state: &State,
    auth: Option<String>,
    body: &[u8],
) -> Result<Response<Body>, io::Error> {
    let n = state.graphql_requests.fetch_add(1, Ordering::SeqCst) + 1;
    state.graphql_count.send_replace(n);
    lock(&state.seen_auth).push(auth.clone());
    let reply = lock(&state.graphql_script)
        .pop_front()
        .unwrap_or(Reply::Pass);
    // ION accepts `Bearer <token>`, `Token <token>` and the bare token.
    let bare = auth
        .as_deref()
        .map(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("Token "))
                .unwrap_or(a)
                .to_owned()
        })
        .unwrap_or_default();
    let mut after = None;
    match reply {
        Reply::Pass => {}
        Reply::Before(fault) => {
            if let Some(response) = apply(fault, &bare).await? {
                return Ok(response);
            }
        }
        Reply::After(fault) => after = Some(fault),
    }
    let valid = !state.refuse_every_token.load(Ordering::SeqCst)
        && lock(&state.valid_tokens).contains(&bare);
    if !valid {
        return Ok(json_response(
            401,
            &json!({"message": "Token is expired."}),
            Some(format!("trace-{n}")),
        ));
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let responder = Arc::clone(&lock(&state.responder));
    let mut execute = |op: &Value| {
        let query = op.get("query").and_then(Value::as_str).unwrap_or_default();
        // The tests' documents put each operation on a line of its own.
        if query
            .lines()
            .any(|l| l.trim_start().starts_with("mutation"))
        {
            state.mutations_executed.fetch_add(1, Ordering::SeqCst);
        }
        responder(op)
    };
    let answer = match &request {
        Value::Array(ops) => Value::Array(ops.iter().map(&mut execute).collect()),
        op => execute(op),
    };
    if let Some(fault) = after
        && let Some(response) = apply(fault, &bare).await?
    {
        return Ok(response);
    }
    Ok(json_response(200, &answer, Some(format!("trace-{n}"))))
}

/// Awaits a notification, failing the test instead of hanging if it never comes. The bound
/// is a safety net, not a synchronisation: the awaited event is what the test waits for.
pub async fn bounded<F: std::future::Future>(f: F, what: &str) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(20), f).await {
        Ok(out) => out,
        Err(_) => panic!("waited 20 s for {what}"),
    }
}

/// A mock, a manual clock and a client for the mock on that clock, with the default settings:
/// the arrangement most tests start from.
pub fn setup() -> (MockIon, Arc<ManualClock>, Client) {
    let ion = MockIon::start();
    let clock = manual_clock();
    let client = client(ion.config(&clock));
    (ion, clock, client)
}

/// A new manual clock, shared between a test and its client.
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new())
}

/// The client `builder` configures.
pub fn client(builder: ConfigBuilder) -> Client {
    Client::new(builder.build().expect("config")).expect("client")
}

/// A free loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Captures every log line at `trace` level on this thread (the tests' runtimes are
/// single-threaded, so the client's spawned tasks log here too).
///
/// One global subscriber serves every test: per-thread `set_default` subscribers let
/// tracing cache a callsite as uninteresting while another test runs without one, and
/// events would go missing. The global one asks, per event, whether the current thread
/// captures, and writes there.
pub struct LogCapture {
    sink: Sink,
}

#[derive(Clone)]
struct Sink {
    buffer: Arc<Mutex<Vec<u8>>>,
    lines: watch::Sender<usize>,
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Sink>> = const { std::cell::RefCell::new(None) };
}

fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(sink) = c.borrow().as_ref() {
                lock(&sink.buffer).extend_from_slice(buf);
                sink.lines.send_modify(|n| *n += 1);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Sets the one global subscriber. Every test calls it (through `MockIon::start`) before
    /// its client runs, so no callsite is ever registered before the subscriber exists:
    /// tracing caches a callsite's interest when it is first hit, and a callsite first hit
    /// while the global subscriber is being set can stay disabled for good.
    pub fn init_global() {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            use tracing_subscriber::Layer as _;
            use tracing_subscriber::layer::SubscriberExt as _;
            let layer = tracing_subscriber::fmt::layer()
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
                .with_ansi(false)
                .with_writer(|| ThreadWriter)
                // Dynamic: decided per event on the emitting thread, never cached per
                // callsite (a plain `filter_fn` would cache the first thread's answer).
                .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
                    capturing()
                }));
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        });
    }

    /// Starts capturing this thread's logs.
    pub fn install() -> LogCapture {
        LogCapture::init_global();
        let (lines, _) = watch::channel(0);
        let sink = Sink {
            buffer: Arc::new(Mutex::new(Vec::new())),
            lines,
        };
        CAPTURE.with(|c| *c.borrow_mut() = Some(sink.clone()));
        LogCapture { sink }
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.sink.buffer)).into_owned()
    }
    /// Waits until a line containing `needle` has been logged.
    pub async fn wait_for(&self, needle: &str) {
        let mut rx = self.sink.lines.subscribe();
        let appeared = async {
            loop {
                if self.text().contains(needle) {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        bounded(appeared, needle).await;
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

/// Defines a hand-written operation: a unit struct implementing `GraphQLQuery` and
/// `Operation`, as the generator will.
#[macro_export]
macro_rules! operation {
    ($name:ident, $kind:ident, $vars:ty, $data:ty, $query:expr) => {
        pub struct $name;
        impl ion_client::graphql_client::GraphQLQuery for $name {
            type Variables = $vars;
            type ResponseData = $data;
            fn build_query(
                variables: Self::Variables,
            ) -> ion_client::graphql_client::QueryBody<Self::Variables> {
                ion_client::graphql_client::QueryBody {
                    variables,
                    query: $query,
                    operation_name: stringify!($name),
                }
            }
        }
        impl ion_client::Operation for $name {
            const NAME: &'static str = stringify!($name);
            const KIND: ion_client::OperationKind = ion_client::OperationKind::$kind;
            const QUERY: &'static str = $query;
        }
    };
}

pub mod ops {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    pub struct IdVars {
        pub id: i64,
    }

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    pub struct Thing {
        pub id: i64,
        pub title: String,
    }

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    pub struct ThingData {
        pub thing: Option<Thing>,
    }

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    pub struct EchoData {
        pub echo: serde_json::Value,
    }

    crate::operation!(
        Echo,
        Query,
        IdVars,
        EchoData,
        "query Echo($id: ID!) { echo(id: $id) }"
    );
    crate::operation!(
        EchoWrite,
        Mutation,
        IdVars,
        EchoData,
        "mutation EchoWrite($id: ID!) { echo(id: $id) }"
    );
    crate::operation!(
        GetThing,
        Query,
        IdVars,
        ThingData,
        "query GetThing($id: ID!) { thing(id: $id) { id title } }"
    );
    crate::operation!(
        UpdateThing,
        Mutation,
        IdVars,
        ThingData,
        "mutation UpdateThing($id: ID!) { thing: updateThing(id: $id, etag: \"x\") { id title } }"
    );

    #[derive(Debug, Clone, Serialize)]
    pub struct PageVars {
        pub first: i64,
        pub after: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PageInfo {
        pub has_next_page: bool,
        pub end_cursor: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Edge {
        pub node: Option<Thing>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Connection {
        pub page_info: PageInfo,
        pub edges: Vec<Option<Edge>>,
    }

    #[derive(Debug, Deserialize)]
    pub struct ListData {
        pub things: Option<Connection>,
    }

    crate::operation!(
        ListThings,
        Query,
        PageVars,
        ListData,
        "query ListThings($first: Int, $after: String) { things(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id title } } } }"
    );

    impl ion_client::Paginated for ListThings {
        type Node = Thing;
        fn set_after(variables: &mut PageVars, after: Option<String>) {
            variables.after = after;
        }
        fn page_cursor(data: &ListData) -> Option<ion_client::PageCursor> {
            data.things.as_ref().map(|c| ion_client::PageCursor {
                has_next_page: c.page_info.has_next_page,
                end_cursor: c.page_info.end_cursor.clone(),
            })
        }
        fn node_count(data: &ListData) -> usize {
            data.things.as_ref().map_or(0, |c| {
                c.edges
                    .iter()
                    .flatten()
                    .filter(|e| e.node.is_some())
                    .count()
            })
        }
        fn into_nodes(data: ListData) -> Vec<Thing> {
            data.things
                .map(|c| {
                    c.edges
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.node)
                        .collect()
                })
                .unwrap_or_default()
        }
    }
}
