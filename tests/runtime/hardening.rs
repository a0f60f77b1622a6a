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

/// A body that echoes the token (and the client secret) everywhere a server can put text:
/// messages, path keys, extension keys and values, partial data, top-level extensions.
const ECHOING: &str = r#"{
    "data": {"thing": null, "echo": "data {token}"},
    "errors": [{
        "message": "token {token} refused",
        "path": ["thing", "{token}", 0],
        "extensions": {"{token}": ["seen {token}"], "secret": "s3cr3t-Value-Never-Logged"}
    }],
    "extensions": {"trace": "{token}"}
}"#;

fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN_PREFIX), "token in {text}");
    assert!(!text.contains(SECRET), "secret in {text}");
}

#[tokio::test]
async fn execute_raw_returns_the_body_without_the_token_or_secret() {
    let (ion, _, client) = setup();
    ion.script([Reply::Before(Fault::status(200, ECHOING))]);
    let body = client
        .execute_raw(ion_client::RawRequest::query("query Echo { thing { id } }"))
        .await
        .expect("a body");
    assert_no_secret(&body.to_string());
    assert_eq!(
        body,
        serde_json::json!({
            "data": {"thing": null, "echo": "data [redacted]"},
            "errors": [{
                "message": "token [redacted] refused",
                "path": ["thing", "[redacted]", 0],
                "extensions": {"[redacted]": ["seen [redacted]"], "secret": "[redacted]"}
            }],
            "extensions": {"trace": "[redacted]"}
        })
    );
}

#[tokio::test]
async fn errors_partial_data_and_extensions_are_redacted_on_every_typed_path() {
    let (ion, _, client) = setup();
    ion.script([
        Reply::Before(Fault::status(200, ECHOING)),
        Reply::Before(Fault::status(200, ECHOING)),
    ]);
    let err = client.execute::<Echo>(vars()).await.expect_err("errors[]");
    assert_clean(&err);
    assert_eq!(
        err.partial_data(),
        Some(&serde_json::json!({"thing": null, "echo": "data [redacted]"}))
    );
    assert_eq!(
        err.to_string(),
        "GraphQL errors in query Echo: thing.[redacted].0: token [redacted] refused"
    );

    let full = client
        .execute_full::<GetThing>(vars())
        .await
        .expect("data and errors");
    let shown = format!("{:?} {:?}", full.errors, full.extensions);
    assert_no_secret(&shown);
    let errors = full.errors.expect("errors");
    assert_eq!(errors[0].message, "token [redacted] refused");
    assert_eq!(
        full.extensions.and_then(|e| e.get("trace").cloned()),
        Some(serde_json::json!("[redacted]"))
    );
}

