//! Helpers for testing code that uses ion-client: a local ION in one call, and redactions that
//! make snapshots of typed responses stable.
//!
//! Enable the `testing` feature in your dev-dependencies only; it brings the local ION (the
//! `ion-emulator` crate, re-exported as [`emulator`]), never `insta` itself: you call `insta` in
//! your own crate with the JSON that [`redact()`](redact()) returns.
//!
//! # A test from an empty project
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! ion-client = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! insta = { version = "1", features = ["json"] }
//! ```
//!
//! `tests/runs.rs` (runs offline against the demo factory; no credentials):
//!
//! ```
//! # #[cfg(feature = "starter")] {
//! use ion_client::operations::StarterOperations; // or your own crate's `Operations`
//! use ion_client::testing::{TestIon, redact};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // #[tokio::test]
//! // async fn runs_have_steps() -> Result<(), Box<dyn std::error::Error>> {
//! let ion = TestIon::start().await?;
//! let data = ion.client().get_runs().await?;
//! let runs = data.runs.as_ref().map(|r| r.edges.len()).unwrap_or(0);
//! assert!(runs > 0, "the demo seed has runs");
//! // insta::assert_json_snapshot!(redact(&data));
//! let snapshot = redact(&data);
//! assert!(snapshot["runs"]["edges"][0]["node"]["steps"].is_array());
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
//! # }
//! ```
//!
//! `cargo insta test` (or `cargo test`, then `cargo insta review`) writes the snapshot for you
//! to review and commit. Under `CI=true`, insta never writes snapshots and fails on a new or
//! changed one.
//!
//! Use [`TestIon::builder`] for an empty store or your own seed file
//! (`.seed(Seed::File("tests/seed.json".into()))`; [`Emulator::save_seed`] writes one).
//!
//! For tests of token expiry, backoff and retries, give the client a
//! [`ManualClock`](crate::clock::ManualClock) (`ion.config_builder()?.clock(clock.clone())`)
//! and move time by hand; the emulator's own clock ([`Emulator::advance_clock`]) expires the
//! tokens it issued.

mod fixtures;
mod redact;

use std::time::Duration;

/// The local ION: the `ion-emulator` crate, so tests need no dependency of their own on it.
pub use ion_emulator as emulator;
pub use ion_emulator::{
    Emulator, EmulatorError, EmulatorOptions, Handler, HandlerError, RateLimit, Rows, Seed,
};

use crate::{Client, Config, ConfigBuilder, Environment, Error};
pub use fixtures::Fixtures;
pub use redact::{Redactions, redact, redact_with};

