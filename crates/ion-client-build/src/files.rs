//! Finding and reading `.graphql` files: the one walker and the one bounded reader that the
//! build, `ion schema check`, `ion schema check --live` and `ion run` share.
//!
//! The rules, the same for every caller:
//! - a folder is searched recursively for `*.graphql` and `*.gql` files, sorted by path so
//!   output is deterministic;
//! - a symbolic link met while searching (to a file or to a folder) is refused with an error
//!   naming it: links are never followed implicitly, so a link cycle cannot make the walk
//!   endless and no file outside the folder is read unseen. A path named explicitly (a schema,
//!   a file given to `ion run`) may be a link: naming it is the user's choice;
//! - a file is read only if it is a regular file (never a FIFO, a device or a folder, and its
//!   opening never blocks), of at most [`MAX_SOURCE_BYTES`] unless the caller sets another cap.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::SourceFile;

/// The largest `.graphql` file read: twenty times the size of ION's complete schema, far
/// below what would hurt to hold in memory.
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file could not be read or a folder not searched.
#[derive(Debug)]
pub struct FileError {
    /// The path involved.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: FileErrorKind,
}

/// What went wrong with a [`FileError::path`].
#[derive(Debug)]
#[non_exhaustive]
pub enum FileErrorKind {
    /// The operating system refused (not found, permission denied, ...).
    Io(std::io::Error),
    /// Not a regular file: a folder, a FIFO, a device or a socket.
    NotARegularFile,
    /// A symbolic link found while searching a folder.
    SymbolicLink,
    /// Larger than the cap, in bytes.
    TooLarge(u64),
    /// Not UTF-8 text.
    NotUtf8,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            FileErrorKind::Io(e) => write!(f, "cannot read {path}: {e}"),
            FileErrorKind::NotARegularFile => write!(f, "{path} is not a regular file"),
            FileErrorKind::SymbolicLink => write!(
                f,
                "{path} is a symbolic link: links inside a searched folder are not followed; \
                 copy the file there or name it directly"
            ),
            FileErrorKind::TooLarge(cap) => write!(f, "{path} is larger than {cap} bytes"),
            FileErrorKind::NotUtf8 => write!(f, "{path} is not UTF-8 text"),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FileErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

fn error(path: &Path, kind: FileErrorKind) -> FileError {
    FileError {
        path: path.to_path_buf(),
        kind,
    }
}

fn is_graphql(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "graphql" || e == "gql")
}

/// Every `*.graphql`/`*.gql` file below `dir`, sorted by path.
///
/// # Errors
/// A folder that cannot be listed, or a symbolic link to a folder or a `.graphql` file.
pub fn graphql_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    walk(dir, true)
}

/// Every `*.graphql`/`*.gql` file directly in `dir` (not below it), sorted, by the same rules.
///
/// # Errors
/// As [`graphql_files`].
pub fn graphql_files_in(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    walk(dir, false)
}

