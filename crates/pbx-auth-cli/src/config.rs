//! Profiles: a TOML file in the platform's configuration directory.
//!
//! ```toml
//! [profiles.default]
//! timeout = 20
//!
//! [profiles.default.wazo]
//! url = "https://pbx.example.com/api/auth"
//! username = "admin"
//! password_file = "/home/me/.wazo-password"
//! ```
//!
//! A value is looked up as flag, then `PBX_AUTH_<PROTOCOL>_<KEY>` (clap reads both), then
//! `profiles.<profile>.<protocol>.<key>` here.

use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};

/// The chosen profile of the configuration file (empty when there is no file).
#[derive(Debug, Default)]
pub(crate) struct Profile {
    name: String,
    table: toml::Table,
}

/// The project directories (config and data), when the platform has a home directory.
pub(crate) fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "pbx-auth")
}

/// The default configuration file.
pub(crate) fn default_config_file() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Where tokens that outlive a run are kept.
pub(crate) fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PBX_AUTH_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    dirs().map(|d| d.data_dir().to_path_buf()).ok_or_else(|| {
        CliError::usage("there is no home directory to keep tokens in")
            .hint("set PBX_AUTH_DATA_DIR to a directory")
    })
}

impl Profile {
    /// Loads `name` from `file` (or the default file). A missing default file is an empty
    /// profile; a file named explicitly must exist, and a named profile other than
    /// `default` must exist in it.
    pub(crate) fn load(file: Option<&Path>, name: &str) -> Result<Self> {
        let (path, explicit) = match file {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (default_config_file(), false),
        };
        let text = match path.as_deref().map(std::fs::read_to_string) {
            Some(Ok(text)) => Some(text),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
            Some(Err(e)) => {
                return Err(CliError::usage(format!(
                    "cannot read the configuration file {}: {e}",
                    path.as_deref().unwrap_or(Path::new("?")).display()
                ))
                .hint("check --config or PBX_AUTH_CONFIG"));
            }
            None => None,
        };
        let Some(text) = text else {
            return Self::missing(name);
        };
        let shown = path
            .as_deref()
            .unwrap_or(Path::new("?"))
            .display()
            .to_string();
        // toml's message quotes the offending line, which may hold a secret: only the
        // position is shown.
        let root: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e
                .span()
                .map(|s| format!(" at byte {}", s.start))
                .unwrap_or_default();
            CliError::usage(format!(
                "the configuration file {shown} is not valid TOML{at}"
            ))
            .hint("fix the file")
        })?;
        let table = root
            .get("profiles")
            .and_then(|p| p.get(name))
            .and_then(toml::Value::as_table)
            .cloned();
        match table {
            Some(table) => Ok(Self {
                name: name.to_owned(),
                table,
            }),
            None => Self::missing(name),
        }
    }

    fn missing(name: &str) -> Result<Self> {
        if name == "default" {
            Ok(Self {
                name: name.to_owned(),
                table: toml::Table::new(),
            })
        } else {
            Err(CliError::usage(format!("there is no profile `{name}`"))
                .hint("add [profiles.NAME] to the configuration file or drop --profile"))
        }
    }

    /// The profile's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// `profiles.<name>.<section>.<key>` (or `profiles.<name>.<key>` for `section` `None`)
    /// as text.
    pub(crate) fn get(&self, section: Option<&str>, key: &str) -> Option<String> {
        let table = match section {
            Some(s) => self.table.get(s)?.as_table()?,
            None => &self.table,
        };
        match table.get(key)? {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            toml::Value::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }

    /// A boolean setting.
    pub(crate) fn flag(&self, section: Option<&str>, key: &str) -> bool {
        self.get(section, key).is_some_and(|v| v == "true")
    }

    /// Flag or environment (`given`), else the profile.
    pub(crate) fn pick(&self, given: Option<&str>, section: &str, key: &str) -> Option<String> {
        given
            .map(str::to_owned)
            .or_else(|| self.get(Some(section), key))
    }

    /// As [`pick`](Self::pick), but required: the error names the flag, variable and key.
    pub(crate) fn require(&self, given: Option<&str>, section: &str, key: &str) -> Result<String> {
        self.pick(given, section, key).ok_or_else(|| {
            let flag = key.replace('_', "-");
            let env = format!(
                "PBX_AUTH_{}_{}",
                section.to_ascii_uppercase(),
                key.to_ascii_uppercase()
            );
            CliError::usage(format!("{section}: no {}", key.replace('_', " "))).hint(format!(
                "pass --{flag}, set {env}, or add `{key}` to [profiles.{}.{section}]",
                self.name
            ))
        })
    }

    /// A path setting from the profile, with `~/` expanded.
    pub(crate) fn path(&self, given: Option<&Path>, section: &str, key: &str) -> Option<PathBuf> {
        if let Some(p) = given {
            return Some(p.to_path_buf());
        }
        let text = self.get(Some(section), key)?;
        Some(match text.strip_prefix("~/") {
            Some(rest) => directories::BaseDirs::new()
                .map(|b| b.home_dir().join(rest))
                .unwrap_or_else(|| PathBuf::from(&text)),
            None => PathBuf::from(text),
        })
    }
}
