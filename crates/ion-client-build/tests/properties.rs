//! Properties of the generator over the shipped schema: for arbitrary *valid* operations it
//! either generates Rust that parses or reports errors that each name a `file:line:column`; for
//! arbitrary *broken* texts (mutations of valid ones) it reports located errors. It never
//! panics.
//!
//! The operations are written by [`Writer`] from a stream of random choices (proptest shrinks
//! the stream, so a failure shrinks to a small operation): a walk from `Query` or `Mutation`
//! down to a bounded depth with random fields, aliases, inline fragments on unions and
//! interfaces, named fragments, `@include`/`@skip`, every required argument bound to a variable
//! of its exact type and optional arguments sometimes. Every case is first checked valid by
//! apollo-compiler, so the strategy itself is tested too.
//!
//! 64 valid and 16 broken cases by default so CI stays quick (each case loads the 17,000-line
//! schema); `PROPTEST_CASES=1000` runs more by hand.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use apollo_compiler::schema::{ExtendedType, FieldDefinition, Implementers};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Schema};
use ion_client_build::{Diagnostics, Generated, Options, SHIPPED_SCHEMA, SourceFile, generate};
use proptest::prelude::*;

/// How deep a walk goes below the root field (leaf fields only at the bottom).
const MAX_DEPTH: u32 = 3;
/// At most this many fields per selection set (plus fragments).
const MAX_FIELDS: usize = 3;
const SCHEMA_PATH: &str = "schema/ion.graphql";
const OPERATION_PATH: &str = "op.graphql";

static SCHEMA: LazyLock<Valid<Schema>> = LazyLock::new(|| {
    Schema::parse_and_validate(SHIPPED_SCHEMA, SCHEMA_PATH).expect("the shipped schema is valid")
});
static IMPLEMENTERS: LazyLock<HashMap<Name, Implementers>> =
    LazyLock::new(|| SCHEMA.implementers_map().into_iter().collect());

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Random choices read from proptest's numbers; past the end every choice is the first option
/// and every "sometimes" is no, so a shrunk stream gives a small operation.
struct Dice {
    numbers: Vec<u32>,
    next: usize,
}

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        let v = self.numbers.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        if n == 0 { 0 } else { v as usize % n }
    }
    /// True with probability 1 in `n`; false once the numbers run out.
    fn one_in(&mut self, n: usize) -> bool {
        let exhausted = self.next >= self.numbers.len();
        self.below(n) == 0 && !exhausted
    }
}

/// Writes one operation (and the named fragments it spreads) from a [`Dice`].
struct Writer {
    dice: Dice,
    /// `(name, type)` of every variable, in declaration order.
    variables: Vec<(String, String)>,
    fragments: Vec<String>,
    counter: u32,
}

