//! The server's request validation, field by field, with the error entries its schema
//! library writes (`{"constraint_id", "constraint", "message"}`); the first failing field
//! becomes the 400 answer.

use serde_json::{Map, Value, json};

/// One field's rule.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    /// A string whose length is within `min..=max` (`max` 0: unbounded).
    Text { min: usize, max: usize },
    /// Like `Text`, and matching `[chars]+` where `chars` is a set of ASCII classes.
    Slug { max: usize, dash: bool },
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A boolean.
    Bool,
    /// A UUID.
    Uuid,
    /// An e-mail address.
    Email,
    /// A list of strings.
    TextList,
}

/// A field: its name, whether it is required, whether `null` is accepted, and its rule.
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) required: bool,
    pub(crate) nullable: bool,
    pub(crate) rule: Rule,
}

const fn f(name: &'static str, nullable: bool, rule: Rule) -> Field {
    Field {
        name,
        required: false,
        nullable,
        rule,
    }
}

/// `POST /users`.
pub(crate) const USER_POST: &[Field] = &[
    f("username", true, Rule::Text { min: 1, max: 256 }),
    f("firstname", true, Rule::Text { min: 0, max: 0 }),
    f("lastname", true, Rule::Text { min: 0, max: 0 }),
    f(
        "purpose",
        false,
        Rule::OneOf(&["user", "internal", "external_api"]),
    ),
    f(
        "authentication_method",
        false,
        Rule::Text { min: 0, max: 0 },
    ),
    f("enabled", false, Rule::Bool),
    f("uuid", false, Rule::Uuid),
    f("password", true, Rule::Text { min: 1, max: 0 }),
    f("email_address", true, Rule::Email),
];

/// `PUT /users/{uuid}`.
pub(crate) const USER_PUT: &[Field] = &[
    f("username", true, Rule::Text { min: 1, max: 256 }),
    f("firstname", true, Rule::Text { min: 0, max: 0 }),
    f("lastname", true, Rule::Text { min: 0, max: 0 }),
    f(
        "purpose",
        false,
        Rule::OneOf(&["user", "internal", "external_api"]),
    ),
    f(
        "authentication_method",
        false,
        Rule::Text { min: 0, max: 0 },
    ),
    f("enabled", false, Rule::Bool),
];

/// `POST /tenants` (the PUT ignores `slug`).
pub(crate) const TENANT: &[Field] = &[
    f("uuid", true, Rule::Uuid),
    f("name", true, Rule::Text { min: 1, max: 128 }),
    f(
        "slug",
        true,
        Rule::Slug {
            max: 10,
            dash: false,
        },
    ),
    f("contact", true, Rule::Uuid),
    f("phone", true, Rule::Text { min: 1, max: 32 }),
    f(
        "default_authentication_method",
        false,
        Rule::Text { min: 0, max: 0 },
    ),
    f("domain_names", false, Rule::TextList),
];

/// A tenant's `address` members.
pub(crate) const ADDRESS: &[Field] = &[
    f("line_1", true, Rule::Text { min: 1, max: 256 }),
    f("line_2", true, Rule::Text { min: 1, max: 256 }),
    f("city", true, Rule::Text { min: 1, max: 128 }),
    f("state", true, Rule::Text { min: 1, max: 128 }),
    f("country", true, Rule::Text { min: 1, max: 128 }),
    f("zip_code", true, Rule::Text { min: 1, max: 16 }),
];

/// `POST /groups` (the PUT ignores `slug`).
pub(crate) const GROUP: &[Field] = &[
    Field {
        name: "name",
        required: true,
        nullable: false,
        rule: Rule::Text { min: 1, max: 128 },
    },
    f(
        "slug",
        false,
        Rule::Slug {
            max: 80,
            dash: true,
        },
    ),
];

fn entry(constraint_id: &str, constraint: Value, message: &str) -> Value {
    let mut e = Map::new();
    e.insert("constraint_id".to_owned(), json!(constraint_id));
    e.insert("constraint".to_owned(), constraint);
    e.insert("message".to_owned(), json!(message));
    Value::Object(e)
}

fn type_error(kind: &str, message: &str) -> Value {
    json!({ "message": message, "constraint_id": "type", "constraint": kind })
}

fn length(value: &str, min: usize, max: usize) -> Option<Value> {
    let n = value.chars().count();
    let bad = n < min || (max > 0 && n > max);
    if !bad {
        return None;
    }
    let message = match (min, max) {
        (0, m) => format!("Longer than maximum length {m}."),
        (m, 0) => format!("Shorter than minimum length {m}."),
        (a, b) => format!("Length must be between {a} and {b}."),
    };
    let mut constraint = Map::new();
    if min > 0 {
        constraint.insert("min".to_owned(), json!(min));
    }
    if max > 0 {
        constraint.insert("max".to_owned(), json!(max));
    }
    Some(entry("length", Value::Object(constraint), &message))
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

fn check(rule: Rule, value: &Value) -> Option<Value> {
    match rule {
        Rule::Text { min, max } => match value.as_str() {
            Some(s) => length(s, min, max),
            None => Some(type_error("string", "Not a valid string.")),
        },
        Rule::Slug { max, dash } => {
            let Some(s) = value.as_str() else {
                return Some(type_error("string", "Not a valid string."));
            };
            if let Some(e) = length(s, 1, max) {
                return Some(e);
            }
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || (dash && c == '-');
            if s.chars().all(allowed) {
                None
            } else {
                let pattern = if dash {
                    "^[a-zA-Z0-9_-]+$"
                } else {
                    "^[a-zA-Z0-9_]+$"
                };
                Some(entry(
                    "regex",
                    json!(pattern),
                    "String does not match expected pattern.",
                ))
            }
        }
        Rule::OneOf(choices) => match value.as_str() {
            Some(s) if choices.contains(&s) => None,
            Some(_) => Some(entry(
                "enum",
                json!({ "choices": choices }),
                &format!("Must be one of: {}.", choices.join(", ")),
            )),
            None => Some(type_error("string", "Not a valid string.")),
        },
        Rule::Bool => (!value.is_boolean()).then(|| type_error("boolean", "Not a valid boolean.")),
        Rule::Uuid => match value.as_str() {
            Some(s) if super::state::is_uuid(s) => None,
            _ => Some(type_error("uuid", "Not a valid UUID.")),
        },
        Rule::Email => match value.as_str() {
            Some(s) if is_email(s) => None,
            Some(_) => Some(type_error("email", "Not a valid email address.")),
            None => Some(type_error("string", "Not a valid string.")),
        },
        Rule::TextList => match value.as_array() {
            Some(items) if items.iter().all(Value::is_string) => None,
            Some(_) => Some(type_error("string", "Not a valid string.")),
            None => Some(type_error("list", "Not a valid list.")),
        },
    }
}

/// The first failing field of `body` and its error entry.
pub(crate) fn first_error(fields: &[Field], body: &Map<String, Value>) -> Option<(String, Value)> {
    for field in fields {
        match body.get(field.name) {
            None if field.required => {
                return Some((
                    field.name.to_owned(),
                    entry("required", json!(true), "Missing data for required field."),
                ));
            }
            None => {}
            Some(Value::Null) if field.nullable => {}
            Some(Value::Null) => {
                return Some((
                    field.name.to_owned(),
                    entry("not_null", json!(true), "Field may not be null."),
                ));
            }
            Some(v) => {
                if let Some(e) = check(field.rule, v) {
                    return Some((field.name.to_owned(), e));
                }
            }
        }
    }
    None
}
