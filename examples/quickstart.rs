//! The README's Rust example: typed queries, a typed filter, and a node stream.
//!
//! Runs against your ION when `ION_ENV`, `ION_CLIENT_ID` and `ION_CLIENT_SECRET` are set, and
//! against an embedded emulator with demo data otherwise:
//!
//! ```sh
//! cargo run --example quickstart --features starter,testing
//! ```

use futures_util::StreamExt;
use ion_client::operations::{StarterOperations, list_runs, types};
use ion_client::testing::TestIon;
use ion_client::{Client, Config, Nullable};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the emulator alive as long as the client uses it.
    let (client, _emulator) = if std::env::var_os("ION_CLIENT_ID").is_none() {
        let ion = TestIon::start().await?;
        (ion.client().clone(), Some(ion))
    } else {
        (Client::new(Config::from_env()?)?, None)
    };

    // The seed query: one typed method per file in queries/.
    let data = client.get_runs().await?;
    for run in data
        .runs
        .into_iter()
        .flat_map(|c| c.edges)
        .flatten()
        .filter_map(|e| e.node)
    {
        let steps = run.steps.unwrap_or_default().len();
        println!("run {} {:?}: {steps} steps", run.id, run.title);
    }

    // A typed filter, and every matching run across pages, one page in memory at a time
    // (`Nodes` is a named, `Unpin` stream: no `pin!`; here capped at 50 pages).
    let in_progress = types::RunsInputFilters {
        status: Nullable::Value(types::RunStatusFilter {
            eq: Nullable::Value(types::RunStatus::InProgress),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut runs = client
        .list_runs_nodes(list_runs::Variables {
            filters: Nullable::Value(in_progress),
            first: Nullable::Value(2),
            ..Default::default()
        })
        .max_pages(50);
    while let Some(run) = runs.next().await {
        let run = run?;
        println!("in progress: {} {:?}", run.id, run.title);
    }
    Ok(())
}
