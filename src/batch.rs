//! Several operations in one HTTP request.
//!
//! ION accepts a JSON array of request objects and answers with an array of responses in the
//! same order. A [`Batch`] collects typed operations, each [`add`](Batch::add) returns a
//! [`BatchSlot`] that remembers the operation's type, and the [`BatchResponse`] hands each
//! result back typed.
//!
//! The whole batch is one request under the retry policy: it is treated as a mutation (never
//! replayed once it may have executed) as soon as one of its operations is a mutation.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use graphql_client::Response;
use serde_json::value::RawValue;

use crate::response::{Envelope, GraphqlErrors, decode_error, encode, graphql_error};
use crate::transport::{Delivered, Outgoing};
use crate::wire::json_error_summary;
use crate::{Client, Error, ErrorKind, Operation, OperationKind};

/// Distinguishes batches, so a slot cannot read another batch's response.
static BATCH_IDS: AtomicU64 = AtomicU64::new(1);

/// Operations collected to be sent in one request. Created by [`Client::batch`].
///
/// # Example
///
/// ```no_run
/// # use ion_client::{Client, Operation};
/// # async fn run<A: Operation, B: Operation>(client: Client, a: A::Variables, b: B::Variables)
/// # -> Result<(), ion_client::Error>
/// # where A::Variables: serde::Serialize, B::Variables: serde::Serialize,
/// #       A::ResponseData: serde::de::DeserializeOwned, B::ResponseData: serde::de::DeserializeOwned {
/// let mut batch = client.batch();
/// let first = batch.add::<A>(a);
/// let second = batch.add::<B>(b);
/// let mut response = batch.send().await?;
/// let a_data = response.take(first)?;
/// let b_data = response.take(second)?;
/// # Ok(()) }
/// ```
pub struct Batch {
    client: Client,
    id: u64,
    entries: Vec<Entry>,
    encode_error: Option<Error>,
}

struct Entry {
    name: &'static str,
    kind: OperationKind,
    request: Box<RawValue>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field(
                "operations",
                &self.entries.iter().map(|e| e.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Where one operation's result will be in a [`BatchResponse`]; it carries the operation's
/// type so the result comes back typed.
pub struct BatchSlot<Q> {
    batch: u64,
    index: usize,
    operation: PhantomData<fn() -> Q>,
}

impl<Q> fmt::Debug for BatchSlot<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchSlot")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl<Q> BatchSlot<Q> {
    /// The operation's position in the batch.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Client {
    /// A new, empty batch of operations sent in one request.
    pub fn batch(&self) -> Batch {
        Batch {
            client: self.clone(),
            id: BATCH_IDS.fetch_add(1, Ordering::Relaxed),
            entries: Vec::new(),
            encode_error: None,
        }
    }
}

impl Batch {
    /// Adds an operation; its result is read back with the returned slot.
    pub fn add<Q: Operation>(&mut self, variables: Q::Variables) -> BatchSlot<Q> {
        let index = self.entries.len();
        let request = encode(Q::QUERY, Some(Q::NAME), &variables, Q::NAME).and_then(|bytes| {
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                Error::from_kind(ErrorKind::Usage, "the encoded request is not UTF-8")
            })?;
            RawValue::from_string(text).map_err(|e| {
                Error::from_kind(
                    ErrorKind::Usage,
                    format!("cannot encode {}: {}", Q::NAME, json_error_summary(&e)),
                )
            })
        });
        match request {
            Ok(request) => self.entries.push(Entry {
                name: Q::NAME,
                kind: Q::KIND,
                request,
            }),
            Err(e) => {
                self.encode_error.get_or_insert(e);
                // Keep indices aligned; the batch will not be sent.
                self.entries.push(Entry {
                    name: Q::NAME,
                    kind: Q::KIND,
                    request: RawValue::from_string("null".to_owned())
                        .unwrap_or_else(|_| unreachable!("null is JSON")),
                });
            }
        }
        BatchSlot {
            batch: self.id,
            index,
            operation: PhantomData,
        }
    }

