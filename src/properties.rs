//! Property tests: decoders and parsers fed arbitrary input never panic, and fail with a typed
//! error that says where.
//!
//! proptest (a dev-dependency only, with its default features off) generates the inputs and
//! shrinks a failure to its smallest form; the cases run with every `cargo test`.

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::Value;

use crate::transport::Delivered;
use crate::{Environment, ErrorKind};

/// Any JSON value, a few levels deep, with the keys a GraphQL response uses mixed in so the
/// decoders get past their first checks.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("data".to_owned()),
            Just("errors".to_owned()),
            Just("message".to_owned()),
            Just("runs".to_owned()),
            Just("edges".to_owned()),
            Just("node".to_owned()),
            Just("pageInfo".to_owned()),
            Just("id".to_owned()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn delivered() -> Delivered {
    Delivered {
        body: Bytes::new(),
        trace_id: None,
        attempts: 1,
        fixture: None,
        secrets: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The envelope decoder and a generated `ResponseData` on arbitrary JSON: an answer or a
    /// typed error, never a panic; a decode error of `data` names its JSON path.
    #[cfg(feature = "starter")]
    #[test]
    fn the_response_decoder_never_panics(value in json(), wrap in any::<bool>()) {
        let body = if wrap { serde_json::json!({ "data": value }) } else { value };
        let text = body.to_string();
        let delivered = delivered();
        match crate::response::Envelope::parse(text.as_bytes(), "GetRuns", &delivered) {
            Err(e) => prop_assert!(matches!(e.kind(), ErrorKind::Decode { .. }), "{e:?}"),
            Ok(envelope) => {
                let decoded = envelope.into_data::<crate::operations::get_runs::ResponseData>(
                    "GetRuns",
                    crate::OperationKind::Query,
                    &delivered,
                );
                if let Err(e) = decoded {
                    match e.kind() {
                        ErrorKind::Decode { path, .. } => {
                            prop_assert!(path.starts_with("data"), "{e}");
                        }
                        ErrorKind::Graphql { .. } => {}
                        other => prop_assert!(false, "unexpected kind {other:?}"),
                    }
                }
            }
        }
    }

    /// The one-pass decoder of the success path on arbitrary JSON, whole or cut anywhere: a
    /// whole body is complete, and every body the transport's own rule calls cut short is cut
    /// short for it too (it may also call a cut inside a number cut short, where the untyped
    /// rule sees an invalid number).
    #[cfg(feature = "starter")]
    #[test]
    fn the_one_pass_decoder_never_panics(value in json(), cut in any::<prop::sample::Index>()) {
        let text = serde_json::json!({ "data": value }).to_string();
        let one_pass = crate::response::OnePass::<crate::operations::get_runs::ResponseData>::new();
        prop_assert!(one_pass.check(text.as_bytes()), "a whole body is complete");
        let cut = &text.as_bytes()[..cut.index(text.len())];
        let complete = one_pass.check(cut);
        prop_assert!(!(complete && crate::transport::ends_early(cut)), "{:?}", String::from_utf8_lossy(cut));
    }

    /// Bytes that are not even JSON.
    #[test]
    fn the_envelope_decoder_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let delivered = delivered();
        if let Err(e) = crate::response::Envelope::parse(&bytes, "GetRuns", &delivered) {
            prop_assert!(matches!(e.kind(), ErrorKind::Decode { .. }), "{e:?}");
        }
    }

    /// `Retry-After`: any text; whole seconds are read exactly, anything else is a date or
    /// nothing.
    #[test]
    fn retry_after_parses_any_text(text in ".{0,40}", secs in any::<u64>()) {
        let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let _ = crate::wire::parse_retry_after(&text, now);
        prop_assert_eq!(
            crate::wire::parse_retry_after(&secs.to_string(), now),
            Some(std::time::Duration::from_secs(secs))
        );
    }

    /// `expires_in`: any JSON, and numbers beyond `f64`; the lifetime used is always within
    /// the bounds.
    #[test]
    fn expires_in_is_always_within_bounds(
        value in json(),
        huge in "-?[1-9][0-9]{0,3}(\\.[0-9]{1,3})?[eE][+-]?[0-9]{3,5}",
        pick_huge in any::<bool>(),
    ) {
        use crate::auth::keycloak::{
            DEFAULT_TOKEN_LIFETIME, Lifetime, MAX_TOKEN_LIFETIME, MIN_TOKEN_LIFETIME,
        };
        let raw = if pick_huge {
            serde_json::value::RawValue::from_string(huge).expect("a JSON number")
        } else {
            serde_json::value::to_raw_value(&value).expect("JSON")
        };
        let used = match crate::auth::keycloak::token_lifetime(Some(&raw)) {
            Lifetime::Given(d) | Lifetime::Clamped { used: d, .. } => d,
            Lifetime::Default | Lifetime::Unreadable(_) => DEFAULT_TOKEN_LIFETIME,
        };
        prop_assert!((MIN_TOKEN_LIFETIME..=MAX_TOKEN_LIFETIME).contains(&used));
    }

    /// Environment names and endpoint URLs: any text parses or is a configuration error,
    /// and no message quotes a password.
    #[test]
    fn environments_and_urls_parse_any_text(text in ".{0,40}", user in "[a-z]{1,8}") {
        if let Err(e) = text.parse::<Environment>() {
            prop_assert!(matches!(e.kind(), ErrorKind::Configuration));
        }
        let _ = crate::environment::parse_endpoint("API URL", &text);
        let with_password = format!("https://{user}:Pa55-{user}@{text}");
        if let Err(e) = crate::environment::parse_endpoint("API URL", &with_password) {
            let e = crate::Error::from(e);
            prop_assert!(matches!(e.kind(), ErrorKind::Configuration));
            prop_assert!(!e.to_string().contains(&format!("Pa55-{user}")), "{e}");
        }
        prop_assert!(!crate::environment::redact_url(&with_password).contains("Pa55-"));
    }
}
