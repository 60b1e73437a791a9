//! The command line's one error type: what failed, what to do, and the exit code scripts
//! rely on (1 server refused, 2 usage, 3 transport).

use std::fmt;

/// What kind of failure, which fixes the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The server answered and said no (bad credentials, 4xx/5xx, a refused grant).
    Refused,
    /// The command line, the configuration or a local file is wrong.
    Usage,
    /// The server could not be reached, the connection broke, or it timed out.
    Transport,
    /// Ctrl-C (SIGINT) stopped the command.
    Interrupted,
}

impl Kind {
    /// The process exit code for this kind.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Self::Refused => 1,
            Self::Usage => 2,
            Self::Transport => 3,
            Self::Interrupted => 130,
        }
    }

    /// The stable name used in `--json` error output.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Usage => "usage",
            Self::Transport => "transport",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A failed command. Messages never hold a secret: they are built from the libraries'
/// errors, which carry none, and from our own words.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) kind: Kind,
    /// What failed, e.g. "wazo token creation failed: wazo-auth answered 401".
    pub(crate) message: String,
    /// What to do about it.
    pub(crate) hint: Option<String>,
    /// The error's sources, shown with `-v`.
    pub(crate) chain: Vec<String>,
}

impl CliError {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            chain: Vec::new(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }

    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Self::new(Kind::Transport, message)
    }

    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Builds an error from a library error: its `Display` is the message, its sources are
    /// the chain.
    pub(crate) fn from_source(
        kind: Kind,
        what: &str,
        error: &(dyn std::error::Error + 'static),
    ) -> Self {
        let mut chain = Vec::new();
        let mut source = error.source();
        while let Some(e) = source {
            chain.push(e.to_string());
            source = e.source();
        }
        Self {
            kind,
            message: format!("{what}: {error}"),
            hint: None,
            chain,
        }
    }

    /// The default advice for the kind, when the error has none of its own.
    fn default_hint(&self) -> &'static str {
        match self.kind {
            Kind::Refused => "check the credentials and the arguments",
            Kind::Usage => "see `pbx-auth --help`",
            Kind::Transport => "check the URL, the network and --timeout",
            Kind::Interrupted => "run the command again",
        }
    }

    /// The one line printed on standard error.
    pub(crate) fn line(&self) -> String {
        let hint = self.hint.as_deref().unwrap_or(self.default_hint());
        format!("error: {}; {hint}", self.message)
    }

    /// The `--json` form: `{"error": {"kind", "exit_code", "message", "hint", "chain"}}`.
    pub(crate) fn json(&self, verbose: bool) -> serde_json::Value {
        let mut error = serde_json::json!({
            "kind": self.kind.name(),
            "exit_code": self.kind.exit_code(),
            "message": self.message,
            "hint": self.hint.as_deref().unwrap_or(self.default_hint()),
        });
        if verbose {
            error["chain"] = serde_json::json!(self.chain);
        }
        serde_json::json!({ "error": error })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::from_source(Kind::Usage, "a local file or terminal failed", &e)
    }
}

/// `Result` with [`CliError`].
pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
