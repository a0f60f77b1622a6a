//! The seam between generated operations and the runtime.
//!
//! Every module generated from `queries/*.graphql` contains a unit struct that implements
//! [`graphql_client::GraphQLQuery`] (so code written for `graphql_client` keeps working) and
//! [`Operation`], which adds what the runtime needs to dispatch it safely: the operation's kind
//! decides the retry policy. Operations that page (by the generator's rule in
//! `ion_client_build::pagination`: `$after` passed as `after:` to a connection selecting
//! `pageInfo { hasNextPage endCursor }` and `edges { node }`) also implement [`Paginated`],
//! which the pagination streams are built on.

use graphql_client::GraphQLQuery;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Whether an operation reads or writes.
///
/// The runtime retries queries freely but replays a mutation only when it certainly never
/// reached the server; see the `retry` module's policy (`retry::decide`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// A `query` operation: safe to retry.
    Query,
    /// A `mutation` operation: never replayed once it may have executed.
    Mutation,
}

impl OperationKind {
    /// The GraphQL keyword for this kind (`query` or `mutation`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
        }
    }
}

impl std::fmt::Display for OperationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A generated GraphQL operation with the facts the runtime needs to send it.
///
/// The bounds on the associated types are part of the trait, so code generic over operations
/// writes `Q: Operation` and nothing more: no `where Q::Variables: Serialize + ...`.
pub trait Operation:
    GraphQLQuery<
        Variables: Serialize + Send + Sync + 'static,
        ResponseData: DeserializeOwned + Send + 'static,
    > + 'static
{
    /// The operation's name as written in the document (or derived from the file name for an
    /// anonymous operation).
    const NAME: &'static str;
    /// Query or mutation.
    const KIND: OperationKind;
    /// The full document sent to the server: the operation plus every fragment it uses.
    const QUERY: &'static str;
}

/// Where the next page starts, as read from a response's `pageInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageCursor {
    /// `pageInfo.hasNextPage`.
    pub has_next_page: bool,
    /// `pageInfo.endCursor`: the value to send as `$after` for the next page.
    pub end_cursor: Option<String>,
}

/// An operation over a Relay connection: it declares an `$after` variable and selects
/// `pageInfo { hasNextPage endCursor }` and `edges { node }` on one connection field.
pub trait Paginated: Operation {
    /// The node type of the connection's edges.
    type Node: Send + 'static;
    /// Sets `$after` in the variables (`None` asks for the first page).
    fn set_after(variables: &mut Self::Variables, after: Option<String>);
    /// Reads the page cursor from a response; `None` when the connection itself was null.
    fn page_cursor(data: &Self::ResponseData) -> Option<PageCursor>;
    /// Takes the page's nodes out of a response, skipping null edges and nodes.
    fn into_nodes(data: Self::ResponseData) -> Vec<Self::Node>;
    /// How many nodes [`into_nodes`](Self::into_nodes) would take, without taking them (0 when
    /// the connection is null). Both page streams count empty pages with it, so a server
    /// paging through nothing is stopped by [`Client::pages`](crate::Client::pages) as by
    /// [`Client::nodes`](crate::Client::nodes).
    fn node_count(data: &Self::ResponseData) -> usize;
}
