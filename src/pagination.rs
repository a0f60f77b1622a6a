//! Relay connections as lazy streams of pages and of nodes.
//!
//! Every operation that declares `$after` and selects `pageInfo { hasNextPage endCursor }`
//! implements [`Paginated`]; [`Client::pages`] and [`Client::nodes`] follow its cursor.
//!
//! Invariant: at most one page is held in memory. The next page is requested only when the
//! consumer asks for more than the current page holds; nothing is prefetched.

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Client, Error, ErrorKind, Paginated};

/// Where the stream of pages stands.
enum Cursor {
    /// The first page: the variables' own `after` is used as given.
    First,
    /// The next page starts after this cursor.
    After(String),
    /// A page has been yielded whose cursor cannot be followed: this error comes next.
    Fail(Error),
    /// The last page has been yielded, or an error ended the stream.
    Done,
}

impl Client {
    /// The pages of a paginated operation, fetched one at a time as the stream is polled.
    ///
    /// The first request uses `variables` as given (so an `after` already set is honoured);
    /// each following one sets `$after` to the previous page's `pageInfo.endCursor`. The
    /// stream ends after a page whose `hasNextPage` is false or whose connection is null, and
    /// after the first error.
    ///
    /// # Errors
    ///
    /// An item is an error when a request fails (as [`Client::execute`] fails), or after a
    /// page that says `hasNextPage` without an `endCursor` or repeats the previous cursor
    /// (which would loop forever); the stream ends after it.
    pub fn pages<Q>(
        &self,
        variables: Q::Variables,
    ) -> impl Stream<Item = Result<Q::ResponseData, Error>> + Send + 'static
    where
        Q: Paginated + 'static,
        Q::Variables: Serialize + Send + Sync + 'static,
        Q::ResponseData: DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        stream::unfold(
            (client, variables, Cursor::First),
            |(client, mut variables, cursor)| async move {
                let previous = match cursor {
                    Cursor::Done => return None,
                    Cursor::Fail(error) => {
                        return Some((Err(error), (client, variables, Cursor::Done)));
                    }
                    Cursor::First => None,
                    Cursor::After(after) => {
                        Q::set_after(&mut variables, Some(after.clone()));
                        Some(after)
                    }
                };
                let page = match client.execute_ref::<Q>(&variables).await {
                    Ok(page) => page,
                    Err(e) => return Some((Err(e), (client, variables, Cursor::Done))),
                };
                let next = match Q::page_cursor(&page) {
                    Some(info) if info.has_next_page => match info.end_cursor {
                        Some(end) if previous.as_deref() == Some(end.as_str()) => {
                            Cursor::Fail(page_error::<Q>(&format!(
                                "the server returned the same endCursor `{end}` twice; \
                                 stopping to avoid an endless loop"
                            )))
                        }
                        Some(end) => Cursor::After(end),
                        None => Cursor::Fail(page_error::<Q>(
                            "pageInfo.hasNextPage is true but pageInfo.endCursor is null",
                        )),
                    },
                    _ => Cursor::Done,
                };
                Some((Ok(page), (client, variables, next)))
            },
        )
    }

    /// The nodes of a paginated operation, across pages, fetched one page at a time as the
    /// stream is polled. Null edges and nodes are skipped.
    ///
    /// # Errors
    ///
    /// As [`Client::pages`]: the stream ends after the first error.
    pub fn nodes<Q>(
        &self,
        variables: Q::Variables,
    ) -> impl Stream<Item = Result<Q::Node, Error>> + Send + 'static
    where
        Q: Paginated + 'static,
        Q::Variables: Serialize + Send + Sync + 'static,
        Q::ResponseData: DeserializeOwned + Send + 'static,
        Q::Node: Send + 'static,
    {
        self.pages::<Q>(variables).flat_map(|page| match page {
            Ok(page) => stream::iter(Q::into_nodes(page).into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
    }
}

/// The decode error for a page whose `pageInfo` cannot be followed.
fn page_error<Q: Paginated>(reason: &str) -> Error {
    Error::new(
        ErrorKind::Decode {
            operation: Q::NAME.to_owned(),
            path: "pageInfo".to_owned(),
        },
        format!("cannot follow the pages of {}: {reason}", Q::NAME),
    )
}
