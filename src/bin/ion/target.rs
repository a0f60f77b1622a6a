//! Which ION a command talks to: the configured one, or the embedded emulator when nothing is
//! configured.

use anyhow::Context as _;
use ion_client::emulator::{Emulator, EmulatorOptions};
use ion_client::{Client, Config};

/// A client, and the emulator it talks to when one was started (kept alive with it).
pub struct Target {
    pub client: Client,
    _emulator: Option<Emulator>,
}

/// The configured ION, or, when no `ION_*` variable is set at all, an embedded emulator with
/// the demo seed (said on stderr, so nobody mistakes its data for their factory's).
pub async fn connect() -> anyhow::Result<Target> {
    if !Config::env_is_unconfigured() {
        let client = Client::new(Config::from_env()?)?;
        return Ok(Target {
            client,
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
    let config = emulator.config_builder()?.build()?;
    Ok(Target {
        client: Client::new(config)?,
        _emulator: Some(emulator),
    })
}
