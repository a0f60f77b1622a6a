//! Record and replay: responses saved as one JSON file per operation and variables, served
//! offline afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use crate::secret::Redactor;
use crate::transport::Exchange;
use crate::{Client, Config, ConfigBuilder, Environment, Error, ErrorKind};

/// A directory of recorded responses, such as `tests/fixtures/ion`.
///
/// Each file is `<OperationName>-<digest of the variables>.json` (128 bits of SHA-256; a name
/// longer than 80 characters, such as a large batch's, is cut and followed by a digest of
/// the whole) and holds the operation, its variables and the response body: never a header,
/// and the token and the client secret are redacted from the body even where the server
/// echoed them. Replay serves a file only to a call with the variables it holds.
///
/// # Example
///
/// ```no_run
/// use ion_client::testing::Fixtures;
/// # #[cfg(feature = "starter")]
/// use ion_client::operations::StarterOperations; // or your crate's own `Operations`
///
/// # #[cfg(feature = "starter")]
/// # async fn example() -> Result<(), ion_client::Error> {
/// // With ION_RECORD=1 and ION_* credentials, calls go to ION and are saved;
/// // otherwise they are answered from tests/fixtures/ion, offline.
/// let client = Fixtures::new("tests/fixtures/ion").client()?;
/// let runs = client.get_runs().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    /// Fixtures kept in `dir` (created when recording).
    pub fn new(dir: impl Into<PathBuf>) -> Fixtures {
        Fixtures { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// With `ION_RECORD=1`: a recording client configured from the `ION_*` variables.
    /// Otherwise a replaying client.
    ///
    /// # Errors
    ///
    /// A configuration error when recording without credentials.
    pub fn client(&self) -> Result<Client, Error> {
        if crate::config::record_requested() {
            self.recording(Config::builder().with_env())
        } else {
            self.replaying()
        }
    }

    /// A client that sends every call as `config` says and saves each response.
    ///
    /// # Errors
    ///
    /// As [`ConfigBuilder::build`] and [`Client::new`].
    pub fn recording(&self, config: ConfigBuilder) -> Result<Client, Error> {
        let store = Store {
            dir: self.dir.clone(),
            record: true,
        };
        Client::with_exchange(config.build()?, Some(Arc::new(store)))
    }

    /// A client that answers every call from the fixtures, without a network or credentials.
    ///
    /// # Errors
    ///
    /// Never in practice (the placeholder configuration is valid).
    pub fn replaying(&self) -> Result<Client, Error> {
        // Placeholders: a replaying client never connects, but a `Config` needs endpoints.
        let config = Config::builder()
            .environment(Environment::custom(
                "http://127.0.0.1:9",
                "http://127.0.0.1:9/token",
            )?)
            .client_id("replay")
            .client_secret("replay")
            .build()?;
        let store = Store {
            dir: self.dir.clone(),
            record: false,
        };
        Client::with_exchange(config, Some(Arc::new(store)))
    }
}

struct Store {
    dir: PathBuf,
    record: bool,
}

/// The longest operation name a fixture's file name holds: a batch's label (`batch[A, B,
/// ...]`) grows with its operations, and file systems refuse names over 255 bytes. A longer
/// one is cut and followed by a digest of the whole.
const MAX_NAME_CHARS: usize = 80;

/// Hex digits of the digest of the variables in a file name: 128 bits, so two sets of
/// variables of one operation sharing a file is not a practical concern (and is still caught:
/// replay compares the variables stored in the file).
const DIGEST_HEX: usize = 32;

impl Store {
    /// The fixture's path and the variables it is recorded under.
    fn path(&self, operation: &str, request: &[u8]) -> (PathBuf, Value) {
        let variables = canonical(&variables_of(request));
        let hash = digest_hex(variables.to_string().as_bytes(), DIGEST_HEX);
        (
            self.dir
                .join(format!("{}-{hash}.json", file_name_part(operation))),
            variables,
        )
    }
}

/// The variables of a request body: its `variables`, or for a batch (an array of requests)
/// the array of each one's, so that batches with other variables get other fixtures.
fn variables_of(request: &[u8]) -> Value {
    let variables = |request: &Value| request.get("variables").cloned().unwrap_or(Value::Null);
    match serde_json::from_slice::<Value>(request) {
        Ok(Value::Array(requests)) => Value::Array(requests.iter().map(variables).collect()),
        Ok(request) => variables(&request),
        Err(_) => Value::Null,
    }
}

/// The operation name as a file name holds it: ASCII letters and digits, `_` for the rest, at
/// most [`MAX_NAME_CHARS`] (a longer one is cut and followed by a digest of the whole).
fn file_name_part(operation: &str) -> String {
    let name: String = operation
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.len() <= MAX_NAME_CHARS {
        return name;
    }
    let digest = digest_hex(operation.as_bytes(), 16);
    format!("{}_{digest}", &name[..MAX_NAME_CHARS - 17])
}

/// The first `digits` hex digits of the SHA-256 of `bytes`: stable across Rust releases and
/// platforms (std's `DefaultHasher` is not, which would orphan every fixture).
fn digest_hex(bytes: &[u8], digits: usize) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    hex[..digits.min(hex.len())].to_owned()
}

/// Text of `value` short enough for a message.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

