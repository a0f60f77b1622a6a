//! Relay connections as lazy streams of pages and of nodes, and the cursor-following rules
//! they share with tools that page raw JSON.
//!
//! Every operation that declares `$after` and selects `pageInfo { hasNextPage endCursor }`
//! implements [`Paginated`]; [`Client::pages`] and [`Client::nodes`] follow its cursor and
//! return [`Pages`] and [`Nodes`]: named, `Unpin` streams a caller can store in a struct and
//! poll without `pin!`.
//!
//! Invariant: at most one page is held in memory. The next page is requested only when the
//! consumer asks for more than the current page holds; nothing is prefetched.
//!
//! # When following stops
//!
//! [`PageFollower`] decides, page after page, whether to go on. It stops with a typed
//! [`PageStop`] (an [`ErrorKind::Pagination`] item at the end of the stream) when:
//!
//! - a page says `hasNextPage` without an `endCursor`;
//! - an `endCursor` was seen before (an immediate repeat or a cycle A → B → A), which would
//!   loop forever (cursors are remembered as 16-byte digests, so following a server's large
//!   cursors costs 16 bytes a page);
//! - [`DEFAULT_MAX_EMPTY_PAGES`] (3) pages in a row say `hasNextPage` but hold no edges;
//! - an optional page cap ([`Pages::max_pages`]) is reached while the server has more.
//!
//! The command line's `ion run --all-pages`, which works on untyped JSON documents, drives the
//! same [`PageFollower`] through [`PageFollower::follow_json`].

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

pub use crate::error::PageStop;
use crate::{Client, Error, ErrorKind, PageCursor, Paginated};

/// How many pages in a row may say `hasNextPage` yet hold no edges before following stops.
///
/// A server can legitimately send one empty page (items deleted between requests); several in
/// a row with fresh cursors each time is a server paging through nothing, forever.
pub const DEFAULT_MAX_EMPTY_PAGES: u32 = 3;

impl PageStop {
    /// The [`Error`] for operation `operation` (kind [`ErrorKind::Pagination`]).
    pub fn into_error(self, operation: &str) -> Error {
        let message = format!("cannot follow the pages of {operation}: {self}");
        Error::from_kind(ErrorKind::Pagination { stop: self.clone() }, message)
            .with_source(self, &[])
            .with_context(Some(operation), None, 0)
    }
}

/// What to request after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    /// The page after this cursor (send it as `$after`).
    After(String),
    /// That was the last page.
    Done,
}

/// The cursor-following rules, page by page: which page comes next, or why to stop (see the
/// [module docs](self)). It holds a 16-byte digest of each cursor seen so far (128 bits of
/// SHA-256), not the cursors or the pages: a server sending large cursors costs it 16 bytes
/// a page, whatever their size.
///
/// # Example
///
/// Paging untyped JSON, as `ion run --all-pages` does:
///
/// ```
/// use ion_client::pagination::{NextPage, PageFollower};
/// use serde_json::json;
///
/// let mut follower = PageFollower::new().max_pages(100);
/// let page_1 = json!({"pageInfo": {"hasNextPage": true, "endCursor": "A"}, "edges": [{"node": 1}]});
/// assert_eq!(follower.follow_json(&page_1)?, NextPage::After("A".into()));
/// let page_2 = json!({"pageInfo": {"hasNextPage": true, "endCursor": "A"}, "edges": [{"node": 2}]});
/// assert!(follower.follow_json(&page_2).is_err(), "A was seen before");
/// # Ok::<(), ion_client::pagination::PageStop>(())
/// ```
#[derive(Debug, Clone)]
pub struct PageFollower {
    seen: HashSet<CursorDigest>,
    pages: u64,
    empty_run: u32,
    max_pages: Option<u64>,
    max_empty_pages: u32,
}

/// What [`PageFollower`] keeps of a cursor: two cursors with one digest are not a practical
/// concern at 128 bits.
type CursorDigest = [u8; 16];

fn digest(cursor: &str) -> CursorDigest {
    let full = ring::digest::digest(&ring::digest::SHA256, cursor.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full.as_ref()[..16]);
    out
}

