//! A local ION: Keycloak's token endpoint and ION's GraphQL endpoint over any SDL, on
//! 127.0.0.1, for offline use and for tests.
//!
//! The emulator reads ION's conventions from the schema instead of carrying code per type:
//! object types with an `id` are tables; `xs(filters, sort, first, after, ...)` roots returning
//! `XsConnection` page through them; `x(id:)` looks one up; `xId` columns link rows
//! (`RunStep.run` ↔ `runId`, `Run.steps` ↔ `RunStep.runId`); `createX`/`updateX`/`deleteX`
//! write them with ION's `_etag` optimistic concurrency, and the other verbs ION uses
//! (`addXToY`, `archiveX`, `reorderX`, `copyX`, ...) follow their names. So every type of
//! `schema/ion.graphql`, or of the full reference schema, works without further code; what
//! no convention can answer, a [`Handler`] of yours can ([`EmulatorOptions::handler`]).
//!
//! # Example
//! ```no_run
//! # async fn example() -> Result<(), ion_emulator::EmulatorError> {
//! use ion_emulator::{Emulator, EmulatorOptions, Seed};
//!
//! let emulator = Emulator::start(EmulatorOptions::new().seed(Seed::Demo)).await?;
//! println!("GraphQL at {}, token at {}", emulator.graphql_url(), emulator.token_url());
//! // ... point a client at it with emulator.client_id() / emulator.client_secret() ...
//! drop(emulator); // stops the server and every connection task
//! # Ok(())
//! # }
//! ```
//!
//! # What is not emulated
//! Root fields no convention answers (listed below) answer a GraphQL error
//! `not emulated: NAME` unless a handler serves them; computed fields (`percentComplete`,
//! `prettyStr`, ...) are whatever the seed stores; permissions and webhooks are absent. Rate
//! limits are off unless asked for ([`EmulatorOptions::rate_limit`]).
//!
//! # File storage
//! `createFileAttachment` and `createAsset` answer a signed, expiring `uploadUrl` on the
//! emulator's own host; a `PUT` there stores the bytes (on disk, in a folder removed when the
//! emulator stops) and the row's `downloadUrl` then serves them back. The rules (signatures,
//! expiry, the size cap, S3's error answers) are in the `storage` module's documentation:
//! [`DEFAULT_URL_LIFETIME`], [`DEFAULT_MAX_FILE_BYTES`], [`Emulator::stored_files`],
//! [`Endpoint::Storage`].
//!
#![doc = include_str!("../CONVENTIONS.md")]

mod auth;
mod engine;
mod faults;
mod handler;
mod http;
mod limit;
mod link;
mod model;
mod plan;
mod query;
mod read;
mod rows;
mod schema;
mod storage;
mod store;
mod verbs;
mod write;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use faults::{Counters, Endpoint, Fault, FaultKind, Faults, RecordedRequest};
pub use handler::{Handler, HandlerError};
pub use limit::RateLimit;
pub use plan::Convention;
pub use rows::Rows;
pub use storage::{DEFAULT_MAX_FILE_BYTES, DEFAULT_URL_LIFETIME, StoredFile};

use engine::Instance;
use faults::CounterCells;
use ion_client_build::files;
use store::{Clock, Store};

/// The ION schema shipped with the emulator (ion-client's `schema/ion.graphql`), served unless
/// another is given.
pub const SHIPPED_SCHEMA: &str = include_str!("../schema/ion.graphql");

/// The demo factory: users, parts and revisions, procedures with steps, runs with run steps,
/// locations and inventory, suppliers, purchase orders with lines, receipts and issues.
const DEMO_SEED: &str = include_str!("seeds/demo.json");

/// The largest seed file read: eight times a seed of 100,000 runs (about 32 MB); a larger one
/// holds more rows than a local ION is for. Schema files are read up to ion-client-build's
/// `MAX_SOURCE_BYTES`. Both are read by ion-client-build's rules: regular files only, never
/// blocking on a FIFO, a device never opened.
pub const MAX_SEED_BYTES: u64 = 256 * 1024 * 1024;

/// Keycloak's default access-token lifespan, which ION's realm keeps.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// The client `ion emulator` accepts when none is given.
pub const DEFAULT_CLIENT_ID: &str = "local";
/// The secret of [`DEFAULT_CLIENT_ID`]: a throwaway value, only ever valid against an emulator.
pub const DEFAULT_CLIENT_SECRET: &str = "local-secret";

