//! The ACL engine of wazo (`AccessCheck`): does a token's ACL grant a required access?
//!
//! An ACL entry is a dot-separated pattern: `*` matches any run of characters without `.`
//! or `#` (so within one segment, possibly empty), `#` matches any run of characters,
//! a whole segment `me` also matches the token's user id, `my_session` its session id,
//! `edit` also matches `update`. Entries starting with `!` are negative and win over
//! positive ones. The required access is taken literally.
//!
//! The reference builds regular expressions; this is a small wildcard matcher with the
//! same results, with two deliberate differences (the "quirks"):
//! - the user and session ids are matched literally: with a user id `a.c`, `foo.me`
//!   does not match `foo.aXc` (the reference inserts the id into the regex unescaped);
//! - matching is anchored at the absolute end: `foo.bar\n` does not match `foo.bar`
//!   (Python's `$` accepts a trailing newline).

use crate::api::token::Token;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Char(char),
    /// Any run of characters other than `.` and `#`.
    Star,
    /// Any run of characters.
    Hash,
    /// One of these literal words.
    Words(Vec<Vec<char>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern(Vec<Piece>);

impl Pattern {
    fn compile(entry: &str, auth_id: &str, session_id: &str) -> Self {
        let mut pieces = Vec::new();
        for (i, segment) in entry.split('.').enumerate() {
            if i > 0 {
                pieces.push(Piece::Char('.'));
            }
            let words =
                |a: &str, b: &str| Piece::Words(vec![a.chars().collect(), b.chars().collect()]);
            match segment {
                "me" => pieces.push(words("me", auth_id)),
                "my_session" => pieces.push(words("my_session", session_id)),
                "edit" => pieces.push(words("edit", "update")),
                _ => pieces.extend(segment.chars().map(|c| match c {
                    '*' => Piece::Star,
                    '#' => Piece::Hash,
                    c => Piece::Char(c),
                })),
            }
        }
        Self(pieces)
    }

    fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let width = text.len() + 1;
        // memo[p * width + t]: 0 unknown, 1 no, 2 yes. Bounded by pieces × characters.
        let mut memo = vec![0u8; (self.0.len() + 1) * width];
        self.at(0, 0, &text, &mut memo, width)
    }

    fn at(&self, p: usize, t: usize, text: &[char], memo: &mut [u8], width: usize) -> bool {
        let key = p * width + t;
        match memo[key] {
            1 => return false,
            2 => return true,
            _ => {}
        }
        let result = match self.0.get(p) {
            None => t == text.len(),
            Some(Piece::Char(c)) => {
                text.get(t) == Some(c) && self.at(p + 1, t + 1, text, memo, width)
            }
            Some(Piece::Star) => {
                let mut end = t;
                loop {
                    if self.at(p + 1, end, text, memo, width) {
                        break true;
                    }
                    match text.get(end) {
                        Some(c) if *c != '.' && *c != '#' => end += 1,
                        _ => break false,
                    }
                }
            }
            Some(Piece::Hash) => (t..=text.len()).any(|end| self.at(p + 1, end, text, memo, width)),
            Some(Piece::Words(words)) => words.iter().any(|w| {
                text.get(t..t + w.len()) == Some(w.as_slice())
                    && self.at(p + 1, t + w.len(), text, memo, width)
            }),
        };
        memo[key] = if result { 2 } else { 1 };
        result
    }
}

/// A compiled ACL for one token: answers "does it grant this access?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    positive: Vec<Pattern>,
    negative: Vec<Pattern>,
}

impl AccessCheck {
    /// Compiles `acl` for the user `auth_id` and the session `session_id`.
    pub fn new<S: AsRef<str>>(auth_id: &str, session_id: &str, acl: &[S]) -> Self {
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        for entry in acl {
            let entry = entry.as_ref();
            match entry.strip_prefix('!') {
                Some(rest) => negative.push(Pattern::compile(rest, auth_id, session_id)),
                None => positive.push(Pattern::compile(entry, auth_id, session_id)),
            }
        }
        Self { positive, negative }
    }

    /// Compiles a token's ACL (its `auth_id`, `session_uuid` and `acl`).
    pub fn for_token(token: &Token) -> Self {
        Self::new(
            &token.auth_id,
            token.session_uuid.as_deref().unwrap_or_default(),
            &token.acl,
        )
    }

    /// Whether the ACL grants `required`; `None` (no requirement) is always granted. A
    /// matching negative entry refuses; otherwise a matching positive entry grants.
    pub fn matches_required_access(&self, required: Option<&str>) -> bool {
        let Some(required) = required else {
            return true;
        };
        if self.negative.iter().any(|p| p.matches(required)) {
            return false;
        }
        self.positive.iter().any(|p| p.matches(required))
    }

    /// Whether the holder may add `access` to a policy: anyone may add a restriction
    /// (`!...`); otherwise the holder must have the access.
    pub fn may_add_access(&self, access: &str) -> bool {
        access.starts_with('!') || self.matches_required_access(Some(access))
    }

    /// Whether the holder may remove `access` (with or without its `!`): the holder must
    /// have the access itself.
    pub fn may_remove_access(&self, access: &str) -> bool {
        let plain = access.strip_prefix('!').unwrap_or(access);
        self.matches_required_access(Some(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::AccessCheck;

    fn check(acl: &[&str], required: &str) -> bool {
        AccessCheck::new("123", "session-uuid", acl).matches_required_access(Some(required))
    }

    #[test]
    fn basics() {
        assert!(check(&["foo.*.bar"], "foo..bar"));
        assert!(!check(&["foo.*.bar"], "foo.a.b.bar"));
        assert!(check(&["foo.#"], "foo.a.b"));
        assert!(!check(&["foo.#"], "foo"));
        assert!(check(&["foo.me.read"], "foo.123.read"));
        assert!(check(&["foo.edit"], "foo.update"));
        assert!(!check(&["foo.update"], "foo.edit"));
        assert!(!check(&["foo.#", "!foo.bar"], "foo.bar"));
        assert!(!check(&[], "foo"));
    }

    #[test]
    fn long_inputs_stay_cheap() {
        let acl = ["#.#.#.#.#.#.#.#.#.#.x"];
        let required = "a.".repeat(2000);
        assert!(!check(&acl, &required));
    }
}
