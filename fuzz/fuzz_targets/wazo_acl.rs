//! The wazo ACL engine on token ACLs and required accesses of up to 64 KiB: no panic, no
//! stack overflow (the matcher does not recurse), and a literal entry always grants
//! itself unless a negative entry refuses it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wazo_auth_client::AccessCheck;

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    // `required \n auth_id \n session \n entry \n entry ...`
    let mut parts = text.split('\n');
    let required = parts.next().unwrap_or_default();
    let auth_id = parts.next().unwrap_or_default();
    let session = parts.next().unwrap_or_default();
    let acl: Vec<&str> = parts.collect();
    let check = AccessCheck::new(auth_id, session, &acl);
    let granted = check.matches_required_access(Some(required));
    let _ = check.may_add_access(required);
    let _ = check.may_remove_access(required);
    assert!(check.matches_required_access(None));
    let has_negative = acl.iter().any(|e| e.starts_with('!'));
    let literal = !required.contains(['*', '#', '!'])
        && !required
            .split('.')
            .any(|s| matches!(s, "me" | "my_session" | "edit"));
    if literal && !has_negative && !required.is_empty() {
        let with_itself = AccessCheck::new(auth_id, session, &[required]);
        assert!(with_itself.matches_required_access(Some(required)));
    }
    let _ = granted;
});