/// The user id that API clients act as unless configured otherwise (the demo seed's
/// service-account user).
pub const DEFAULT_CLIENT_USER_ID: i64 = 1;

/// Why the emulator could not start or save.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The SDL is missing, empty, does not parse, or cannot be executed.
    #[error("emulator schema: {0}")]
    Schema(String),
    /// The seed is not a known name, cannot be read, or is not a valid seed document.
    #[error("emulator seed: {0}")]
    Seed(String),
    /// Listening on 127.0.0.1 failed (port taken, ...).
    #[error("emulator cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for (0 for any).
        port: u16,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A handler names a field that is not a root field of the schema.
    #[error("emulator handler: {0}")]
    Handler(String),
    /// Writing a seed file failed.
    #[error("emulator i/o on {path}: {source}")]
    Io {
        /// What was being written.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// Where the SDL comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaSource {
    /// The crate's own `schema/ion.graphql`, compiled in.
    #[default]
    Default,
    /// SDL text.
    Sdl(String),
    /// An SDL file read at start.
    File(PathBuf),
}

impl SchemaSource {
    fn load(&self) -> Result<String, EmulatorError> {
        match self {
            SchemaSource::Default if SHIPPED_SCHEMA.trim().is_empty() => {
                Err(EmulatorError::Schema(
                    "the compiled-in schema/ion.graphql is empty: pass a schema (SDL text or file)"
                        .into(),
                ))
            }
            SchemaSource::Default => Ok(SHIPPED_SCHEMA.to_owned()),
            SchemaSource::Sdl(s) => Ok(s.clone()),
            SchemaSource::File(p) => files::read_capped(p, files::MAX_SOURCE_BYTES)
                .map_err(|e| EmulatorError::Schema(e.to_string())),
        }
    }
}

/// The data the emulator starts with.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum Seed {
    /// The deterministic demo factory (the default).
    #[default]
    Demo,
    /// No rows at all.
    Empty,
    /// A seed document read from a JSON file (see [`Emulator::save_seed`] for the format).
    File(PathBuf),
    /// A seed document: `{"Run": [{"id": 1, "title": "..."}], ...}`.
    Json(serde_json::Value),
}

impl FromStr for Seed {
    type Err = EmulatorError;

    /// `demo`, `empty`, or a path to a JSON seed file.
    fn from_str(s: &str) -> Result<Seed, EmulatorError> {
        match s {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            "" => Err(EmulatorError::Seed(
                "expected `demo`, `empty` or a JSON file, found nothing".into(),
            )),
            path => Ok(Seed::File(PathBuf::from(path))),
        }
    }
}

impl Seed {
    fn load(&self) -> Result<serde_json::Value, EmulatorError> {
        let parse = |text: &str, what: &str| {
            serde_json::from_str(text)
                .map_err(|e| EmulatorError::Seed(format!("{what} is not valid JSON: {e}")))
        };
        match self {
            Seed::Demo => parse(DEMO_SEED, "the demo seed"),
            Seed::Empty => Ok(serde_json::Value::Object(Default::default())),
            Seed::File(p) => {
                let text = files::read_capped(p, MAX_SEED_BYTES)
                    .map_err(|e| EmulatorError::Seed(e.to_string()))?;
                parse(&text, &p.display().to_string())
            }
            Seed::Json(v) => Ok(v.clone()),
        }
    }
}

/// An API client the token endpoint accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The Keycloak client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
    /// The ION user the client's tokens act as (what `me` returns, `createdById` of writes).
    pub user_id: i64,
}

impl ClientCredentials {
    /// A client acting as [`DEFAULT_CLIENT_USER_ID`].
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> ClientCredentials {
        ClientCredentials {
            id: id.into(),
            secret: secret.into(),
            user_id: DEFAULT_CLIENT_USER_ID,
        }
    }

