//! Route patterns and access templates: `/users/{user_uuid}` and
//! `confd.users.{user_uuid}.read`.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::Error;

/// One piece of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: one path segment.
    Param(String),
    /// `{*name}`: the rest of the path.
    Rest(String),
}

/// A route pattern in the syntax axum 0.8 and matchit use: literal segments, `{name}` for
/// one segment and `{*name}` for the rest of the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoutePattern {
    segments: Vec<Segment>,
}

/// Splits a path into its segments, without the leading `/`.
fn split_path(path: &str) -> std::str::Split<'_, char> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// `{name}` or `{*name}` → the name and whether it is a catch-all; `None` for a literal.
fn placeholder(segment: &str) -> Result<Option<(&str, bool)>, Error> {
    let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        if segment.contains(['{', '}']) {
            return Err(Error::Config(
                "a route segment is either literal or one whole {placeholder}",
            ));
        }
        return Ok(None);
    };
    let (name, rest) = match inner.strip_prefix('*') {
        Some(name) => (name, true),
        None => (inner, false),
    };
    if !valid_name(name) {
        return Err(Error::Config(
            "a placeholder name is made of ASCII letters, digits and `_`",
        ));
    }
    Ok(Some((name, rest)))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl RoutePattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self, Error> {
        if !pattern.starts_with('/') {
            return Err(Error::Config("a route pattern starts with `/`"));
        }
        let mut segments = Vec::new();
        let mut parts = split_path(pattern).peekable();
        while let Some(part) = parts.next() {
            segments.push(match placeholder(part)? {
                None => Segment::Literal(part.to_owned()),
                Some((name, false)) => Segment::Param(name.to_owned()),
                Some((name, true)) => {
                    if parts.peek().is_some() {
                        return Err(Error::Config(
                            "a {*catch_all} placeholder ends the route pattern",
                        ));
                    }
                    Segment::Rest(name.to_owned())
                }
            });
        }
        Ok(Self { segments })
    }

    /// The index of the segment that is parameter `name`.
    fn param_index(&self, name: &str) -> Option<usize> {
        self.segments.iter().position(|s| match s {
            Segment::Param(n) | Segment::Rest(n) => n == name,
            Segment::Literal(_) => false,
        })
    }

    /// The raw value of the parameter at segment `index` in `path`, and whether it holds a
    /// `%` or a `.` (so needs decoding or escaping); `None` when the path does not match
    /// the pattern. One pass over the path: a literal segment is compared in place, a
    /// parameter's bytes are scanned once for its end and for those two.
    fn param<'p>(&self, path: &'p str, index: usize) -> Option<(&'p str, bool)> {
        let mut rest = Some(path.strip_prefix('/').unwrap_or(path));
        let mut found = None;
        for (i, segment) in self.segments.iter().enumerate() {
            let here = rest?;
            let value = match segment {
                Segment::Literal(lit) => {
                    let after = here.strip_prefix(lit.as_str())?;
                    rest = match after.as_bytes().first() {
                        None => None,
                        Some(b'/') => Some(&after[1..]),
                        Some(_) => return None,
                    };
                    continue;
                }
                Segment::Param(_) => {
                    let (end, special) = scan_segment(here.as_bytes());
                    rest = here.get(end + 1..);
                    (&here[..end], special)
                }
                Segment::Rest(_) => {
                    rest = None;
                    if here.is_empty() {
                        return None;
                    }
                    (here, here.bytes().any(|b| b == b'%' || b == b'.'))
                }
            };
            if i == index {
                found = Some(value);
            }
        }
        if rest.is_some() {
            return None;
        }
        found
    }
}

/// Where the segment at the start of `bytes` ends (its `/` or the end), and whether it
/// holds a `%` or a `.`.
fn scan_segment(bytes: &[u8]) -> (usize, bool) {
    let mut special = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'/' => return (i, special),
            b'%' | b'.' => special = true,
            _ => {}
        }
    }
    (bytes.len(), special)
}

/// A piece of an access template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// The route segment that holds the value.
    Param(usize),
}

/// The access a route requires, with `{name}` filled from the route's path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessTemplate {
    pieces: Vec<Piece>,
    route: RoutePattern,
}

