//! `Secret`: the one type that holds the client secret and access tokens.
//!
//! A leaf module, so configuration, authentication, transport and errors can all hold and
//! redact secrets without importing one another.

use std::fmt;
use std::sync::Arc;

/// A secret string (the client secret or an access token). `Debug` prints `[redacted]`; there
/// is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_debug_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}