impl Default for PageFollower {
    fn default() -> PageFollower {
        PageFollower::new()
    }
}

impl PageFollower {
    /// A follower with no page cap and [`DEFAULT_MAX_EMPTY_PAGES`].
    pub fn new() -> PageFollower {
        PageFollower {
            seen: HashSet::new(),
            pages: 0,
            empty_run: 0,
            max_pages: None,
            max_empty_pages: DEFAULT_MAX_EMPTY_PAGES,
        }
    }

    /// Stops with [`PageStop::PageLimit`] after `max` pages when the server has more (default:
    /// no cap; 0 counts as 1).
    pub fn max_pages(mut self, max: u64) -> PageFollower {
        self.max_pages = Some(max.max(1));
        self
    }

    /// Stops with [`PageStop::EmptyPages`] after `max` pages in a row with `hasNextPage` and
    /// no edges (default [`DEFAULT_MAX_EMPTY_PAGES`]; 0 counts as 1).
    pub fn max_empty_pages(mut self, max: u32) -> PageFollower {
        self.max_empty_pages = max.max(1);
        self
    }

    /// Records that the first request starts after `cursor` (an `after` the caller gave), so
    /// a server that leads back to it is caught as a cycle.
    pub fn starting_after(&mut self, cursor: impl Into<String>) {
        self.seen.insert(digest(&cursor.into()));
    }

    /// The pages recorded so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Records one page and says what comes next.
    ///
    /// `cursor` is the page's `pageInfo` (`None` when the connection itself was null, which
    /// ends the pages); `edges` is how many edges it held, when known.
    ///
    /// # Errors
    ///
    /// A [`PageStop`] when following must stop (see the [module docs](self)); the page itself
    /// is still good.
    pub fn follow(
        &mut self,
        cursor: Option<&PageCursor>,
        edges: Option<usize>,
    ) -> Result<NextPage, PageStop> {
        self.pages = self.pages.saturating_add(1);
        let page = self.pages;
        let Some(info) = cursor.filter(|c| c.has_next_page) else {
            return Ok(NextPage::Done);
        };
        let Some(end) = info.end_cursor.clone() else {
            return Err(PageStop::MissingEndCursor { page });
        };
        if !self.seen.insert(digest(&end)) {
            return Err(PageStop::CursorRepeated { page, cursor: end });
        }
        if edges == Some(0) {
            self.empty_run = self.empty_run.saturating_add(1);
            if self.empty_run >= self.max_empty_pages {
                return Err(PageStop::EmptyPages {
                    count: self.empty_run,
                });
            }
        } else {
            self.empty_run = 0;
        }
        if let Some(limit) = self.max_pages.filter(|limit| page >= *limit) {
            return Err(PageStop::PageLimit { limit });
        }
        Ok(NextPage::After(end))
    }

    /// [`follow`](Self::follow) for an untyped connection object (`{"pageInfo": {...},
    /// "edges": [...]}`): a null or absent connection ends the pages; a `pageInfo` without a
    /// boolean `hasNextPage` counts as the last page; a non-string `endCursor` as null.
    ///
    /// # Errors
    ///
    /// As [`follow`](Self::follow).
    pub fn follow_json(&mut self, connection: &serde_json::Value) -> Result<NextPage, PageStop> {
        let cursor = connection
            .get("pageInfo")
            .filter(|info| info.is_object())
            .map(|info| PageCursor {
                has_next_page: info
                    .get("hasNextPage")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
                end_cursor: info
                    .get("endCursor")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
            });
        let edges = connection
            .get("edges")
            .and_then(serde_json::Value::as_array)
            .map(Vec::len);
        self.follow(cursor.as_ref(), edges)
    }
}

type Fetch<Q> = Pin<
    Box<
        dyn Future<
                Output = (
                    <Q as graphql_client::GraphQLQuery>::Variables,
                    Result<<Q as graphql_client::GraphQLQuery>::ResponseData, Error>,
                ),
            > + Send,
    >,
>;

