//! Configuration from `ION_*` variables, end to end against the mock.

use std::collections::HashMap;
use std::sync::Arc;

use ion_client::{Client, Config};

use crate::support::ops::{Echo, IdVars};
use crate::support::{CLIENT_ID, LEGACY_TOKEN_PATH, MockIon, SECRET, manual_clock};

fn config(vars: &[(&str, String)]) -> Config {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Config::builder()
        .with_env_from(|name| map.get(name).cloned())
        .clock(manual_clock() as Arc<dyn ion_client::Clock>)
        .build()
        .expect("config")
}

#[tokio::test]
async fn our_variable_names() {
    let ion = MockIon::start();
    let c = config(&[
        ("ION_ENV", "staging".into()),
        ("ION_API_URL", format!("{}/graphql", ion.base_url())),
        ("ION_TOKEN_URL", ion.token_url()),
        ("ION_CLIENT_ID", CLIENT_ID.into()),
        ("ION_CLIENT_SECRET", SECRET.into()),
    ]);
    Client::new(c)
        .expect("client")
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect("works");
    assert_eq!((ion.token_requests(), ion.graphql_requests()), (1, 1));
}

#[tokio::test]
async fn first_resonance_variable_names() {
    let ion = MockIon::start();
    ion.serve_token_at(LEGACY_TOKEN_PATH);
    let c = config(&[
        ("ION_API_URI", ion.base_url()),
        ("ION_AUTH_SERVER", ion.base_url()),
        ("ION_API_AUDIENCE", ion.base_url()),
        ("ION_CLIENT_ID", CLIENT_ID.into()),
        ("ION_CLIENT_SECRET", SECRET.into()),
    ]);
    Client::new(c)
        .expect("client")
        .execute::<Echo>(IdVars { id: 1 })
        .await
        .expect("works");
    assert_eq!((ion.token_requests(), ion.graphql_requests()), (1, 1));
    let form = &ion.token_forms()[0];
    assert!(form.contains(&("audience".to_owned(), ion.base_url())));
}
