//! A scripted ION on 127.0.0.1 for what the emulator never does: echo the bearer token it was
//! sent, send terminal escapes, answer introspection as another server library does. Its
//! token endpoint issues one JWT-shaped token; `/graphql` answers what the test's closure
//! returns for the request's `Authorization` header. It stops when dropped.

use std::convert::Infallible;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::json;

/// The client id `ion` is configured with.
pub const CLIENT_ID: &str = "hostile-test-client";
/// The client secret `ion` is configured with; it must never be printed.
pub const SECRET: &str = "hostile-client-secret-5d1e";

type Answer = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;

/// The mock server; its task is aborted on drop.
pub struct Mock {
    addr: std::net::SocketAddr,
    token: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A JWT-shaped token (unsigned) with the claims `ion token` prints, valid for an hour.
fn jwt() -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 3600;
    format!(
        "{}.{}.hostile-signature-b7c4",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"azp": CLIENT_ID, "exp": exp}))
    )
}

impl Mock {
    /// Starts a mock whose `/graphql` answers `answer(authorization)` as (status, JSON body).
    pub async fn start(answer: impl Fn(&str) -> (u16, String) + Send + Sync + 'static) -> Mock {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let token = jwt();
        let answer: Answer = Arc::new(answer);
        let issued = token.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (answer, issued) = (answer.clone(), issued.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (answer, issued) = (answer.clone(), issued.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            // Read whole, so the connection stays usable.
                            let _ = body.collect().await;
                            Ok::<_, Infallible>(respond(&parts, &answer, &issued))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Mock { addr, token, task }
    }

    /// The token the mock issues.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Runs `ion` configured for this mock, logging at trace level, bounded in time.
    pub async fn ion(&self, dir: &std::path::Path, args: &[&str]) -> Output {
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_ion"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("ION_API_URL", format!("http://{}", self.addr))
            .env(
                "ION_TOKEN_URL",
                format!(
                    "http://{}/auth/realms/api-keys/protocol/openid-connect/token",
                    self.addr
                ),
            )
            .env("ION_CLIENT_ID", CLIENT_ID)
            .env("ION_CLIENT_SECRET", SECRET)
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        tokio::time::timeout(Duration::from_secs(120), run)
            .await
            .unwrap_or_else(|_| panic!("ion {args:?} did not finish"))
            .expect("the ion binary runs")
    }
}

fn respond(
    req: &hyper::http::request::Parts,
    answer: &Answer,
    token: &str,
) -> Response<Full<Bytes>> {
    let (status, body) = if req.uri.path().ends_with("/protocol/openid-connect/token") {
        let body = json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"});
        (200, body.to_string())
    } else if req.uri.path() == "/graphql" {
        let authorization = req
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        answer(authorization)
    } else {
        (404, json!({"error": "not found"}).to_string())
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
