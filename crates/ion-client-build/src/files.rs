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
//! - a file is read only if it is a regular file (never a FIFO, a device or a folder: a device is
//!   never opened, and opening a FIFO never blocks), of at most [`MAX_SOURCE_BYTES`] unless the
//!   caller sets another cap; a larger one is refused with its size, before any of it is read.

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
    /// Not a regular file: what it is instead (`a folder`, `a named pipe`, `a device`,
    /// `a socket`).
    NotARegularFile(&'static str),
    /// A symbolic link found while searching a folder.
    SymbolicLink,
    /// Larger than the cap: the file's size (at least `cap + 1` when it grew while being
    /// read) and the cap, in bytes.
    #[non_exhaustive]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The cap it exceeds, in bytes.
        cap: u64,
    },
    /// Not UTF-8 text.
    NotUtf8,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            FileErrorKind::Io(e) => write!(f, "cannot read {path}: {e}"),
            FileErrorKind::NotARegularFile(what) => {
                write!(f, "{path} is {what}, not a regular file")
            }
            FileErrorKind::SymbolicLink => write!(
                f,
                "{path} is a symbolic link: links inside a searched folder are not followed; \
                 copy the file there or name it directly"
            ),
            FileErrorKind::TooLarge { size, cap } => write!(
                f,
                "{path} is {size} bytes, larger than the cap of {cap} bytes"
            ),
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
/// A folder that cannot be listed, or a symbolic link to a folder or a `.graphql` file (the
/// first by path).
pub fn graphql_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    search(dir, true).into_result()
}

/// Every `*.graphql`/`*.gql` file directly in `dir` (not below it), sorted, by the same rules.
///
/// # Errors
/// As [`graphql_files`].
pub fn graphql_files_in(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    search(dir, false).into_result()
}

/// What a search of a folder found, and what it refused, without stopping at the first
/// refusal: for a caller to which a refused file matters only if it is needed (`ion run`
/// looking for the fragments a file uses among the files beside it).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Search {
    /// The `*.graphql`/`*.gql` files found, sorted by path (a FIFO or a device with such a
    /// name included: [`read_capped`] refuses it).
    pub files: Vec<PathBuf>,
    /// The symbolic links refused and the folders that could not be listed, sorted by path.
    pub refused: Vec<FileError>,
}

impl Search {
    fn into_result(self) -> Result<Vec<PathBuf>, FileError> {
        match self.refused.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(self.files),
        }
    }
}

/// Searches `dir` (and the folders below it when `recursive`) by the module's rules, keeping
/// every refusal instead of stopping at the first.
pub fn search(dir: &Path, recursive: bool) -> Search {
    let mut found = Search::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) => {
                found.refused.push(error(&d, FileErrorKind::Io(e)));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    found.refused.push(error(&d, FileErrorKind::Io(e)));
                    continue;
                }
            };
            let path = entry.path();
            // `DirEntry::file_type` does not follow links.
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(e) => {
                    found.refused.push(error(&path, FileErrorKind::Io(e)));
                    continue;
                }
            };
            if kind.is_symlink() {
                let target_is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
                if (recursive && target_is_dir) || is_graphql(&path) {
                    found
                        .refused
                        .push(error(&path, FileErrorKind::SymbolicLink));
                }
            } else if kind.is_dir() {
                if recursive {
                    stack.push(path);
                }
            } else if is_graphql(&path) {
                found.files.push(path);
            }
        }
    }
    found.files.sort();
    found.refused.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Reads a regular file of at most `cap` bytes as UTF-8 text, never more than `cap + 1` bytes
/// of it, and without blocking on a FIFO.
///
/// # Errors
/// See [`FileErrorKind`].
pub fn read_capped(path: &Path, cap: u64) -> Result<String, FileError> {
    // Checked before opening, so a device is never opened (opening some has effects), and
    // again on the open file, in case the path changed in between.
    let meta = std::fs::metadata(path).map_err(|e| error(path, FileErrorKind::Io(e)))?;
    if !meta.is_file() {
        return Err(error(path, FileErrorKind::NotARegularFile(what(&meta))));
    }
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
        return Err(error(path, FileErrorKind::NotARegularFile(what(&meta))));
    }
    let too_large = |size| error(path, FileErrorKind::TooLarge { size, cap });
    if meta.len() > cap {
        return Err(too_large(meta.len()));
    }
    // The size can change between the check and the read: never read more than one byte past
    // the cap.
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| error(path, FileErrorKind::Io(e)))?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| error(path, FileErrorKind::NotUtf8))
}