/// Where a stream of pages stands.
enum Stage<Q: Paginated> {
    /// The next request is to be made (with `after` set, except for the first page).
    Next {
        variables: Q::Variables,
        after: Option<String>,
    },
    /// A request is in flight.
    Fetching(Fetch<Q>),
    /// A page has been yielded whose cursor cannot be followed: this error comes next.
    Fail(Error),
    /// The last page has been yielded, or an error ended the stream.
    Done,
}

/// Fetches pages one at a time; the caller tells it what comes next.
struct Source<Q: Paginated> {
    client: Client,
    stage: Stage<Q>,
    follower: PageFollower,
    /// The variables, kept while a page is being handed out, until `decide`.
    parked: Option<Q::Variables>,
}

impl<Q: Paginated> Source<Q> {
    fn new(client: Client, variables: Q::Variables) -> Source<Q> {
        Source {
            client,
            stage: Stage::Next {
                variables,
                after: None,
            },
            follower: PageFollower::new(),
            parked: None,
        }
    }

    /// The next page, or the error that ends the stream, or the end.
    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Q::ResponseData, Error>>> {
        loop {
            match std::mem::replace(&mut self.stage, Stage::Done) {
                Stage::Done => return Poll::Ready(None),
                Stage::Fail(error) => return Poll::Ready(Some(Err(error))),
                Stage::Next {
                    mut variables,
                    after,
                } => {
                    if after.is_some() {
                        Q::set_after(&mut variables, after);
                    }
                    let client = self.client.clone();
                    self.stage = Stage::Fetching(Box::pin(async move {
                        let result = client.execute_ref::<Q>(&variables).await;
                        (variables, result)
                    }));
                }
                Stage::Fetching(mut fetch) => match fetch.as_mut().poll(cx) {
                    Poll::Pending => {
                        self.stage = Stage::Fetching(fetch);
                        return Poll::Pending;
                    }
                    Poll::Ready((_, Err(error))) => return Poll::Ready(Some(Err(error))),
                    Poll::Ready((variables, Ok(page))) => {
                        self.parked = Some(variables);
                        return Poll::Ready(Some(Ok(page)));
                    }
                },
            }
        }
    }

    /// Records the page just handed out and sets up what comes after it.
    fn decide(&mut self, cursor: Option<&PageCursor>, edges: Option<usize>) {
        let Some(variables) = self.parked.take() else {
            return;
        };
        self.stage = match self.follower.follow(cursor, edges) {
            Ok(NextPage::After(after)) => Stage::Next {
                variables,
                after: Some(after),
            },
            Ok(NextPage::Done) => Stage::Done,
            Err(stop) => Stage::Fail(stop.into_error(Q::NAME)),
        };
    }
}

/// The pages of a paginated operation: a named, `Unpin` [`Stream`], from [`Client::pages`].
pub struct Pages<Q: Paginated> {
    source: Source<Q>,
}

/// The nodes of a paginated operation across its pages: a named, `Unpin` [`Stream`], from
/// [`Client::nodes`].
pub struct Nodes<Q: Paginated> {
    source: Source<Q>,
    current: std::vec::IntoIter<Q::Node>,
}

// Neither stream relies on being pinned: the request in flight is boxed, and the variables and
// nodes are moved freely between polls.
impl<Q: Paginated> Unpin for Pages<Q> {}
impl<Q: Paginated> Unpin for Nodes<Q> {}

impl<Q: Paginated> fmt::Debug for Pages<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("operation", &Q::NAME)
            .field("pages", &self.source.follower.pages())
            .finish_non_exhaustive()
    }
}

impl<Q: Paginated> fmt::Debug for Nodes<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nodes")
            .field("operation", &Q::NAME)
            .field("pages", &self.source.follower.pages())
            .finish_non_exhaustive()
    }
}

macro_rules! limits {
    ($ty:ident) => {
        impl<Q: Paginated> $ty<Q> {
            /// Ends the stream with a [`PageStop::PageLimit`] error after `max` pages when the
            /// server has more (default: no cap).
            pub fn max_pages(mut self, max: u64) -> Self {
                self.source.follower = self.source.follower.max_pages(max);
                self
            }

            /// Ends the stream with a [`PageStop::EmptyPages`] error after `max` pages in a row
            /// with `hasNextPage` and no edges (default [`DEFAULT_MAX_EMPTY_PAGES`]).
            pub fn max_empty_pages(mut self, max: u32) -> Self {
                self.source.follower = self.source.follower.max_empty_pages(max);
                self
            }

            /// Pages requested so far.
            pub fn pages_fetched(&self) -> u64 {
                self.source.follower.pages()
            }
        }
    };
}
limits!(Pages);
limits!(Nodes);