    /// Makes the client act as another user.
    pub fn user_id(mut self, user_id: i64) -> ClientCredentials {
        self.user_id = user_id;
        self
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    schema: SchemaSource,
    seed: Seed,
    clients: Vec<ClientCredentials>,
    token_lifetime: Duration,
    port: u16,
    handlers: BTreeMap<String, Handler>,
    url_lifetime: Duration,
    max_file_bytes: u64,
    rate_limit: Option<RateLimit>,
}

impl Default for EmulatorOptions {
    fn default() -> EmulatorOptions {
        EmulatorOptions::new()
    }
}

impl EmulatorOptions {
    /// The crate's schema, the demo seed, client `local:local-secret`, 300 s tokens, any port.
    pub fn new() -> EmulatorOptions {
        EmulatorOptions {
            schema: SchemaSource::Default,
            seed: Seed::Demo,
            clients: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            port: 0,
            handlers: BTreeMap::new(),
            url_lifetime: DEFAULT_URL_LIFETIME,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            rate_limit: None,
        }
    }

    /// How long the signed storage URLs it answers stay valid, on the emulator's clock
    /// ([`DEFAULT_URL_LIFETIME`] unless set).
    pub fn url_lifetime(mut self, lifetime: Duration) -> EmulatorOptions {
        self.url_lifetime = lifetime;
        self
    }

    /// The largest file storage accepts ([`DEFAULT_MAX_FILE_BYTES`] unless set); a larger
    /// upload is refused with 400 `EntityTooLarge` before any of it is read.
    pub fn max_file_bytes(mut self, max: u64) -> EmulatorOptions {
        self.max_file_bytes = max;
        self
    }

    /// Serves this SDL text.
    pub fn schema_sdl(mut self, sdl: impl Into<String>) -> EmulatorOptions {
        self.schema = SchemaSource::Sdl(sdl.into());
        self
    }

    /// Serves the SDL in this file.
    pub fn schema_file(mut self, path: impl AsRef<Path>) -> EmulatorOptions {
        self.schema = SchemaSource::File(path.as_ref().to_owned());
        self
    }

    /// Sets where the schema comes from.
    pub fn schema(mut self, source: SchemaSource) -> EmulatorOptions {
        self.schema = source;
        self
    }

    /// Starts with this data.
    pub fn seed(mut self, seed: Seed) -> EmulatorOptions {
        self.seed = seed;
        self
    }

    /// Accepts this client (call again for more). With none, `local:local-secret` is accepted.
    pub fn client(mut self, client: ClientCredentials) -> EmulatorOptions {
        self.clients.push(client);
        self
    }

    /// How long issued tokens live (`expires_in`).
    pub fn token_lifetime(mut self, lifetime: Duration) -> EmulatorOptions {
        self.token_lifetime = lifetime;
        self
    }

    /// Listens on this port of 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> EmulatorOptions {
        self.port = port;
        self
    }

    /// Limits each client's GraphQL requests with a token bucket (see [`RateLimit`]): beyond
    /// it a request is answered `429` with `Retry-After` before anything runs, and counted in
    /// [`Counters::rate_limited`]. Without it (the default) there is no limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> EmulatorOptions {
        self.rate_limit = Some(limit);
        self
    }

    /// [`rate_limit`](Self::rate_limit) from an `Option` (`None`: no limit).
    pub fn set_rate_limit(mut self, limit: Option<RateLimit>) -> EmulatorOptions {
        self.rate_limit = limit;
        self
    }

    /// Answers the root field `field` (a query or a mutation) with `handler` instead of a
    /// convention: for what no convention can serve (the fields `CONVENTIONS.md` lists as
    /// needing a handler), or to serve a field differently. A second handler for the same
    /// field replaces the first. See [`Handler`] for what it is given and returns.
    ///
    /// # Example
    /// ```
    /// use ion_emulator::{EmulatorOptions, HandlerError};
    /// use serde_json::json;
    ///
    /// let options = EmulatorOptions::new().handler("generateRunSummary", |args, _rows| {
    ///     let runs = args["input"]["runIds"].as_array().map_or(0, Vec::len);
    ///     if runs == 0 {
    ///         return Err(HandlerError::new("runIds is empty"));
    ///     }
    ///     Ok(json!({ "message": format!("summary of {runs} runs queued") }))
    /// });
    /// ```
    pub fn handler<F>(mut self, field: impl Into<String>, handler: F) -> EmulatorOptions
    where
        F: Fn(&serde_json::Value, &mut Rows<'_>) -> Result<serde_json::Value, HandlerError>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.insert(field.into(), Handler::new(handler));
        self
    }
}