impl AccessTemplate {
    /// Parses `template` and checks that every placeholder is a parameter of `route`.
    pub(crate) fn parse(route: &str, template: &str) -> Result<Self, Error> {
        let route = RoutePattern::parse(route)?;
        if template.is_empty() {
            return Err(Error::Config("the required access is empty"));
        }
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(Error::Config("a `}` without `{` in the access template"));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or(Error::Config("a `{` without `}` in the access template"))?;
            let name = &after[..close];
            if !valid_name(name) {
                return Err(Error::Config(
                    "a placeholder name is made of ASCII letters, digits and `_`",
                ));
            }
            let index = route.param_index(name).ok_or(Error::Config(
                "the access template names a parameter the route pattern does not have",
            ))?;
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_owned()));
            }
            pieces.push(Piece::Param(index));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(Self { pieces, route })
    }

    /// The access for a request to `path`; `None` when `path` does not match the route
    /// pattern. Every `.` in a value becomes `_`, as wazo services do, so a value cannot
    /// add segments to the access.
    #[cfg(test)]
    pub(crate) fn fill(&self, path: &str) -> Option<String> {
        let mut out = String::new();
        self.fill_into(path, &mut out).then_some(out)
    }

    /// [`fill`](Self::fill) into `out` (cleared first), so a caller can reuse one buffer;
    /// `false` when `path` does not match the route pattern.
    pub(crate) fn fill_into(&self, path: &str, out: &mut String) -> bool {
        out.clear();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Param(index) => {
                    let Some((raw, special)) = self.route.param(path, *index) else {
                        return false;
                    };
                    if special {
                        push_escaped(out, raw);
                    } else {
                        out.push_str(raw);
                    }
                }
            }
        }
        true
    }
}

/// Appends `raw` percent-decoded, with every `.` (also an encoded one) replaced by `_`.
fn push_escaped(out: &mut String, raw: &str) {
    let decoded = if raw.as_bytes().contains(&b'%') {
        percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    };
    let mut rest: &str = &decoded;
    while let Some(dot) = rest.bytes().position(|b| b == b'.') {
        out.push_str(&rest[..dot]);
        out.push('_');
        rest = &rest[dot + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(route: &str, template: &str, path: &str) -> Option<String> {
        AccessTemplate::parse(route, template).unwrap().fill(path)
    }

    #[test]
    fn fills_parameters_and_escapes_dots() {
        let t = "confd.users.{user_uuid}.lines.{line_id}.read";
        let r = "/users/{user_uuid}/lines/{line_id}";
        assert_eq!(
            fill(r, t, "/users/abc/lines/7").as_deref(),
            Some("confd.users.abc.lines.7.read")
        );
        assert_eq!(
            fill(r, t, "/users/a.b/lines/7").as_deref(),
            Some("confd.users.a_b.lines.7.read")
        );
        assert_eq!(
            fill(r, t, "/users/a%2Eb/lines/7").as_deref(),
            Some("confd.users.a_b.lines.7.read")
        );
        assert_eq!(fill(r, t, "/users/abc"), None);
        assert_eq!(fill(r, t, "/users/abc/lines/7/x"), None);
        assert_eq!(fill(r, t, "/people/abc/lines/7"), None);
        assert_eq!(fill(r, t, "/usersx/abc/lines/7"), None);
        assert_eq!(fill(r, t, "/users/abc/lines/7/"), None);
        assert_eq!(
            fill(r, t, "/users/a%2e.b%25/lines/x.y").as_deref(),
            Some("confd.users.a__b%.lines.x_y.read")
        );
    }

    #[test]
    fn catch_all_and_literal_templates() {
        assert_eq!(
            fill("/files/{*path}", "files.{path}.read", "/files/a/b.c").as_deref(),
            Some("files.a/b_c.read")
        );
        assert_eq!(
            fill("/status", "confd.status.read", "/status").as_deref(),
            Some("confd.status.read")
        );
    }

    #[test]
    fn refuses_bad_templates() {
        for (route, template) in [
            ("/users/{id}", "confd.users.{user_uuid}.read"),
            ("/users/{id}", "confd.users.{id.read"),
            ("/users/{id}", "confd.users.}id.read"),
            ("/users/{id}", ""),
            ("users/{id}", "confd.users.{id}.read"),
            ("/users/{*rest}/x", "a.{rest}"),
            ("/users/x{id}", "a.{id}"),
        ] {
            assert!(
                AccessTemplate::parse(route, template).is_err(),
                "{route} {template}"
            );
        }
    }
}
