//! `Secret`, the one type that holds the client secret and access tokens, and [`redact`], the
//! one function that removes them from text.
//!
//! A leaf module, so configuration, authentication, transport and errors can all hold and
//! redact secrets without importing one another.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// What a secret is replaced with wherever text could have shown it.
pub(crate) const REDACTED: &str = "[redacted]";

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
        f.write_str(REDACTED)
    }
}

/// `text` with every occurrence of each non-empty secret replaced by `[redacted]`: messages,
/// body excerpts, GraphQL errors and Keycloak's answers all go through it.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

/// Whether the text of `error`, or of any error in its chain of sources, shows one of the
/// non-empty `secrets`.
pub(crate) fn chain_shows_any(error: &(dyn StdError + 'static), secrets: &[&str]) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if secrets.iter().any(|s| !s.is_empty() && text.contains(s)) {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_debug_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn every_secret_is_redacted_and_empty_ones_are_ignored() {
        assert_eq!(
            redact("tok-1 and s3cret, tok-1 again", &["tok-1", "", "s3cret"]),
            "[redacted] and [redacted], [redacted] again"
        );
        assert_eq!(redact("nothing here", &[]), "nothing here");
    }
}