/// Facts about a started emulator.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatorStats {
    /// Types in the schema.
    pub types: usize,
    /// Object types stored as tables.
    pub entities: usize,
    /// Query roots answered from the store (connections, lookups, `me`, lists).
    pub emulated_queries: usize,
    /// Mutation roots answered by a convention or a handler.
    pub emulated_mutations: usize,
    /// Every root field of the query and mutation types and what answers it.
    pub roots: Vec<RootField>,
    /// Rows per entity after seeding.
    pub rows: BTreeMap<String, usize>,
    /// Seed data the schema has no place for (types or fields), dropped at start.
    pub dropped_seed_data: Vec<String>,
    /// Whether the executable schema came from this process's cache: the first emulator of an
    /// SDL builds it, later ones (a test suite starting one per test) reuse it.
    pub schema_cached: bool,
    /// Time from `start` to listening (parse, analyse, seed, build the executable schema when
    /// not cached).
    pub startup: Duration,
}

/// A root field of the schema and what answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RootField {
    /// The field's name (`runs`, `createRun`).
    pub name: String,
    /// Whether it is a field of the mutation type (else of the query type).
    pub mutation: bool,
    /// The convention or handler that answers it; `None` when only a handler could, and it
    /// answers `not emulated: NAME`.
    pub answered_by: Option<Convention>,
}

/// Every root field of the query and mutation types and what answers it, in schema order;
/// a handler for a field that is neither is an error naming it.
fn root_fields(
    model: &model::Model,
    handlers: &BTreeMap<String, Handler>,
) -> Result<Vec<RootField>, EmulatorError> {
    let mut roots = Vec::new();
    for (type_name, mutation) in [
        (Some(model.query.as_str()), false),
        (model.mutation.as_deref(), true),
    ] {
        let Some(type_name) = type_name else {
            continue;
        };
        for (name, _) in model.object_fields(type_name) {
            let answered_by = if handlers.contains_key(&name) {
                Some(Convention::Handler)
            } else if mutation {
                model
                    .mutation_plans
                    .get(&name)
                    .map(plan::MutationPlan::convention)
            } else {
                model
                    .query_plans
                    .get(&name)
                    .and_then(model::QueryPlan::convention)
            };
            roots.push(RootField {
                name,
                mutation,
                answered_by,
            });
        }
    }
    if let Some(unknown) = handlers
        .keys()
        .find(|h| !roots.iter().any(|r| &r.name == *h))
    {
        return Err(EmulatorError::Handler(format!(
            "`{unknown}` is not a field of the schema's query or mutation type"
        )));
    }
    Ok(roots)
}