/// What a path that is not a regular file is, for messages.
fn what(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
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

    /// Reads `path` on a thread of its own and waits a limited time: a blocking open fails the
    /// test instead of hanging it (the blocked thread is left behind).
    fn bounded_read(path: &Path, cap: u64) -> Result<String, FileError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = path.to_path_buf();
        std::thread::spawn(move || {
            let _ = tx.send(read_capped(&path, cap));
        });
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("read or refused at once, not blocked")
    }

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
            format!(
                "{} is 11 bytes, larger than the cap of 10 bytes",
                big.display()
            )
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
        let err = bounded_read(&fifo, 10).expect_err("a FIFO");
        assert_eq!(
            err.to_string(),
            format!("{} is a named pipe, not a regular file", fifo.display())
        );
    }

    /// `/dev/zero` never ends: read, it would grow memory until the process is killed.
    #[cfg(unix)]
    #[test]
    fn a_device_behind_a_link_is_refused_unread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let zero = dir.path().join("zero.graphql");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("link");
        let err = bounded_read(&zero, MAX_SOURCE_BYTES).expect_err("a device");
        assert_eq!(
            err.to_string(),
            format!("{} is a device, not a regular file", zero.display())
        );
        // Inside a searched folder the link itself is refused, before its target is looked at.
        let found = search(dir.path(), true);
        assert!(found.files.is_empty());
        assert_eq!(found.refused.len(), 1);
        assert!(matches!(found.refused[0].kind, FileErrorKind::SymbolicLink));
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
        // A search that goes on past refusals finds the same files and names the link.
        let found = search(root, true);
        assert_eq!(found.files.len(), 3);
        assert_eq!(found.refused.len(), 1);
        assert_eq!(found.refused[0].path, root.join("o.graphql"));
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

    /// One entry of a generated folder.
    #[cfg(unix)]
    #[derive(Debug, Clone)]
    enum Entry {
        /// A regular file of this many bytes.
        File(u64),
        /// A FIFO no one writes to.
        Fifo,
        /// A link to a device that never ends (`/dev/zero`) or is always empty (`/dev/null`).
        Device(&'static str),
        /// A link to a regular file of this many bytes outside the folder.
        LinkOut(u64),
        /// A folder.
        Folder,
    }

    #[cfg(unix)]
    fn entry() -> impl proptest::strategy::Strategy<Value = Entry> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..40).prop_map(Entry::File),
            Just(Entry::Fifo),
            prop_oneof![Just("/dev/zero"), Just("/dev/null")].prop_map(Entry::Device),
            (0u64..40).prop_map(Entry::LinkOut),
            Just(Entry::Folder),
        ]
    }

    #[cfg(unix)]
    fn make(path: &Path, entry: &Entry, outside: &Path) {
        match entry {
            Entry::File(n) => std::fs::write(path, "a".repeat(*n as usize)).expect("write"),
            Entry::Fifo => {
                let made = std::process::Command::new("mkfifo")
                    .arg(path)
                    .status()
                    .expect("mkfifo runs");
                assert!(made.success());
            }
            Entry::Device(device) => std::os::unix::fs::symlink(device, path).expect("link"),
            Entry::LinkOut(n) => {
                let target = outside.join(path.file_name().expect("a name"));
                std::fs::write(&target, "o".repeat(*n as usize)).expect("write");
                std::os::unix::fs::symlink(&target, path).expect("link");
            }
            Entry::Folder => std::fs::create_dir(path).expect("mkdir"),
        }
    }

    #[cfg(unix)]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever a path is, reading it never blocks, never panics and never reads past the
        /// cap: a regular file (named directly, a link to one included) within the cap is read
        /// whole, a larger one is refused with its size, anything else is not a regular file.
        #[test]
        fn the_reader_reads_only_regular_files_within_the_cap(
            entry in entry(),
            cap in 0u64..40,
        ) {
            let dir = tempfile::tempdir().expect("temp dir");
            let outside = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("x.graphql");
            make(&path, &entry, outside.path());
            let result = bounded_read(&path, cap);
            match (&entry, &result) {
                (Entry::File(n) | Entry::LinkOut(n), Ok(text)) => {
                    proptest::prop_assert!(*n <= cap);
                    proptest::prop_assert_eq!(text.len() as u64, *n);
                }
                (Entry::File(n) | Entry::LinkOut(n), Err(e)) => {
                    proptest::prop_assert!(*n > cap, "{}", e);
                    let is_size = matches!(
                        e.kind,
                        FileErrorKind::TooLarge { size, cap: c } if size == *n && c == cap
                    );
                    proptest::prop_assert!(is_size, "{:?}", e);
                }
                (_, Err(e)) => {
                    let refused = matches!(e.kind, FileErrorKind::NotARegularFile(_));
                    proptest::prop_assert!(refused, "{:?}", e);
                }
                (_, Ok(_)) => proptest::prop_assert!(false, "{:?} was read", entry),
            }
        }

        /// A search of any folder lists exactly its `.graphql` entries that are not links
        /// (FIFOs included, for the reader to refuse) and refuses every link to a file or a
        /// folder by name, never stopping at the first.
        #[test]
        fn the_search_refuses_every_link_and_follows_none(
            entries in proptest::collection::vec(entry(), 0..8),
        ) {
            let dir = tempfile::tempdir().expect("temp dir");
            let outside = tempfile::tempdir().expect("temp dir");
            for (i, entry) in entries.iter().enumerate() {
                make(&dir.path().join(format!("e{i}.graphql")), entry, outside.path());
            }
            let found = search(dir.path(), true);
            for (i, entry) in entries.iter().enumerate() {
                let path = dir.path().join(format!("e{i}.graphql"));
                let listed = found.files.contains(&path);
                let refused = found.refused.iter().any(|e| {
                    e.path == path && matches!(e.kind, FileErrorKind::SymbolicLink)
                });
                let (want_listed, want_refused) = match entry {
                    Entry::File(_) | Entry::Fifo => (true, false),
                    Entry::Device(_) | Entry::LinkOut(_) => (false, true),
                    Entry::Folder => (false, false),
                };
                proptest::prop_assert_eq!((listed, refused), (want_listed, want_refused));
            }
            for file in &found.files {
                let _ = bounded_read(file, MAX_SOURCE_BYTES);
            }
        }
    }
}