impl Writer {
    fn new(numbers: Vec<u32>) -> Writer {
        Writer {
            dice: Dice { numbers, next: 0 },
            variables: Vec::new(),
            fragments: Vec::new(),
            counter: 0,
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn variable(&mut self, wanted: &str, ty: String) -> String {
        let taken = self.variables.iter().any(|(n, _)| n == wanted);
        // `$after` keeps its name once, so a connection can page (the generator's rule).
        let name = if wanted == "after" && !taken {
            wanted.to_owned()
        } else {
            self.fresh("v")
        };
        self.variables.push((name.clone(), ty));
        name
    }

    fn operation(mut self) -> String {
        let mutation = self.dice.one_in(4);
        let (keyword, root) = if mutation {
            ("mutation", "Mutation")
        } else {
            ("query", "Query")
        };
        let body = self.selection_set(root, MAX_DEPTH + 1, false);
        let name = if self.dice.one_in(8) { "" } else { " Op" };
        let variables = if self.variables.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = self
                .variables
                .iter()
                .map(|(n, t)| format!("${n}: {t}"))
                .collect();
            format!("({})", list.join(", "))
        };
        let mut text = format!("{keyword}{name}{variables} {body}\n");
        for f in &self.fragments {
            text.push_str(f);
            text.push('\n');
        }
        text
    }

    /// `{ ... }` on type `ty`. `aliased`: every field gets a fresh alias, so the fields of a
    /// fragment never share a response key with the fields beside it (which would have to
    /// merge, and random fields seldom can).
    fn selection_set(&mut self, ty: &str, depth: u32, aliased: bool) -> String {
        let mut items: Vec<String> = Vec::new();
        match SCHEMA.types.get(ty) {
            Some(ExtendedType::Union(u)) => {
                items.push("__typename".into());
                let members: Vec<String> = u.members.iter().map(|m| m.to_string()).collect();
                for _ in 0..1 + self.dice.below(2) {
                    let member = members[self.dice.below(members.len())].clone();
                    items.push(self.fragment(&member, depth));
                }
            }
            Some(ExtendedType::Object(o)) => {
                let fields: Vec<FieldDefinition> =
                    o.fields.values().map(|f| (***f).clone()).collect();
                self.fields(&fields, depth, aliased, &mut items);
                // A fragment on the object's own type; one level shallower so the
                // recursion ends.
                if depth > 1 && self.dice.one_in(4) {
                    let condition = ty.to_owned();
                    items.push(self.fragment(&condition, depth - 1));
                }
            }
            Some(ExtendedType::Interface(i)) => {
                let fields: Vec<FieldDefinition> =
                    i.fields.values().map(|f| (***f).clone()).collect();
                self.fields(&fields, depth, aliased, &mut items);
                let objects: Vec<String> = IMPLEMENTERS
                    .get(ty)
                    .map(|imp| imp.objects.iter().map(|o| o.to_string()).collect())
                    .unwrap_or_default();
                if !objects.is_empty() && !self.dice.one_in(3) {
                    let object = objects[self.dice.below(objects.len())].clone();
                    items.push(self.fragment(&object, depth));
                }
            }
            _ => {}
        }
        if items.is_empty() {
            items.push("__typename".into());
        }
        format!("{{ {} }}", items.join(" "))
    }

    /// Up to [`MAX_FIELDS`] distinct fields of `fields`; only leaves once `depth` is 1.
    fn fields(
        &mut self,
        fields: &[FieldDefinition],
        depth: u32,
        aliased: bool,
        out: &mut Vec<String>,
    ) {
        let usable: Vec<&FieldDefinition> = fields
            .iter()
            .filter(|f| !f.name.starts_with("__"))
            .filter(|f| depth > 1 || is_leaf(f.ty.inner_named_type()))
            .collect();
        if usable.is_empty() {
            return;
        }
        let mut chosen = HashSet::new();
        // A connection pages when it selects `pageInfo` and `edges { node }` beside `$after`:
        // pick those often enough to reach the generator's pagination code.
        let names: Vec<&str> = usable.iter().map(|f| f.name.as_str()).collect();
        if !aliased
            && names.contains(&"pageInfo")
            && names.contains(&"edges")
            && depth > 2
            && !self.dice.one_in(3)
        {
            out.push("pageInfo { hasNextPage endCursor }".into());
            let edge = usable
                .iter()
                .find(|f| f.name == "edges")
                .map(|f| f.ty.inner_named_type().to_string());
            let node = edge
                .as_deref()
                .and_then(|edge| match SCHEMA.types.get(edge) {
                    Some(ExtendedType::Object(o)) => o
                        .fields
                        .get("node")
                        .map(|n| n.ty.inner_named_type().to_string()),
                    _ => None,
                });
            match node {
                Some(node) if !is_leaf(&node) => {
                    let set = self.selection_set(&node, depth - 2, false);
                    out.push(format!("edges {{ node {set} }}"));
                }
                _ => out.push("edges { __typename }".into()),
            }
            chosen.insert("pageInfo".to_owned());
            chosen.insert("edges".to_owned());
        }
        for _ in 0..1 + self.dice.below(MAX_FIELDS) {
            let f = usable[self.dice.below(usable.len())];
            if chosen.insert(f.name.to_string()) {
                out.push(self.field(f, depth, aliased));
            }
        }
    }

    fn field(&mut self, f: &FieldDefinition, depth: u32, aliased: bool) -> String {
        let mut text = String::new();
        if aliased || self.dice.one_in(5) {
            text.push_str(&self.fresh("alias_"));
            text.push_str(": ");
        }
        text.push_str(&f.name);
        let mut args = Vec::new();
        for arg in &f.arguments {
            let required = arg.ty.is_non_null() && arg.default_value.is_none();
            let odds = if arg.name == "after" { 2 } else { 4 };
            if required || self.dice.one_in(odds) {
                let var = self.variable(&arg.name, arg.ty.to_string());
                args.push(format!("{}: ${var}", arg.name));
            }
        }
        if !args.is_empty() {
            text.push_str(&format!("({})", args.join(", ")));
        }
        text.push_str(&self.directive());
        let inner = f.ty.inner_named_type().to_string();
        if !is_leaf(&inner) {
            text.push(' ');
            text.push_str(&self.selection_set(&inner, depth - 1, false));
        }
        text
    }

    /// Sometimes `@include`/`@skip`, on a variable or a literal.
    fn directive(&mut self) -> String {
        if !self.dice.one_in(6) {
            return String::new();
        }
        let name = if self.dice.one_in(2) {
            "include"
        } else {
            "skip"
        };
        let condition = match self.dice.below(3) {
            0 => "true".to_owned(),
            1 => "false".to_owned(),
            _ => format!("${}", self.variable("b", "Boolean!".into())),
        };
        format!(" @{name}(if: {condition})")
    }

    /// An inline fragment or a spread of a new named fragment on `ty`.
    fn fragment(&mut self, ty: &str, depth: u32) -> String {
        let body = self.selection_set(ty, depth, true);
        let directive = self.directive();
        if self.dice.one_in(2) {
            format!("... on {ty}{directive} {body}")
        } else {
            let name = self.fresh("Frag");
            self.fragments
                .push(format!("fragment {name} on {ty} {body}"));
            format!("...{name}{directive}")
        }
    }
}

fn is_leaf(ty: &str) -> bool {
    matches!(
        SCHEMA.types.get(ty),
        Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_))
    )
}

