//! `ion emulator`: a local ION in the foreground.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use ion_client::emulator::{ClientCredentials, EmulatorOptions, Seed, run_foreground};

/// Runs a local ION (Keycloak token endpoint + GraphQL) on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port to listen on (default: any free port).
    #[arg(long)]
    port: Option<u16>,
    /// SDL to serve (default: the schema compiled into ion, schema/ion.graphql).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Starting data: `demo`, `empty`, or a JSON seed file.
    #[arg(long, value_name = "NAME|FILE", default_value = "demo")]
    seed: String,
    /// An API client the token endpoint accepts, as ID:SECRET (repeatable; default
    /// local:local-secret).
    #[arg(long = "client", value_name = "ID:SECRET")]
    clients: Vec<String>,
}

pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let mut options = EmulatorOptions::new();
    if let Some(port) = args.port {
        options = options.port(port);
    }
    if let Some(schema) = &args.schema {
        options = options.schema_file(schema);
    }
    let seed: Seed = args.seed.parse().context("--seed")?;
    options = options.seed(seed);
    for spec in &args.clients {
        let Some((id, secret)) = spec.split_once(':') else {
            bail!("--client expects ID:SECRET, found {spec:?}");
        };
        if id.is_empty() || secret.is_empty() {
            bail!("--client expects a non-empty ID and SECRET, found {spec:?}");
        }
        options = options.client(ClientCredentials::new(id, secret));
    }
    run_foreground(options).await.context("emulator")?;
    Ok(())
}
