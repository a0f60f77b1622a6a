//! One large body decoded by each target type, single-threaded, no I/O: MB/s and
//! allocations per decode (counted by the bench's global allocator).

use serde::Deserialize;
use serde_json::value::RawValue;
use stats_alloc::Region;

use crate::GLOBAL;
use crate::baselines::{self, hand, hand_nullable, hand_strict};

/// One way to decode a body; returns the runs it found (checked against the page).
pub struct Decoder {
    pub label: &'static str,
    pub decode: fn(&[u8]) -> usize,
}

/// The response envelope read with `data` borrowed as raw JSON, to be decoded into the
/// operation's type in a second pass: the three-pass decoder the one-pass one is measured
/// against.
#[derive(Deserialize)]
struct RuntimeEnvelope<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    errors: Option<Vec<serde_json::Value>>,
}

type IonData = ion_client::operations::get_runs::ResponseData;

fn ion_run_count(data: &IonData) -> usize {
    data.runs.as_ref().map_or(0, |r| {
        r.edges
            .iter()
            .flatten()
            .filter(|e| e.node.is_some())
            .count()
    })
}

pub fn decoders() -> Vec<Decoder> {
    vec![
        Decoder {
            label: "ion-client generated `ResponseData`, the runtime's success path (UTF-8 checked once, then its quick reader)",
            decode: |b| {
                let data: IonData = ion_client::__private::decode_good_response(b).expect("decode");
                ion_run_count(&data)
            },
        },
        Decoder {
            label: "ion-client generated `ResponseData`, one serde_json pass over the bytes (`from_slice`)",
            decode: |b| {
                let r: graphql_client::Response<IonData> =
                    serde_json::from_slice(b).expect("decode");
                r.data.as_ref().map_or(0, ion_run_count)
            },
        },
        Decoder {
            label: "ion-client generated `ResponseData`, three passes (a well-formedness pass, the envelope and then `data` through serde_path_to_error)",
            decode: |b| {
                // A full IgnoredAny pass over the body, to know it is well-formed.
                let _: serde::de::IgnoredAny = serde_json::from_slice(b).expect("well-formed");
                // A UTF-8 check, then the envelope through serde_path_to_error with `data`
                // as a raw value.
                let text = std::str::from_utf8(b).expect("utf-8");
                let de = &mut serde_json::Deserializer::from_str(text);
                let envelope: RuntimeEnvelope<'_> =
                    serde_path_to_error::deserialize(de).expect("envelope");
                assert!(envelope.errors.is_none());
                // The data through serde_path_to_error.
                let raw = envelope.data.expect("data");
                let de = &mut serde_json::Deserializer::from_str(raw.get());
                let data: IonData = serde_path_to_error::deserialize(de).expect("data");
                ion_run_count(&data)
            },
        },
        Decoder {
            label: "graphql_client 0.16 derive",
            decode: |b| {
                let r: graphql_client::Response<baselines::get_runs::ResponseData> =
                    serde_json::from_slice(b).expect("decode");
                r.data.as_ref().map_or(0, |d| d.run_count())
            },
        },
        Decoder {
            label: "`serde_json::Value`",
            decode: |b| {
                let v: serde_json::Value = serde_json::from_slice(b).expect("decode");
                v["data"]["runs"]["edges"].as_array().map_or(0, Vec::len)
            },
        },
        Decoder {
            label: "hand-written struct",
            decode: |b| {
                serde_json::from_slice::<hand::Envelope>(b)
                    .expect("decode")
                    .run_count()
            },
        },
        Decoder {
            label: "hand-written + `Option<Vec<Option<…>>>` shapes",
            decode: |b| {
                serde_json::from_slice::<hand_nullable::Envelope>(b)
                    .expect("decode")
                    .run_count()
            },
        },
        Decoder {
            label: "hand-written + `deny_unknown_fields`",
            decode: |b| {
                serde_json::from_slice::<hand_strict::Envelope>(b)
                    .expect("decode")
                    .run_count()
            },
        },
    ]
}

type ListRunsData = ion_client::operations::list_runs::ResponseData;

fn list_runs_count(data: &ListRunsData) -> usize {
    data.runs.as_ref().map_or(0, |r| {
        r.edges
            .iter()
            .flatten()
            .filter(|e| e.node.is_some())
            .count()
    })
}

/// The decoders of the `ListRuns` table: the runtime's success path beside serde_json over the
/// bytes, into the same generated types (the first is the baseline of the table's ratios).
pub fn list_runs_decoders() -> Vec<Decoder> {
    vec![
        Decoder {
            label: "serde_json over the bytes (`from_slice`), as a hand-written reqwest client decodes",
            decode: |b| {
                let r: graphql_client::Response<ListRunsData> =
                    serde_json::from_slice(b).expect("decode");
                r.data.as_ref().map_or(0, list_runs_count)
            },
        },
        Decoder {
            label: "ion-client's success path (UTF-8 checked once, then its quick reader)",
            decode: |b| {
                let data: ListRunsData =
                    ion_client::__private::decode_good_response(b).expect("decode");
                list_runs_count(&data)
            },
        },
    ]
}

/// What one decoder did on one body.
pub struct Measured {
    /// Seconds per decode: the median over the rounds.
    pub seconds: f64,
    pub allocations: usize,
    pub allocated_bytes: usize,
}

/// Decodes `body` with every decoder, `iterations` times per round, rounds alternating
/// between decoders so every decoder sees the same machine noise.
pub fn measure(
    decoders: &[Decoder],
    body: &[u8],
    runs: usize,
    rounds: usize,
    iterations: usize,
) -> Vec<Measured> {
    // Allocations: one decode, counted alone (nothing else runs on this process's other
    // threads while the decode table is measured; the canned server idles).
    let allocations: Vec<(usize, usize)> = decoders
        .iter()
        .map(|d| {
            let region = Region::new(GLOBAL);
            let found = (d.decode)(body);
            let stats = region.change();
            assert_eq!(found, runs, "{} decoded the wrong number of runs", d.label);
            (
                stats.allocations + stats.reallocations,
                stats.bytes_allocated,
            )
        })
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); decoders.len()];
    for round in 0..rounds {
        for offset in 0..decoders.len() {
            let i = (round + offset) % decoders.len();
            let started = std::time::Instant::now();
            for _ in 0..iterations {
                std::hint::black_box((decoders[i].decode)(std::hint::black_box(body)));
            }
            times[i].push(started.elapsed().as_secs_f64() / iterations as f64);
        }
    }
    times
        .into_iter()
        .zip(allocations)
        .map(|(t, (allocations, allocated_bytes))| Measured {
            seconds: crate::median(t),
            allocations,
            allocated_bytes,
        })
        .collect()
}
