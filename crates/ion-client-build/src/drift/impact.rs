//! Locating changes in operations: each field selection, argument and variable matched against
//! the changes at its schema coordinate, then confirmed by validating the operations against the
//! new schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use apollo_compiler::ast::{self, OperationType, Type};
use apollo_compiler::executable::{self, ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::parser::{LineColumn, SourceMap, SourceSpan};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};

use super::diff::{diff_schemas, load_both};
use super::types::{Change, ChangeKind, Consequence, Impact, Severity};
use crate::diagnostic::Location;
use crate::{Diagnostics, SourceFile, sources};

/// What in `operations` the changes from `old` to `new` touch, in file and line order.
///
/// Each operation file is validated against `old` first, together with the fragments it
/// spreads from any of the files (as the generator does). Then each field selection,
/// argument and variable is matched against the changes at its coordinate, and the
/// operations are validated against `new` to confirm what no longer validates.
///
/// # Errors
/// The diagnostics of either schema, or of an operation that does not validate against `old`
/// (its generated code could not exist).
pub fn impact(
    old: &SourceFile,
    new: &SourceFile,
    operations: &[SourceFile],
) -> Result<Vec<Impact>, Diagnostics> {
    let (old, new) = load_both(old, new)?;
    let changes = diff_schemas(&old, &new);
    let mut ignored = Vec::new();
    let files = sources::validate_queries(&old, operations, &mut ignored).map_err(Diagnostics)?;
    let index = ChangeIndex::new(&changes, &old);

    let mut found = Vec::new();
    for file in &files {
        let mut walker = Walker {
            old: &old,
            new: &new,
            index: &index,
            sources: &file.doc.sources,
            out: &mut found,
        };
        walker.document(&file.doc);
    }

    // What the new schema rejects: confirm the candidates the rules flagged, and report the
    // rest on their own.
    let rejected = match sources::validate_queries(&new, operations, &mut ignored) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics,
    };
    let mut impacts: Vec<Impact> = Vec::new();
    let mut explained = vec![false; rejected.len()];
    for candidate in &found {
        let mut consequence = candidate.consequence.clone();
        if candidate.change.severity == Severity::Breaking {
            // The innermost candidate containing a diagnostic takes its message.
            for (i, diagnostic) in rejected.iter().enumerate() {
                let Some(at) = diagnostic.location() else {
                    continue;
                };
                if candidate.contains(at)
                    && !found.iter().any(|other| {
                        other.change.severity == Severity::Breaking
                            && other.contains(at)
                            && candidate.strictly_contains(other)
                    })
                {
                    explained[i] = true;
                    consequence = Consequence::FailsToValidate {
                        message: diagnostic.message.clone(),
                    };
                }
            }
        }
        impacts.push(candidate.to_impact(consequence));
    }
    for (diagnostic, explained) in rejected.iter().zip(explained) {
        if explained {
            continue;
        }
        let (file, line, column) = match diagnostic.location() {
            Some(at) => (at.file.clone(), at.line, at.column),
            None => (PathBuf::from(diagnostic.place.to_string()), 0, 0),
        };
        impacts.push(Impact {
            file,
            line,
            column,
            usage: "operation".to_string(),
            change: None,
            consequence: Consequence::FailsToValidate {
                message: diagnostic.message.clone(),
            },
            severity: Severity::Breaking,
        });
    }
    // By place, the most severe first at each place.
    impacts.sort_by(|a, b| {
        (&a.file, a.line, a.column, b.severity)
            .cmp(&(&b.file, b.line, b.column, a.severity))
            .then_with(|| a.cmp(b))
    });
    impacts.dedup();
    Ok(impacts)
}

/// A change at a place in an operation, before validation against the new schema confirms
/// what fails.
struct Candidate {
    file: PathBuf,
    start: LineColumn,
    end: LineColumn,
    usage: String,
    change: Change,
    consequence: Consequence,
}

impl Candidate {
    fn contains(&self, at: &Location) -> bool {
        let (file, at) = (&at.file, (at.line, at.column));
        *file == self.file
            && at.0 != 0
            && (self.start.line, self.start.column) <= at
            && at <= (self.end.line, self.end.column)
    }

    fn strictly_contains(&self, other: &Candidate) -> bool {
        let (start, end) = (
            (self.start.line, self.start.column),
            (self.end.line, self.end.column),
        );
        let (other_start, other_end) = (
            (other.start.line, other.start.column),
            (other.end.line, other.end.column),
        );
        self.file == other.file
            && start <= other_start
            && other_end <= end
            && (start, end) != (other_start, other_end)
    }

