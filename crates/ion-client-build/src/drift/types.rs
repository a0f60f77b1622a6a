//! The vocabulary of drift: [`Severity`], [`Change`] and [`ChangeKind`] (what differs between
//! two schemas), [`Consequence`] and [`Impact`] (what a change does to an operation), and
//! their one-line `Display`s.

use std::fmt;
use std::path::PathBuf;

/// How much a change can hurt an existing client. Ordered from harmless to harmful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing an existing client does stops working.
    Safe,
    /// Existing clients keep working, but may meet a value they do not know or see the server
    /// behave differently.
    Dangerous,
    /// An existing client can fail (to validate, to decode, or at the server).
    Breaking,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Safe => "safe",
            Severity::Dangerous => "dangerous",
            Severity::Breaking => "breaking",
        })
    }
}

/// One difference between two schemas, at one schema coordinate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// How much it can hurt an existing client.
    pub severity: Severity,
    /// Where: `Type`, `Type.field`, `Type.field(argument:)`, `Enum.VALUE`, `Input.field`,
    /// `@directive`, or `schema` for the root operation types.
    pub coordinate: String,
    /// What changed.
    pub kind: ChangeKind,
}

impl fmt::Display for Change {
    /// One line: `severity: coordinate: what changed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.severity, self.coordinate, self.kind)
    }
}

/// What kind of change happened at a [`Change::coordinate`]. Types are printed in SDL
/// notation (`[Run!]!`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// The type is gone.
    TypeRemoved {
        /// `object`, `interface`, `union`, `enum`, `input object` or `scalar`.
        kind: &'static str,
    },
    /// A new type.
    TypeAdded {
        /// As in [`ChangeKind::TypeRemoved`].
        kind: &'static str,
    },
    /// Same name, another kind of type.
    TypeKindChanged {
        /// The old kind.
        from: &'static str,
        /// The new kind.
        to: &'static str,
    },
    /// The root type of an operation kind changed (or appeared, or went away).
    RootChanged {
        /// `query`, `mutation` or `subscription`.
        operation: &'static str,
        /// The old root type.
        from: Option<String>,
        /// The new root type.
        to: Option<String>,
    },
    /// A field of an object or interface type is gone.
    FieldRemoved,
    /// A new field of an object or interface type.
    FieldAdded,
    /// A field's type changed.
    FieldTypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// A field argument is gone.
    ArgumentRemoved,
    /// A new field argument.
    ArgumentAdded {
        /// Its type.
        ty: String,
        /// Non-null without a default: every existing use lacks it.
        required: bool,
    },
    /// An argument's type changed.
    ArgumentTypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// An input object field is gone.
    InputFieldRemoved,
    /// A new input object field.
    InputFieldAdded {
        /// Its type.
        ty: String,
        /// Non-null without a default: every existing value lacks it.
        required: bool,
    },
    /// An input object field's type changed.
    InputFieldTypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// The default value of an argument or input field changed (or appeared, or went away).
    DefaultChanged {
        /// The old default, in GraphQL syntax.
        from: Option<String>,
        /// The new default.
        to: Option<String>,
    },
    /// An enum value is gone.
    EnumValueRemoved,
    /// A new enum value.
    EnumValueAdded,
    /// A union lost a member.
    UnionMemberRemoved {
        /// The member.
        member: String,
    },
    /// A union gained a member.
    UnionMemberAdded {
        /// The member.
        member: String,
    },
    /// A type no longer implements an interface.
    InterfaceRemoved {
        /// The interface.
        interface: String,
    },
    /// A type now implements an interface.
    InterfaceAdded {
        /// The interface.
        interface: String,
    },
    /// A directive definition is gone.
    DirectiveRemoved,
    /// A new directive definition.
    DirectiveAdded,
    /// The element is now deprecated.
    DeprecationAdded {
        /// The server's reason, when it gives one.
        reason: Option<String>,
    },
    /// The element is no longer deprecated.
    DeprecationRemoved,
}

