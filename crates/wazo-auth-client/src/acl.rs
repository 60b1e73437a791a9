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

/// One instruction of a compiled entry, a tiny Thompson automaton. Matching runs all
/// live states over the text at once, so the cost is at most (instructions + 1) × (text
/// characters + 1) state visits, with no recursion and no memo table: an entry of any
/// length against a text of any length needs a stack of constant depth and memory linear
/// in the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// This character, then the next instruction.
    Char(char),
    /// Any character other than `.` and `#`, staying here; or nothing, going on.
    Star,
    /// Any character, staying here; or nothing, going on.
    Hash,
    /// Goes on at each of these instructions (the alternative words of a segment).
    Split(Vec<usize>),
    /// Goes on at this instruction (the end of one alternative word).
    Jump(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// Reaching `ops.len()` means the entry matched so far.
    ops: Vec<Op>,
}

/// What one match reused across entries: state lists and the visit marks.
#[derive(Debug, Default)]
struct Scratch {
    current: Vec<usize>,
    next: Vec<usize>,
    stack: Vec<usize>,
    /// `marks[state] == generation` when `state` is already in the list being built.
    marks: Vec<usize>,
    generation: usize,
    /// State visits so far: the unit of matching cost (tests check it grows linearly).
    steps: u64,
}

impl Pattern {
    fn compile(entry: &str, auth_id: &str, session_id: &str) -> Self {
        let mut ops = Vec::new();
        for (i, segment) in entry.split('.').enumerate() {
            if i > 0 {
                ops.push(Op::Char('.'));
            }
            match segment {
                "me" => push_words(&mut ops, &["me", auth_id]),
                "my_session" => push_words(&mut ops, &["my_session", session_id]),
                "edit" => push_words(&mut ops, &["edit", "update"]),
                _ => {
                    for c in segment.chars() {
                        let op = match c {
                            '*' => Op::Star,
                            '#' => Op::Hash,
                            c => Op::Char(c),
                        };
                        // Adjacent wildcards match what one does (`**` = `*`; `*#`, `#*`
                        // and `##` = `#`): keeping one keeps the live states few.
                        match (ops.last_mut(), &op) {
                            (Some(last @ (Op::Star | Op::Hash)), Op::Star | Op::Hash) => {
                                if op == Op::Hash {
                                    *last = Op::Hash;
                                }
                            }
                            _ => ops.push(op),
                        }
                    }
                }
            }
        }
        Self { ops }
    }

    fn matches(&self, text: &str, scratch: &mut Scratch) -> bool {
        if !self.literal_ends_fit(text, scratch) {
            return false;
        }
        let accept = self.ops.len();
        scratch.marks.clear();
        scratch.marks.resize(accept + 1, usize::MAX);
        scratch.generation = 0;
        scratch.current.clear();
        let mut current = std::mem::take(&mut scratch.current);
        self.add(0, &mut current, scratch);
        for c in text.chars() {
            scratch.generation += 1;
            let mut next = std::mem::take(&mut scratch.next);
            next.clear();
            for &state in &current {
                scratch.steps += 1;
                match self.ops.get(state) {
                    Some(Op::Char(want)) if *want == c => self.add(state + 1, &mut next, scratch),
                    Some(Op::Star) if c != '.' && c != '#' => self.add(state, &mut next, scratch),
                    Some(Op::Hash) => self.add(state, &mut next, scratch),
                    _ => {}
                }
            }
            scratch.next = std::mem::replace(&mut current, next);
            if current.is_empty() {
                break;
            }
        }
        let matched = current.contains(&accept);
        scratch.current = current;
        matched
    }

    /// The literal characters before the first wildcard or alternative must start `text`,
    /// and those after the last must end it: a check in one pass over the ends that
    /// settles most non-matching entries (the issue's `#.#.#.#.#.xN` among them) before
    /// any automaton runs. Each comparison counts as a step.
    fn literal_ends_fit(&self, text: &str, scratch: &mut Scratch) -> bool {
        let mut chars = text.chars();
        for op in &self.ops {
            let Op::Char(want) = op else { break };
            scratch.steps += 1;
            if chars.next() != Some(*want) {
                return false;
            }
        }
        let mut chars = text.chars().rev();
        for op in self.ops.iter().rev() {
            let Op::Char(want) = op else { break };
            scratch.steps += 1;
            if chars.next() != Some(*want) {
                return false;
            }
        }
        true
    }

    /// Adds `state` and everything reachable from it without reading a character to
    /// `list`, once per generation, with an explicit stack.
    fn add(&self, state: usize, list: &mut Vec<usize>, scratch: &mut Scratch) {
        scratch.stack.push(state);
        while let Some(state) = scratch.stack.pop() {
            if scratch.marks[state] == scratch.generation {
                continue;
            }
            scratch.marks[state] = scratch.generation;
            scratch.steps += 1;
            match self.ops.get(state) {
                Some(Op::Star | Op::Hash) => {
                    list.push(state);
                    scratch.stack.push(state + 1);
                }
                Some(Op::Split(targets)) => scratch.stack.extend(targets.iter().rev()),
                Some(Op::Jump(target)) => scratch.stack.push(*target),
                Some(Op::Char(_)) | None => list.push(state),
            }
        }
    }
}

