//! The ACL engine against the vectors computed with the reference `AccessCheck`:
//! the file named by `WAZO_ACL_VECTORS`, else `tests/data/acl-vectors.json`.

use serde_json::Value;
use wazo_auth_client::AccessCheck;

fn vectors() -> Value {
    let path = std::env::var("WAZO_ACL_VECTORS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/acl-vectors.json").to_owned()
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).expect("vector file format")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("vector file format")
        .iter()
        .map(|s| s.as_str().expect("vector file format").to_owned())
        .collect()
}

fn check(defaults: &Value, case: &Value) -> AccessCheck {
    let auth_id = case
        .get("auth_id")
        .or_else(|| defaults.get("default_auth_id"))
        .and_then(Value::as_str)
        .expect("vector file format");
    let session = case
        .get("session_id")
        .or_else(|| defaults.get("default_session_id"))
        .and_then(Value::as_str)
        .expect("vector file format");
    AccessCheck::new(auth_id, session, &strings(&case["acl"]))
}

#[test]
fn matches_required_access() {
    let v = vectors();
    let cases = v["matches"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let required = case["required"].as_str();
        let got = check(&v, case).matches_required_access(required);
        assert_eq!(got, case["expected"].as_bool().unwrap(), "{case}");
    }
}

#[test]
fn may_add_and_may_remove() {
    let v = vectors();
    for case in v["may_add"].as_array().unwrap() {
        let got = check(&v, case).may_add_access(case["access"].as_str().unwrap());
        assert_eq!(got, case["expected"].as_bool().unwrap(), "may_add {case}");
    }
    for case in v["may_remove"].as_array().unwrap() {
        let got = check(&v, case).may_remove_access(case["access"].as_str().unwrap());
        assert_eq!(
            got,
            case["expected"].as_bool().unwrap(),
            "may_remove {case}"
        );
    }
}

/// The documented decision: ids are matched literally and a trailing newline never
/// matches, so every quirk case is refused where the reference grants it.
#[test]
fn quirks_are_refused() {
    let v = vectors();
    for case in v["quirks"].as_array().unwrap() {
        let got = check(&v, case).matches_required_access(case["required"].as_str());
        assert!(case["python_result"].as_bool().unwrap(), "{case}");
        assert!(!got, "quirk must not match: {case}");
    }
}

#[test]
fn literal_ids_still_match_themselves() {
    let check = AccessCheck::new("a.c", "x|y", &["foo.me", "bar.my_session"]);
    assert!(check.matches_required_access(Some("foo.a.c")));
    assert!(check.matches_required_access(Some("bar.x|y")));
    assert!(!check.matches_required_access(Some("bar.y")));
}

mod differential {
    //! The engine against the stand-in's independent matcher, on random ACLs and
    //! accesses over the alphabet that matters.

    use proptest::prelude::*;
    use wazo_auth_client::AccessCheck;

    fn word() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "a",
            "b",
            "me",
            "my_session",
            "edit",
            "update",
            "*",
            "#",
            "-",
            "123",
            "s1",
            "a*",
            "#b",
        ])
        .prop_map(str::to_owned)
    }

    fn dotted(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 1..max).prop_map(|w| w.join("."))
    }

    fn entry() -> impl Strategy<Value = String> {
        (any::<bool>(), dotted(4)).prop_map(|(neg, e)| if neg { format!("!{e}") } else { e })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_the_stand_in(acl in prop::collection::vec(entry(), 0..4), required in dotted(5)) {
            let ours = AccessCheck::new("123", "s1", &acl).matches_required_access(Some(&required));
            let theirs = pbx_mock::wazo::acl_grants(&acl, "123", "s1", &required);
            prop_assert_eq!(ours, theirs, "acl {:?} required {:?}", acl, required);
        }
    }
}