impl<Q: Paginated> Stream for Pages<Q> {
    type Item = Result<Q::ResponseData, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let page = match this.source.poll_page(cx) {
            Poll::Ready(Some(Ok(page))) => page,
            other => return other,
        };
        this.source
            .decide(Q::page_cursor(&page).as_ref(), Some(Q::node_count(&page)));
        Poll::Ready(Some(Ok(page)))
    }
}

impl<Q: Paginated> Stream for Nodes<Q> {
    type Item = Result<Q::Node, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(node) = this.current.next() {
                return Poll::Ready(Some(Ok(node)));
            }
            let page = match this.source.poll_page(cx) {
                Poll::Ready(Some(Ok(page))) => page,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            let cursor = Q::page_cursor(&page);
            let nodes = Q::into_nodes(page);
            this.source.decide(cursor.as_ref(), Some(nodes.len()));
            this.current = nodes.into_iter();
        }
    }
}

impl Client {
    /// The pages of a paginated operation, fetched one at a time as the stream is polled.
    ///
    /// The first request uses `variables` as given (so an `after` already set is honoured);
    /// each following one sets `$after` to the previous page's `pageInfo.endCursor`. The
    /// stream ends after a page whose `hasNextPage` is false or whose connection is null, and
    /// after the first error. [`Pages`] is `Unpin`: poll it without `pin!`, keep it in a
    /// struct; cap it with [`Pages::max_pages`].
    ///
    /// # Errors
    ///
    /// An item is an error when a request fails (as [`Client::execute`] fails), or, after the
    /// page that caused it, an [`ErrorKind::Pagination`] when following must stop (see the
    /// [module docs](crate::pagination)); the stream ends after it.
    pub fn pages<Q: Paginated>(&self, variables: Q::Variables) -> Pages<Q> {
        Pages {
            source: Source::new(self.clone(), variables),
        }
    }

