//! Record and replay: responses saved as one JSON file per operation and variables, served
//! offline afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use crate::transport::Exchange;
use crate::{Client, Config, ConfigBuilder, Environment, Error, ErrorKind};

/// A directory of recorded responses, such as `tests/fixtures/ion`.
///
/// Each file is `<OperationName>-<hash of the variables>.json` and holds the operation, its
/// variables and the response body: never a header, token or secret.
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

impl Store {
    fn path(&self, operation: &str, request: &[u8]) -> (PathBuf, Value) {
        let variables = serde_json::from_slice::<Value>(request)
            .ok()
            .and_then(|mut v| v.get_mut("variables").map(Value::take))
            .unwrap_or(Value::Null);
        let canonical = canonical(&variables);
        let hash = fnv1a(canonical.to_string().as_bytes());
        let name: String = operation
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        (
            self.dir.join(format!("{name}-{:08x}.json", hash as u32)),
            canonical,
        )
    }
}

impl Exchange for Store {
    fn replay(&self, operation: &str, request: &[u8]) -> Option<Result<(Bytes, String), Error>> {
        if self.record {
            return None;
        }
        let (path, variables) = self.path(operation, request);
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(_) => {
                return Some(Err(Error::from_kind(
                    ErrorKind::Usage,
                    format!(
                        "no fixture for {operation} with variables {variables}: expected \
                         {shown}; record it with ION_RECORD=1 and real credentials"
                    ),
                )
                .with_context(Some(operation), None, 0)));
            }
        };
        let response = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|mut v| v.get_mut("response").map(Value::take));
        Some(match response {
            Some(r) => Ok((Bytes::from(r.to_string()), shown)),
            None => Err(Error::from_kind(
                ErrorKind::Usage,
                format!("fixture {shown} for {operation} is not JSON with a `response` member"),
            )
            .with_context(Some(operation), None, 0)),
        })
    }

    fn record(&self, operation: &str, request: &[u8], response: &[u8]) -> Result<(), Error> {
        let (path, variables) = self.path(operation, request);
        let response: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
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

/// Variables with every object's keys sorted, so the hash does not depend on field order.
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

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between Rust releases, which would
/// orphan every fixture).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