impl Exchange for Store {
    fn replay(&self, operation: &str, request: &[u8]) -> Option<Result<(Bytes, String), Error>> {
        if self.record {
            return None;
        }
        let (path, variables) = self.path(operation, request);
        let file = path.display().to_string();
        let usage = |message: String| {
            Error::from_kind(ErrorKind::Usage, message).with_context(Some(operation), None, 0)
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Some(Err(usage(format!(
                "no fixture for {operation} with variables {}: expected {file}; record it with \
                 ION_RECORD=1 and real credentials",
                shown(&variables)
            ))));
        };
        let Ok(mut fixture) = serde_json::from_str::<Value>(&text) else {
            return Some(Err(usage(format!(
                "fixture {file} for {operation} is not JSON"
            ))));
        };
        // The file is named by a digest of the variables; the variables it holds decide.
        let stored = fixture.get("variables").map(canonical);
        if stored.as_ref() != Some(&variables) {
            let stored = stored.as_ref().map_or_else(|| "none".to_owned(), shown);
            return Some(Err(usage(format!(
                "fixture {file} for {operation} was recorded with the variables {stored}, not \
                 this call's {}; re-record it with ION_RECORD=1",
                shown(&variables)
            ))));
        }
        Some(match fixture.get_mut("response").map(Value::take) {
            Some(r) => Ok((Bytes::from(r.to_string()), file)),
            None => Err(usage(format!(
                "fixture {file} for {operation} is not JSON with a `response` member"
            ))),
        })
    }

    fn record(
        &self,
        operation: &str,
        request: &[u8],
        response: &[u8],
        secrets: &[&str],
    ) -> Result<(), Error> {
        let (path, variables) = self.path(operation, request);
        let mut response: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
        // Fixtures are committed: a token or the secret a server echoed never reaches one.
        Redactor::new(secrets).json(&mut response);
        let fixture = serde_json::json!({
            "operation": operation,
            "variables": variables,
            "response": response,
        });
        let mut text = serde_json::to_string_pretty(&fixture).unwrap_or_default();
        text.push('\n');
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| {
                let message = format!("cannot write fixture {}: {e}", path.display());
                Error::from_kind(ErrorKind::Usage, message).with_source(e, &[])
            })
    }
}

/// Variables with every object's keys sorted, so the digest does not depend on field order.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, record: bool) -> Store {
        Store {
            dir: dir.to_owned(),
            record,
        }
    }

    fn request(variables: Value) -> Vec<u8> {
        serde_json::json!({"query": "query Op { x }", "variables": variables})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn recorded_bodies_hold_no_secret() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let store = store(temp.path(), true);
        let body = br#"{"data":{"echo":"tok-1 s3cret"},"errors":[{"message":"tok-1"}]}"#;
        store
            .record("Op", &request(Value::Null), body, &["tok-1", "s3cret"])
            .expect("recorded");
        let (path, _) = store.path("Op", &request(Value::Null));
        let text = std::fs::read_to_string(path).expect("a fixture");
        assert!(
            !text.contains("tok-1") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(text.contains("[redacted] [redacted]"), "{text}");
    }

    #[test]
    fn a_fixture_recorded_with_other_variables_is_refused() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let recorder = store(temp.path(), true);
        let asked = request(serde_json::json!({"id": 1}));
        recorder
            .record("Op", &asked, br#"{"data":{"x":1}}"#, &[])
            .expect("recorded");
        // The same file holding another call's variables: a collision, or a hand edit.
        let (path, _) = recorder.path("Op", &asked);
        let mut fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        fixture["variables"] = serde_json::json!({"id": 2});
        std::fs::write(&path, fixture.to_string()).expect("write");
        let replayer = store(temp.path(), false);
        let err = replayer
            .replay("Op", &asked)
            .expect("consulted")
            .expect_err("other variables");
        assert_eq!(
            err.to_string(),
            format!(
                "fixture {} for Op was recorded with the variables {{\"id\":2}}, not this \
                 call's {{\"id\":1}}; re-record it with ION_RECORD=1",
                path.display()
            )
        );
    }

    #[test]
    fn names_are_digests_of_the_variables_and_long_names_are_capped() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let store = store(temp.path(), true);
        let name = |op: &str, vars: Value| {
            let (path, _) = store.path(op, &request(vars));
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let a = name("GetRun", serde_json::json!({"id": 1, "b": 2}));
        assert_eq!(a, name("GetRun", serde_json::json!({"b": 2, "id": 1})));
        assert_ne!(a, name("GetRun", serde_json::json!({"id": 2, "b": 2})));
        assert_eq!(a.len(), "GetRun-".len() + DIGEST_HEX + ".json".len());
        let label = format!("batch[{}]", vec!["ListPurchaseOrderLines"; 40].join(", "));
        let long = name(&label, Value::Null);
        assert!(long.len() <= MAX_NAME_CHARS + 1 + DIGEST_HEX + 5, "{long}");
        assert_ne!(long, name(&label.replace("Lines]", "Line]"), Value::Null));
        // A batch's fixture is named by every operation's variables.
        let batch = |id: i64| {
            serde_json::json!([{"variables": {"id": 1}}, {"variables": {"id": id}}]).to_string()
        };
        assert_ne!(
            store.path("batch[A, B]", batch(2).as_bytes()).0,
            store.path("batch[A, B]", batch(3).as_bytes()).0
        );
    }

    #[tokio::test]
    async fn replayed_errors_keep_every_word() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let fixtures = Fixtures::new(temp.path());
        let asked =
            serde_json::json!({"query": "query Op { x }", "operationName": "Op", "variables": {}});
        store(temp.path(), true)
            .record(
                "Op",
                asked.to_string().as_bytes(),
                br#"{"data":null,"errors":[{"message":"replay of the request failed"}]}"#,
                &[],
            )
            .expect("recorded");
        let client = fixtures.replaying().expect("a client");
        let body = client
            .execute_raw(crate::RawRequest::query("query Op { x }").operation_name("Op"))
            .await
            .expect("replayed");
        assert_eq!(body["errors"][0]["message"], "replay of the request failed");
    }
}
