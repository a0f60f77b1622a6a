//! `../shared`, the reference data beside the repository (ION's 2023 schema and published
//! operations), for the tests that read it: each such test has `shared` in its name.
//!
//! Where the folder is absent (a user's checkout, a packaged crate) those tests print a notice
//! and pass without checking, unless `ION_REQUIRE_SHARED=1` (CI sets it), which makes them fail.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The variable that makes a missing `../shared` a failure.
pub const REQUIRE: &str = "ION_REQUIRE_SHARED";

/// `<repo>/../shared`, or `None` after saying why `test` is skipped.
///
/// # Panics
/// When the folder is missing and `ION_REQUIRE_SHARED=1`.
pub fn dir(test: &str) -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = repo.canonicalize().unwrap_or(repo);
    let shared = repo.join("../shared");
    if shared.join("ion-reference").is_dir() {
        return Some(shared);
    }
    let required = std::env::var_os(REQUIRE).is_some_and(|v| v == "1");
    assert!(
        !required,
        "{test}: {REQUIRE}=1 but the reference data is not at {}",
        shared.display()
    );
    eprintln!(
        "{test}: skipped: the reference data is not at {} ({REQUIRE}=1 makes this a failure)",
        shared.display()
    );
    None
}
