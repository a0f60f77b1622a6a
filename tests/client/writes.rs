//! Writes with `_etag` concurrency through typed mutations.
