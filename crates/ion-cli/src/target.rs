//! Which ION a command talks to: the configured one, or the embedded emulator when nothing is
//! configured.

use anyhow::Context as _;
use ion_client::{Client, Config};
use ion_emulator::{Emulator, EmulatorOptions};

/// A client, and the emulator it talks to when one was started (kept alive with it).
pub struct Target {
    pub client: Client,
    _emulator: Option<Emulator>,
}

/// The configured ION, or, when no `ION_*` variable is set at all, an embedded emulator with
/// the demo seed (said on stderr, so nobody mistakes its data for their factory's).
pub async fn connect() -> anyhow::Result<Target> {
    if !env_is_unconfigured() {
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
    let config = ion_client::testing::config_builder(&emulator)?.build()?;
    Ok(Target {
        client: Client::new(config)?,
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
