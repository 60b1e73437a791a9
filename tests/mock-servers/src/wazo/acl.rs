//! The ACL rules as the wazo-auth server applies them, written for the mock only: `*` is
//! one run without `.` or `#`, `#` is any run, whole segments `me`, `my_session` and
//! `edit` have their aliases, `!` entries refuse.

/// Whether `acl` (of user `user` and session `session`) grants `required`.
pub(crate) fn grants(acl: &[String], user: &str, session: &str, required: &str) -> bool {
    let mut granted = false;
    for entry in acl {
        let (negative, pattern) = match entry.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, entry.as_str()),
        };
        if entry_matches(pattern, user, session, required) {
            if negative {
                return false;
            }
            granted = true;
        }
    }
    granted
}

/// Whether a caller holding `acl` may add `access` to something it grants.
pub(crate) fn may_add(acl: &[String], user: &str, session: &str, access: &str) -> bool {
    access.starts_with('!') || grants(acl, user, session, access)
}

/// Whether a caller holding `acl` may remove `access`.
pub(crate) fn may_remove(acl: &[String], user: &str, session: &str, access: &str) -> bool {
    grants(acl, user, session, access.trim_start_matches('!'))
}

/// Expands the reserved segments into alternatives, then matches each alternative.
fn entry_matches(pattern: &str, user: &str, session: &str, required: &str) -> bool {
    let mut variants = vec![String::new()];
    for (i, segment) in pattern.split('.').enumerate() {
        let options: Vec<&str> = match segment {
            "me" => vec!["me", user],
            "my_session" => vec!["my_session", session],
            "edit" => vec!["edit", "update"],
            other => vec![other],
        };
        let mut next = Vec::new();
        for prefix in &variants {
            for option in &options {
                // Reserved-word values are literal text: mark their wildcard characters.
                let literal = matches!(segment, "me" | "my_session") && *option != segment;
                let mut s = prefix.clone();
                if i > 0 {
                    s.push('.');
                }
                for c in option.chars() {
                    if literal && (c == '*' || c == '#' || c == '\u{1}') {
                        s.push('\u{1}');
                    }
                    s.push(c);
                }
                next.push(s);
            }
        }
        variants = next;
    }
    variants.iter().any(|v| {
        glob(
            &v.chars().collect::<Vec<_>>(),
            &required.chars().collect::<Vec<_>>(),
        )
    })
}

/// Wildcard matching with backtracking over the last star (iterative, two pointers per
/// wildcard kind kept on a small stack).
fn glob(pattern: &[char], text: &[char]) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('\u{1}') => p.get(1).is_some_and(|c| t.first() == Some(c)) && go(&p[2..], &t[1..]),
            Some('#') => (0..=t.len()).any(|n| go(&p[1..], &t[n..])),
            Some('*') => {
                let run = t.iter().take_while(|c| **c != '.' && **c != '#').count();
                (0..=run).any(|n| go(&p[1..], &t[n..]))
            }
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(pattern, text)
}

#[cfg(test)]
mod tests {
    use super::grants;

    fn g(acl: &[&str], required: &str) -> bool {
        let acl: Vec<String> = acl.iter().map(|s| (*s).to_owned()).collect();
        grants(&acl, "u1", "s1", required)
    }

    #[test]
    fn rules() {
        assert!(g(&["auth.#"], "auth.users.read"));
        assert!(!g(&["auth.#"], "auth"));
        assert!(g(&["a.*.c"], "a.b.c"));
        assert!(!g(&["a.*.c"], "a.b.b.c"));
        assert!(g(&["a.me.c"], "a.u1.c"));
        assert!(g(&["a.edit"], "a.update"));
        assert!(!g(&["a.#", "!a.b"], "a.b"));
    }
}
