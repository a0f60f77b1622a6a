//! The success path's decode against serde_json reading the bytes, on JSON the generated types
//! meet and its near misses: valid responses (a `GetRun` with a union, a `Json` value, enums,
//! timestamps and an `@include` that may be absent; a `ListRuns` page; a struct of every
//! scalar) changed at random: a value replaced by an edge case (numbers at the `i64`/`u64`
//! limits and beyond, negative zero, exponents, escapes, lone surrogates, control characters,
//! wrong types, nesting past serde_json's limit), a member repeated, dropped, added or its key
//! written with an escape, whitespace of every kind, the text cut anywhere, trailing bytes and
//! invalid UTF-8. Both give the same value, or the same error at the same place, and the same
//! verdict on whether the body was cut short.

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::TypedEnvelope;
use crate::Id;
use crate::scalars::{DateTime, Decimal, Json};

/// Every scalar shape a generated struct holds.
#[derive(Debug, PartialEq)]
struct Scalars {
    id: i64,
    count: Option<i64>,
    ratio: Option<f64>,
    title: Option<String>,
    done: Option<bool>,
    tags: Option<Vec<Option<String>>>,
    key: Option<Id>,
    due: Option<DateTime>,
    amount: Option<Decimal>,
    any: Option<Json>,
    child: Option<Box<Scalars>>,
}
crate::__private::decode_struct!(Scalars {
    0 => id = "id",
    1 => count = "count",
    2 => ratio = "ratio",
    3 => title = "title",
    4 => done = "done",
    5 => tags = "tags",
    6 => key = "key",
    7 => due = "due",
    8 => amount = "amount",
    9 => any = "any",
    10 => child = "child",
});

fn scalars() -> Value {
    json!({"data": {
        "id": 7, "count": -3, "ratio": 0.25, "title": "Kit \"A\" é", "done": true,
        "tags": ["a", null], "key": "R-1", "due": "2026-03-01T08:30:00Z",
        "amount": "12.50", "any": {"a": [1, 2.5, "x", null, {"b": false}]},
        "child": {"id": 1, "key": 9, "amount": 3}
    }, "extensions": {"cost": {"used": 3}}})
}

#[cfg(feature = "starter")]
fn get_run() -> Value {
    let part = json!({"__typename": "Part", "id": 2, "_etag": "e2", "partNumber": "TA-100",
        "revision": "B", "description": "Thruster", "partType": "PART",
        "trackingType": "SERIAL", "unitOfMeasureId": null});
    json!({"data": {"run": {
        "id": 1, "_etag": "e1", "title": "Build", "status": "IN_PROGRESS", "procedureId": 1,
        "partId": 2, "partInventoryId": null, "quantity": 1,
        "dueDate": "2026-03-01T08:30:00Z", "percentComplete": 40, "description": null,
        "scheduledStart": "2026-02-01T08:00:00", "scheduledEnd": null,
        "procedure": {"id": 1, "_etag": "p", "title": "T", "version": 1,
            "status": "RELEASED", "type": "BUILD", "familyId": 1, "isLatestVersion": true},
        "part": null,
        "attributes": [
            {"Etag": "a", "key": "k", "type": "NUMBER", "value": 12.5, "ionValue": part},
            {"Etag": "b", "key": "u", "type": "NEW_KIND", "value": {"x": [1, {"y": null}]},
             "ionValue": {"__typename": "User", "id": 3, "_etag": "u", "name": "Ada",
                "email": null, "deactivated": false}},
            {"Etag": "c", "key": "o", "type": null, "value": null,
             "ionValue": {"__typename": "Team"}}
        ],
        "steps": [{"id": 1, "_etag": "s", "runId": 1, "parentId": null, "position": 1,
            "title": "Kit", "type": "CONTENT", "status": "TODO",
            "startTime": null, "endTime": "2026-03-01T09:00:00Z"}]
    }}})
}

#[cfg(feature = "starter")]
fn list_runs() -> Value {
    let node = |id: i64| {
        json!({"id": id, "_etag": format!("W/\"{id}\""), "title": "Build", "status": "HOLD",
            "procedureId": 1, "partId": null, "partInventoryId": 3, "quantity": null,
            "dueDate": null, "percentComplete": 0})
    };
    json!({"data": {"runs": {"pageInfo": {"hasNextPage": false, "endCursor": null},
        "edges": [{"cursor": "a", "node": node(1)}, {"cursor": "b", "node": node(2)},
            {"cursor": "c", "node": null}]}}})
}

