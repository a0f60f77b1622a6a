//! The Keycloak token endpoint and ION's `Authorization` check.

use std::time::Duration;

use base64::Engine as _;
use ion_emulator::{ClientCredentials, EmulatorOptions, Seed};
use serde_json::{Value, json};

use super::support::*;

/// A form body as name/value pairs.
type Form<'a> = &'a [(&'a str, &'a str)];

fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn post_token(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http().post(url).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn token_endpoint_answers_like_keycloak_on_both_paths() {
    let emulator = demo().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", emulator.client_id()),
        ("client_secret", emulator.client_secret()),
        ("audience", "https://api.buildwithion.com"),
    ];
    for url in [
        emulator.token_url(),
        emulator.token_url_without_auth_prefix(),
    ] {
        let (status, body) = post_token(&url, &form).await;
        assert_eq!(status, 200, "{url}: {body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 300);
        assert_eq!(body["refresh_expires_in"], 0);
        assert_eq!(body["not-before-policy"], 0);
        assert!(body["scope"].is_string());
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3, "JWT-shaped");
        let c = claims(token);
        assert_eq!(c["azp"], "local");
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);
        assert!(
            c["iss"]
                .as_str()
                .unwrap()
                .ends_with("/auth/realms/api-keys")
        );
    }
    // client_secret_basic is accepted too.
    let resp = http()
        .post(emulator.token_url())
        .basic_auth("local", Some("local-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(emulator.counters().token_requests, 3);
    assert_eq!(emulator.counters().tokens_issued, 3);
}

#[tokio::test]
async fn token_endpoint_errors_have_keycloak_shapes() {
    let emulator = demo().await;
    let url = emulator.token_url();
    let cases: [(Form<'_>, u16, &str, &str); 5] = [
        (
            &[("client_id", "local"), ("client_secret", "local-secret")],
            400,
            "invalid_request",
            "Missing form parameter: grant_type",
        ),
        (
            &[
                ("grant_type", "password"),
                ("client_id", "local"),
                ("client_secret", "local-secret"),
            ],
            400,
            "unsupported_grant_type",
            "Unsupported grant_type",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
                ("client_secret", "x"),
            ],
            401,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "local"),
                ("client_secret", "wrong"),
            ],
            401,
            "unauthorized_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            &[("grant_type", "client_credentials"), ("client_id", "local")],
            401,
            "unauthorized_client",
            "Client secret not provided in request",
        ),
    ];
    for (form, status, error, description) in cases {
        let (got, body) = post_token(&url, form).await;
        assert_eq!(
            (
                got,
                body["error"].as_str(),
                body["error_description"].as_str()
            ),
            (status, Some(error), Some(description)),
            "{form:?}"
        );
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "local"),
        ("client_secret", "local-secret"),
    ];
    for path in [
        "/auth/realms/master/protocol/openid-connect/token",
        "/realms/ion/protocol/openid-connect/token",
    ] {
        let (status, body) = post_token(&format!("{}{path}", emulator.api_base()), &form).await;
        assert_eq!(
            (status, body),
            (404, json!({ "error": "Realm does not exist" })),
            "{path}"
        );
    }
    assert_eq!(emulator.counters().tokens_issued, 0);
}

#[tokio::test]
async fn graphql_accepts_bearer_bare_and_token_headers() {
    let emulator = demo().await;
    let token = token(&emulator).await;
    let body = json!({ "query": "{ me { id } }" });
    for header in [
        format!("Bearer {token}"),
        token.clone(),
        format!("Token {token}"),
    ] {
        let reply = post_raw(&emulator, Some(&header), &body).await;
        assert_eq!(reply.status, 200, "{header}: {}", reply.body);
        assert_eq!(reply.body["data"]["me"]["id"], 1);
        let trace = reply.headers["x-b3-trace-id"].to_str().unwrap();
        assert!(
            trace.len() == 32 && trace.chars().all(|c| c.is_ascii_hexdigit()),
            "{trace}"
        );
    }
}