/// A segment that matches any of `words` literally.
fn push_words(ops: &mut Vec<Op>, words: &[&str]) {
    let split = ops.len();
    ops.push(Op::Split(Vec::new()));
    let mut starts = Vec::with_capacity(words.len());
    let mut jumps = Vec::with_capacity(words.len());
    for word in words {
        starts.push(ops.len());
        ops.extend(word.chars().map(Op::Char));
        jumps.push(ops.len());
        ops.push(Op::Jump(0));
    }
    let end = ops.len();
    for jump in jumps {
        ops[jump] = Op::Jump(end);
    }
    ops[split] = Op::Split(starts);
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
    ///
    /// The cost is linear in the total length of the entries for a given `required`, and
    /// linear in the length of `required` for a given ACL (at most one visit per
    /// instruction of each entry per character), never recursive.
    pub fn matches_required_access(&self, required: Option<&str>) -> bool {
        self.check(required, &mut Scratch::default())
    }

    fn check(&self, required: Option<&str>, scratch: &mut Scratch) -> bool {
        let Some(required) = required else {
            return true;
        };
        if self.negative.iter().any(|p| p.matches(required, scratch)) {
            return false;
        }
        self.positive.iter().any(|p| p.matches(required, scratch))
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
    use super::{AccessCheck, Scratch};

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

    #[test]
    fn the_issues_case_is_settled_by_the_literal_ends() {
        let acl: Vec<String> = (0..200).map(|i| format!("#.#.#.#.#.x{i}")).collect();
        let required = "a.".repeat(4_000);
        assert!(steps(&acl, &required) <= 200 * 4);
        assert!(!AccessCheck::new("1", "s", &acl).matches_required_access(Some(&required)));
        let fits = format!("{required}x7");
        assert!(AccessCheck::new("1", "s", &acl).matches_required_access(Some(&fits)));
    }

    #[test]
    fn words_and_empty_ids() {
        let empty = AccessCheck::new("", "", &["a.me.b", "c.my_session"]);
        assert!(empty.matches_required_access(Some("a..b")));
        assert!(empty.matches_required_access(Some("a.me.b")));
        assert!(empty.matches_required_access(Some("c.")));
        assert!(!empty.matches_required_access(Some("a.x.b")));
        let dotted = AccessCheck::new("x.y", "s", &["a.me.#"]);
        assert!(dotted.matches_required_access(Some("a.x.y.z")));
        assert!(!dotted.matches_required_access(Some("a.xzy.z")));
    }

    /// Runs `f` on a thread with a 2 MiB stack, the size a tokio worker or a small
    /// embedded service gets: the old recursive matcher overflowed it and aborted.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    // Issue 13, item 2: a 20,000-character literal entry matched against an equal string
    // recursed once per character and overflowed a 2 MiB stack.
    #[test]
    fn long_literal_entry_on_a_small_stack() {
        on_small_stack(|| {
            let entry = "a".repeat(20_000);
            assert!(check(&[entry.as_str()], &entry));
            let mut other = entry.clone();
            other.push('b');
            assert!(!check(&[entry.as_str()], &other));
            let hashes = "#.".repeat(1_000) + "x";
            assert!(check(&[hashes.as_str()], &("y.".repeat(1_000) + "x")));
            assert!(!check(&[hashes.as_str()], &("y.".repeat(1_000) + "z")));
            let stars = "*".repeat(20_000);
            assert!(check(&[stars.as_str()], &entry));
            let mixed = "*#".repeat(10_000);
            assert!(check(&[mixed.as_str()], &other));
        });
    }

    fn steps(acl: &[String], required: &str) -> u64 {
        let check = AccessCheck::new("123", "s", acl);
        let mut scratch = Scratch::default();
        check.check(Some(required), &mut scratch);
        scratch.steps
    }

    // Issue 13, item 2: entries with several `#` cost entry × required² (33 s for 200
    // entries against 8,000 characters). The work is now counted in state visits and must
    // grow linearly with the required access and with the entries.
    #[test]
    fn matching_work_is_linear() {
        let entries =
            |n: usize| -> Vec<String> { (0..n).map(|i| format!("#.#.#.#.#.x{i}")).collect() };
        let required = |n: usize| "a.".repeat(n / 2);
        let base = steps(&entries(200), &required(8_000));
        let double_text = steps(&entries(200), &required(16_000));
        let double_acl = steps(&entries(400), &required(8_000));
        // Linear: doubling one input at most doubles the work (plus a little for the
        // longer entry names); quadratic growth would be 4×.
        assert!(double_text <= base * 21 / 10, "{base} -> {double_text}");
        assert!(double_acl <= base * 22 / 10, "{base} -> {double_acl}");
        // And the absolute bound of the design: visits ≤ 2 × (instructions + 1) ×
        // (characters + 1) summed over the entries.
        let bound: u64 = entries(200)
            .iter()
            .map(|e| 2 * (e.len() as u64 + 1) * (8_000 + 1))
            .sum();
        assert!(base <= bound, "{base} > {bound}");

        // One long entry full of wildcards against a long text: linear in each.
        let long = |n: usize| vec!["#.".repeat(n / 2) + "x*"];
        let a = steps(&long(1_000), &"a.".repeat(2_000));
        let b = steps(&long(2_000), &"a.".repeat(2_000));
        let c = steps(&long(1_000), &"a.".repeat(4_000));
        assert!(b <= a * 22 / 10, "{a} -> {b}");
        assert!(c <= a * 22 / 10, "{a} -> {c}");
    }
}