/// Values that stand where another value stood.
const EDGES: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "-0.5",
    "1.0",
    "0.1",
    "12.50",
    "1e5",
    "1E-5",
    "1e400",
    "-1e400",
    "2.5e-324",
    "1.7976931348623157e308",
    "0.30000000000000004",
    "1.0000000000000002",
    "123456789.123456",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "01",
    "1.",
    ".5",
    "+1",
    "1e",
    "-",
    "--1",
    "NaN",
    "Infinity",
    "true",
    "false",
    "null",
    "nul",
    "tru",
    "\"\"",
    "\"TODO\"",
    "\"IN_PROGRESS\"",
    "\"NEW_VALUE\"",
    "\"2026-03-01T08:30:00Z\"",
    "\"2026-03-01\"",
    "\"12.5\"",
    "\"1e3\"",
    "\"ten\"",
    "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
    "\"\\u0041\\u00e9\\u4e2d\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud800\"",
    "\"\\udc00x\"",
    "\"\\u12\"",
    "\"\\x\"",
    "\"\u{1}\"",
    "\"\t\"",
    "\"\u{7f}\u{a0}é😀\"",
    "[]",
    "{}",
    "[1,2,]",
    "{\"a\":1,}",
    "[null]",
    "{\"__typename\":\"Part\"}",
    "{\"__typename\":\"User\",\"id\":1}",
    "{\"id\":1,\"id\":2}",
];

/// Whitespace between tokens: JSON's four.
const SPACES: &[&str] = &["", " ", "\n", "\r\n", "\t", "  \n\t "];

/// Bytes between tokens that are not JSON whitespace.
const NOT_SPACES: &[&str] = &["\u{c}", "\u{a0}", "\u{b}", "\u{0}"];

/// What is appended to a body.
const TRAILERS: &[&str] = &["", " ", "\n", "x", ",", "}", "]", "{}", "\0", "null"];

/// A response as a tree whose leaves are raw text, so an edge value stays as written.
#[derive(Clone, Debug)]
enum Node {
    Raw(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn of(value: &Value) -> Node {
        match value {
            Value::Array(items) => Node::Array(items.iter().map(Node::of).collect()),
            Value::Object(map) => Node::Object(
                map.iter()
                    .map(|(k, v)| (Value::from(k.as_str()).to_string(), Node::of(v)))
                    .collect(),
            ),
            leaf => Node::Raw(leaf.to_string()),
        }
    }

    fn write(&self, space: &str, out: &mut String) {
        match self {
            Node::Raw(text) => out.push_str(text),
            Node::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(space);
                    item.write(space, out);
                }
                out.push(']');
            }
            Node::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(space);
                    out.push_str(key);
                    out.push_str(space);
                    out.push(':');
                    value.write(space, out);
                }
                out.push_str(space);
                out.push('}');
            }
        }
    }

    /// Nodes in this tree, containers and leaves alike.
    fn count(&self) -> usize {
        1 + match self {
            Node::Raw(_) => 0,
            Node::Array(items) => items.iter().map(Node::count).sum(),
            Node::Object(members) => members.iter().map(|(_, v)| v.count()).sum(),
        }
    }

    /// Calls `change` on the `target`-th node, depth first; whether it was reached.
    fn change(&mut self, target: &mut usize, change: &mut dyn FnMut(&mut Node)) -> bool {
        if *target == 0 {
            change(self);
            return true;
        }
        *target -= 1;
        match self {
            Node::Raw(_) => false,
            Node::Array(items) => items.iter_mut().any(|n| n.change(target, change)),
            Node::Object(members) => members.iter_mut().any(|(_, n)| n.change(target, change)),
        }
    }
}

/// One change to a response tree: what to do, to which node, with which edge value.
type Mutation = (u8, prop::sample::Index, prop::sample::Index);

fn mutate(node: &mut Node, (op, at, pick): &Mutation) {
    let mut target = at.index(node.count());
    node.change(&mut target, &mut |n| match (op % 6, &mut *n) {
        (0, _) => *n = Node::Raw(pick.get(EDGES).to_string()),
        (1, Node::Object(members)) if !members.is_empty() => {
            let member = pick.get(members).clone();
            members.push(member);
        }
        (2, Node::Object(members)) if !members.is_empty() => {
            members.remove(pick.index(members.len()));
        }
        (3, Node::Object(members)) => {
            members.push(("\"zz\"".to_owned(), Node::Raw(pick.get(EDGES).to_string())))
        }
        (4, _) => {
            let depth = *pick.get(&[40, 63, 64, 65, 126, 127, 128, 129, 300]);
            let open: String = (0..depth)
                .map(|i| if i % 2 == 0 { "[" } else { "{\"a\":" })
                .collect();
            let close: String = (0..depth)
                .rev()
                .map(|i| if i % 2 == 0 { "]" } else { "}" })
                .collect();
            *n = Node::Raw(format!("{open}1{close}"));
        }
        (5, Node::Object(members)) if !members.is_empty() => {
            // The same key, its first letter written as a `\u` escape.
            let i = pick.index(members.len());
            let key = &members[i].0;
            if let Some(c) = key[1..].chars().next() {
                members[i].0 = format!("\"\\u{:04x}{}", u32::from(c), &key[1 + c.len_utf8()..]);
            }
        }
        _ => {}
    });
}