fn run_generator(text: &str) -> std::thread::Result<Result<Generated, Diagnostics>> {
    let schema = SourceFile::new(SCHEMA_PATH, SHIPPED_SCHEMA);
    let queries = [SourceFile::new(OPERATION_PATH, text)];
    catch_unwind(AssertUnwindSafe(|| {
        generate(&schema, &queries, &Options::default())
    }))
}

/// A line and column in one of the inputs.
fn is_located(location: Option<&ion_client_build::Location>) -> bool {
    location.is_some_and(|at| {
        (at.file == std::path::Path::new(OPERATION_PATH)
            || at.file == std::path::Path::new(SCHEMA_PATH))
            && at.line > 0
            && at.column > 0
    })
}

/// Generated code parses as Rust, or every diagnostic names a location; no panic.
fn check_outcome(text: &str) -> Result<(), TestCaseError> {
    match run_generator(text) {
        Err(_) => Err(TestCaseError::fail(format!(
            "the generator panicked on:\n{text}"
        ))),
        Ok(Ok(generated)) => {
            for code in
                std::iter::once(&generated.code).chain(generated.files.iter().map(|(_, c)| c))
            {
                syn::parse_file(code).map_err(|e| {
                    TestCaseError::fail(format!("generated code does not parse ({e}) for:\n{text}"))
                })?;
            }
            Ok(())
        }
        Ok(Err(diagnostics)) => {
            for d in &diagnostics.0 {
                prop_assert!(
                    is_located(d.location()),
                    "a diagnostic without a location: {d}\nfor:\n{text}"
                );
            }
            prop_assert!(
                !diagnostics.0.is_empty(),
                "an error with no diagnostic for:\n{text}"
            );
            Ok(())
        }
    }
}

