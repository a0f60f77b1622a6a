//! The canned ION: a minimal hyper server on 127.0.0.1 on its own thread and its own
//! single-threaded runtime. It answers the token endpoint with a token valid for an hour and
//! every other POST with the fixed body of the page named by the path's first segment, so it
//! does no work that depends on the client and is never the bottleneck.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/token";
/// What the token endpoint answers: Keycloak's shape, valid for an hour.
const TOKEN_BODY: &str =
    r#"{"access_token":"bench-access-token","token_type":"Bearer","expires_in":3600}"#;

/// A running canned server. It lives until the process exits (the bench's `main` returns).
pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    /// Starts the server answering `/<path>/graphql` with `body` for every `(path, body)`.
    pub fn start(pages: &[(&'static str, Bytes)]) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let mut bodies: HashMap<String, Bytes> = pages
            .iter()
            .map(|(path, body)| (format!("/{path}/graphql"), body.clone()))
            .collect();
        bodies.insert(
            TOKEN_PATH.to_owned(),
            Bytes::from_static(TOKEN_BODY.as_bytes()),
        );
        let bodies = Arc::new(bodies);
        std::thread::Builder::new()
            .name("canned-ion".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("server runtime");
                runtime.block_on(serve(listener, bodies));
            })
            .expect("server thread");
        Server { addr }
    }

    /// The base URL of a page (ion-client appends `/graphql`).
    pub fn api_base(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// The full GraphQL URL of a page.
    pub fn graphql_url(&self, path: &str) -> String {
        format!("http://{}/{path}/graphql", self.addr)
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("http://{}{TOKEN_PATH}", self.addr)
    }
}

async fn serve(listener: std::net::TcpListener, bodies: Arc<HashMap<String, Bytes>>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let bodies = Arc::clone(&bodies);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let bodies = Arc::clone(&bodies);
                async move { Ok::<_, Infallible>(answer(request, &bodies).await) }
            });
            // A client closing its connection ends this task; nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    bodies: &HashMap<String, Bytes>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    // Read the request as a real server would before answering.
    let _ = request.into_body().collect().await;
    match bodies.get(&path) {
        Some(body) => Response::builder()
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .expect("static response"),
        None => Response::builder()
            .status(404)
            .body(Full::new(Bytes::from_static(b"not found")))
            .expect("static response"),
    }
}
