//! Checks requests against the server's Swagger description
//! (`tests/data/wazo-auth-api-merged.swagger2.yml`): path template, method, required
//! parameters and body properties, with the known mismatches whitelisted.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use pbx_mock::{MockRequest, MockServer};
use serde_norway::Value as Yaml;

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Validates every request `server` received.
pub fn validate_journal(server: &MockServer) {
    for recorded in server.journal() {
        validate_against_swagger(&recorded.request);
    }
}

pub struct Swagger {
    doc: Yaml,
}

pub fn swagger() -> &'static Swagger {
    static DOC: std::sync::OnceLock<Swagger> = std::sync::OnceLock::new();
    DOC.get_or_init(|| Swagger {
        doc: serde_norway::from_str(&data("wazo-auth-api-merged.swagger2.yml"))
            .expect("the Swagger parses"),
    })
}

fn y<'a>(v: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    v.as_mapping().and_then(|m| m.get(key))
}

impl Swagger {
    fn resolve<'a>(&'a self, v: &'a Yaml) -> &'a Yaml {
        match y(v, "$ref").and_then(Yaml::as_str) {
            Some(r) => {
                let mut node = &self.doc;
                for part in r.trim_start_matches("#/").split('/') {
                    node = y(node, part).unwrap_or_else(|| panic!("dangling $ref {r}"));
                }
                self.resolve(node)
            }
            None => v,
        }
    }

    /// The path template that fits `path` best (most literal segments).
    pub fn template(&self, path: &str) -> Option<(&str, &Yaml)> {
        let segs: Vec<&str> = path.split('/').collect();
        let paths = y(&self.doc, "paths")?.as_mapping()?;
        paths
            .iter()
            .filter_map(|(k, v)| {
                let k = k.as_str()?;
                let t: Vec<&str> = k.split('/').collect();
                let fits = t.len() == segs.len()
                    && t.iter()
                        .zip(&segs)
                        .all(|(a, b)| a.starts_with('{') || a == b);
                fits.then(|| (t.iter().filter(|a| !a.starts_with('{')).count(), k, v))
            })
            .max_by_key(|(n, _, _)| *n)
            .map(|(_, k, v)| (k, v))
    }
}

/// Known mismatches between the Swagger and the server (spec section 4), as
/// (method, path template, what).
const WHITELIST: &[(&str, &str, &str)] = &[
    // The server still accepts these token fields; the Swagger no longer lists them.
    ("POST", "/token", "body property backend"),
    ("POST", "/token", "body property tenant_id"),
    // The server reads a form (RelayState, SAMLResponse); the Swagger declares a body.
    ("POST", "/saml/acs", "required body"),
];

fn whitelisted(method: &str, template: &str, what: &str) -> bool {
    WHITELIST
        .iter()
        .any(|(m, t, w)| *m == method && *t == template && *w == what)
}

pub fn validate_against_swagger(req: &MockRequest) {
    let sw = swagger();
    let base = y(&sw.doc, "basePath")
        .and_then(Yaml::as_str)
        .unwrap_or("/0.1");
    let path = req
        .path
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("{} outside {base}", req.path));
    let what = format!("{} {}", req.method, req.path);
    let (template, item) = sw
        .template(path)
        .unwrap_or_else(|| panic!("{what}: no path in the Swagger"));
    let method = req.method.as_str().to_lowercase();
    let op = y(item, &method).unwrap_or_else(|| panic!("{what}: {template} has no {method}"));
    let params: Vec<&Yaml> = [y(item, "parameters"), y(op, "parameters")]
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_sequence)
        .flatten()
        .map(|p| sw.resolve(p))
        .collect();
    let query: BTreeMap<String, String> = req.query_pairs().into_iter().collect();
    let form: BTreeMap<String, String> = req.form_pairs().into_iter().collect();
    for p in &params {
        let name = y(p, "name").and_then(Yaml::as_str).unwrap_or_default();
        let place = y(p, "in").and_then(Yaml::as_str).unwrap_or_default();
        let required = y(p, "required").and_then(Yaml::as_bool).unwrap_or(false);
        match place {
            "query" if required => {
                assert!(query.contains_key(name), "{what}: query {name} missing");
            }
            "header" if required => {
                assert!(req.header(name).is_some(), "{what}: header {name} missing");
            }
            "formData" if required => {
                let multipart = req
                    .header("content-type")
                    .is_some_and(|c| c.starts_with("multipart/"));
                let text = String::from_utf8_lossy(&req.body);
                assert!(
                    form.contains_key(name)
                        || (multipart && text.contains(&format!("name=\"{name}\""))),
                    "{what}: form field {name} missing"
                );
            }
            "body" => check_body(sw, &what, template, p, req, required),
            _ => {}
        }
    }
    if !params
        .iter()
        .any(|p| y(p, "in").and_then(Yaml::as_str) == Some("body"))
    {
        let has_json_body =
            !req.body.is_empty() && req.header("content-type") == Some("application/json");
        assert!(
            !has_json_body,
            "{what}: a JSON body where the Swagger declares none"
        );
    }
}

fn check_body(
    sw: &Swagger,
    what: &str,
    template: &str,
    param: &Yaml,
    req: &MockRequest,
    required: bool,
) {
    let method = req.method.as_str();
    let Some(body) = req.json() else {
        assert!(
            !required || whitelisted(method, template, "required body"),
            "{what}: required body missing"
        );
        return;
    };
    let Some(schema) = y(param, "schema").map(|s| sw.resolve(s)) else {
        return;
    };
    let (Some(props), Some(object)) = (
        y(schema, "properties").and_then(Yaml::as_mapping),
        body.as_object(),
    ) else {
        return;
    };
    let open = y(schema, "additionalProperties").is_some_and(|a| a.as_bool() != Some(false));
    if !open {
        for key in object.keys() {
            let known = props.contains_key(key.as_str())
                || whitelisted(method, template, &format!("body property {key}"));
            assert!(known, "{what}: body property {key} not in the Swagger");
        }
    }
    for key in y(schema, "required")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
    {
        let key = key.as_str().unwrap_or_default();
        assert!(
            object.contains_key(key),
            "{what}: required body property {key} missing"
        );
    }
}
