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

/// A token and a client secret, the secret with a `"` in it (escaped differently by JSON and
/// by `Debug`).
fn secrets() -> impl Strategy<Value = (String, String)> {
    ("[A-Za-z0-9_-]{10,20}", "[a-z0-9]{4,8}", "[a-z0-9]{4,8}")
        .prop_map(|(token, a, b)| (format!("tok-{token}"), format!("sec-{a}\"{b}")))
}

/// A string of about `len` bytes of filler with `secret` at `at` (a fraction of the way), or
/// straddling the end of the 16 KiB an error reads of a string when `straddle` says how many
/// of its bytes come before it.
fn with_secret_at(len: usize, at: f64, secret: &str, straddle: Option<usize>) -> String {
    let limit = crate::wire::EXCERPT_INPUT_BYTES;
    let before = match straddle {
        Some(k) if len > limit => limit - k.min(secret.len() - 1),
        _ => ((len as f64) * at) as usize,
    };
    format!("{}{secret}{}", "m".repeat(before), "n".repeat(len - before))
}

/// A string as JSON text, escaped.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// One GraphQL document of the shapes the raw-kind lexer must read: operations of each kind,
/// named or not, anonymous `{ ... }`, fragments, and everywhere comments, commas, strings and
/// block strings holding keywords and braces.
fn document() -> impl Strategy<Value = String> {
    let trivia = prop_oneof![
        Just(" ".to_owned()),
        Just(", ".to_owned()),
        Just("\n".to_owned()),
        Just(" # mutation { query }\n".to_owned()),
    ];
    let value = prop_oneof![
        Just("1".to_owned()),
        Just("-2.5e3".to_owned()),
        Just(r#""mutation { }""#.to_owned()),
        Just(r#""a \" } query""#.to_owned()),
        Just("\"\"\"block { mutation \\\"\"\" }\n\"\"\"".to_owned()),
        Just("{a: [1, {b: \"}\"}]}".to_owned()),
        Just("ENUM".to_owned()),
    ];
    let field = (
        "[a-z][a-zA-Z0-9]{0,6}",
        prop::option::of(value.clone()),
        trivia.clone(),
    )
        .prop_map(|(name, arg, t)| match arg {
            Some(v) => format!("{name}(x: {v}){t}"),
            None => format!("{name}{t}"),
        });
    let selection =
        prop::collection::vec(field, 1..4).prop_map(|fields| format!("{{ {} }}", fields.join(" ")));
    let nested =
        (selection.clone(), "[a-z]{1,5}").prop_map(|(inner, name)| format!("{{ {name} {inner} }}"));
    let selection = prop_oneof![selection, nested];
    let operation = (
        prop_oneof![
            Just("query"),
            Just("mutation"),
            Just("subscription"),
            Just("")
        ],
        prop::option::of("[A-Z][a-zA-Z0-9]{0,6}"),
        prop::option::of(value),
        any::<bool>(),
        selection.clone(),
        trivia.clone(),
    )
        .prop_map(|(keyword, name, default, directive, selection, t)| {
            if keyword.is_empty() {
                return format!("{t}{selection}");
            }
            let name = name.map(|n| format!(" {n}")).unwrap_or_default();
            let variables = default
                .map(|v| format!("($v: In = {v}{t})"))
                .unwrap_or_default();
            let directive = if directive { " @d(x: [1])" } else { "" };
            format!("{keyword}{name}{variables}{directive}{t}{selection}")
        });
    let fragment = ("[A-Z][a-z]{0,5}", selection)
        .prop_map(|(name, selection)| format!("fragment F{name} on T {selection}"));
    let definition = prop_oneof![3 => operation, 1 => fragment];
    (prop::collection::vec(definition, 1..5), trivia)
        .prop_map(|(definitions, t)| definitions.join(&format!("\n{t}")))
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

    /// Error bodies of any answer but a `200` are quoted as excerpts of their first 16 KiB,
    /// with whitespace and markup collapsed: a secret cut in two by that prefix leaves no part
    /// behind, however far into the body it was.
    #[test]
    fn excerpts_never_show_part_of_a_secret(
        (token, secret) in secrets(),
        straddle in 1usize..24,
        markup in any::<bool>(),
        tail in 0usize..100_000,
    ) {
        let limit = crate::wire::EXCERPT_INPUT_BYTES;
        let which = if markup { &token } else { &secret };
        let filler = if markup { "<i></i>" } else { " " };
        let before = limit - straddle.min(which.len() - 1);
        let mut body = filler.repeat(before / filler.len());
        body.push_str(&" ".repeat(before - body.len()));
        body.push_str(which);
        body.push_str(&"x".repeat(tail));
        let excerpt = crate::wire::excerpt(body.as_bytes(), &[&token, &secret]);
        prop_assert!(!excerpt.contains("tok-") && !excerpt.contains("sec-"), "{excerpt}");
    }

    /// The raw-kind lexer on any text: an answer or `None`, never a panic.
    #[test]
    fn the_raw_kind_lexer_takes_any_text(text in ".{0,200}", name in prop::option::of("[A-Za-z]{1,4}")) {
        let _ = crate::document::operation_kind(&text, name.as_deref());
    }

    /// The raw-kind lexer on valid documents agrees with apollo-compiler's parser: the kind of
    /// each named operation, and of the only one when there is one.
    #[test]
    fn the_raw_kind_lexer_agrees_with_a_real_parser(doc in document()) {
        use apollo_compiler::ast::{Definition, OperationType};
        let Ok(parsed) = apollo_compiler::ast::Document::parse(&doc, "doc.graphql") else {
            // The generator makes syntax only; a name given twice is still syntax.
            return Err(TestCaseError::reject("not a document"));
        };
        let operations: Vec<(crate::OperationKind, Option<String>)> = parsed
            .definitions
            .iter()
            .filter_map(|d| match d {
                Definition::OperationDefinition(op) => Some((
                    match op.operation_type {
                        OperationType::Mutation => crate::OperationKind::Mutation,
                        OperationType::Query | OperationType::Subscription => {
                            crate::OperationKind::Query
                        }
                    },
                    op.name.as_ref().map(|n| n.to_string()),
                )),
                _ => None,
            })
            .collect();
        for (kind, name) in &operations {
            let Some(name) = name else { continue };
            if operations.iter().filter(|(_, n)| n.as_ref() == Some(name)).count() == 1 {
                prop_assert_eq!(
                    crate::document::operation_kind(&doc, Some(name)),
                    Some(*kind),
                    "{} in {:?}", name, doc
                );
            }
        }
        let any_mutation = operations.iter().any(|(k, _)| *k == crate::OperationKind::Mutation);
        let expected = match operations.as_slice() {
            [] => None,
            [(kind, _)] => Some(*kind),
            _ if any_mutation => Some(crate::OperationKind::Mutation),
            _ => Some(crate::OperationKind::Query),
        };
        prop_assert_eq!(crate::document::operation_kind(&doc, None), expected, "{:?}", doc);
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

proptest! {
    // Each case builds bodies of up to a few MiB: fewer cases keep `cargo test` quick.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// `errors[]` of a `200` made as large as a server likes (huge messages and path keys,
    /// many errors, long paths), with the token and a client secret holding a `"` anywhere:
    /// never a panic, every kept part within its bound, and neither secret in any form in
    /// the error's `Display` or `Debug`.
    #[test]
    fn huge_error_bodies_are_kept_within_bounds_and_without_secrets(
        (token, secret) in secrets(),
        (message_len, errors) in prop_oneof![
            (0usize..64, 1usize..300),
            (15_000usize..17_000, 1usize..4),
            (100_000usize..400_000, 1usize..3),
        ],
        at in 0.0f64..1.0,
        path_len in prop_oneof![0usize..8, 60usize..70, 1_000usize..20_000],
        key_len in prop_oneof![0usize..64, 15_000usize..30_000],
        straddle in prop::option::of(1usize..24),
    ) {
        use crate::response::errors::{MAX_ERRORS, MAX_PATH};
        use crate::wire::MESSAGE_CHARS;
        let which = if at < 0.5 { &token } else { &secret };
        let message = quoted(&with_secret_at(message_len, at, which, straddle));
        let key = quoted(&with_secret_at(key_len, at, &token, straddle));
        let mut path: Vec<String> = vec!["0".to_owned(); path_len];
        path.insert(0, key);
        let error = format!(r#"{{"message":{message},"path":[{}],"extensions":{{"seen":{}}}}}"#, path.join(","), quoted(&secret));
        let body = format!(r#"{{"data":{{"echo":{}}},"errors":[{}]}}"#, quoted(&token), vec![error; errors].join(","));
        let delivered = Delivered {
            secrets: vec![
                crate::secret::Secret::new(token.clone()),
                crate::secret::Secret::new(secret.clone()),
            ],
            ..delivered()
        };
        let envelope = crate::response::Envelope::parse(body.as_bytes(), "Op", &delivered);
        let err = match envelope {
            Ok(envelope) => envelope
                .into_data::<serde_json::Value>("Op", crate::OperationKind::Query, &delivered)
                .expect_err("errors[]"),
            Err(e) => e,
        };
        let kept = err.graphql_errors();
        prop_assert!(kept.len() <= MAX_ERRORS && !kept.is_empty());
        for e in kept {
            prop_assert!(e.message.chars().count() <= MESSAGE_CHARS + 1);
            prop_assert!(e.path.as_ref().map_or(0, Vec::len) <= MAX_PATH);
        }
        let display = err.to_string();
        prop_assert!(display.len() <= 2 * (MESSAGE_CHARS + 200) * 4, "{} bytes", display.len());
        let redactor = crate::secret::Redactor::new(&[&token, &secret]);
        prop_assert!(!redactor.shows(&display), "{display}");
        let debug = format!("{err:?}");
        prop_assert!(!redactor.shows(&debug));
        prop_assert!(!debug.contains("tok-"), "no part of the token");
    }

    /// A wrongly typed value as large as a server likes, holding a secret: the decode error
    /// quotes a clipped part of it and no secret in any form.
    #[test]
    fn huge_wrongly_typed_values_are_quoted_clipped_and_redacted(
        (token, secret) in secrets(),
        len in prop_oneof![0usize..64, 100_000usize..400_000],
        at in 0.0f64..1.0,
        straddle in prop::option::of(1usize..24),
    ) {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Data { n: i64 }
        let value = with_secret_at(len, at, if at < 0.5 { &token } else { &secret }, straddle);
        let body = format!(r#"{{"data":{{"n":{}}}}}"#, quoted(&value));
        let delivered = Delivered {
            secrets: vec![
                crate::secret::Secret::new(token.clone()),
                crate::secret::Secret::new(secret.clone()),
            ],
            ..delivered()
        };
        let envelope = crate::response::Envelope::parse(body.as_bytes(), "Op", &delivered);
        let err = envelope
            .and_then(|e| e.into_data::<Data>("Op", crate::OperationKind::Query, &delivered))
            .expect_err("a string is not an i64");
        let display = err.to_string();
        prop_assert!(display.len() < 1000, "{} bytes", display.len());
        let redactor = crate::secret::Redactor::new(&[&token, &secret]);
        prop_assert!(!redactor.shows(&display), "{display}");
        let debug = format!("{err:?}");
        prop_assert!(!redactor.shows(&debug));
    }
}
