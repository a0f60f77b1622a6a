//! Starts the emulator with the demo factory and calls this crate's own typed operations.

use futures_util::TryStreamExt;
use ion_client::emulator::{Emulator, EmulatorOptions, Seed};
use ion_client::{Client, Config, Environment};

/// The operations generated from `queries/` by `build.rs`.
mod ion {
    ion_client::include_operations!();
}

use ion::Operations;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorOptions::new().seed(Seed::Demo)).await?;
    let client = Client::new(
        Config::builder()
            .environment(Environment::custom(
                &emulator.api_base(),
                &emulator.token_url(),
            )?)
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .build()?,
    )?;

    // Two runs per page, so reading every run follows the cursor across pages.
    let pages: Vec<_> = client
        .factory_runs_pages(ion::factory_runs::Variables::default())
        .try_collect()
        .await?;
    println!("pages {}", pages.len());
    let runs: Vec<_> = client
        .factory_runs_nodes(ion::factory_runs::Variables::default())
        .try_collect()
        .await?;
    for run in &runs {
        println!("run {} {} {:?}", run.id, run.title, run.status);
    }

    let parts = client
        .parts_by_number(ion::parts_by_number::Variables {
            number: "TA-100".into(),
        })
        .await?;
    for part in parts.parts.into_iter().flat_map(|c| c.edges).flatten() {
        if let Some(p) = part.node {
            println!(
                "part {} {} {} {}",
                p.id,
                p.part_number,
                p.revision,
                p.description.unwrap_or_default()
            );
        }
    }
    Ok(())
}
