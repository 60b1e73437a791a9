//! Secrets come from an environment variable, a file, or a prompt without echo — never
//! from an option value, which any user can read in the process list.

use std::io::IsTerminal as _;
use std::path::Path;

use pbx_auth_core::Password;

use crate::error::{CliError, Result};

/// Where to look for one secret, in this order: `env`, `file`, then a prompt when standard
/// input is a terminal.
#[derive(Debug)]
pub(crate) struct SecretSpec<'a> {
    /// What it is, for the prompt and errors ("wazo password").
    pub(crate) what: &'a str,
    /// The environment variable holding the value itself.
    pub(crate) env: &'a str,
    /// A file holding the value (`-` for standard input); one trailing newline is dropped.
    pub(crate) file: Option<&'a Path>,
    /// The option naming that file, for the error message.
    pub(crate) file_option: &'a str,
}

impl SecretSpec<'_> {
    /// Reads the secret.
    pub(crate) fn read(&self) -> Result<Password> {
        if let Ok(value) = std::env::var(self.env)
            && !value.is_empty()
        {
            return Ok(Password::new(value));
        }
        if let Some(path) = self.file {
            return read_file(path, self.what);
        }
        if std::io::stdin().is_terminal() {
            let value = rpassword::prompt_password(format!("{}: ", self.what))
                .map_err(|_| CliError::usage(format!("the {} could not be read", self.what)))?;
            return Ok(Password::new(value));
        }
        Err(
            CliError::usage(format!("no {} was given", self.what)).hint(format!(
                "set {}, pass {} FILE, or run in a terminal to be asked",
                self.env, self.file_option
            )),
        )
    }
}

/// Reads a secret from a file, or standard input for `-`. The error names the file but
/// never quotes its content.
pub(crate) fn read_file(path: &Path, what: &str) -> Result<Password> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(|_| {
            CliError::usage(format!("the {what} could not be read from standard input"))
        })?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(format!(
                "the {what} could not be read from {}: {}",
                path.display(),
                e.kind()
            ))
            .hint("check the file's path and permissions")
        })?
    };
    let value = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if value.is_empty() {
        return Err(CliError::usage(format!("the {what} is empty")));
    }
    Ok(Password::new(value.to_owned()))
}