/// The total timeout of a test client: a local emulator answers in milliseconds, so anything
/// slower is a hang worth failing on quickly rather than after the production default of 120 s.
pub const TEST_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a [`TestIon`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The emulator did not start (schema, seed, port).
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    /// The client for it could not be built.
    #[error(transparent)]
    Client(#[from] Error),
}

/// A running emulator and a [`Client`] already configured for it.
///
/// Dropping it stops the emulator.
#[derive(Debug)]
pub struct TestIon {
    emulator: Emulator,
    client: Client,
}

impl TestIon {
    /// Starts an emulator seeded with the demo factory and a client for it.
    ///
    /// # Errors
    ///
    /// [`StartError`] when the emulator cannot start or the client cannot be built.
    pub async fn start() -> Result<TestIon, StartError> {
        TestIon::builder().start().await
    }

    /// A builder to choose the seed or other emulator options.
    pub fn builder() -> TestIonBuilder {
        TestIonBuilder::default()
    }

    /// The client, configured for the emulator (cheap to clone).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The emulator, to inject faults, read requests or advance its clock.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// A [`ConfigBuilder`] pointed at the emulator with its credentials,
    /// for tests that need other client settings.
    ///
    /// # Errors
    ///
    /// A configuration error if the emulator's URLs are not accepted (never expected).
    pub fn config_builder(&self) -> Result<ConfigBuilder, Error> {
        config_builder(&self.emulator)
    }

    /// Stops the emulator and waits until it has stopped; the client then fails to connect.
    pub async fn stop(self) {
        self.emulator.shutdown().await;
    }
}

/// A client configuration for an emulator: its endpoints, its first client's credentials and
/// the test timeout ([`TEST_TOTAL_TIMEOUT`]). Add settings, then `build()`.
///
/// # Errors
///
/// A configuration error if the emulator's own URLs are not accepted (never expected).
pub fn config_builder(emulator: &Emulator) -> Result<ConfigBuilder, Error> {
    Ok(Config::builder()
        .environment(Environment::custom(
            &emulator.api_base(),
            &emulator.token_url(),
        )?)
        .client_id(emulator.client_id())
        .client_secret(emulator.client_secret())
        .total_timeout(TEST_TOTAL_TIMEOUT))
}

/// Chooses what a [`TestIon`] starts with.
#[derive(Debug, Clone, Default)]
pub struct TestIonBuilder {
    options: Option<EmulatorOptions>,
    seed: Option<Seed>,
    handlers: Vec<(String, Handler)>,
    rate_limit: Option<RateLimit>,
}

impl TestIonBuilder {
    /// The data to start with: [`Seed::Demo`] (the default), [`Seed::Empty`], or a seed file.
    pub fn seed(mut self, seed: Seed) -> TestIonBuilder {
        self.seed = Some(seed);
        self
    }

    /// Answers the root field `field` with your own code, for what the emulator's conventions
    /// cannot serve (`splitPartInventory`, ...; the emulator's `CONVENTIONS.md` lists them) or
    /// to serve a field differently. The handler gets the field's arguments as JSON and the
    /// emulator's [`Rows`], whose writes stamp ids and `_etag`s as the emulator's own do, and
    /// returns the field's value as JSON or a [`HandlerError`]; see [`Handler`].
    ///
    /// # Example
    /// ```
    /// use ion_client::RawRequest;
    /// use ion_client::testing::TestIon;
    /// use serde_json::json;
    ///
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let ion = TestIon::builder()
    ///     .handler("splitPartInventory", |args, rows| {
    ///         let input = &args["input"];
    ///         let id = input["id"].as_i64().ok_or("an `id` is required")?;
    ///         let original = rows.get("PartInventory", id).ok_or("no such inventory")?;
    ///         let quantity = input["quantity"].as_f64().unwrap_or(0.0);
    ///         let left = original["quantity"].as_f64().unwrap_or(0.0) - quantity;
    ///         let etag = input["etag"].as_str();
    ///         rows.update("PartInventory", id, etag, &json!({ "quantity": left }))?;
    ///         let split = json!({ "partId": original["partId"], "quantity": quantity });
    ///         Ok(json!({ "partInventory": rows.create("PartInventory", &split)? }))
    ///     })
    ///     .start()
    ///     .await?;
    /// let read = RawRequest::query("{ partInventory(id: 9) { _etag } }");
    /// let etag = ion.client().execute_raw(read).await?["data"]["partInventory"]["_etag"].clone();
    /// let split = "mutation($etag: String!) {
    ///     splitPartInventory(input: { id: 9, etag: $etag, quantity: 4 }) {
    ///         partInventory { quantity _etag part { id } }
    ///     }
    /// }";
    /// let request = || RawRequest::mutation(split).variables(json!({ "etag": etag }));
    /// let answer = ion.client().execute_raw(request()).await?;
    /// let new_row = &answer["data"]["splitPartInventory"]["partInventory"];
    /// assert_eq!(new_row["quantity"], 4.0);
    /// assert_eq!(new_row["_etag"].as_str().map(str::len), Some(32));
    /// // The write gave row 9 a new etag: the one read before is stale now.
    /// let again = ion.client().execute_raw(request()).await?;
    /// assert!(again["errors"][0]["message"].as_str().unwrap().starts_with("Etag mismatch"));
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
    /// ```
    pub fn handler<F>(mut self, field: impl Into<String>, handler: F) -> TestIonBuilder
    where
        F: Fn(&serde_json::Value, &mut Rows<'_>) -> Result<serde_json::Value, HandlerError>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.push((field.into(), Handler::new(handler)));
        self
    }

    /// Limits the client's GraphQL requests as ION's fair-use limits do: a token bucket of
    /// `limit`'s rate and burst, beyond which the emulator answers `429` with `Retry-After`
    /// and counts the refusal ([`Counters::rate_limited`](ion_emulator::Counters)).
    ///
    /// # Example
    /// ```
    /// use ion_client::testing::{RateLimit, TestIon};
    ///
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let ion = TestIon::builder().rate_limit(RateLimit::new(100.0, 10)).start().await?;
    /// assert_eq!(ion.emulator().counters().rate_limited, 0);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
    /// ```
    pub fn rate_limit(mut self, limit: RateLimit) -> TestIonBuilder {
        self.rate_limit = Some(limit);
        self
    }

    /// Full emulator options (schema, clients, token lifetime); a [`seed`](Self::seed),
    /// [`handler`](Self::handler) or [`rate_limit`](Self::rate_limit) set on this builder
    /// still wins.
    pub fn options(mut self, options: EmulatorOptions) -> TestIonBuilder {
        self.options = Some(options);
        self
    }

    /// Starts the emulator and builds the client.
    ///
    /// Installs rustls' `ring` provider as the process default if none is installed yet,
    /// because the client's HTTP stack wants one even for `http://127.0.0.1`.
    ///
    /// # Errors
    ///
    /// [`StartError`] when the emulator cannot start or the client cannot be built.
    pub async fn start(self) -> Result<TestIon, StartError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut options = self.options.unwrap_or_default();
        if let Some(seed) = self.seed {
            options = options.seed(seed);
        }
        if let Some(limit) = self.rate_limit {
            options = options.rate_limit(limit);
        }
        for (field, handler) in self.handlers {
            options = options.handler(field, move |args, rows| handler.call(args, rows));
        }
        let emulator = Emulator::start(options).await?;
        let client = Client::new(config_builder(&emulator)?.build()?)?;
        Ok(TestIon { emulator, client })
    }
}
