//! The kind of an untyped document's operation, read with a small lexer rather than a GraphQL
//! parser (the runtime has none): enough to tell which operation a [`RawRequest`] runs and
//! whether it is a mutation, so that the retry policy never replays a mutation sent as a
//! query.
//!
//! The lexer knows what can hide a keyword: comments, strings, block strings (with their
//! `\"""` escape), commas and nesting. Only top-level definitions are read: an operation
//! (`query`, `mutation`, `subscription`, optionally named), an anonymous `{ ... }` (a query),
//! or a `fragment`, each skipped to the end of its selection set.
//!
//! [`RawRequest`]: crate::RawRequest

use crate::OperationKind;

/// The kind of the operation `operation_name` selects in `document` (the only operation when
/// `None`), or `None` when the document cannot be read as operations and fragments.
///
/// When the selection is ambiguous (no name and several operations, or a name that no
/// operation has: the server refuses either), the document counts as a mutation if any of
/// its operations is one. A subscription counts as a query: it reads.
pub(crate) fn operation_kind(
    document: &str,
    operation_name: Option<&str>,
) -> Option<OperationKind> {
    let operations = operations(document)?;
    let selected: Vec<OperationKind> = match operation_name {
        Some(name) => operations
            .iter()
            .filter(|(_, n)| *n == Some(name))
            .map(|(kind, _)| *kind)
            .collect(),
        None => operations.iter().map(|(kind, _)| *kind).collect(),
    };
    match selected.as_slice() {
        [kind] => Some(*kind),
        _ if operations.is_empty() => None,
        _ => Some(
            if operations
                .iter()
                .any(|(kind, _)| *kind == OperationKind::Mutation)
            {
                OperationKind::Mutation
            } else {
                OperationKind::Query
            },
        ),
    }
}

