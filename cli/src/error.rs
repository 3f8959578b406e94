//! The CLI's errors and their exit codes.

use std::fmt;
use std::path::Path;

/// What went wrong, sorted by exit code.
#[derive(Debug)]
pub enum CliError {
    /// Exit 2: the command line asks for something the tool cannot do (an unsupported file
    /// type, an entry that is not in the file, `--name` for several entries...).
    Usage(String),
    /// Exit 1: the data is invalid, corrupt or cannot be read or written.
    Data(String),
    /// stdout was closed by its reader: stop quietly.
    BrokenPipe,
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Data(_) => 1,
            CliError::BrokenPipe => 0,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            CliError::Usage(m) | CliError::Data(m) => m.as_str(),
            CliError::BrokenPipe => "broken pipe",
        };
        // One line: a multi-line message (a schema listing) is folded.
        let mut lines = message.lines();
        f.write_str(lines.next().unwrap_or_default())?;
        for line in lines {
            write!(f, " | {}", line.trim())?;
        }
        Ok(())
    }
}

impl From<brine::Error> for CliError {
    fn from(e: brine::Error) -> Self {
        match e {
            // The command line named an entry that is not there, or not of the right kind.
            brine::Error::NotFound { .. } | brine::Error::WrongKind { .. } => {
                CliError::Usage(e.to_string())
            }
            e => CliError::Data(e.to_string()),
        }
    }
}

/// A data error about `path`.
pub fn data(path: &Path, message: impl fmt::Display) -> CliError {
    CliError::Data(format!("{}: {message}", path.display()))
}

/// A usage error about `path`.
pub fn usage(path: &Path, message: impl fmt::Display) -> CliError {
    CliError::Usage(format!("{}: {message}", path.display()))
}

/// An I/O error while doing `op` on `path`.
pub fn io(path: &Path, op: &str, e: std::io::Error) -> CliError {
    data(path, format_args!("{op}: {e}"))
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
