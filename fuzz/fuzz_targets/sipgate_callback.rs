//! The OAuth redirect the browser brings back, as a pasted URL: no panic, only the
//! request's own state is accepted, and error descriptions shown to the user are short,
//! printable and free of the request's secrets.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sipgate_oauth::{AuthorizationRequest, Config, Error, OAuthClient};

static CLIENT: LazyLock<OAuthClient> = LazyLock::new(|| {
    let config = Config::new("client-1")
        .expect("a client id")
        .with_client_secret("fuzz-client-secret");
    OAuthClient::new(config).expect("a client")
});

fn state_of(request: &AuthorizationRequest) -> String {
    request
        .url()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let request = CLIENT.authorization_request().expect("a request");
    let state = state_of(&request);
    // As pasted, and as the query of the registered redirect URI with our state.
    let _ = request.verify_pasted_url(text);
    let with_state = format!("http://localhost:8080/oauth?state={state}&{text}");
    match request.verify_pasted_url(&with_state) {
        Ok(callback) => {
            let _ = format!("{callback:?}");
        }
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(&state), "{shown}");
            if let Error::AuthorizationDenied { error, description } = &e {
                assert!(error.chars().count() <= 200);
                assert!(!error.contains(char::is_control));
                if let Some(d) = description {
                    assert!(!d.contains(char::is_control));
                }
            }
        }
    }
});
