//! Request encoding and response decoding: the GraphQL envelope, typed `data`, GraphQL errors
//! (with `_etag` conflicts recognised) and decode errors with their JSON path.
//!
//! Shared by [`Client`](crate::Client) and batches; it sits above the transport (it reads what
//! the transport delivered) and below the client.

use bytes::Bytes;
use graphql_client::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

#[cfg(test)]
mod differential;
pub(crate) mod errors;

pub(crate) use errors::GraphqlErrors;

use crate::secret::Redactor;
use crate::transport::Delivered;
use crate::wire::{MESSAGE_CHARS, clip, clip_reason, json_error_summary};
use crate::{Error, ErrorKind, GraphqlError, OperationKind};

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
        Error::from_kind(
            ErrorKind::Usage,
            format!("cannot encode the variables of {label} as JSON: {e}"),
        )
        .with_context(Some(label), None, 0)
    })
}

/// The success path: the envelope and the typed `data` decoded together, in one pass of
/// serde_json over the body, while the transport still holds the attempt. It also tells a body
/// cut short (an end-of-input error: the attempt was interrupted, so a query is retried and a
/// mutation reported as outcome-unknown) from a complete one.
///
/// The body is read through [`wire::from_body`](crate::wire::from_body): its UTF-8 checked once,
/// whole, then read as a `&str`, which spares serde_json checking every string and key again as
/// it meets them (about a sixth of a page's decode, see `ARCHITECTURE.md`, "Decoding"), with
/// the verdict and error of serde_json over the bytes (`response/differential.rs` holds the
/// property test).
///
/// It keeps a result only for the common case, `data` with no `errors[]`. Anything else
/// (GraphQL errors, partial data, a body that does not fit the types) goes the slow way,
/// [`Envelope::parse`] and [`decode_typed`] through `serde_path_to_error`, which names the JSON
/// path that failed and keeps partial data: that costs a second pass, but only on failures.
pub(crate) struct OnePass<T> {
    decoded: std::sync::Mutex<Option<Decoded<T>>>,
}

/// What [`OnePass`] keeps of a good response.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Decoded<T> {
    pub(crate) data: T,
    pub(crate) extensions: Option<std::collections::HashMap<String, serde_json::Value>>,
}

/// The envelope as the success path reads it: unknown top-level keys are ignored, as in
/// [`Envelope`]; `errors` is only counted.
#[derive(serde::Deserialize)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct TypedEnvelope<T> {
    pub(crate) data: Option<T>,
    #[serde(default)]
    pub(crate) errors: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    extensions: Option<std::collections::HashMap<String, serde_json::Value>>,
}

impl<T> TypedEnvelope<T> {
    /// What [`OnePass`] keeps: the data of a response without errors (an empty `errors[]`
    /// counts as none); `None` for anything else, which the slow path reads.
    fn into_decoded(self) -> Option<Decoded<T>> {
        match (self.data, self.errors) {
            (Some(data), None) => Some(Decoded {
                data,
                extensions: self.extensions,
            }),
            (Some(data), Some(errors)) if errors.is_empty() => Some(Decoded {
                data,
                extensions: self.extensions,
            }),
            _ => None,
        }
    }
}

/// [`OnePass::check`]'s decode: the response kept, if good, and whether the body is complete.
fn one_pass<T: DeserializeOwned>(body: &[u8]) -> (Option<Decoded<T>>, bool) {
    verdict(crate::wire::from_body::<TypedEnvelope<T>>(body), body)
}

/// What a decode of the whole body says: the response kept, if good, and whether the body is
/// complete.
fn verdict<T>(
    envelope: Result<TypedEnvelope<T>, serde_json::Error>,
    body: &[u8],
) -> (Option<Decoded<T>>, bool) {
    match envelope {
        Ok(envelope) => (envelope.into_decoded(), true),
        // Cut short while the types still fitted (a blank body is not a cut one: it is no
        // GraphQL response at all, which the slow path reports).
        Err(e) if e.is_eof() => (None, body.iter().all(u8::is_ascii_whitespace)),
        // Wrong somewhere: still a cut-short body if its JSON as such ends early.
        Err(_) => (None, !crate::transport::ends_early(body)),
    }
}

impl<T: DeserializeOwned> OnePass<T> {
    pub(crate) fn new() -> OnePass<T> {
        OnePass {
            decoded: std::sync::Mutex::new(None),
        }
    }

    /// Decodes a 200 body (for [`Outgoing::check`](crate::transport::Outgoing)); `false` when
    /// its JSON ends early. Each attempt replaces what an earlier one kept.
    pub(crate) fn check(&self, body: &[u8]) -> bool {
        let (decoded, complete) = one_pass::<T>(body);
        *self
            .decoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = decoded;
        complete
    }