    /// The nodes of a paginated operation, across pages, fetched one page at a time as the
    /// stream is polled. Null edges and nodes are skipped; pages that hold none count as
    /// empty for [`Nodes::max_empty_pages`].
    ///
    /// # Errors
    ///
    /// As [`Client::pages`]: the stream ends after the first error.
    pub fn nodes<Q: Paginated>(&self, variables: Q::Variables) -> Nodes<Q> {
        Nodes {
            source: Source::new(self.clone(), variables),
            current: Vec::new().into_iter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(next: bool, end: Option<&str>) -> PageCursor {
        PageCursor {
            has_next_page: next,
            end_cursor: end.map(str::to_owned),
        }
    }

    #[test]
    fn the_rules_of_following() {
        type Step<'a> = (
            Option<PageCursor>,
            Option<usize>,
            Result<NextPage, PageStop>,
        );
        let after = |c: &str| Ok(NextPage::After(c.to_owned()));
        let cases: Vec<(&str, PageFollower, Vec<Step<'_>>)> = vec![
            (
                "a cycle A → B → A",
                PageFollower::new(),
                vec![
                    (Some(info(true, Some("A"))), Some(1), after("A")),
                    (Some(info(true, Some("B"))), Some(1), after("B")),
                    (
                        Some(info(true, Some("A"))),
                        Some(1),
                        Err(PageStop::CursorRepeated {
                            page: 3,
                            cursor: "A".into(),
                        }),
                    ),
                ],
            ),
            (
                "a missing end cursor",
                PageFollower::new(),
                vec![(
                    Some(info(true, None)),
                    Some(1),
                    Err(PageStop::MissingEndCursor { page: 1 }),
                )],
            ),
            (
                "a run of empty pages, reset by a page with edges",
                PageFollower::new(),
                vec![
                    (Some(info(true, Some("1"))), Some(0), after("1")),
                    (Some(info(true, Some("2"))), Some(0), after("2")),
                    (Some(info(true, Some("3"))), Some(5), after("3")),
                    (Some(info(true, Some("4"))), Some(0), after("4")),
                    (Some(info(true, Some("5"))), Some(0), after("5")),
                    (
                        Some(info(true, Some("6"))),
                        Some(0),
                        Err(PageStop::EmptyPages { count: 3 }),
                    ),
                ],
            ),
            (
                "an empty last page is fine; unknown counts are not empty",
                PageFollower::new().max_empty_pages(1),
                vec![
                    (Some(info(true, Some("1"))), None, after("1")),
                    (Some(info(false, Some("2"))), Some(0), Ok(NextPage::Done)),
                ],
            ),
            (
                "a page cap",
                PageFollower::new().max_pages(2),
                vec![
                    (Some(info(true, Some("1"))), Some(1), after("1")),
                    (
                        Some(info(true, Some("2"))),
                        Some(1),
                        Err(PageStop::PageLimit { limit: 2 }),
                    ),
                ],
            ),
            (
                "a cap reached on the last page is no error; a null connection ends",
                PageFollower::new().max_pages(1),
                vec![(Some(info(false, None)), Some(1), Ok(NextPage::Done))],
            ),
            (
                "a null connection ends the pages",
                PageFollower::new(),
                vec![(None, None, Ok(NextPage::Done))],
            ),
        ];
        for (name, mut follower, steps) in cases {
            for (i, (cursor, edges, expected)) in steps.into_iter().enumerate() {
                assert_eq!(
                    follower.follow(cursor.as_ref(), edges),
                    expected,
                    "{name}, page {}",
                    i + 1
                );
            }
        }
    }

    #[test]
    fn a_given_start_cursor_counts_as_seen() {
        let mut f = PageFollower::new();
        f.starting_after("Z");
        assert_eq!(
            f.follow(Some(&info(true, Some("Z"))), Some(1)),
            Err(PageStop::CursorRepeated {
                page: 1,
                cursor: "Z".into()
            })
        );
    }

    #[test]
    fn long_cursors_are_remembered_by_a_fixed_size_digest() {
        let mut f = PageFollower::new();
        let cursor = |n: usize| format!("{n}:{}", "c".repeat(64 * 1024));
        for n in 0..100 {
            assert_eq!(
                f.follow(Some(&info(true, Some(&cursor(n)))), Some(1)),
                Ok(NextPage::After(cursor(n)))
            );
        }
        assert_eq!(f.seen.len(), 100);
        assert_eq!(std::mem::size_of::<CursorDigest>(), 16);
        assert!(matches!(
            f.follow(Some(&info(true, Some(&cursor(42)))), Some(1)),
            Err(PageStop::CursorRepeated { page: 101, .. })
        ));
    }

    #[test]
    fn untyped_connections_are_read_leniently() {
        let mut f = PageFollower::new();
        let cases = [
            (json!(null), Ok(NextPage::Done)),
            (json!({"edges": []}), Ok(NextPage::Done)),
            (
                json!({"pageInfo": {"hasNextPage": "yes", "endCursor": "x"}}),
                Ok(NextPage::Done),
            ),
            (
                json!({"pageInfo": {"hasNextPage": true, "endCursor": 7}, "edges": [1]}),
                Err(PageStop::MissingEndCursor { page: 4 }),
            ),
            (
                json!({"pageInfo": {"hasNextPage": true, "endCursor": "c"}, "edges": [1]}),
                Ok(NextPage::After("c".into())),
            ),
        ];
        for (connection, expected) in cases {
            assert_eq!(f.follow_json(&connection), expected, "{connection}");
        }
    }

    #[test]
    fn stops_read_well() {
        let long = "c".repeat(200);
        let e = PageStop::CursorRepeated {
            page: 3,
            cursor: long,
        }
        .into_error("ListRuns");
        assert!(matches!(e.kind(), ErrorKind::Pagination { .. }));
        assert_eq!(
            e.to_string(),
            format!(
                "cannot follow the pages of ListRuns: page 3 returned the endCursor `{}…`, which \
                 was seen before; stopping instead of looping",
                "c".repeat(80)
            )
        );
    }
}