/// Every operation of `document`, with its kind and name, or `None` when it is not a list of
/// operations and fragments.
fn operations(document: &str) -> Option<Vec<(OperationKind, Option<&str>)>> {
    let mut lexer = Lexer::new(document);
    let mut out = Vec::new();
    while let Some(token) = lexer.token()? {
        match token {
            Token::Punct(b'{') => {
                lexer.skip_block()?;
                out.push((OperationKind::Query, None));
            }
            Token::Name(keyword @ ("query" | "mutation" | "subscription")) => {
                let kind = if keyword == "mutation" {
                    OperationKind::Mutation
                } else {
                    OperationKind::Query
                };
                // An optional name, then variables and directives up to the selection set.
                let mut name = None;
                let mut token = lexer.token()?;
                if let Some(Token::Name(n)) = token {
                    name = Some(n);
                    token = lexer.token()?;
                }
                lexer.skip_to_selection_set(token)?;
                out.push((kind, name));
            }
            Token::Name("fragment") => {
                let token = lexer.token()?;
                lexer.skip_to_selection_set(token)?;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// One token: a name, or a punctuator (other tokens, such as strings and numbers, are read
/// and reported as `Other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Name(&'a str),
    Punct(u8),
    Other,
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, at: 0 }
    }

    /// The next token; `Ok(None)` at the end; `None` for text that is not GraphQL.
    fn token(&mut self) -> Option<Option<Token<'a>>> {
        let bytes = self.text.as_bytes();
        loop {
            let Some(&b) = bytes.get(self.at) else {
                return Some(None);
            };
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.at += 1,
                b'#' => {
                    while bytes
                        .get(self.at)
                        .is_some_and(|&b| b != b'\n' && b != b'\r')
                    {
                        self.at += 1;
                    }
                }
                // A byte order mark.
                0xEF if self.text[self.at..].starts_with('\u{FEFF}') => self.at += 3,
                _ => break,
            }
        }
        let start = self.at;
        let b = bytes[start];
        let token = match b {
            b'"' if self.text[start..].starts_with("\"\"\"") => {
                self.at += 3;
                loop {
                    let rest = &self.text[self.at..];
                    if rest.starts_with("\\\"\"\"") {
                        self.at += 4;
                    } else if rest.starts_with("\"\"\"") {
                        self.at += 3;
                        break;
                    } else if rest.is_empty() {
                        return None;
                    } else {
                        self.at += rest.chars().next().map_or(1, char::len_utf8);
                    }
                }
                Token::Other
            }
            b'"' => {
                self.at += 1;
                loop {
                    match bytes.get(self.at) {
                        None | Some(b'\n' | b'\r') => return None,
                        Some(b'\\') => self.at += 2,
                        Some(b'"') => {
                            self.at += 1;
                            break;
                        }
                        Some(_) => self.at += 1,
                    }
                }
                Token::Other
            }
            b'.' if self.text[start..].starts_with("...") => {
                self.at += 3;
                Token::Other
            }
            b'!' | b'$' | b'&' | b'(' | b')' | b':' | b'=' | b'@' | b'[' | b']' | b'{' | b'|'
            | b'}' => {
                self.at += 1;
                Token::Punct(b)
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    self.at += 1;
                }
                Token::Name(&self.text[start..self.at])
            }
            b'-' | b'0'..=b'9' => {
                self.at += 1;
                while bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
                {
                    self.at += 1;
                }
                Token::Other
            }
            _ => return None,
        };
        Some(Some(token))
    }

    /// Skips from `token` (the first after an operation's or fragment's name) through its
    /// selection set: variables and directives (with their nested values), then the block.
    fn skip_to_selection_set(&mut self, mut token: Option<Token<'a>>) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match token? {
                Token::Punct(b'{') if depth == 0 => return self.skip_block(),
                Token::Punct(b'(' | b'[' | b'{') => depth += 1,
                Token::Punct(b')' | b']' | b'}') => depth = depth.checked_sub(1)?,
                _ => {}
            }
            token = self.token()?;
        }
    }

    /// Skips to the end of a block whose `{` was just read.
    fn skip_block(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.token()?? {
                Token::Punct(b'(' | b'[' | b'{') => depth += 1,
                Token::Punct(b')' | b']' | b'}') => depth -= 1,
                _ => {}
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperationKind::{Mutation, Query};

    #[test]
    fn the_selected_operation_decides() {
        let cases: &[(&str, Option<&str>, Option<OperationKind>)] = &[
            ("{ runs { id } }", None, Some(Query)),
            ("query { a }", None, Some(Query)),
            ("mutation M { a }", None, Some(Mutation)),
            ("  mutation{a}", None, Some(Mutation)),
            ("subscription S { a }", None, Some(Query)),
            // Comments, strings and block strings hide nothing.
            ("# mutation\nquery Q { a }", None, Some(Query)),
            (
                "query Q($s: String = \"mutation { x }\") { a }",
                None,
                Some(Query),
            ),
            (
                "query Q @d(x: \"\"\"\n mutation \\\"\"\" { \n\"\"\") { a }",
                None,
                Some(Query),
            ),
            ("# query\nmutation M { a }", None, Some(Mutation)),
            // Variables with object defaults and directives before the selection set.
            (
                "mutation M($i: In = {a: [1, {b: 2}]}) @x(y: {z: 1}) { a }",
                None,
                Some(Mutation),
            ),
            // Fragments, before or after, are not operations.
            (
                "fragment F on T { a { b } }\nmutation M { ...F }",
                None,
                Some(Mutation),
            ),
            // Several operations: the name selects; without one, any mutation wins.
            ("query A { a } mutation B { b }", Some("A"), Some(Query)),
            ("query A { a } mutation B { b }", Some("B"), Some(Mutation)),
            ("query A { a } mutation B { b }", None, Some(Mutation)),
            ("query A { a } query B { b }", None, Some(Query)),
            ("query A { a } mutation B { b }", Some("C"), Some(Mutation)),
            // Not a document this can read.
            ("", None, None),
            ("query Q { a", None, None),
            ("query Q { a(s: \"open) }", None, None),
            ("type Query { a: Int }", None, None),
            ("query Q { a } }", None, None),
            ("query Q { é }", None, None),
        ];
        for (document, name, expected) in cases {
            assert_eq!(
                operation_kind(document, *name),
                *expected,
                "{document:?} {name:?}"
            );
        }
    }
}