#[tokio::test]
async fn graphql_refuses_with_ions_401_messages() {
    let emulator = demo().await;
    let body = json!({ "query": "{ me { id } }" });
    let token = token(&emulator).await;
    let cases = [
        (None, "Please provide proper credentials"),
        (
            Some("Bearer not-a-token".to_owned()),
            "Unable to parse authentication token",
        ),
        (
            Some(format!("Basic {token}")),
            "Unable to parse authentication token",
        ),
        (
            Some(format!("Bearer {token}x")),
            "Please provide proper credentials",
        ),
    ];
    for (header, message) in &cases {
        let reply = post_raw(&emulator, header.as_deref(), &body).await;
        assert_eq!(reply.status, 401, "{header:?}");
        assert_eq!(reply.body["errors"][0]["message"], *message, "{header:?}");
        assert!(reply.headers.contains_key("x-b3-trace-id"));
    }
    emulator.advance_clock(Duration::from_secs(301));
    let reply = post_raw(&emulator, Some(&format!("Bearer {token}")), &body).await;
    assert_eq!(
        (reply.status, &reply.body["errors"][0]["message"]),
        (401, &json!("Token is expired."))
    );
    assert_eq!(emulator.counters().unauthorized, 5);
    assert_eq!(
        emulator.counters().operations,
        0,
        "401 is decided before GraphQL runs"
    );
}

#[tokio::test]
async fn clients_and_token_lifetime_are_configurable() {
    let ci = ClientCredentials::new("ci", "s3cret");
    assert!(
        !format!("{ci:?}").contains("s3cret"),
        "Debug redacts the secret"
    );
    let emulator = start(
        EmulatorOptions::new()
            .seed(Seed::Demo)
            .client(ci)
            .client(ClientCredentials::new("ops", "ops-secret").user_id(4))
            .token_lifetime(Duration::from_secs(60)),
    )
    .await;
    assert_eq!(
        (emulator.client_id(), emulator.client_secret()),
        ("ci", "s3cret")
    );
    let (status, body) = post_token(
        &emulator.token_url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "ops"),
            ("client_secret", "ops-secret"),
        ],
    )
    .await;
    assert_eq!((status, body["expires_in"].as_i64()), (200, Some(60)));
    let token = body["access_token"].as_str().unwrap();
    let me = gql_with(&emulator, token, "{ me { id name } }", json!({})).await;
    assert_eq!(
        me["data"]["me"],
        json!({ "id": 4, "name": "Katherine Johnson" })
    );
    // The default client is not accepted once clients are configured.
    let (status, _) = post_token(
        &emulator.token_url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "local"),
            ("client_secret", "local-secret"),
        ],
    )
    .await;
    assert_eq!(status, 401);
}

/// Sends `request` as written (an HTTP/1.1 request with `Connection: close`) and returns the
/// status and the body: the `Host` header is the test's, as a browser's would be.
async fn raw_request(emulator: &ion_emulator::Emulator, request: String) -> (u16, Value) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A page that rebinds its own name to 127.0.0.1 makes the browser send its requests with its
/// name as `Host`: the emulator refuses them before minting a token or executing anything.
#[tokio::test]
async fn requests_not_addressed_to_a_loopback_name_are_refused() {
    let emulator = demo().await;
    let port = emulator.addr().port();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        emulator.client_id(),
        emulator.client_secret()
    );
    let token_request = |host: &str| {
        format!(
            "POST /auth/realms/api-keys/protocol/openid-connect/token HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            form.len()
        )
    };
    let (status, body) =
        raw_request(&emulator, token_request(&format!("rebound.example:{port}"))).await;
    assert_eq!(status, 421, "{body}");
    assert_eq!(
        body["error_description"],
        format!(
            "the ION emulator answers only requests addressed to 127.0.0.1, [::1] or localhost; \
             this one was addressed to `rebound.example:{port}`"
        )
    );
    assert_eq!(emulator.counters().token_requests, 0);

    let query = json!({ "query": "{ me { id } }" }).to_string();
    let graphql_request = |host: &str| {
        format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{query}",
            emulator.issue_token(),
            query.len()
        )
    };
    let (status, body) = raw_request(&emulator, graphql_request("rebound.example")).await;
    assert_eq!(status, 421, "{body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    assert_eq!(emulator.counters().graphql_requests, 0);

    // Addressed by a loopback name, the same requests are answered.
    let (status, body) = raw_request(&emulator, token_request(&format!("localhost:{port}"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw_request(&emulator, graphql_request("127.0.0.1")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["id"].is_i64(), "{body}");
}
