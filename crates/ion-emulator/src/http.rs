//! The HTTP side: routes, faults, and a connection loop that can reset a connection on demand
//! and owns every connection task, so shutting the server down leaves nothing running.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;

use super::auth::Auth;
use super::engine::{self, Caller, Instance};
use super::faults::{
    CounterCells, Endpoint, FaultKind, Faults, RECORDED_REQUESTS_LIMIT, RecordedRequest,
};
use super::limit::{Limiter, retry_after_secs};
use super::schema::Executable;

/// The one realm ION's API keys live in.
pub(crate) const REALM: &str = "api-keys";

/// Everything the handlers share.
pub(crate) struct Shared {
    pub instance: Arc<Instance>,
    pub executable: Arc<Executable>,
    pub auth: Auth,
    pub faults: Faults,
    pub limiter: Limiter,
    pub counters: Arc<CounterCells>,
    pub recorded: Mutex<VecDeque<RecordedRequest>>,
    /// `http://127.0.0.1:<port>`, for the token issuer claim.
    pub base_url: String,
}

impl Shared {
    pub(crate) fn record(&self, endpoint: Endpoint, path: &str, headers: &HeaderMap, body: &[u8]) {
        let mut recorded = self
            .recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recorded.len() >= RECORDED_REQUESTS_LIMIT {
            recorded.pop_front();
        }
        recorded.push_back(RecordedRequest {
            endpoint,
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(body).into_owned(),
        });
    }
}

/// Lets a handler ask for its connection to be reset.
#[derive(Debug, Default)]
pub(crate) struct ConnSignal {
    reset: AtomicBool,
    notify: Notify,
}

#[derive(Clone)]
pub(crate) struct ConnHandle(Arc<ConnSignal>);

impl ConnHandle {
    pub(crate) async fn reset(&self) -> Response {
        self.0.reset.store(true, Ordering::SeqCst);
        self.0.notify.notify_one();
        // The connection task drops this future together with the connection.
        std::future::pending::<()>().await;
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

/// A TCP stream that, when dropped after a reset was asked for, closes with RST (SO_LINGER 0)
/// instead of a graceful FIN, which is what "connection reset by peer" looks like to a client.
struct ConnIo {
    stream: TcpStream,
    signal: Arc<ConnSignal>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.signal.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/graphql", post(graphql))
        .route(
            "/auth/realms/{realm}/protocol/openid-connect/token",
            post(token),
        )
        .route("/realms/{realm}/protocol/openid-connect/token", post(token))
        .route(
            "/storage/{key}",
            axum::routing::put(super::storage::put).get(super::storage::get),
        )
        .fallback(fallback)
        .with_state(shared)
}

/// Accepts connections until `shutdown` fires; every connection task lives in a `JoinSet` that
/// is aborted on the way out (and when this future is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                // Out of file descriptors and the like: back off briefly rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let signal = Arc::new(ConnSignal::default());
    let io = hyper_util::rt::TokioIo::new(ConnIo {
        stream,
        signal: signal.clone(),
    });
    let handle = ConnHandle(signal.clone());
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let refused = misdirected(req.headers());
            req.extensions_mut().insert(handle.clone());
            let mut router = router.clone();
            async move {
                match refused {
                    Some(response) => Ok(response),
                    None => tower::Service::call(&mut router, req).await,
                }
            }
        });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = signal.notify.notified() => {}
    }
}

/// `421 Misdirected Request` for a request not addressed to a loopback name, `None` for one
/// that is.
///
/// The emulator listens on 127.0.0.1 only, but a web page can still reach it through DNS
/// rebinding: its own name, re-resolved to 127.0.0.1, makes the browser send the page's
/// requests here, with the page's name as `Host`. With the well-known default client such a
/// page could mint a token and read or write the data; answering only `127.0.0.1`, `[::1]`
/// and `localhost` (any port) shuts it out, since a page cannot choose the `Host` header.
fn misdirected(headers: &HeaderMap) -> Option<Response> {
    let host = headers
        .get(header::HOST)
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
    if host.as_deref().is_some_and(is_loopback_host) {
        return None;
    }
    let message = match &host {
        Some(host) => format!(
            "the ION emulator answers only requests addressed to 127.0.0.1, [::1] or localhost; \
             this one was addressed to `{host}`"
        ),
        None => "the ION emulator answers only requests addressed to 127.0.0.1, [::1] or \
                 localhost; this one has no Host header"
            .to_string(),
    };
    Some(json_response(
        421,
        &json!({ "error": "misdirected_request", "error_description": message, "errors": [{ "message": message }] }),
    ))
}

/// Whether a `Host` header value names a loopback address: `127.0.0.1`, `[::1]` or
/// `localhost` (in any case), with or without a port.
fn is_loopback_host(value: &str) -> bool {
    let is_port = |p: &str| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let port_ok = |rest: &str| rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port);
    if let Some(bracketed) = value.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .is_some_and(|(ip, rest)| ip == "::1" && port_ok(rest));
    }
    let (name, rest) = match value.find(':') {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost")) && port_ok(rest)
}

fn trace_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn html_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    let mut resp = (code, page).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}

/// What a fault does to the answer once the work is done.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AfterWork {
    /// Send it.
    Answer,
    /// Send it with its body cut in half.
    Truncate,
    /// Reset the connection instead.
    Reset,
}

