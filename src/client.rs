//! The client: typed, full and raw execution of operations.

use std::fmt;
use std::sync::Arc;

use graphql_client::Response;

use crate::response::{Decoded, Envelope, OnePass, decode_error, encode};
use crate::secret::Redactor;
use crate::transport::{Delivered, Outgoing, Transport};
use crate::wire::{from_body, json_error_summary};
use crate::{Config, Environment, Error, Operation, OperationKind};

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
///     .execute_raw(ion_client::RawRequest::query("query Me { me { id } }"))
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
        Client::with_exchange(config, None)
    }

    /// A client whose transport consults `exchange` (record/replay) around the network.
    pub(crate) fn with_exchange(
        config: Config,
        exchange: Option<Arc<dyn crate::transport::Exchange>>,
    ) -> Result<Client, Error> {
        let transport = Transport::new(&config, exchange)?;
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
    /// Any [`ErrorKind`](crate::ErrorKind): GraphQL `errors[]` come back as [`ErrorKind::Graphql`](crate::ErrorKind::Graphql) (or
    /// [`ErrorKind::EtagConflict`](crate::ErrorKind::EtagConflict) for a stale `etag`), with any partial data kept as JSON;
    /// use [`execute_full`](Self::execute_full) to receive typed partial data instead.
    pub async fn execute<Q: Operation>(
        &self,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData, Error> {
        self.execute_ref::<Q>(&variables).await
    }

    /// [`execute`](Self::execute) with borrowed variables, so pagination can reuse them.
    pub(crate) async fn execute_ref<Q: Operation>(
        &self,
        variables: &Q::Variables,
    ) -> Result<Q::ResponseData, Error> {
        match self.send_typed::<Q>(variables).await? {
            Typed::Decoded(decoded) => Ok(decoded.data),
            Typed::Undecoded(delivered) => {
                let envelope = Envelope::parse(&delivered.body, Q::NAME, &delivered)?;
                envelope.into_data(Q::NAME, Q::KIND, &delivered)
            }
        }
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
    ) -> Result<Response<Q::ResponseData>, Error> {
        match self.send_typed::<Q>(&variables).await? {
            Typed::Decoded(decoded) => Ok(Response {
                data: Some(decoded.data),
                errors: None,
                extensions: decoded.extensions,
            }),
            Typed::Undecoded(delivered) => {
                let envelope = Envelope::parse(&delivered.body, Q::NAME, &delivered)?;
                envelope.into_response(Q::NAME, &delivered)
            }
        }
    }

    /// The typed send path of [`execute`](Self::execute) and
    /// [`execute_full`](Self::execute_full): encodes the variables and sends them with the
    /// one-pass decoder as the transport's body check, so a good response comes back decoded
    /// and anything else (GraphQL errors, a body that does not fit) as it was delivered.
    async fn send_typed<Q: Operation>(
        &self,
        variables: &Q::Variables,
    ) -> Result<Typed<Q::ResponseData>, Error> {
        let body = encode(Q::QUERY, Some(Q::NAME), variables, Q::NAME)?;
        let one_pass = OnePass::<Q::ResponseData>::new();
        let delivered = self
            .transport()
            .send(Outgoing {
                name: Q::NAME,
                kind: Q::KIND,
                body,
                check: Some(&|body| one_pass.check(body)),
            })
            .await?;
        Ok(match one_pass.take() {
            Some(decoded) => Typed::Decoded(decoded),
            None => Typed::Undecoded(delivered),
        })
    }

    /// Runs any document, untyped, for the command line and tools, and returns the whole JSON
    /// response body (`data`, `errors` and `extensions` as the server sent them), with the
    /// access token and the client secret replaced by `[redacted]` wherever the server echoed
    /// them (strings and object keys, at any depth).
    ///
    /// The request's [kind](RawRequest::kind) decides the retry policy: the kind of the
    /// operation the document selects, so a mutation is never replayed once it may have run,
    /// however the request was built.
    ///
    /// # Errors
    ///
    /// Every failure below GraphQL (authentication, HTTP status, transport, a body that is not
    /// JSON); GraphQL `errors[]` are part of the returned body.
    pub async fn execute_raw(&self, request: RawRequest<'_>) -> Result<serde_json::Value, Error> {
        let kind = request.kind();
        let RawRequest {
            query,
            operation_name,
            variables,
            ..
        } = request;
        let name = operation_name.unwrap_or("anonymous");
        let body = encode(query, operation_name, &variables, name)?;
        let delivered = self
            .transport()
            .send(Outgoing {
                name,
                kind,
                body,
                check: None,
            })
            .await?;
        let mut body: serde_json::Value = from_body(&delivered.body).map_err(|e| {
            let reason = json_error_summary(&e);
            decode_error(name, "", &reason, Some(e), &delivered)
        })?;
        // A server may echo the token or the secret anywhere: in a message, a path, an
        // extension, the data. The body is handed back without them.
        Redactor::new(&delivered.secrets()).json(&mut body);
        Ok(body)
    }
}

/// What the typed send path brings back.
enum Typed<T> {
    /// A good response, decoded in the transport's one pass.
    Decoded(Decoded<T>),
    /// Anything else, to be read again with the slow path that names what failed.
    Undecoded(Delivered),
}

/// An untyped request for [`Client::execute_raw`]: the document, which operation in it to run,
/// whether it reads or writes, and its variables.
///
/// Its [kind](RawRequest::kind), which decides the retry policy, is read from the document:
/// the operation it selects is a query or a mutation whatever the constructor said. The kind
/// given ([`RawRequest::mutation`], [`RawRequest::new`]) only counts when it is stricter (a
/// mutation) or when the document cannot be read: a document that reads as a mutation is
/// always a mutation, never retried once it may have run.
///
/// # Example
///
/// ```
/// use ion_client::{OperationKind, RawRequest};
///
/// let request = RawRequest::query("query Run($id: ID!) { run(id: $id) { id } }")
///     .operation_name("Run")
///     .variables(serde_json::json!({"id": 5}));
/// assert_eq!(request.kind(), OperationKind::Query);
///
/// // The document says mutation: so does the request.
/// let write = RawRequest::query("mutation Archive($id: ID!) { archiveRun(id: $id) { id } }");
/// assert_eq!(write.kind(), OperationKind::Mutation);
/// ```
#[derive(Debug, Clone)]
pub struct RawRequest<'a> {
    query: &'a str,
    operation_name: Option<&'a str>,
    /// The kind the caller gave: it can make the request stricter, never looser.
    declared: OperationKind,
    variables: serde_json::Value,
}

