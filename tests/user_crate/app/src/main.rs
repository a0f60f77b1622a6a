//! Calls this crate's own typed operations against the ION that `ION_*` configures (the test
//! points it at an emulator).

use futures_util::TryStreamExt;
use ion_client::{Client, Config};

/// The operations generated from `queries/` by `build.rs`.
mod ion {
    ion_client::include_operations!();
}

use ion::Operations;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new(Config::from_env()?)?;

    // The app's own `GetRuns` (statuses), not the starter one (titles and steps).
    let own = client.get_runs().await?;
    for run in own.runs.into_iter().flat_map(|c| c.edges).flatten() {
        if let Some(run) = run.node {
            println!("own get_runs {} {:?}", run.id, run.status);
        }
    }

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