/// Applies the next queued fault. `Err` is the response to send instead of doing the work;
/// `Ok` says what to do with the real response once the work is done.
async fn apply_fault(
    shared: &Shared,
    endpoint: Endpoint,
    conn: &ConnHandle,
) -> Result<AfterWork, Response> {
    let Some(kind) = shared.faults.take(endpoint) else {
        return Ok(AfterWork::Answer);
    };
    shared.counters.faults_injected();
    match kind {
        FaultKind::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Ok(AfterWork::Answer)
        }
        FaultKind::TruncatedJson => Ok(AfterWork::Truncate),
        FaultKind::ResetAfterExecuting => Ok(AfterWork::Reset),
        FaultKind::ConnectionReset => Err(conn.reset().await),
        FaultKind::Html { status } => Err(html_response(status)),
        FaultKind::ExpiredUrl => Err(html_response(403)),
        FaultKind::Status {
            status,
            retry_after,
        } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = code.canonical_reason().unwrap_or("Error");
            let mut resp = json_response(status, &json!({ "errors": [{ "message": message }] }));
            if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(resp)
        }
    }
}

/// Sends `resp` with `body` as `after` says: whole, cut in half, or not at all (a reset).
async fn deliver(
    mut resp: Response,
    body: Vec<u8>,
    after: AfterWork,
    conn: &ConnHandle,
) -> Response {
    let body = match after {
        AfterWork::Answer => body,
        AfterWork::Truncate => body[..body.len() / 2].to_vec(),
        AfterWork::Reset => return conn.reset().await,
    };
    *resp.body_mut() = Body::from(body);
    resp
}

fn finish(mut resp: Response, trace: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(trace) {
        resp.headers_mut().insert("x-b3-trace-id", v);
    }
    resp
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1 form-encodes both parts before base64.
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    conn: axum::Extension<ConnHandle>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.counters.token_requests();
    shared.record(Endpoint::Token, uri.path(), &headers, &body);
    if shared.faults.token_endpoint_down() {
        shared.counters.faults_injected();
        return html_response(503);
    }
    let after = match apply_fault(&shared, Endpoint::Token, &conn).await {
        Ok(after) => after,
        Err(resp) => return resp,
    };
    if realm != REALM {
        return json_response(404, &json!({ "error": "Realm does not exist" }));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let issuer = format!("{}/auth/realms/{REALM}", shared.base_url);
    let (status, body) = shared
        .auth
        .token(&form, basic_credentials(&headers), &issuer);
    if status == 200 {
        shared.counters.tokens_issued();
    }
    let mut resp = json_response(status, &body);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    deliver(resp, body.to_string().into_bytes(), after, &conn).await
}

async fn fallback(uri: Uri) -> Response {
    let path = uri.path();
    let realm = path
        .strip_prefix("/auth/realms/")
        .or_else(|| path.strip_prefix("/realms/"));
    match realm.map(|r| r.split('/').next().unwrap_or_default()) {
        Some(r) if r != REALM => json_response(404, &json!({ "error": "Realm does not exist" })),
        Some(_) => json_response(
            404,
            &json!({ "error": "Unable to find matching target resource method" }),
        ),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn graphql(
    State(shared): State<Arc<Shared>>,
    conn: axum::Extension<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.counters.graphql_requests();
    shared.record(Endpoint::Graphql, "/graphql", &headers, &body);
    let trace = trace_id();
    let after = match apply_fault(&shared, Endpoint::Graphql, &conn).await {
        Ok(after) => after,
        Err(resp) => return finish(resp, &trace),
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match shared.auth.authenticate(authorization) {
        Ok(caller) => caller,
        Err(message) => {
            shared.counters.unauthorized();
            let mut resp = json_response(401, &json!({ "errors": [{ "message": message }] }));
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return finish(resp, &trace);
        }
    };
    if let Err(wait) = shared
        .limiter
        .admit(&caller.client_id, std::time::Instant::now())
    {
        shared.counters.rate_limited();
        let secs = retry_after_secs(wait);
        let message = format!("Too many requests: retry after {secs} s");
        let mut resp = json_response(429, &json!({ "errors": [{ "message": message }] }));
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return finish(resp, &trace);
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("POST body sent invalid JSON: {e}");
            return finish(
                json_response(400, &json!({ "errors": [{ "message": msg }] })),
                &trace,
            );
        }
    };
    let answer = match parsed {
        Value::Array(items) if items.is_empty() => {
            let msg = "Received an empty list in the batch request.";
            return finish(
                json_response(400, &json!({ "errors": [{ "message": msg }] })),
                &trace,
            );
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(execute(&shared, &item, &caller));
            }
            Value::Array(out)
        }
        item @ Value::Object(_) => execute(&shared, &item, &caller),
        _ => {
            let msg = "GraphQL params should be a dict or a list of dicts.";
            return finish(
                json_response(400, &json!({ "errors": [{ "message": msg }] })),
                &trace,
            );
        }
    };
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    finish(
        deliver(json_response(200, &Value::Null), bytes, after, &conn).await,
        &trace,
    )
}

fn execute(shared: &Shared, item: &Value, caller: &Caller) -> Value {
    if item.get("query").is_some_and(Value::is_string) {
        shared.counters.operations();
    }
    engine::execute(&shared.executable, &shared.instance, caller, item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_are_answered() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "localhost",
            "LocalHost:1",
            "[::1]",
            "[::1]:65535",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "127.0.0.2",
            "localhost:",
            "localhost:80:80",
            "localhost:http",
            "[::1]x",
            "[::2]:80",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