    /// How many operations the batch holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sends the batch in one request. An empty batch sends nothing.
    ///
    /// # Errors
    ///
    /// Failures of the request as a whole (authentication, transport, status, a response
    /// that is not an array of the batch's length); each operation's GraphQL errors are
    /// returned by [`BatchResponse::take`].
    pub async fn send(self) -> Result<BatchResponse, Error> {
        if let Some(e) = self.encode_error {
            return Err(e);
        }
        let names: Vec<&'static str> = self.entries.iter().map(|e| e.name).collect();
        if self.entries.is_empty() {
            return Ok(BatchResponse {
                batch: self.id,
                names,
                items: Vec::new(),
                trace_id: None,
                attempts: 0,
                secrets: Vec::new(),
            });
        }
        let kind = if self
            .entries
            .iter()
            .any(|e| e.kind == OperationKind::Mutation)
        {
            OperationKind::Mutation
        } else {
            OperationKind::Query
        };
        let label = format!("batch[{}]", names.join(", "));
        let requests: Vec<&RawValue> = self.entries.iter().map(|e| &*e.request).collect();
        let body = serde_json::to_vec(&requests).map_err(|e| {
            Error::from_kind(
                ErrorKind::Usage,
                format!("cannot encode {label}: {}", json_error_summary(&e)),
            )
        })?;
        let delivered = self
            .client
            .transport()
            .send(Outgoing {
                name: &label,
                kind,
                body: Bytes::from(body),
                check: None,
            })
            .await?;
        let items = split_array(&delivered, &label, kind, names.len())?;
        Ok(BatchResponse {
            batch: self.id,
            names,
            items: items.into_iter().map(Some).collect(),
            trace_id: delivered.trace_id,
            attempts: delivered.attempts,
            secrets: delivered.secrets,
        })
    }
}

/// The response array, one raw envelope per operation.
fn split_array(
    delivered: &Delivered,
    label: &str,
    kind: OperationKind,
    expected: usize,
) -> Result<Vec<Box<RawValue>>, Error> {
    let text = std::str::from_utf8(&delivered.body)
        .map_err(|_| decode_error(label, "", "the response body is not UTF-8", None, delivered))?;
    match serde_json::from_str::<Vec<Box<RawValue>>>(text) {
        Ok(items) if items.len() == expected => Ok(items),
        Ok(items) => Err(decode_error(
            label,
            "",
            &format!(
                "expected an array of {expected} responses, found {}",
                items.len()
            ),
            None,
            delivered,
        )),
        Err(array_error) => {
            // The server may refuse the batch as a whole with one envelope of errors.
            #[derive(serde::Deserialize)]
            struct Refusal {
                errors: GraphqlErrors,
            }
            match serde_json::from_str::<Refusal>(text) {
                Ok(r) if !r.errors.kept.is_empty() => {
                    Err(graphql_error(label, kind, r.errors, None, delivered))
                }
                _ => Err(decode_error(
                    label,
                    "",
                    &format!(
                        "expected an array of {expected} responses ({})",
                        json_error_summary(&array_error)
                    ),
                    Some(array_error),
                    delivered,
                )),
            }
        }
    }
}

/// The answers of a sent [`Batch`], read back typed with the slots.
pub struct BatchResponse {
    batch: u64,
    names: Vec<&'static str>,
    items: Vec<Option<Box<RawValue>>>,
    trace_id: Option<String>,
    attempts: u32,
    /// What errors built from the answers are redacted of.
    secrets: Vec<crate::secret::Secret>,
}

impl fmt::Debug for BatchResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchResponse")
            .field("operations", &self.names)
            .field("trace_id", &self.trace_id)
            .finish_non_exhaustive()
    }
}

impl BatchResponse {
    /// How many operations the batch held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the batch held no operation.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The `x-b3-trace-id` of the response.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// One operation's data, as [`Client::execute`] returns it.
    ///
    /// # Errors
    ///
    /// The operation's GraphQL errors or decode failure, or a usage error for a slot of
    /// another batch.
    pub fn take<Q: Operation>(&mut self, slot: BatchSlot<Q>) -> Result<Q::ResponseData, Error> {
        let (raw, delivered) = self.raw(&slot)?;
        let envelope = Envelope::parse(raw.get().as_bytes(), Q::NAME, &delivered)?;
        envelope.into_data(Q::NAME, Q::KIND, &delivered)
    }

    /// One operation's data and errors together, as [`Client::execute_full`] returns them.
    ///
    /// # Errors
    ///
    /// The operation's decode failure, or a usage error for a slot of another batch.
    pub fn take_full<Q: Operation>(
        &mut self,
        slot: BatchSlot<Q>,
    ) -> Result<Response<Q::ResponseData>, Error> {
        let (raw, delivered) = self.raw(&slot)?;
        let envelope = Envelope::parse(raw.get().as_bytes(), Q::NAME, &delivered)?;
        envelope.into_response(Q::NAME, &delivered)
    }

    fn raw<Q>(&mut self, slot: &BatchSlot<Q>) -> Result<(Box<RawValue>, Delivered), Error> {
        let len = self.items.len();
        let misuse = || {
            Error::from_kind(
                ErrorKind::Usage,
                format!(
                    "batch slot {} does not belong to this batch response (batch of {len})",
                    slot.index
                ),
            )
        };
        if slot.batch != self.batch {
            return Err(misuse());
        }
        let raw = self
            .items
            .get_mut(slot.index)
            .and_then(Option::take)
            .ok_or_else(misuse)?;
        let delivered = Delivered {
            body: Bytes::new(),
            trace_id: self.trace_id.clone(),
            attempts: self.attempts,
            fixture: None,
            secrets: self.secrets.clone(),
        };
        Ok((raw, delivered))
    }
}