    fn to_impact(&self, consequence: Consequence) -> Impact {
        let severity = match consequence {
            Consequence::KeepsWorking => self.change.severity.min(Severity::Dangerous),
            _ => Severity::Breaking,
        };
        Impact {
            file: self.file.clone(),
            line: self.start.line,
            column: self.start.column,
            usage: self.usage.clone(),
            change: Some(self.change.clone()),
            consequence,
            severity,
        }
    }
}

/// The changes by coordinate, plus the changes that concern every reader of a type (new enum
/// values, new possible types of a union or interface) by type name.
struct ChangeIndex<'c> {
    at: BTreeMap<&'c str, Vec<&'c Change>>,
    /// Changes that make a type's values more varied, by the type read (`Enum`, `Union`,
    /// `Interface`).
    widening: BTreeMap<String, Vec<&'c Change>>,
    /// Enum values removed, by enum: they matter where the enum is sent.
    narrowing: BTreeMap<String, Vec<&'c Change>>,
}

impl<'c> ChangeIndex<'c> {
    fn new(changes: &'c [Change], old: &Schema) -> Self {
        let mut at: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
        let mut widening: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
        let mut narrowing: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
        for change in changes {
            at.entry(change.coordinate.as_str())
                .or_default()
                .push(change);
            let owner = change
                .coordinate
                .split(['.', '('])
                .next()
                .unwrap_or_default()
                .to_string();
            match &change.kind {
                ChangeKind::EnumValueAdded | ChangeKind::UnionMemberAdded { .. } => {
                    widening.entry(owner).or_default().push(change);
                }
                // Readers of the interface may now meet this type; readers of the type itself
                // are unaffected. Only interfaces that existed before matter.
                ChangeKind::InterfaceAdded { interface }
                    if old.types.contains_key(interface.as_str()) =>
                {
                    widening.entry(interface.clone()).or_default().push(change);
                }
                ChangeKind::EnumValueRemoved => {
                    narrowing.entry(owner).or_default().push(change);
                }
                _ => {}
            }
        }
        ChangeIndex {
            at,
            widening,
            narrowing,
        }
    }

    fn at(&self, coordinate: &str) -> &[&'c Change] {
        self.at.get(coordinate).map_or(&[], Vec::as_slice)
    }

    /// The changes at coordinates starting with `prefix` (`Type.field(`, `Input.`).
    fn below<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = &'c Change> + 's {
        self.at
            .range(prefix..)
            .take_while(move |(key, _)| key.starts_with(prefix))
            .flat_map(|(_, changes)| changes.iter().copied())
    }
}

struct Walker<'a, 'c> {
    old: &'a Schema,
    new: &'a Schema,
    index: &'a ChangeIndex<'c>,
    sources: &'a SourceMap,
    out: &'a mut Vec<Candidate>,
}