/// A `200` whose `errors[]` a server made as large as the response limit allows: the error
/// keeps a bounded part of it, and nothing of the token.
#[tokio::test]
async fn huge_graphql_errors_are_kept_within_bounds() {
    let (ion, _, client) = setup();
    let huge_message = format!(
        r#"{{"data":null,"errors":[{{"message":"{}{{token}}{}"}}]}}"#,
        // The token straddles the end of the 16 KiB an error reads of a message.
        "m".repeat(16 * 1024 - 5),
        "m".repeat(16 * 1024 * 1024)
    );
    let many = format!(
        r#"{{"data":null,"errors":[{}]}}"#,
        vec![r#"{"message":"boom {token}"}"#; 100_000].join(",")
    );
    let deep = format!(
        r#"{{"data":null,"errors":[{{"message":"","path":[{}]}}]}}"#,
        vec!["0"; 4 * 1024 * 1024].join(",")
    );
    ion.script([huge_message, many, deep].map(|body| Reply::Before(Fault::status(200, &body))));

    let err = client.execute::<Echo>(vars()).await.expect_err("huge");
    assert_clean(&err);
    assert!(
        err.to_string().len() < 1200,
        "{} bytes",
        err.to_string().len()
    );
    let message = &err.graphql_errors()[0].message;
    assert_eq!(message.chars().count(), 1001);
    assert!(!format!("{err:?}").contains("tok-"), "no half of the token");

    let err = client.execute::<Echo>(vars()).await.expect_err("many");
    assert_clean(&err);
    assert_eq!(err.graphql_errors().len(), 100);
    assert_eq!(
        err.to_string(),
        "GraphQL errors in query Echo: boom [redacted] (and 99999 more)"
    );

    let err = client.execute::<Echo>(vars()).await.expect_err("deep");
    let path = err.graphql_errors()[0].path.as_ref().expect("a path");
    assert_eq!(path.len(), 64);
    assert!(err.to_string().len() < 200, "{err}");
}

/// A wrongly typed value as large as the response, holding a token with a `"` in it: serde
/// quotes it `Debug`-escaped (`\"`), and the decode error keeps a clipped quote without it.
#[tokio::test]
async fn a_huge_wrongly_typed_value_is_quoted_clipped_and_redacted() {
    let (ion, _, client) = setup();
    let token = format!(r#"{TOKEN_PREFIX}with"quote"#);
    ion.script_tokens([crate::support::TokenReply::Status(
        200,
        serde_json::json!({"access_token": token, "expires_in": 300}).to_string(),
    )]);
    let value = format!("{token} {}", "v".repeat(16 * 1024 * 1024));
    let body = serde_json::json!({"data": {"thing": {"id": value, "title": "x"}}}).to_string();
    ion.script([Reply::Before(Fault::status(200, &body))]);
    let err = client
        .execute::<GetThing>(vars())
        .await
        .expect_err("decode");
    assert_clean(&err);
    assert!(
        !format!("{err:?}").contains("with\\\"quote"),
        "escaped form"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "cannot decode the response to GetThing at data.thing.id: invalid type: string \
             \"[redacted] {}…\", expected i64",
            "v".repeat(69)
        )
    );
    assert!(
        std::error::Error::source(&err).is_none(),
        "serde's quote is not kept"
    );
}

/// A SOCKS5 proxy on 127.0.0.1 that records the target of each CONNECT and refuses it.
struct RecordingSocks {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
}

impl RecordingSocks {
    fn start() -> RecordingSocks {
        use std::io::Read;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&targets);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                // Greeting: version 5, the methods offered; answer "no authentication".
                let mut head = [0u8; 2];
                if s.read_exact(&mut head).is_err() {
                    continue;
                }
                let mut methods = vec![0u8; usize::from(head[1])];
                let _ = s.read_exact(&mut methods);
                let _ = s.write_all(&[5, 0]);
                // Request: version, CONNECT, reserved, a domain name (socks5h) and a port.
                let mut request = [0u8; 5];
                if s.read_exact(&mut request).is_err() || request[3] != 3 {
                    continue;
                }
                let mut host = vec![0u8; usize::from(request[4])];
                let mut port = [0u8; 2];
                let _ = s.read_exact(&mut host);
                let _ = s.read_exact(&mut port);
                seen.lock().expect("lock").push(format!(
                    "{}:{}",
                    String::from_utf8_lossy(&host),
                    u16::from_be_bytes(port)
                ));
                // "Connection refused".
                let _ = s.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
            }
        });
        RecordingSocks { port, targets }
    }
    fn targets(&self) -> Vec<String> {
        self.targets.lock().expect("lock").clone()
    }
}

/// `socks5h://` proxies (as `ALL_PROXY` often names them) are used: the token request asks
/// the proxy for the token host by name, so nothing is resolved here.
#[tokio::test]
async fn real_hosts_go_through_a_socks5_proxy() {
    let proxy = RecordingSocks::start();
    let clock = manual_clock();
    let url = format!("socks5h://127.0.0.1:{}", proxy.port);
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
            .with_env_from(|name| (name == "ALL_PROXY").then(|| url.clone())),
    );
    let err = client
        .execute::<Echo>(vars())
        .await
        .expect_err("the proxy refuses");
    assert_clean(&err);
    assert!(matches!(err.kind(), ErrorKind::Transport { .. }), "{err:?}");
    assert_eq!(proxy.targets(), vec!["auth.ion.example:443".to_owned()]);
}

/// `localhost` endpoints (plain http, never proxied, as loopback) reach the loopback
/// addresses for the token request and the API alike, pinned rather than resolved.
#[tokio::test]
async fn localhost_endpoints_reach_loopback() {
    let ion = MockIon::start();
    let clock = manual_clock();
    let base = format!("http://localhost:{}", ion.port());
    let client = client(
        ion.config(&clock)
            .api_url(&base)
            .token_url(format!("{base}{}", crate::support::TOKEN_PATH)),
    );
    client.execute::<Echo>(vars()).await.expect("served");
    assert_eq!((ion.token_requests(), ion.graphql_requests()), (1, 1));
}
