//! Fault injection: per route, a fixed status, a delay, or a dropped connection.

use std::time::Duration;

/// What goes wrong.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and body instead of calling the handler.
    Status {
        /// The status code.
        status: u16,
        /// The body.
        body: String,
        /// The content type.
        content_type: String,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
}

impl Fault {
    /// A status with an empty plain-text body.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            body: String::new(),
            content_type: "text/plain".to_owned(),
        }
    }

    /// A status with an HTML body, as a proxy or a crashed backend would answer.
    pub fn html(status: u16, body: &str) -> Self {
        Self::Status {
            status,
            body: body.to_owned(),
            content_type: "text/html".to_owned(),
        }
    }
}

/// Where a fault applies and how often.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FaultRule {
    /// A path, or a prefix ending in `*` (`/rest/*`).
    pub route: String,
    /// Only this method, if set.
    pub method: Option<http::Method>,
    /// What happens.
    pub fault: Fault,
    /// How many requests it hits; `None` means all of them.
    pub times: Option<usize>,
}

impl FaultRule {
    /// A rule hitting every request on `route`.
    pub fn new(route: &str, fault: Fault) -> Self {
        Self {
            route: route.to_owned(),
            method: None,
            fault,
            times: None,
        }
    }

    /// Limits the rule to the next `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Limits the rule to one method.
    #[must_use]
    pub fn method(mut self, method: http::Method) -> Self {
        self.method = Some(method);
        self
    }

    pub(crate) fn matches(&self, method: &http::Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && route_matches(&self.route, path)
    }
}

/// Whether `path` is `route`, or starts with `route` less its trailing `*`.
pub(crate) fn route_matches(route: &str, path: &str) -> bool {
    match route.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => route == path,
    }
}