fn show(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("none")
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeKind::TypeRemoved { kind } => write!(f, "{kind} type removed"),
            ChangeKind::TypeAdded { kind } => write!(f, "{kind} type added"),
            ChangeKind::TypeKindChanged { from, to } => {
                write!(f, "changed from {from} type to {to} type")
            }
            ChangeKind::RootChanged {
                operation,
                from,
                to,
            } => write!(
                f,
                "{operation} root type changed from {} to {}",
                show(from),
                show(to)
            ),
            ChangeKind::FieldRemoved => f.write_str("field removed"),
            ChangeKind::FieldAdded => f.write_str("field added"),
            ChangeKind::ArgumentRemoved => f.write_str("argument removed"),
            ChangeKind::InputFieldRemoved => f.write_str("input field removed"),
            ChangeKind::FieldTypeChanged { from, to }
            | ChangeKind::ArgumentTypeChanged { from, to }
            | ChangeKind::InputFieldTypeChanged { from, to } => {
                write!(f, "type changed from {from} to {to}")
            }
            ChangeKind::ArgumentAdded { ty, required } => {
                let required = if *required { "required" } else { "optional" };
                write!(f, "{required} argument added ({ty})")
            }
            ChangeKind::InputFieldAdded { ty, required } => {
                let required = if *required { "required" } else { "optional" };
                write!(f, "{required} input field added ({ty})")
            }
            ChangeKind::DefaultChanged { from, to } => {
                write!(
                    f,
                    "default value changed from {} to {}",
                    show(from),
                    show(to)
                )
            }
            ChangeKind::EnumValueRemoved => f.write_str("enum value removed"),
            ChangeKind::EnumValueAdded => f.write_str("enum value added"),
            ChangeKind::UnionMemberRemoved { member } => write!(f, "member {member} removed"),
            ChangeKind::UnionMemberAdded { member } => write!(f, "member {member} added"),
            ChangeKind::InterfaceRemoved { interface } => {
                write!(f, "no longer implements {interface}")
            }
            ChangeKind::InterfaceAdded { interface } => write!(f, "now implements {interface}"),
            ChangeKind::DirectiveRemoved => f.write_str("directive removed"),
            ChangeKind::DirectiveAdded => f.write_str("directive added"),
            ChangeKind::DeprecationAdded {
                reason: Some(reason),
            } => {
                write!(f, "deprecated ({reason})")
            }
            ChangeKind::DeprecationAdded { reason: None } => f.write_str("deprecated"),
            ChangeKind::DeprecationRemoved => f.write_str("no longer deprecated"),
        }
    }
}

/// What a change does to code generated from the old schema for an operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Consequence {
    /// The operation no longer validates against the new schema, so regenerating (the build)
    /// fails with this message.
    FailsToValidate {
        /// The validation message.
        message: String,
    },
    /// The operation validates, but a response can now hold what the generated types cannot
    /// decode (a null where they expect a value, a value of another type).
    FailsToDecode,
    /// The operation validates and decodes, but the server rejects requests that send the
    /// changed input (or, for a new required input field, every request that sends the
    /// input object).
    Rejected,
    /// The generated code keeps working: a new enum value or possible type decodes into the
    /// generated `Other` case; a changed default or a deprecation changes nothing in the code.
    KeepsWorking,
}

impl fmt::Display for Consequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Consequence::FailsToValidate { message } => {
                write!(f, "the operation no longer validates: {message}")
            }
            Consequence::FailsToDecode => f.write_str(
                "the generated code fails to decode a response where it is null or of the new type",
            ),
            Consequence::Rejected => f.write_str("the server rejects requests that send it"),
            Consequence::KeepsWorking => f.write_str("the generated code keeps working"),
        }
    }
}

/// One place in an operation touched by a schema change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Impact {
    /// The operation file, as given in its [`SourceFile::path`](crate::SourceFile::path).
    pub file: PathBuf,
    /// 1-based line of the selection, argument or variable.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is used there: ``field `status` ``, ``argument `filters` ``, ``variable `$id` ``,
    /// ``fragment `RunFields` ``.
    pub usage: String,
    /// The schema change, or `None` when only the validation against the new schema explains
    /// it (the message is then in [`Consequence::FailsToValidate`]).
    pub change: Option<Change>,
    /// What it does to the generated code.
    pub consequence: Consequence,
    /// Breaking when the generated code fails (to validate, to decode, or at the server);
    /// otherwise the change's own severity.
    pub severity: Severity,
}

impl fmt::Display for Impact {
    /// One line: `file:line:column: severity: usage: coordinate: change; consequence`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.severity,
            self.usage
        )?;
        if let Some(change) = &self.change {
            write!(f, ": {}: {}", change.coordinate, change.kind)?;
        }
        write!(f, "; {}", self.consequence)
    }
}
