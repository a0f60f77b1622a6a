//! TEMPORARY stub, replaced by the runtime branch.
#![allow(missing_docs, clippy::all)]
use crate::{Operation, Paginated};
use serde::{Serialize, de::DeserializeOwned};
#[derive(Clone, Debug, Default)]
pub struct Client;
#[derive(Debug)]
pub struct Error;
impl Client {
    pub async fn execute<Q: Operation>(
        &self,
        _variables: Q::Variables,
    ) -> Result<Q::ResponseData, Error>
    where
        Q::Variables: Serialize + Send + Sync,
        Q::ResponseData: DeserializeOwned + Send,
    {
        Err(Error)
    }
    pub fn pages<Q: Paginated>(
        &self,
        _variables: Q::Variables,
    ) -> impl futures_core::Stream<Item = Result<Q::ResponseData, Error>> + Send + 'static
    where
        Q::Variables: Send + 'static,
        Q::ResponseData: Send + 'static,
    {
        futures_util::stream::empty()
    }
    pub fn nodes<Q: Paginated>(
        &self,
        _variables: Q::Variables,
    ) -> impl futures_core::Stream<Item = Result<Q::Node, Error>> + Send + 'static
    where
        Q::Variables: Send + 'static,
        Q::Node: Send + 'static,
    {
        futures_util::stream::empty()
    }
}
