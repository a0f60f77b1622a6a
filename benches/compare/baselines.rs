//! What a user would write instead of ion-client: graphql_client 0.16's own derive for the
//! same query, and hand-written serde structs (as a careful user writes them, and two variants
//! that isolate what the generated code's shapes and `deny_unknown_fields` cost).

use serde::{Deserialize, Serialize};

/// graphql_client's derive for `queries/get_runs.graphql` against the shipped schema.
#[derive(graphql_client::GraphQLQuery)]
#[graphql(
    schema_path = "../schema/ion.graphql",
    query_path = "../queries/get_runs.graphql",
    response_derives = "Debug"
)]
pub struct GetRuns;

impl get_runs::ResponseData {
    /// Runs decoded, for the correctness check every client makes.
    pub fn run_count(&self) -> usize {
        self.runs.as_ref().map_or(0, |r| {
            r.edges
                .iter()
                .flatten()
                .filter(|e| e.node.is_some())
                .count()
        })
    }
}

/// The request body a hand-writing user sends.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandRequest<'a> {
    pub query: &'a str,
    pub operation_name: &'a str,
}

/// The hand-written response: only what the query selects, nothing optional that the
/// user trusts to be there, unknown fields ignored (serde's default).
// Decoded, never read: the bench measures the decode.
#[allow(dead_code)]
pub mod hand {
    use super::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct Envelope {
        pub data: Option<Data>,
        #[serde(default)]
        pub errors: Vec<serde_json::Value>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Data {
        pub runs: Runs,
    }
    #[derive(Debug, Deserialize)]
    pub struct Runs {
        pub edges: Vec<Edge>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Edge {
        pub node: Run,
    }
    #[derive(Debug, Deserialize)]
    pub struct Run {
        pub id: i64,
        pub title: String,
        pub steps: Vec<Step>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Step {
        pub id: i64,
        pub title: String,
    }

    impl Envelope {
        pub fn run_count(&self) -> usize {
            self.data.as_ref().map_or(0, |d| d.runs.edges.len())
        }
    }
}

/// The hand-written structs with the schema's nullability, as the generator emits it:
/// `Option<Vec<Option<…>>>` lists and optional nodes, unknown fields still ignored.
// Decoded, never read: the bench measures the decode.
#[allow(dead_code)]
pub mod hand_nullable {
    use super::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct Envelope {
        pub data: Option<Data>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Data {
        pub runs: Option<Runs>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Runs {
        pub edges: Vec<Option<Edge>>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Edge {
        pub node: Option<Run>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Run {
        pub id: i64,
        pub title: String,
        pub steps: Option<Vec<Option<Step>>>,
    }
    #[derive(Debug, Deserialize)]
    pub struct Step {
        pub id: i64,
        pub title: String,
    }

    impl Envelope {
        pub fn run_count(&self) -> usize {
            self.data
                .as_ref()
                .and_then(|d| d.runs.as_ref())
                .map_or(0, |r| {
                    r.edges
                        .iter()
                        .flatten()
                        .filter(|e| e.node.is_some())
                        .count()
                })
        }
    }
}

/// The hand-written structs with `deny_unknown_fields` on every struct (as the generator
/// emits it), plain shapes otherwise.
// Decoded, never read: the bench measures the decode.
#[allow(dead_code)]
pub mod hand_strict {
    use super::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Envelope {
        pub data: Option<Data>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Data {
        pub runs: Runs,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Runs {
        pub edges: Vec<Edge>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Edge {
        pub node: Run,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Run {
        pub id: i64,
        pub title: String,
        pub steps: Vec<Step>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Step {
        pub id: i64,
        pub title: String,
    }

    impl Envelope {
        pub fn run_count(&self) -> usize {
            self.data.as_ref().map_or(0, |d| d.runs.edges.len())
        }
    }
}