impl Walker<'_, '_> {
    fn document(&mut self, doc: &ExecutableDocument) {
        let index = self.index;
        for operation in doc.operations.iter() {
            let label = match operation.operation_type {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            for change in index.at("schema") {
                if matches!(change.kind, ChangeKind::RootChanged { operation, .. } if operation == label)
                {
                    let usage = match &operation.name {
                        Some(name) => format!("{label} `{name}`"),
                        None => label.to_string(),
                    };
                    self.push(operation.location(), &usage, change, removed());
                }
            }
            for variable in &operation.variables {
                self.variable(variable);
            }
            self.selection_set(&operation.selection_set);
        }
        for fragment in doc.fragments.values() {
            self.selection_set(&fragment.selection_set);
        }
    }

    fn push(
        &mut self,
        span: Option<SourceSpan>,
        usage: &str,
        change: &Change,
        consequence: Consequence,
    ) {
        let Some(span) = span else {
            return;
        };
        let (Some(range), Some(file)) = (
            span.line_column_range(self.sources),
            self.sources.get(&span.file_id()),
        ) else {
            return;
        };
        self.out.push(Candidate {
            file: file.path().to_path_buf(),
            start: range.start,
            end: range.end,
            usage: usage.to_string(),
            change: change.clone(),
            consequence,
        });
    }

    fn selection_set(&mut self, set: &SelectionSet) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => self.field(&set.ty, field),
                Selection::InlineFragment(inline) => {
                    if let Some(condition) = &inline.type_condition {
                        self.type_condition(inline.location(), &set.ty, condition);
                    }
                    self.selection_set(&inline.selection_set)
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }

    /// `... on Condition` inside a selection on `parent`: the condition may no longer be a
    /// possible type there.
    fn type_condition(&mut self, span: Option<SourceSpan>, parent: &Name, condition: &Name) {
        let index = self.index;
        let usage = format!("fragment on `{condition}`");
        let gone = |change: &&&Change| match &change.kind {
            ChangeKind::UnionMemberRemoved { member } => {
                change.coordinate == parent.as_str() && member == condition.as_str()
            }
            ChangeKind::InterfaceRemoved { interface } => {
                change.coordinate == condition.as_str() && interface == parent.as_str()
            }
            ChangeKind::TypeRemoved { .. } | ChangeKind::TypeKindChanged { .. } => {
                change.coordinate == condition.as_str()
            }
            _ => false,
        };
        let changes: Vec<&Change> = self
            .index
            .at(parent)
            .iter()
            .chain(index.at(condition))
            .filter(gone)
            .copied()
            .collect();
        for change in changes {
            self.push(span, &usage, change, removed());
        }
    }

    fn field(&mut self, parent: &Name, field: &Node<executable::Field>) {
        let index = self.index;
        if field.name.starts_with("__") {
            return;
        }
        let span = field.location();
        let usage = format!("field `{}`", field.response_key());
        let coordinate = format!("{parent}.{}", field.name);
        for change in index.at(&coordinate) {
            let consequence = match &change.kind {
                ChangeKind::FieldRemoved => removed(),
                ChangeKind::FieldTypeChanged { .. } if change.severity == Severity::Breaking => {
                    self.output_type_consequence(&field.definition.ty, &coordinate)
                }
                ChangeKind::DeprecationAdded { .. } | ChangeKind::FieldTypeChanged { .. } => {
                    Consequence::KeepsWorking
                }
                _ => continue,
            };
            self.push(span, &usage, change, consequence);
        }
        // The parent type itself changed kind or went away.
        for change in index.at(parent) {
            if matches!(
                change.kind,
                ChangeKind::TypeRemoved { .. } | ChangeKind::TypeKindChanged { .. }
            ) {
                self.push(span, &usage, change, removed());
            }
        }
        // Arguments: the ones given, and new required ones.
        for definition in &field.definition.arguments {
            let at = format!("{coordinate}({}:)", definition.name);
            let given = field.arguments.iter().find(|a| a.name == definition.name);
            for change in index.at(&at) {
                let consequence = match (&change.kind, given) {
                    (ChangeKind::ArgumentRemoved, Some(_)) => removed(),
                    // Validation against the new schema tells whether the value given still
                    // fits (a variable of the old type does not; a literal may).
                    (ChangeKind::ArgumentTypeChanged { .. }, Some(_))
                    | (ChangeKind::DefaultChanged { .. }, None)
                    | (ChangeKind::DeprecationAdded { .. }, Some(_)) => Consequence::KeepsWorking,
                    _ => continue,
                };
                let span = given.and_then(|a| a.location()).or(span);
                let usage = format!("argument `{}`", definition.name);
                self.push(span, &usage, change, consequence);
            }
            if let Some(given) = given {
                self.value(
                    given.location().or(span),
                    &format!("argument `{}`", definition.name),
                    &given.value,
                    &definition.ty,
                );
            }
        }
        let new_required: Vec<&Change> = self
            .index
            .below(&format!("{coordinate}("))
            .filter(|c| matches!(c.kind, ChangeKind::ArgumentAdded { required: true, .. }))
            .collect();
        for change in new_required {
            self.push(span, &usage, change, removed());
        }
        // What the field returns may now hold values the generated code has no name for.
        let returned = field.definition.ty.inner_named_type();
        for change in index.widening.get(returned.as_str()).into_iter().flatten() {
            self.push(span, &usage, change, Consequence::KeepsWorking);
        }
        self.selection_set(&field.selection_set);
    }

    /// A breaking change of a selected field's type: decoding fails, unless the new type is
    /// a composite one whose selections are checked by validation.
    fn output_type_consequence(&self, old: &Type, coordinate: &str) -> Consequence {
        let (parent, field) = coordinate.split_once('.').unwrap_or((coordinate, ""));
        let new_ty = self.new.types.get(parent).and_then(|ty| match ty {
            ExtendedType::Object(t) => t.fields.get(field).map(|f| f.ty.clone()),
            ExtendedType::Interface(t) => t.fields.get(field).map(|f| f.ty.clone()),
            _ => None,
        });
        let is_leaf = |schema: &Schema, ty: &Type| {
            matches!(
                schema.types.get(ty.inner_named_type()),
                Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_)) | None
            )
        };
        match new_ty {
            Some(new_ty)
                if old.inner_named_type() != new_ty.inner_named_type()
                    && !is_leaf(self.old, old)
                    && !is_leaf(self.new, &new_ty)
                    && same_shape(old, &new_ty) =>
            {
                // An object read as another object: the selections are validated against the
                // new type, and decoding follows the selections.
                Consequence::KeepsWorking
            }
            _ => Consequence::FailsToDecode,
        }
    }

    /// Input values given as literals: object fields and enum values inside them.
    fn value(
        &mut self,
        span: Option<SourceSpan>,
        usage: &str,
        value: &Node<ast::Value>,
        ty: &Type,
    ) {
        let index = self.index;
        let span = value.location().or(span);
        match &**value {
            ast::Value::List(items) => {
                for item in items {
                    self.value(span, usage, item, ty.item_type());
                }
            }
            ast::Value::Object(fields) => {
                let input = ty.inner_named_type();
                for (name, field_value) in fields {
                    let at = format!("{input}.{name}");
                    for change in index.at(&at) {
                        let consequence = match &change.kind {
                            ChangeKind::InputFieldRemoved => removed(),
                            // As for arguments, validation tells whether the literal fits.
                            ChangeKind::InputFieldTypeChanged { .. }
                            | ChangeKind::DeprecationAdded { .. } => Consequence::KeepsWorking,
                            _ => continue,
                        };
                        self.push(span, usage, change, consequence);
                    }
                    let field_ty = match self.old.types.get(input) {
                        Some(ExtendedType::InputObject(t)) => {
                            t.fields.get(name).map(|f| f.ty.clone())
                        }
                        _ => None,
                    };
                    if let Some(field_ty) = field_ty {
                        self.value(span, usage, field_value, &field_ty);
                    }
                }
                self.required_input_fields(span, usage, input, fields.iter().map(|(n, _)| n));
            }
            ast::Value::Enum(value) => {
                let at = format!("{}.{value}", ty.inner_named_type());
                for change in index.at(&at) {
                    if change.kind == ChangeKind::EnumValueRemoved {
                        self.push(span, usage, change, removed());
                    }
                }
            }
            _ => {}
        }
    }

    /// New required fields of an input object given as a literal with `given` fields.
    fn required_input_fields<'n>(
        &mut self,
        span: Option<SourceSpan>,
        usage: &str,
        input: &Name,
        given: impl Iterator<Item = &'n Name>,
    ) {
        let given: BTreeSet<&str> = given.map(|n| n.as_str()).collect();
        let prefix = format!("{input}.");
        let missing: Vec<&Change> = self
            .index
            .below(&prefix)
            .filter(|c| matches!(c.kind, ChangeKind::InputFieldAdded { required: true, .. }))
            .filter(|c| !given.contains(&c.coordinate[prefix.len()..]))
            .collect();
        for change in missing {
            self.push(span, usage, change, removed());
        }
    }

    /// A variable: its type, and every input object and enum it can carry (the generated
    /// `Variables` can set any of their fields).
    fn variable(&mut self, variable: &Node<ast::VariableDefinition>) {
        let index = self.index;
        let span = variable.location();
        let usage = format!("variable `${}`", variable.name);
        let mut seen = BTreeSet::new();
        let declared = variable.ty.inner_named_type();
        for change in index.at(declared) {
            if matches!(
                change.kind,
                ChangeKind::TypeRemoved { .. } | ChangeKind::TypeKindChanged { .. }
            ) {
                self.push(span, &usage, change, removed());
            }
        }
        let mut stack = vec![declared.clone()];
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            for change in index.narrowing.get(name.as_str()).into_iter().flatten() {
                self.push(span, &usage, change, Consequence::Rejected);
            }
            let Some(ExtendedType::InputObject(input)) = self.old.types.get(&name) else {
                continue;
            };
            for (field_name, field) in &input.fields {
                let at = format!("{name}.{field_name}");
                for change in index.at(&at) {
                    let consequence = match &change.kind {
                        ChangeKind::InputFieldRemoved => Consequence::Rejected,
                        ChangeKind::InputFieldTypeChanged { .. }
                            if change.severity == Severity::Breaking =>
                        {
                            Consequence::Rejected
                        }
                        ChangeKind::DefaultChanged { .. } | ChangeKind::DeprecationAdded { .. } => {
                            Consequence::KeepsWorking
                        }
                        _ => continue,
                    };
                    self.push(span, &usage, change, consequence);
                }
                stack.push(field.ty.inner_named_type().clone());
            }
            let added: Vec<&Change> = self
                .index
                .below(&format!("{name}."))
                .filter(|c| matches!(c.kind, ChangeKind::InputFieldAdded { required: true, .. }))
                .collect();
            for change in added {
                self.push(span, &usage, change, Consequence::Rejected);
            }
        }
    }
}

/// The consequence of using something that is gone; validation against the new schema
/// replaces it with the validator's own message.
fn removed() -> Consequence {
    Consequence::FailsToValidate {
        message: "it is no longer in the schema".to_string(),
    }
}

/// Same list and non-null wrapping.
fn same_shape(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Named(_), Type::Named(_)) | (Type::NonNullNamed(_), Type::NonNullNamed(_)) => true,
        (Type::List(a), Type::List(b)) | (Type::NonNullList(a), Type::NonNullList(b)) => {
            same_shape(a, b)
        }
        _ => false,
    }
}
