//! Diagnostics: what is wrong and where, as structured values.
//!
//! A [`Diagnostic`] keeps its place as a [`Location`] (file, line, column), so callers compare
//! and sort places without parsing text back; its `Display` is the one-line
//! `file:line:column: error: message` users see.
//!
//! Invariant: every diagnostic about a source file names its file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use apollo_compiler::diagnostic::ToCliReport;
use apollo_compiler::parser::{SourceMap, SourceSpan};
use apollo_compiler::validation::DiagnosticList;

/// A place in a source file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file, as given in its [`SourceFile::path`](crate::SourceFile::path).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Location {
    /// The start of `span` in `sources`, when the span and its file are known.
    pub(crate) fn of(sources: &SourceMap, span: Option<SourceSpan>) -> Option<Location> {
        let span = span?;
        let range = span.line_column_range(sources)?;
        let file = sources.get(&span.file_id())?;
        Some(Location {
            file: file.path().to_path_buf(),
            line: range.start.line,
            column: range.start.column,
        })
    }
}

impl fmt::Display for Location {
    /// `file:line:column`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Where a diagnostic points: a place in a file, a whole file, or nothing in the sources (a
/// problem in generated code).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// A line and column in a file.
    At(Location),
    /// A file, when the node involved carries no position.
    File(PathBuf),
    /// No source file (for example the generated code itself).
    Nowhere,
}

impl Place {
    /// The place of `span`, or the whole `file` when the span is unknown.
    pub(crate) fn of(sources: &SourceMap, span: Option<SourceSpan>, file: &Path) -> Place {
        match Location::of(sources, span) {
            Some(at) => Place::At(at),
            None => Place::File(file.to_path_buf()),
        }
    }

    /// The line and column, when known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Place::At(at) => Some(at),
            Place::File(_) | Place::Nowhere => None,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::At(at) => at.fmt(f),
            Place::File(file) => write!(f, "{}", file.display()),
            Place::Nowhere => f.write_str("<generated code>"),
        }
    }
}

/// One problem found in the schema or an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where.
    pub place: Place,
    /// What is wrong, naming the offending name or value.
    pub message: String,
    /// The rendered report with source excerpts (may be empty).
    pub report: String,
}

impl Diagnostic {
    /// A diagnostic with no rendered report.
    pub(crate) fn new(place: Place, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            place,
            message: message.into(),
            report: String::new(),
        }
    }

    /// The line and column, when known.
    pub fn location(&self) -> Option<&Location> {
        self.place.location()
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: error: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.place, self.message)
    }
}

/// Every problem that stopped validation or generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} error(s) in GraphQL sources:", self.0.len())?;
        for d in &self.0 {
            writeln!(f, "{d}")?;
            if !d.report.is_empty() {
                writeln!(f, "{}", d.report.trim_end())?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// apollo-compiler's diagnostics as ours, with the rendered report (which points at the
/// schema definition involved).
pub(crate) fn from_apollo(list: &DiagnosticList) -> Vec<Diagnostic> {
    list.iter()
        .map(|d| {
            let place = d
                .error
                .location()
                .and_then(|span| {
                    let range = d.line_column_range()?;
                    let file = d.sources.get(&span.file_id())?;
                    Some(Place::At(Location {
                        file: file.path().to_path_buf(),
                        line: range.start.line,
                        column: range.start.column,
                    }))
                })
                .unwrap_or(Place::Nowhere);
            Diagnostic {
                place,
                message: d.error.to_string(),
                report: d
                    .to_report(apollo_compiler::diagnostic::Color::Never)
                    .into_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_column_then_the_message() {
        let at = Location {
            file: PathBuf::from("queries/a.graphql"),
            line: 2,
            column: 21,
        };
        let d = Diagnostic::new(Place::At(at), "type `Thing` does not have a field `nope`");
        assert_eq!(
            d.to_string(),
            "queries/a.graphql:2:21: error: type `Thing` does not have a field `nope`"
        );
        assert_eq!(d.location().map(|l| (l.line, l.column)), Some((2, 21)));
        let file = Diagnostic::new(Place::File("q.graphql".into()), "m");
        assert_eq!(file.to_string(), "q.graphql: error: m");
        assert_eq!(file.location(), None);
        assert_eq!(
            Diagnostic::new(Place::Nowhere, "m").to_string(),
            "<generated code>: error: m"
        );
    }
}
