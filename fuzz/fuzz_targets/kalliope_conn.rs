//! The connection-string parser: no panic, and what it accepts is safe to use: a tenant
//! domain without `/`, `\`, NUL or other control characters, a username without control
//! characters, an http(s) base URL with a host and no path.

#![no_main]

use kalliope_auth::parse_connection_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_connection_string(text) {
        Ok(info) => {
            assert!(!info.domain.is_empty());
            assert!(!info.domain.contains(['/', '\\']));
            assert!(!info.domain.contains(char::is_control));
            assert!(matches!(info.base.scheme(), "http" | "https"));
            assert!(info.base.host().is_some());
            assert_eq!(info.base.path(), "/");
            if let Some((user, _)) = &info.credentials {
                assert!(!user.contains(char::is_control));
            }
            let _ = format!("{info:?}");
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
});