/// A running emulator. Dropping it stops the server and aborts every connection task.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<http::Shared>,
    clock: Arc<Clock>,
    clients: Vec<ClientCredentials>,
    stats: EmulatorStats,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Loads the schema and seed and starts serving on 127.0.0.1.
    ///
    /// Must be called inside a Tokio runtime; the server runs on it as one task.
    ///
    /// # Errors
    /// [`EmulatorError::Schema`] for a missing, empty, unparsable or inconsistent SDL,
    /// [`EmulatorError::Seed`] for an unreadable seed, [`EmulatorError::Bind`] when the port
    /// cannot be had.
    pub async fn start(options: EmulatorOptions) -> Result<Emulator, EmulatorError> {
        let started = Instant::now();
        let sdl = options.schema.load()?;
        let (executable, schema_cached) =
            schema::schema_for(&sdl).map_err(EmulatorError::Schema)?;
        let model = &executable.model;
        let seed = options.seed.load()?;
        let clock = Arc::new(Clock::default());
        let (store, dropped) =
            Store::new(model, &seed, clock.clone()).map_err(EmulatorError::Seed)?;
        for d in &dropped {
            tracing::debug!(dropped = %d, "seed data the schema has no place for");
        }
        let roots = root_fields(model, &options.handlers)?;
        let counters = Arc::new(CounterCells::default());
        let instance = Arc::new(Instance {
            store: Arc::new(store),
            counters: counters.clone(),
            handlers: options.handlers.into_iter().collect::<HashMap<_, _>>(),
            storage: Arc::new(storage::Storage::new(
                clock.clone(),
                options.url_lifetime,
                options.max_file_bytes,
            )),
        });

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: options.port,
                source,
            })?;
        let clients = if options.clients.is_empty() {
            vec![ClientCredentials::new(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
            )]
        } else {
            options.clients
        };
        instance.storage.set_base_url(format!("http://{addr}"));
        let stats = EmulatorStats {
            types: model.types().count(),
            entities: model.entities.len(),
            emulated_queries: roots
                .iter()
                .filter(|r| !r.mutation && r.answered_by.is_some())
                .count(),
            emulated_mutations: roots
                .iter()
                .filter(|r| r.mutation && r.answered_by.is_some())
                .count(),
            roots,
            rows: instance.store.row_counts(),
            dropped_seed_data: dropped,
            schema_cached,
            startup: Duration::ZERO,
        };
        let shared = Arc::new(http::Shared {
            instance,
            executable: executable.clone(),
            auth: auth::Auth::new(clients.clone(), options.token_lifetime, clock.clone()),
            faults: Faults::default(),
            limiter: limit::Limiter::new(options.rate_limit),
            counters,
            recorded: Mutex::new(VecDeque::new()),
            base_url: format!("http://{addr}"),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(http::serve(listener, http::router(shared.clone()), rx));
        let stats = EmulatorStats {
            startup: started.elapsed(),
            ..stats
        };
        Ok(Emulator {
            addr,
            shared,
            clock,
            clients,
            stats,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the API base, as ION's `https://api.buildwithion.com`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `<api_base>/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.api_base())
    }

    /// The token URL in Keycloak's older layout, as ION's production hosts serve it:
    /// `<api_base>/auth/realms/api-keys/protocol/openid-connect/token`.
    pub fn token_url(&self) -> String {
        format!(
            "{}/auth/realms/{}/protocol/openid-connect/token",
            self.api_base(),
            http::REALM
        )
    }

    /// The token URL in Keycloak's newer layout (no `/auth`), as ION's staging hosts serve it.
    pub fn token_url_without_auth_prefix(&self) -> String {
        format!(
            "{}/realms/{}/protocol/openid-connect/token",
            self.api_base(),
            http::REALM
        )
    }

    /// The first accepted client's id.
    pub fn client_id(&self) -> &str {
        &self.clients[0].id
    }

    /// The first accepted client's secret (a throwaway value valid only here).
    pub fn client_secret(&self) -> &str {
        &self.clients[0].secret
    }

    /// Every accepted client.
    pub fn clients(&self) -> &[ClientCredentials] {
        &self.clients
    }

    /// Issues a token for the first client without going through HTTP (not counted).
    pub fn issue_token(&self) -> String {
        let issuer = format!("{}/auth/realms/{}", self.api_base(), http::REALM);
        self.shared.auth.mint(&self.clients[0], &issuer)
    }

    /// The programmable faults.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Sets or lifts the rate limit of a running emulator (see
    /// [`EmulatorOptions::rate_limit`]); every client's bucket starts full.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.shared.limiter.set(limit);
    }

    /// What the emulator has received so far.
    pub fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    /// The files its storage holds, by key.
    pub fn stored_files(&self) -> Vec<StoredFile> {
        self.shared.instance.storage.stored()
    }

    /// Sets every counter back to zero.
    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    /// The most recent requests received (up to 1,000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let recorded = self
            .shared
            .recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recorded.iter().cloned().collect()
    }

    /// Moves the emulator's clock forward, so tokens expire (and new timestamps move) without
    /// waiting.
    pub fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Facts about the loaded schema and seed, and how long starting took.
    pub fn stats(&self) -> &EmulatorStats {
        &self.stats
    }

    /// The current data as a seed document, loadable with [`Seed::Json`] or, saved, with
    /// [`Seed::File`].
    pub fn snapshot(&self) -> serde_json::Value {
        self.shared.instance.store.snapshot()
    }

    /// Writes the current data as a seed file.
    ///
    /// # Errors
    /// [`EmulatorError::Io`] when the file cannot be written.
    pub fn save_seed(&self, path: impl AsRef<Path>) -> Result<(), EmulatorError> {
        let path = path.as_ref();
        let mut text = serde_json::to_string_pretty(&self.snapshot()).unwrap_or_default();
        text.push('\n');
        std::fs::write(path, text).map_err(|source| EmulatorError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Stops the server and waits until its task and every connection task have ended.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Aborting drops the accept loop and with it the JoinSet owning every connection.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
