//! Everything the tool prints goes through here: results to standard output (text or
//! `--json`), notes and errors to standard error.

use std::io::Write as _;

use serde_json::Value;

use crate::error::CliError;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub(crate) json: bool,
    pub(crate) quiet: bool,
    pub(crate) verbose: u8,
}

impl Output {
    /// Prints a result: `value` as one JSON document with `--json`, else `text`.
    pub(crate) fn result(&self, value: &Value, text: impl FnOnce() -> String) {
        let rendered = if self.json {
            serde_json::to_string_pretty(value).unwrap_or_default()
        } else {
            text()
        };
        self.stdout(&rendered);
    }

    /// Prints a result whose text form is the object's fields, one per line.
    pub(crate) fn object(&self, value: &Value) {
        self.result(value, || fields(value));
    }

    /// Prints a list: the JSON as given, or a table of `columns` of `items`.
    pub(crate) fn table(&self, value: &Value, items: &[Value], columns: &[&str]) {
        self.result(value, || table(items, columns));
    }

    /// A raw line on standard output (a token, a header), in both modes.
    pub(crate) fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        if text.is_empty() {
            return;
        }
        let _ = writeln!(out, "{text}");
    }

    /// A note for people (progress, what happened), unless `-q` or `--json`.
    pub(crate) fn note(&self, text: &str) {
        if !self.quiet && !self.json {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// Says that a command without a result worked: a note, or `{"ok": true, ...}`.
    pub(crate) fn done(&self, text: &str, value: &Value) {
        if self.json {
            self.stdout(&serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            self.note(text);
        }
    }

    /// Prints an error: one line, the causes with `-v`; JSON on standard error with
    /// `--json`.
    pub(crate) fn error(&self, error: &CliError) {
        let mut err = std::io::stderr().lock();
        if self.json {
            let _ = writeln!(err, "{}", error.json(self.verbose > 0));
            return;
        }
        let _ = writeln!(err, "{}", error.line());
        if self.verbose > 0 {
            for cause in &error.chain {
                let _ = writeln!(err, "  caused by: {cause}");
            }
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// `key: value` lines of an object (nested values as compact JSON).
pub(crate) fn fields(value: &Value) -> String {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Object(_) => format!("{k}: {v}"),
                Value::Array(items) if items.iter().any(Value::is_object) => format!("{k}: {v}"),
                _ => format!("{k}: {}", scalar(v)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => scalar(other),
    }
}

/// A plain table with a header row, columns padded to their widest cell.
pub(crate) fn table(items: &[Value], columns: &[&str]) -> String {
    let mut rows: Vec<Vec<String>> = vec![columns.iter().map(|c| (*c).to_owned()).collect()];
    rows.extend(
        items
            .iter()
            .map(|item| columns.iter().map(|c| scalar(&item[*c])).collect()),
    );
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
