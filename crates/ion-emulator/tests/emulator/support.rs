//! Shared helpers: start an emulator, get a token, send GraphQL, all over real HTTP.

use std::path::PathBuf;

use ion_emulator::{Emulator, EmulatorOptions, Seed};
use serde_json::{Value, json};

/// Set to `1` (CI does) to make a test that needs `../shared` fail when it is missing rather
/// than pass after saying it skipped.
const REQUIRE_SHARED: &str = "ION_REQUIRE_SHARED";

/// A file of the reference data kept beside the repository in `shared/` (not part of it), or
/// `None` after saying the test is skipped. Tests that call this are named `shared_*`.
///
/// # Panics
/// When the file is missing and `ION_REQUIRE_SHARED=1`.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    // `shared/` sits beside the repository, which is two levels above this crate.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os(REQUIRE_SHARED).is_none_or(|v| v != "1"),
        "{REQUIRE_SHARED}=1 but {} is missing",
        path.display()
    );
    eprintln!(
        "skipped: {} not found (the reference data sits beside the repository)",
        path.display()
    );
    None
}

/// The full 2023 reference SDL, from `shared/`.
pub fn reference_sdl_path() -> Option<PathBuf> {
    shared_file("ion-reference/ion-schema-2023.graphql")
}

pub async fn demo() -> Emulator {
    start(EmulatorOptions::new().seed(Seed::Demo)).await
}

pub async fn start(options: EmulatorOptions) -> Emulator {
    match Emulator::start(options).await {
        Ok(e) => e,
        Err(e) => panic!("emulator did not start: {e}"),
    }
}

pub fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain http:// still wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// Fetches a token through the token endpoint with client_secret_post.
pub async fn token(emulator: &Emulator) -> String {
    let resp = http()
        .post(emulator.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", emulator.client_id()),
            ("client_secret", emulator.client_secret()),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("token json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// A response: status, headers and parsed JSON body (or Null when the body is not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub async fn post_raw(emulator: &Emulator, auth: Option<&str>, body: &Value) -> Reply {
    let mut req = http().post(emulator.graphql_url()).json(body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("graphql request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// Runs one operation with a fresh `Bearer` token and returns the whole GraphQL response.
pub async fn gql(emulator: &Emulator, query: &str, variables: Value) -> Value {
    let token = token(emulator).await;
    gql_with(emulator, &token, query, variables).await
}

pub async fn gql_with(emulator: &Emulator, token: &str, query: &str, variables: Value) -> Value {
    let reply = post_raw(
        emulator,
        Some(&format!("Bearer {token}")),
        &json!({ "query": query, "variables": variables }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Like [`gql`], but fails the test on GraphQL errors and returns `data`.
pub async fn data(emulator: &Emulator, query: &str, variables: Value) -> Value {
    let body = gql(emulator, query, variables).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// The ids of a connection's nodes.
pub fn ids(connection: &Value) -> Vec<i64> {
    connection["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}