impl<'a> RawRequest<'a> {
    /// A document to run with the retry policy its operation's kind calls for (a query is
    /// retried; a mutation, even sent this way, never once it may have run).
    pub fn query(document: &'a str) -> RawRequest<'a> {
        RawRequest::new(document, OperationKind::Query)
    }

    /// A document that may write: never replayed once it may have executed, whatever its
    /// operation reads as.
    pub fn mutation(document: &'a str) -> RawRequest<'a> {
        RawRequest::new(document, OperationKind::Mutation)
    }

    /// A document with a kind given by the caller, with no operation name and empty
    /// variables. [`OperationKind::Mutation`] always holds; [`OperationKind::Query`] holds
    /// unless the document's operation is a mutation.
    pub fn new(document: &'a str, kind: OperationKind) -> RawRequest<'a> {
        RawRequest {
            query: document,
            operation_name: None,
            declared: kind,
            variables: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Which operation of the document to run (needed when it holds several).
    pub fn operation_name(mut self, name: &'a str) -> RawRequest<'a> {
        self.operation_name = Some(name);
        self
    }

    /// [`operation_name`](Self::operation_name) from an `Option` (`None`: the document's only
    /// operation).
    pub fn set_operation_name(mut self, name: Option<&'a str>) -> RawRequest<'a> {
        self.operation_name = name;
        self
    }

    /// The variables, a JSON object (default `{}`).
    pub fn variables(mut self, variables: serde_json::Value) -> RawRequest<'a> {
        self.variables = variables;
        self
    }

    /// Query or mutation: a mutation when the operation the document selects is one (when
    /// no name selects one of several, when any of them is) or when the request was built as
    /// one; the kind given when the document cannot be read; a query otherwise.
    pub fn kind(&self) -> OperationKind {
        let read = crate::document::operation_kind(self.query, self.operation_name);
        match (self.declared, read) {
            (OperationKind::Mutation, _) | (_, Some(OperationKind::Mutation)) => {
                OperationKind::Mutation
            }
            _ => OperationKind::Query,
        }
    }
}
