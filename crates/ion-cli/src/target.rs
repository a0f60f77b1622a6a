//! Which ION a command talks to: the configured one, or the embedded emulator when nothing is
//! configured.

use anyhow::Context as _;
use ion_client::{Client, Config};
use ion_emulator::{Emulator, EmulatorOptions};

use crate::output::Secrets;

/// A client, and the emulator it talks to when one was started (kept alive with it).
pub struct Target {
    pub client: Client,
    /// The client secret, kept only to remove it from what `ion` prints.
    secret: Option<String>,
    _emulator: Option<Emulator>,
}

impl Target {
    /// Adds what `ion` must never print to `secrets`: the client secret and the access token
    /// the client holds. Called after a response arrived, so the token comes from the cache
    /// and no request is made; one that cannot be had is simply not added.
    pub async fn collect_secrets(&self, secrets: &mut Secrets) {
        if let Some(secret) = &self.secret {
            secrets.add(secret.as_str());
        }
        if let Ok(token) = self.client.access_token().await {
            secrets.add(token.secret());
        }
    }
}

/// The configured ION, or, when no `ION_*` variable is set at all, an embedded emulator with
/// the demo seed (said on stderr, so nobody mistakes its data for their factory's).
pub async fn connect() -> anyhow::Result<Target> {
    if !env_is_unconfigured() {
        let client = Client::new(Config::from_env()?)?;
        return Ok(Target {
            client,
            secret: std::env::var("ION_CLIENT_SECRET").ok(),
            _emulator: None,
        });
    }
    let emulator = Emulator::start(EmulatorOptions::new())
        .await
        .context("cannot start the embedded ION emulator")?;
    eprintln!(
        "ion: no ION configured (set ION_ENV, ION_CLIENT_ID and ION_CLIENT_SECRET to use yours); \
         using the embedded ION emulator with its demo data at {}",
        emulator.api_base()
    );
    let config = ion_client::testing::config_builder(&emulator)?.build()?;
    Ok(Target {
        client: Client::new(config)?,
        secret: Some(emulator.client_secret().to_owned()),
        _emulator: Some(emulator),
    })
}

/// Whether the process environment configures no ION at all (none of the variables
/// `Config::from_env` reads is set). The command line then runs against its embedded
/// emulator instead of failing, so a first `ion run` works offline.
pub fn env_is_unconfigured() -> bool {
    ion_client::config::ENV_VARIABLES
        .iter()
        .all(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
}