    /// The decoded response of the delivered attempt, if it was a good one.
    pub(crate) fn take(&self) -> Option<Decoded<T>> {
        self.decoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// One response envelope, borrowed from the body.
#[derive(serde::Deserialize)]
pub(crate) struct Envelope<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    errors: Option<GraphqlErrors>,
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
            decode_error(
                operation,
                "",
                "the response body is not UTF-8",
                None,
                delivered,
            )
        })?;
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let reason = format!(
                "the response is not a GraphQL response object ({})",
                json_error_summary(e.inner())
            );
            decode_error(operation, &path, &reason, Some(e.into_inner()), delivered)
        })
    }

    fn errors(&self) -> &[GraphqlError] {
        self.errors.as_ref().map_or(&[], |e| &e.kept)
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
                None,
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
                    None,
                    delivered,
                ));
            }
        };
        // Untyped server JSON handed back is redacted as errors are: a server may echo the
        // token or the secret anywhere in it.
        let redactor = Redactor::new(&delivered.secrets());
        let errors = self
            .errors
            .map(|e| e.redacted(&redactor).kept)
            .filter(|e| !e.is_empty());
        Ok(Response {
            data,
            errors,
            extensions: self.extensions.map(|e| redacted_map(e, &redactor)),
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
        let reason = without_position(e.inner());
        decode_error(operation, &path, &reason, Some(e.into_inner()), delivered)
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

/// A decode error with the operation, the path, the reason and serde's error as its source.
pub(crate) fn decode_error(
    operation: &str,
    path: &str,
    reason: &str,
    source: Option<serde_json::Error>,
    delivered: &Delivered,
) -> Error {
    // serde quotes the value it could not read, which may be an echoed token and as large as
    // the response: quoted values are clipped, and everything is redacted.
    let secrets = delivered.secrets();
    let redactor = Redactor::new(&secrets);
    let reason = clip_reason(reason, &redactor);
    let path = clip(path, MESSAGE_CHARS, &redactor);
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    };
    // A replayed response that no longer fits names its fixture: the usual cause is an
    // edited `.graphql` file, fixed by re-recording.
    let fixture = match &delivered.fixture {
        Some(f) => format!(
            " (replayed from fixture {f}, which no longer matches the operation's selection \
             set: re-record it with ION_RECORD=1)"
        ),
        None => String::new(),
    };
    let error = Error::from_kind(
        ErrorKind::Decode {
            operation: operation.to_owned(),
            path,
        },
        format!("cannot decode the response to {operation}{at}: {reason}{fixture}"),
    );
    let error = match source {
        Some(source) => error.with_source(source, &secrets),
        None => error,
    };
    error.with_context(
        Some(operation),
        delivered.trace_id.as_deref(),
        delivered.attempts,
    )
}

/// The `Graphql` or `EtagConflict` error for a response with `errors[]`.
pub(crate) fn graphql_error(
    operation: &str,
    kind: OperationKind,
    errors: GraphqlErrors,
    data: Option<serde_json::Value>,
    delivered: &Delivered,
) -> Error {
    // A server (or a proxy) may echo the token or the secret in a message, a path, an
    // extension or the partial data.
    let redactor = Redactor::new(&delivered.secrets());
    let errors = errors.redacted(&redactor);
    let data = data.map(|mut data| {
        redactor.json(&mut data);
        data
    });
    let summary = summarize_graphql_errors(&errors);
    let errors = errors.kept;
    let error = if kind == OperationKind::Mutation && errors.iter().any(is_etag_conflict) {
        Error::from_kind(
            ErrorKind::EtagConflict { errors, data },
            format!("etag conflict in mutation {operation}: {summary}"),
        )
    } else {
        Error::from_kind(
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

/// An untyped JSON map from the server (`extensions`) with the secrets removed.
fn redacted_map(
    map: std::collections::HashMap<String, serde_json::Value>,
    redactor: &Redactor,
) -> std::collections::HashMap<String, serde_json::Value> {
    let mut value = serde_json::Value::Object(map.into_iter().collect());
    redactor.json(&mut value);
    match value {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => std::collections::HashMap::new(),
    }
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

/// Summarises GraphQL errors for a message: the first error and how many more there are.
fn summarize_graphql_errors(errors: &GraphqlErrors) -> String {
    let Some(first) = errors.kept.first() else {
        return "no error message".to_owned();
    };
    let mut out = String::new();
    if let Some(path) = &first.path {
        let joined: Vec<String> = path.iter().map(ToString::to_string).collect();
        out.push_str(&joined.join("."));
        out.push_str(": ");
    }
    out.push_str(&first.message);
    let more = errors.total.max(errors.kept.len()).saturating_sub(1);
    if more > 0 {
        out.push_str(&format!(" (and {more} more)"));
    }
    out
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
    fn graphql_error_summary_names_the_first_and_counts_the_rest() {
        let errors: GraphqlErrors = serde_json::from_str(
            r#"[{"message": "boom", "path": ["runs", 0, "title"]}, {"message": "bang"}]"#,
        )
        .unwrap_or_default();
        assert_eq!(
            summarize_graphql_errors(&errors),
            "runs.0.title: boom (and 1 more)"
        );
    }
}
