//! Hostile and unlucky answers: secrets echoed back, proxies, huge error bodies.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ion_client::{Environment, ErrorKind};

use crate::support::ops::{Echo, GetThing, IdVars};
use crate::support::{Fault, MockIon, Reply, SECRET, TOKEN_PREFIX, client, manual_clock, setup};

fn vars() -> IdVars {
    IdVars { id: 1 }
}

fn assert_clean(err: &ion_client::Error) {
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(TOKEN_PREFIX), "token in {shown}");
        assert!(!shown.contains(SECRET), "secret in {shown}");
    }
}

#[tokio::test]
async fn graphql_errors_and_decode_errors_are_redacted_of_the_token_and_secret() {
    let (ion, _, client) = setup();
    let echoed = format!(
        r#"{{"data":null,"errors":[{{"message":"token {{token}} (secret {SECRET}) refused","extensions":{{"seen":["{{token}}"]}}}}]}}"#
    );
    ion.script([
        Reply::Before(Fault::status(200, &echoed)),
        Reply::Before(Fault::status(
            200,
            r#"{"data":{"thing":{"id":"{token}","title":"x"}}}"#,
        )),
    ]);
    let err = client.execute::<Echo>(vars()).await.expect_err("errors[]");
    assert_clean(&err);
    assert_eq!(
        err.to_string(),
        "GraphQL errors in query Echo: token [redacted] (secret [redacted]) refused"
    );
    let ext = err.graphql_errors()[0]
        .extensions
        .as_ref()
        .expect("extensions");
    assert_eq!(ext["seen"], serde_json::json!(["[redacted]"]));

    let err = client
        .execute::<GetThing>(vars())
        .await
        .expect_err("decode");
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }));
    assert_clean(&err);
    assert!(err.to_string().contains("[redacted]"), "{err}");
}

#[tokio::test]
async fn a_huge_error_body_is_read_only_up_to_a_small_cap() {
    let (ion, _, client) = setup();
    let produced = Arc::new(AtomicUsize::new(0));
    const TOTAL: usize = 64 * 1024 * 1024;
    ion.script([Reply::Before(Fault::Stream {
        status: 500,
        total: TOTAL,
        produced: Arc::clone(&produced),
    })]);
    let err = client.execute::<Echo>(vars()).await.expect_err("500");
    assert!(matches!(
        err.kind(),
        ErrorKind::HttpStatus { status: 500, .. }
    ));
    // The client stops after 256 KiB; what the server produced beyond that is what the
    // loopback socket buffers took before the connection closed, a few MiB at most.
    let sent = produced.load(Ordering::SeqCst);
    assert!(
        sent < TOTAL / 4,
        "the server produced {sent} bytes of {TOTAL}"
    );
}

/// A proxy on 127.0.0.1 that records the first line of each request and answers 502.
struct RecordingProxy {
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    fn start() -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut first = String::new();
                let _ = BufReader::new(&stream).read_line(&mut first);
                seen.lock().expect("lock").push(first.trim_end().to_owned());
                let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
            }
        });
        RecordingProxy { port, lines }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lock").clone()
    }
}

#[tokio::test]
async fn loopback_endpoints_never_go_through_a_proxy() {
    let ion = MockIon::start();
    let proxy = RecordingProxy::start();
    let clock = manual_clock();
    let url = proxy.url();
    let client = client(ion.config(&clock).with_env_from(|name| {
        matches!(name, "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY").then(|| url.clone())
    }));
    client.execute::<Echo>(vars()).await.expect("direct");
    assert_eq!(ion.token_requests(), 1);
    assert!(proxy.lines().is_empty(), "{:?}", proxy.lines());
}

#[tokio::test]
async fn real_hosts_go_through_https_proxy() {
    let proxy = RecordingProxy::start();
    let clock = manual_clock();
    let url = proxy.url();
    let env = Environment::custom(
        "https://api.ion.example",
        "https://auth.ion.example/realms/api-keys/protocol/openid-connect/token",
    )
    .expect("environment");
    let client = client(
        ion_client::Config::builder()
            .environment(env)
            .client_id("id")
            .client_secret(SECRET)
            .clock(clock as Arc<dyn ion_client::Clock>)
            .with_env_from(|name| (name == "HTTPS_PROXY").then(|| url.clone())),
    );
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("the proxy refuses");
    assert_clean(&err);
    assert_eq!(
        proxy.lines(),
        vec!["CONNECT auth.ion.example:443 HTTP/1.1".to_owned()],
        "the token request tunnels through the proxy; the secret stays inside TLS"
    );
}