fn valid_operation() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u32>(), 16..256)
        .prop_map(|numbers| Writer::new(numbers).operation())
}

/// One random edit of `text`: a cut, a stray token, a renamed name, or a doubled slice.
fn mutate(text: &str, how: u32, at: usize, len: usize) -> String {
    const TOKENS: [&str; 12] = [
        "{",
        "}",
        "(",
        ")",
        ":",
        "$",
        "@",
        "!",
        "...",
        "\"",
        "query",
        "zz_unknown",
    ];
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len % 12).min(chars.len());
    let head: String = chars[..at].iter().collect();
    let cut: String = chars[at..end].iter().collect();
    let tail: String = chars[end..].iter().collect();
    match how % 4 {
        0 => format!("{head}{tail}"),
        1 => format!("{head}{}{cut}{tail}", TOKENS[len % TOKENS.len()]),
        2 => {
            // Rename the word under `at` to one the schema does not have.
            let start = head
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let rest = &text[head.len()..];
            let word_end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            format!("{}zz_unknown{}", &head[..start], &rest[word_end..])
        }
        _ => format!("{head}{cut}{cut}{tail}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // The generator test binary runs from the crate directory; keep no regression files
        // in the tree (a failure prints its minimal case).
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A valid operation generates Rust that parses, or located errors; never a panic.
    #[test]
    fn valid_operations_generate_or_report_a_location(text in valid_operation()) {
        if let Err(e) = ExecutableDocument::parse_and_validate(&SCHEMA, text.as_str(), OPERATION_PATH) {
            return Err(TestCaseError::fail(format!(
                "the strategy wrote an invalid operation:\n{text}\n{}",
                e.errors
            )));
        }
        check_outcome(&text)?;
    }

}

proptest! {
    // A handful: each case costs a schema load, and the syntax and validation errors they
    // reach are few in kind.
    #![proptest_config(ProptestConfig {
        cases: cases().div_ceil(4),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A broken operation gives located errors (or, when the edit kept it valid, code); never
    /// a panic.
    #[test]
    fn broken_operations_report_a_location(
        text in valid_operation(),
        how in any::<u32>(),
        at in any::<usize>(),
        len in any::<usize>(),
    ) {
        check_outcome(&mutate(&text, how, at, len))?;
    }
}

#[test]
fn the_writer_reaches_every_construct() {
    // Over a fixed set of streams, the writer uses each construct the properties claim to
    // cover (a guard against a strategy that silently stopped producing one).
    let mut seen: HashSet<&str> = HashSet::new();
    let mut rng = proptest::test_runner::TestRng::deterministic_rng(
        proptest::test_runner::RngAlgorithm::ChaCha,
    );
    for _ in 0..200 {
        let numbers: Vec<u32> = (0..256).map(|_| rng.next_u32()).collect();
        let text = Writer::new(numbers).operation();
        for (needle, name) in [
            ("mutation", "mutation"),
            ("... on", "inline fragment"),
            ("fragment Frag", "named fragment"),
            ("@include", "@include"),
            ("@skip", "@skip"),
            ("alias_", "alias"),
            ("$after", "$after"),
            ("pageInfo", "pageInfo"),
        ] {
            if text.contains(needle) {
                seen.insert(name);
            }
        }
    }
    for name in [
        "mutation",
        "inline fragment",
        "named fragment",
        "@include",
        "@skip",
        "alias",
        "$after",
        "pageInfo",
    ] {
        assert!(seen.contains(name), "no operation used {name}");
    }
}
