//! List parameters shared by every list call, the page they return, and a stream over
//! all pages.

use std::future::Future;

use futures_core::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// Ascending (the server's default).
    Asc,
    /// Descending.
    Desc,
}

/// The list parameters every list endpoint takes: `search`, `order`, `direction`,
/// `limit`, `offset`, `recurse`, plus exact-match filters on any searchable column.
///
/// Booleans go on the wire as `True`/`False`, as the Python client sends them; the
/// server accepts either case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// Free-text search over the searchable columns.
    pub search: Option<String>,
    /// Sort column.
    pub order: Option<String>,
    /// Sort direction.
    pub direction: Option<Direction>,
    /// Page size (no limit when absent).
    pub limit: Option<u64>,
    /// Items to skip.
    pub offset: Option<u64>,
    /// Include sub-tenants.
    pub recurse: Option<bool>,
    /// Exact-match filters such as `("name", "sales")`, sent in order.
    pub filters: Vec<(String, String)>,
}

impl ListParams {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `search`.
    #[must_use]
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.search = Some(search.into());
        self
    }

    /// Sets `order`.
    #[must_use]
    pub fn order(mut self, column: impl Into<String>) -> Self {
        self.order = Some(column.into());
        self
    }

    /// Sets `direction`.
    #[must_use]
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }

    /// Sets `limit`.
    #[must_use]
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets `offset`.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sets `recurse`.
    #[must_use]
    pub fn recurse(mut self, recurse: bool) -> Self {
        self.recurse = Some(recurse);
        self
    }

    /// Adds an exact-match filter.
    #[must_use]
    pub fn filter(mut self, column: impl Into<String>, value: impl Into<String>) -> Self {
        self.filters.push((column.into(), value.into()));
        self
    }

    pub(crate) fn to_query(&self) -> Vec<(String, String)> {
        let mut q: Vec<(&'static str, String)> = Vec::new();
        if let Some(s) = &self.search {
            q.push(("search", s.clone()));
        }
        if let Some(o) = &self.order {
            q.push(("order", o.clone()));
        }
        if let Some(d) = self.direction {
            let d = match d {
                Direction::Asc => "asc",
                Direction::Desc => "desc",
            };
            q.push(("direction", d.to_owned()));
        }
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(o) = self.offset {
            q.push(("offset", o.to_string()));
        }
        if let Some(r) = self.recurse {
            q.push(("recurse", python_bool(r).to_owned()));
        }
        q.into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(self.filters.iter().cloned())
            .collect()
    }
}

pub(crate) fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// One page of a list: `{total, filtered, items}` (policies and domains have no
/// `filtered`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// Items in the whole collection.
    #[serde(default)]
    pub total: u64,
    /// Items matching the filters, when the endpoint says.
    #[serde(default)]
    pub filtered: Option<u64>,
    /// This page's items.
    pub items: Vec<T>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The default page size of [`all`].
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// The most pages [`all`] reads before giving up with [`Error::ListTooLong`]: a server that
/// never sends an empty or short page cannot keep the walk going for ever.
pub const MAX_PAGES: u64 = 10_000;

/// Walks every page of a list, yielding items one at a time. `params.limit` is the page
/// size ([`DEFAULT_PAGE_SIZE`] when unset); `params.offset` is where to start.
///
/// When the page says `filtered` (the count of matching items), the walk ends once that
/// many are read or a page comes back empty, so short pages from server-side pagination
/// bugs do not end it early. Without `filtered` (the policy list), `total` counts the
/// whole collection and ignores `search`, so it cannot say when to stop: the walk ends at
/// the first page shorter than the page size, without asking for an empty one. It also
/// ends with [`Error::ListTooLong`] after [`MAX_PAGES`] pages.
///
/// ```no_run
/// # async fn f(client: wazo_auth_client::Client) -> Result<(), wazo_auth_client::Error> {
/// use futures_util::TryStreamExt as _;
/// use wazo_auth_client::{ListParams, list};
/// let users: Vec<_> = list::all(ListParams::new(), |p| {
///     let client = client.clone();
///     async move { client.users().list(&p, None).await }
/// })
/// .try_collect()
/// .await?;
/// # Ok(()) }
/// ```
pub fn all<T, F, Fut>(params: ListParams, fetch: F) -> impl Stream<Item = Result<T, Error>>
where
    F: FnMut(ListParams) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    let size = params.limit.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
    let start = params.offset.unwrap_or(0);
    let state = (fetch, params.limit(size), start, false, 0u64);
    let pages = futures_util::stream::try_unfold(
        state,
        move |(mut fetch, params, offset, done, pages)| async move {
            if done {
                return Ok(None);
            }
            if pages >= MAX_PAGES {
                return Err(Error::ListTooLong { pages });
            }
            let page = fetch(params.clone().offset(offset)).await?;
            let count = page.items.len() as u64;
            let next = offset.saturating_add(count);
            let done = count == 0
                || match page.filtered {
                    Some(filtered) => next >= filtered,
                    None => count < size,
                };
            let items = futures_util::stream::iter(page.items.into_iter().map(Ok));
            Ok(Some((items, (fetch, params, next, done, pages + 1))))
        },
    );
    futures_util::TryStreamExt::try_flatten(pages)
}
