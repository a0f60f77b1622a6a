//! Schemas: the crate's own, the full reference SDL, small ones, and introspection.

use std::time::Instant;

use ion_client::emulator::{EmulatorOptions, Seed};
use serde_json::json;

use super::support::*;

#[tokio::test]
async fn reference_schema_loads_and_serves() {
    let Some(path) = reference_sdl_path() else {
        eprintln!("reference SDL not found beside the repository; skipping");
        return;
    };
    let t = Instant::now();
    let emulator = start(EmulatorOptions::new().schema_file(&path).seed(Seed::Demo)).await;
    let took = t.elapsed();
    let s = emulator.stats();
    eprintln!(
        "reference SDL: {} types, {} tables, {} emulated queries, {} emulated mutations, started in {:?} (measured {:?}); dropped: {:?}",
        s.types,
        s.entities,
        s.emulated_queries,
        s.emulated_mutations,
        s.startup,
        took,
        s.dropped_seed_data
    );
    assert_eq!(s.types, 1471);
    let d = data(&emulator, "{ runs(first: 2, sort: [ID_ASC]) { edges { node { id title steps { id } } } pageInfo { totalCount } } }", json!({})).await;
    assert_eq!(ids(&d["runs"]), [1, 2]);
    assert_eq!(d["runs"]["pageInfo"]["totalCount"], 6);
}
