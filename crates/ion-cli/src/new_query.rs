//! `ion new-query NAME`: a commented starting point for a new operation.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Writes `<dir>/<snake_name>.graphql` and returns its path; refuses to overwrite.
///
/// The file is created, never opened: anything already at the path (a file, a FIFO, a device,
/// a symbolic link, even one that points nowhere) is refused, so nothing blocks and nothing is
/// written through a link.
pub fn scaffold(name: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let pascal = ion_client_build::names::pascal(name);
    let snake = ion_client_build::names::snake(&pascal);
    if pascal.is_empty() || !pascal.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("expected an operation name such as ListOpenRuns, found {name:?}");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{snake}.graphql"));
    // `create_new` is O_CREAT | O_EXCL: it fails on any existing entry, links included.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(template(&pascal).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn template(name: &str) -> String {
    format!(
        r#"# {name}: describe what this operation is for.
#
# The build validates this file against the schema and generates a typed function
# `client.{snake}(variables)` (module `ion_client::operations::{snake}` in ion-client itself,
# or your crate's `include_operations!()`). Run `ion schema check` to validate without building.
#
# Filters: every list field takes `filters: <Plural>InputFilters` with one filter per column
#   (operators eq neq like ilike notlike notilike in gt gte lt lte isnull) and `and_`/`or_`.
# Pagination: declare `$after: String`, pass it as `after:`, and select
#   `pageInfo {{ hasNextPage endCursor }}` and `edges {{ node {{ ... }} }}`; you then also get
#   `{snake}_pages` and `{snake}_nodes` streams that follow the cursor for you.
#   Sort by ID_ASC so pages stay stable while data changes.
# Etags: every object has `_etag`; updates and deletes take `etag: String!` and fail if the
#   object changed since you read it. Select `_etag` in a mutation's payload to chain writes.
query {name}($filters: RunsInputFilters, $first: Int = 50, $after: String) {{
  runs(filters: $filters, sort: [ID_ASC], first: $first, after: $after) {{
    pageInfo {{
      hasNextPage
      endCursor
    }}
    edges {{
      node {{
        id
        _etag
        title
        status
      }}
    }}
  }}
}}

# A mutation with an etag looks like this (one operation per file is clearest):
#
# mutation Update{name}Run($id: ID!, $etag: String!, $title: String) {{
#   updateRun(input: {{ id: $id, etag: $etag, title: $title }}) {{
#     run {{ id _etag title }}
#   }}
# }}
"#,
        snake = ion_client_build::names::snake(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_a_valid_operation() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        let path = scaffold("list open runs", dir).unwrap();
        assert!(path.ends_with("list_open_runs.graphql"));
        let schema =
            ion_client_build::SourceFile::new("shipped.graphql", ion_client_build::SHIPPED_SCHEMA);
        let ok = crate::schema_cmd::check(&schema, std::slice::from_ref(&path)).unwrap();
        assert!(ok, "the template validates against the shipped schema");
        assert!(scaffold("ListOpenRuns", dir).is_err(), "never overwrites");
    }

    /// A FIFO or a dangling link where the file would go is refused at once: nothing blocks
    /// and nothing is created at the link's target.
    #[cfg(unix)]
    #[test]
    fn existing_entries_of_any_kind_are_refused() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.join("piped.graphql"))
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let err = scaffold("Piped", dir).expect_err("a FIFO is there");
        assert!(
            err.to_string().ends_with("piped.graphql already exists"),
            "{err}"
        );

        let target = dir.join("elsewhere.graphql");
        std::os::unix::fs::symlink(&target, dir.join("linked.graphql")).expect("link");
        let err = scaffold("Linked", dir).expect_err("a link is there");
        assert!(
            err.to_string().ends_with("linked.graphql already exists"),
            "{err}"
        );
        assert!(!target.exists(), "nothing is written through the link");
    }
}