/// A body: the tree written with `space` between tokens, then cut, extended or given an
/// invalid UTF-8 byte.
fn body(
    node: &Node,
    space: &str,
    cut: Option<prop::sample::Index>,
    trailer: &str,
    invalid: Option<(prop::sample::Index, u8)>,
) -> Vec<u8> {
    let mut text = String::new();
    node.write(space, &mut text);
    text.push_str(trailer);
    let mut bytes = text.into_bytes();
    if let Some((at, byte)) = invalid {
        let at = at.index(bytes.len() + 1);
        bytes.insert(at, byte);
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len() + 1));
    }
    bytes
}

/// A verdict as text, `extensions` in key order (a `HashMap`'s order differs between maps).
fn shown<T: std::fmt::Debug>((decoded, complete): (Option<super::Decoded<T>>, bool)) -> String {
    let decoded = decoded.map(|d| {
        let extensions: Option<std::collections::BTreeMap<_, _>> =
            d.extensions.map(|e| e.into_iter().collect());
        format!("{:?} {extensions:?}", d.data)
    });
    format!("{decoded:?} {complete}")
}

/// A decoded envelope as text, `extensions` in key order.
fn envelope<T: std::fmt::Debug>(decoded: Result<TypedEnvelope<T>, serde_json::Error>) -> String {
    match decoded {
        Ok(e) => {
            let extensions: Option<std::collections::BTreeMap<_, _>> =
                e.extensions.map(|e| e.into_iter().collect());
            format!(
                "{:?} {:?} {extensions:?}",
                e.data,
                e.errors.map(|e| e.len())
            )
        }
        Err(e) => format!("{e:?}"),
    }
}

/// The property for one target type: the success path's decode and serde_json over the bytes
/// agree on the value or the error (message, line and column), and on the verdict.
fn agrees<T: DeserializeOwned + std::fmt::Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(whole) = std::str::from_utf8(bytes) {
        let from_text = serde_json::from_str::<TypedEnvelope<T>>(whole);
        let from_bytes = serde_json::from_slice::<TypedEnvelope<T>>(bytes);
        prop_assert_eq!(envelope(from_text), envelope(from_bytes), "{}", text);
    }
    let reference = super::verdict(serde_json::from_slice::<TypedEnvelope<T>>(bytes), bytes);
    prop_assert_eq!(
        shown(super::one_pass::<T>(bytes)),
        shown(reference),
        "{}",
        text
    );
    Ok(())
}

fn mutated(base: Value) -> impl Strategy<Value = Vec<u8>> {
    let tree = Node::of(&base);
    (
        prop::collection::vec(
            (
                any::<u8>(),
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
            ),
            0..3,
        ),
        prop_oneof![9 => prop::sample::select(SPACES), 1 => prop::sample::select(NOT_SPACES)],
        prop::option::weighted(0.15, any::<prop::sample::Index>()),
        prop_oneof![3 => Just(""), 1 => prop::sample::select(TRAILERS)],
        prop::option::weighted(0.05, (any::<prop::sample::Index>(), 0x80u8..=0xff)),
    )
        .prop_map(move |(mutations, space, cut, trailer, invalid)| {
            let mut tree = tree.clone();
            for m in &mutations {
                mutate(&mut tree, m);
            }
            body(&tree, space, cut, trailer, invalid)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scalars_decode_alike(bytes in mutated(scalars())) {
        agrees::<Scalars>(&bytes)?;
    }

    #[cfg(feature = "starter")]
    #[test]
    fn get_run_decodes_alike(bytes in mutated(get_run())) {
        agrees::<crate::operations::get_run::ResponseData>(&bytes)?;
    }

    #[cfg(feature = "starter")]
    #[test]
    fn list_runs_decodes_alike(bytes in mutated(list_runs())) {
        agrees::<crate::operations::list_runs::ResponseData>(&bytes)?;
    }
}

/// The unchanged responses are read by the quick reader (`wire::from_body`'s first try), not
/// left to serde_json.
#[test]
fn the_unchanged_responses_are_read_by_the_quick_reader() {
    fn quick<T: DeserializeOwned>(body: &Value) -> bool {
        crate::quick_json::from_str::<TypedEnvelope<T>>(&body.to_string())
            .is_some_and(|e| e.data.is_some())
    }
    assert!(quick::<Scalars>(&scalars()));
    #[cfg(feature = "starter")]
    {
        assert!(quick::<crate::operations::get_run::ResponseData>(&get_run()));
        assert!(quick::<crate::operations::list_runs::ResponseData>(
            &list_runs()
        ));
    }
}

#[test]
fn the_unchanged_responses_are_good_ones() {
    assert!(
        super::one_pass::<Scalars>(scalars().to_string().as_bytes())
            .0
            .is_some()
    );
    #[cfg(feature = "starter")]
    {
        use crate::operations::{get_run, list_runs};
        let body = get_run().to_string();
        assert!(
            super::one_pass::<get_run::ResponseData>(body.as_bytes())
                .0
                .is_some()
        );
        let body = list_runs().to_string();
        assert!(
            super::one_pass::<list_runs::ResponseData>(body.as_bytes())
                .0
                .is_some()
        );
    }
}
