//! The client: typed, full and raw execution of operations.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use graphql_client::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::summarize_graphql_errors;
use crate::transport::{Delivered, Outgoing, Transport};
use crate::{Config, Environment, Error, ErrorKind, GraphqlError, Operation, OperationKind};

/// A client for one ION deployment: cheap to clone (an `Arc` inside), safe to share across
/// tasks. Every clone shares one connection pool, one token cache and one retry budget.
///
/// Operations are sent as `POST <api>/graphql` with a token from the client-credentials
/// exchange; failures are retried as the [retry policy](crate::retry) says (queries freely,
/// mutations only when they certainly never reached the server, and once after a 401 with a
/// fresh token).
///
/// Dropping the last clone aborts any token request in flight; no task is left behind.
///
/// Operations must run on a Tokio runtime: token requests run as Tokio tasks so that a
/// refresh never makes a caller wait.
///
/// # Example
///
/// ```no_run
/// use ion_client::{Client, Config};
///
/// # async fn run() -> Result<(), ion_client::Error> {
/// let client = Client::new(Config::from_env()?)?;
/// let me = client
///     .execute_raw("query Me { me { id } }", Some("Me"), ion_client::OperationKind::Query,
///         serde_json::json!({}))
///     .await?;
/// println!("{me}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    transport: Transport,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("environment", &self.inner.config.environment)
            .field("client_id", &self.inner.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`. No request is made until the first operation.
    ///
    /// # Errors
    ///
    /// A configuration error when the HTTP client cannot be built (for example when an
    /// `https` endpoint is configured and the system has no CA certificates).
    pub fn new(config: Config) -> Result<Client, Error> {
        let transport = Transport::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner { config, transport }),
        })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The deployment the client talks to.
    pub fn environment(&self) -> &Environment {
        &self.inner.config.environment
    }

    /// The access token the client is using, fetching one if needed (through the same cache
    /// as every operation).
    ///
    /// # Errors
    ///
    /// An authentication, transport or configuration error from the token endpoint.
    pub async fn access_token(&self) -> Result<crate::auth::AccessToken, Error> {
        let cache = &self.inner.transport.tokens;
        let token = cache.get().await?;
        let now = self.inner.config.clock.now();
        Ok(crate::auth::AccessToken {
            value: token.value.clone(),
            remaining: token.remaining(now),
        })
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Runs an operation and returns its data.
    ///
    /// # Errors
    ///
    /// Any [`ErrorKind`]: GraphQL `errors[]` come back as [`ErrorKind::Graphql`] (or
    /// [`ErrorKind::EtagConflict`] for a stale `etag`), with any partial data kept as JSON;
    /// use [`execute_full`](Self::execute_full) to receive typed partial data instead.
    pub async fn execute<Q: Operation>(
        &self,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData, Error>
    where
        Q::Variables: Serialize + Send + Sync,
        Q::ResponseData: DeserializeOwned + Send,
    {
        self.execute_ref::<Q>(&variables).await
    }

    /// [`execute`](Self::execute) with borrowed variables, so pagination can reuse them.
    pub(crate) async fn execute_ref<Q: Operation>(
        &self,
        variables: &Q::Variables,
    ) -> Result<Q::ResponseData, Error>
    where
        Q::Variables: Serialize + Send + Sync,
        Q::ResponseData: DeserializeOwned + Send,
    {
        let body = encode(Q::QUERY, Some(Q::NAME), variables, Q::NAME)?;
        let delivered = self
            .transport()
            .send(Outgoing {
                name: Q::NAME,
                kind: Q::KIND,
                body,
            })
            .await?;
        let envelope = Envelope::parse(&delivered.body, Q::NAME, &delivered)?;
        envelope.into_data(Q::NAME, Q::KIND, &delivered)
    }

    /// Runs an operation and returns `data` and `errors` together, for callers that accept
    /// partial data.
    ///
    /// `data` is `None` when the server sent none, or when it sent errors and the partial
    /// data does not fit the typed response (a non-null field came back null because of an
    /// error); [`execute_raw`](Self::execute_raw) returns the untyped body.
    ///
    /// # Errors
    ///
    /// Every failure except GraphQL `errors[]`, which are returned in the response.
    pub async fn execute_full<Q: Operation>(
        &self,
        variables: Q::Variables,
    ) -> Result<Response<Q::ResponseData>, Error>
    where
        Q::Variables: Serialize + Send + Sync,
        Q::ResponseData: DeserializeOwned + Send,
    {
        let body = encode(Q::QUERY, Some(Q::NAME), &variables, Q::NAME)?;
        let delivered = self
            .transport()
            .send(Outgoing {
                name: Q::NAME,
                kind: Q::KIND,
                body,
            })
            .await?;
        let envelope = Envelope::parse(&delivered.body, Q::NAME, &delivered)?;
        envelope.into_response(Q::NAME, &delivered)
    }

    /// Runs any document, untyped, for the command line and tools, and returns the whole JSON
    /// response body (`data`, `errors` and `extensions` as the server sent them).
    ///
    /// `kind` decides the retry policy: say [`OperationKind::Mutation`] whenever the document
    /// may write.
    ///
    /// # Errors
    ///
    /// Every failure below GraphQL (authentication, HTTP status, transport, a body that is not
    /// JSON); GraphQL `errors[]` are part of the returned body.
    pub async fn execute_raw(
        &self,
        query: &str,
        operation_name: Option<&str>,
        kind: OperationKind,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let name = operation_name.unwrap_or("anonymous");
        let body = encode(query, operation_name, &variables, name)?;
        let delivered = self.transport().send(Outgoing { name, kind, body }).await?;
        serde_json::from_slice(&delivered.body)
            .map_err(|e| decode_error(name, "", &json_error_summary(&e), &delivered))
    }
}

/// The request body: `{"query", "operationName", "variables"}`.
pub(crate) fn encode<V: Serialize + ?Sized>(
    query: &str,
    operation_name: Option<&str>,
    variables: &V,
    label: &str,
) -> Result<Bytes, Error> {
    #[derive(Serialize)]
    struct Body<'a, V: ?Sized> {
        query: &'a str,
        #[serde(rename = "operationName", skip_serializing_if = "Option::is_none")]
        operation_name: Option<&'a str>,
        variables: &'a V,
    }
    serde_json::to_vec(&Body {
        query,
        operation_name,
        variables,
    })
    .map(Bytes::from)
    .map_err(|e| {
        Error::new(
            ErrorKind::Usage,
            format!("cannot encode the variables of {label} as JSON: {e}"),
        )
        .with_context(Some(label), None, 0)
    })
}

/// One response envelope, borrowed from the body.
#[derive(serde::Deserialize)]
pub(crate) struct Envelope<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    errors: Option<Vec<GraphqlError>>,
    #[serde(default)]
    extensions: Option<std::collections::HashMap<String, serde_json::Value>>,
}

impl<'a> Envelope<'a> {
    /// Parses an envelope; anything else is a decode error at the envelope level.
    pub(crate) fn parse(
        text: &'a [u8],
        operation: &str,
        delivered: &Delivered,
    ) -> Result<Envelope<'a>, Error> {
        let text = std::str::from_utf8(text).map_err(|_| {
            decode_error(operation, "", "the response body is not UTF-8", delivered)
        })?;
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let reason = format!(
                "the response is not a GraphQL response object ({})",
                json_error_summary(e.inner())
            );
            decode_error(operation, &path, &reason, delivered)
        })
    }

    fn errors(&self) -> &[GraphqlError] {
        self.errors.as_deref().unwrap_or(&[])
    }

    /// The typed data, or the errors as an `Error`.
    pub(crate) fn into_data<T: DeserializeOwned>(
        self,
        operation: &str,
        kind: OperationKind,
        delivered: &Delivered,
    ) -> Result<T, Error> {
        if !self.errors().is_empty() {
            let data = self
                .data
                .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
                .filter(|v| !v.is_null());
            let errors = self.errors.unwrap_or_default();
            return Err(graphql_error(operation, kind, errors, data, delivered));
        }
        match self.data {
            Some(raw) => decode_typed(raw, operation, delivered),
            None => Err(decode_error(
                operation,
                "data",
                "the response has neither data nor errors",
                delivered,
            )),
        }
    }

    /// Data and errors together.
    pub(crate) fn into_response<T: DeserializeOwned>(
        self,
        operation: &str,
        delivered: &Delivered,
    ) -> Result<Response<T>, Error> {
        let has_errors = !self.errors().is_empty();
        let data = match self.data {
            Some(raw) => match decode_typed(raw, operation, delivered) {
                Ok(data) => Some(data),
                Err(_) if has_errors => None,
                Err(e) => return Err(e),
            },
            None if has_errors => None,
            None => {
                return Err(decode_error(
                    operation,
                    "data",
                    "the response has neither data nor errors",
                    delivered,
                ));
            }
        };
        Ok(Response {
            data,
            errors: self.errors.filter(|e| !e.is_empty()),
            extensions: self.extensions,
        })
    }
}

/// Decodes `data` into its type; the error names the JSON path that failed.
fn decode_typed<T: DeserializeOwned>(
    raw: &RawValue,
    operation: &str,
    delivered: &Delivered,
) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." {
            "data".to_owned()
        } else {
            format!("data.{inner}")
        };
        decode_error(operation, &path, &without_position(e.inner()), delivered)
    })
}

/// A serde_json error's message without its ` at line L column C` suffix: the JSON path
/// already says where.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => text[..i].to_owned(),
        _ => text,
    }
}

/// A decode error with the operation, the path and the reason.
pub(crate) fn decode_error(
    operation: &str,
    path: &str,
    reason: &str,
    delivered: &Delivered,
) -> Error {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    };
    // serde quotes the value it could not read, which may be an echoed token.
    let reason = crate::error::redact(reason, &delivered.secrets);
    // A replayed response that no longer fits names its fixture: the usual cause is an
    // edited `.graphql` file, fixed by re-recording.
    let fixture = match &delivered.fixture {
        Some(f) => format!(
            " (replayed from fixture {f}, which no longer matches the operation's selection \
             set: re-record it with ION_RECORD=1)"
        ),
        None => String::new(),
    };
    Error::new(
        ErrorKind::Decode {
            operation: operation.to_owned(),
            path: path.to_owned(),
        },
        format!("cannot decode the response to {operation}{at}: {reason}{fixture}"),
    )
    .with_context(
        Some(operation),
        delivered.trace_id.as_deref(),
        delivered.attempts,
    )
}

/// The `Graphql` or `EtagConflict` error for a response with `errors[]`.
pub(crate) fn graphql_error(
    operation: &str,
    kind: OperationKind,
    errors: Vec<GraphqlError>,
    data: Option<serde_json::Value>,
    delivered: &Delivered,
) -> Error {
    // A server (or a proxy) may echo the token or the secret in a message or an extension.
    let errors: Vec<GraphqlError> = errors
        .into_iter()
        .map(|e| crate::error::redact_graphql_error(e, &delivered.secrets))
        .collect();
    let summary = summarize_graphql_errors(&errors);
    let error = if kind == OperationKind::Mutation && errors.iter().any(is_etag_conflict) {
        Error::new(
            ErrorKind::EtagConflict { errors, data },
            format!("etag conflict in mutation {operation}: {summary}"),
        )
    } else {
        Error::new(
            ErrorKind::Graphql { errors, data },
            format!("GraphQL errors in {kind} {operation}: {summary}"),
        )
    };
    error.with_context(
        Some(operation),
        delivered.trace_id.as_deref(),
        delivered.attempts,
    )
}

/// Whether a GraphQL error says a write's `etag` is stale.
///
/// ION reports it as a GraphQL error; the client recognises an `extensions.code` containing
/// `ETAG` (or equal to `CONFLICT`), or a message that mentions the etag together with a word
/// of conflict (`mismatch`, `does not match`, `stale`, `conflict`, `outdated`, `out of date`,
/// `changed`, `modified`). A message that merely names the `etag` argument (a missing
/// variable, a type error) is not a conflict.
pub(crate) fn is_etag_conflict(error: &GraphqlError) -> bool {
    let code_says = error
        .extensions
        .as_ref()
        .and_then(|ext| ext.get("code"))
        .and_then(|c| c.as_str())
        .is_some_and(|c| {
            let c = c.to_ascii_uppercase();
            c.contains("ETAG") || c == "CONFLICT"
        });
    let message = error.message.to_ascii_lowercase();
    let message_says = message.contains("etag")
        && [
            "mismatch",
            "does not match",
            "doesn't match",
            "stale",
            "conflict",
            "outdated",
            "out of date",
            "changed",
            "modified",
        ]
        .iter()
        .any(|w| message.contains(w));
    code_says || message_says
}

/// A serde_json error without the input it quoted: its category and position.
pub(crate) fn json_error_summary(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "an I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected JSON",
        Category::Eof => "JSON that ends early",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: serde_json::Value) -> GraphqlError {
        serde_json::from_value(v).expect("a GraphQL error")
    }

    #[test]
    fn etag_conflicts_are_recognised_and_argument_errors_are_not() {
        assert!(is_etag_conflict(&err(
            json!({"message": "Etag mismatch: the run was modified"})
        )));
        assert!(is_etag_conflict(&err(
            json!({"message": "The provided etag does not match the current etag"})
        )));
        assert!(is_etag_conflict(&err(
            json!({"message": "x", "extensions": {"code": "ETAG_MISMATCH"}})
        )));
        assert!(!is_etag_conflict(&err(
            json!({"message": "Variable \"$etag\" of required type \"String!\" was not provided."})
        )));
        assert!(!is_etag_conflict(&err(
            json!({"message": "Run 5 does not exist"})
        )));
    }

    #[test]
    fn json_errors_do_not_quote_the_input() {
        let e = serde_json::from_str::<u8>("\"secret-ish\"").expect_err("not a number");
        let s = json_error_summary(&e);
        assert_eq!(s, "unexpected JSON at line 1 column 12");
    }
}