fn walk(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| error(&d, FileErrorKind::Io(e)))?;
        for entry in entries {
            let entry = entry.map_err(|e| error(&d, FileErrorKind::Io(e)))?;
            let path = entry.path();
            // `DirEntry::file_type` does not follow links.
            let kind = entry
                .file_type()
                .map_err(|e| error(&path, FileErrorKind::Io(e)))?;
            if kind.is_symlink() {
                let target_is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
                if (recursive && target_is_dir) || is_graphql(&path) {
                    return Err(error(&path, FileErrorKind::SymbolicLink));
                }
            } else if kind.is_dir() {
                if recursive {
                    stack.push(path);
                }
            } else if is_graphql(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a regular file of at most `cap` bytes as UTF-8 text, never more than `cap + 1` bytes
/// of it, and without blocking on a FIFO.
///
/// # Errors
/// See [`FileErrorKind`].
pub fn read_capped(path: &Path, cap: u64) -> Result<String, FileError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Opening a FIFO for reading waits for a writer; non-blocking, it returns at once and
        // the check below refuses it. Reads of a regular file ignore the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| error(path, FileErrorKind::Io(e)))?;
    let meta = file
        .metadata()
        .map_err(|e| error(path, FileErrorKind::Io(e)))?;
    if !meta.is_file() {
        return Err(error(path, FileErrorKind::NotARegularFile));
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| error(path, FileErrorKind::Io(e)))?;
    if bytes.len() as u64 > cap {
        return Err(error(path, FileErrorKind::TooLarge(cap)));
    }
    String::from_utf8(bytes).map_err(|_| error(path, FileErrorKind::NotUtf8))
}

/// Reads a `.graphql` source of at most [`MAX_SOURCE_BYTES`].
///
/// # Errors
/// As [`read_capped`].
pub fn read_source(path: &Path) -> Result<SourceFile, FileError> {
    Ok(SourceFile::new(path, read_capped(path, MAX_SOURCE_BYTES)?))
}

/// The sources at `paths`: a file as named, a folder through [`graphql_files`], in the order
/// given.
///
/// # Errors
/// The first file or folder that cannot be read.
pub fn read_sources(paths: &[PathBuf]) -> Result<Vec<SourceFile>, FileError> {
    let mut out = Vec::new();
    for path in paths {
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            for file in graphql_files(path)? {
                out.push(read_source(&file)?);
            }
        } else {
            out.push(read_source(path)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(result: Result<String, FileError>) -> String {
        match result {
            Ok(_) => "ok".into(),
            Err(e) => format!("{:?}", e.kind)
                .split('(')
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    }

    #[test]
    fn only_regular_files_up_to_the_cap_are_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let big = dir.path().join("big.graphql");
        std::fs::write(&big, "x".repeat(11)).expect("write");
        let err = read_capped(&big, 10).expect_err("too big");
        assert_eq!(
            err.to_string(),
            format!("{} is larger than 10 bytes", big.display())
        );
        assert_eq!(read_capped(&big, 11).expect("fits").len(), 11);
        assert_eq!(kind(read_capped(dir.path(), 10)), "NotARegularFile");
        let latin1 = dir.path().join("latin1.graphql");
        std::fs::write(&latin1, [b'#', 0xe9]).expect("write");
        assert_eq!(kind(read_capped(&latin1, 10)), "NotUtf8");
        assert_eq!(
            kind(read_capped(&dir.path().join("missing.graphql"), 10)),
            "Io"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("pipe.graphql");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // No writer ever opens it: a blocking open would hang this test.
        assert_eq!(kind(read_capped(&fifo, 10)), "NotARegularFile");
    }

    #[cfg(unix)]
    #[test]
    fn the_walk_is_sorted_and_refuses_links() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("fragments")).expect("mkdir");
        for name in ["b.graphql", "a.gql", "fragments/f.graphql", "notes.md"] {
            std::fs::write(root.join(name), "# x").expect("write");
        }
        let found = graphql_files(root).expect("walks");
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
            .collect();
        assert_eq!(names, ["a.gql", "b.graphql", "fragments/f.graphql"]);

        // A link to a file outside, and a link back up (a cycle): both refused, by name.
        let outside = tempfile::tempdir().expect("temp dir");
        std::fs::write(outside.path().join("o.graphql"), "# o").expect("write");
        std::os::unix::fs::symlink(outside.path().join("o.graphql"), root.join("o.graphql"))
            .expect("link");
        let err = graphql_files(root).expect_err("a link");
        assert!(
            err.to_string().contains("o.graphql is a symbolic link"),
            "{err}"
        );
        std::fs::remove_file(root.join("o.graphql")).expect("unlink");
        std::os::unix::fs::symlink(root, root.join("fragments/up")).expect("link");
        let err = graphql_files(root).expect_err("a cycle");
        assert!(err.to_string().contains("up is a symbolic link"), "{err}");
        // Named directly, a link is read.
        std::os::unix::fs::symlink(
            outside.path().join("o.graphql"),
            outside.path().join("l.graphql"),
        )
        .expect("link");
        assert_eq!(
            read_sources(&[outside.path().join("l.graphql")]).expect("read")[0].text,
            "# o"
        );
    }
}
