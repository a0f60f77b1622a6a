//! `ion new-query NAME`: a commented starting point for a new operation.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Writes `<dir>/<snake_name>.graphql` and returns its path; refuses to overwrite.
pub fn scaffold(name: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let pascal = ion_client_build::names::pascal(name);
    let snake = ion_client_build::names::snake(&pascal);
    if pascal.is_empty() || !pascal.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("expected an operation name such as ListOpenRuns, found {name:?}");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{snake}.graphql"));
    if path.exists() {
        bail!("{} already exists", path.display());
    }
    std::fs::write(&path, template(&pascal))
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
}
