//! Handlers: the user's own answer for a root field no convention serves (or one they want to
//! serve differently), registered with [`EmulatorOptions::handler`](crate::EmulatorOptions::handler).

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::rows::Rows;

/// The function behind a [`Handler`].
type HandlerFn = dyn Fn(&Value, &mut Rows<'_>) -> Result<Value, HandlerError> + Send + Sync;

/// A user's answer for one root field: called with the field's arguments as a JSON object
/// (variables substituted, defaults applied) and the emulator's [`Rows`], it returns the
/// field's value as JSON or a [`HandlerError`], which the response carries as a GraphQL error
/// at the field's path.
///
/// The returned JSON is read against the field's type as seed data is: objects by field name,
/// and where a row is expected, its id (`{"partInventory": 12}`) or an object with the id
/// of a stored row (what [`Rows::create`] returns) answers with the stored row, relations
/// included.
///
/// A handler on a mutation counts as one in [`Counters::mutations`](crate::Counters), and its
/// writes are undone when it fails or panics.
#[derive(Clone)]
pub struct Handler {
    f: Arc<HandlerFn>,
}

impl Handler {
    /// Wraps a function as a handler.
    pub fn new<F>(f: F) -> Handler
    where
        F: Fn(&Value, &mut Rows<'_>) -> Result<Value, HandlerError> + Send + Sync + 'static,
    {
        Handler { f: Arc::new(f) }
    }

    /// Calls the handler.
    ///
    /// # Errors
    /// Whatever the handler returns.
    pub fn call(&self, args: &Value, rows: &mut Rows<'_>) -> Result<Value, HandlerError> {
        (self.f)(args, rows)
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}

/// A handler's refusal: its message becomes the GraphQL error of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    message: String,
}

impl HandlerError {
    /// An error with this message (ION's style: `PartInventory matching id 9 does not
    /// exist.`).
    pub fn new(message: impl Into<String>) -> HandlerError {
        HandlerError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HandlerError {}

impl From<String> for HandlerError {
    fn from(message: String) -> HandlerError {
        HandlerError::new(message)
    }
}

impl From<&str> for HandlerError {
    fn from(message: &str) -> HandlerError {
        HandlerError::new(message)
    }
}
