//! Errors of `kolla_set_configs`. Every one of them ends the run with exit code 2; the message
//! names the config entry (`config_files[1] (source …)`) or the path involved.

use std::io;
use std::path::PathBuf;

/// Why `kolla_set_configs` (or its `--check`) could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file could not be read (a missing `config.json` included).
    #[error("Could not read file {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The config file is not valid JSON or YAML, or is empty.
    #[error("Invalid {format} file found at {path}: {reason}")]
    Parse {
        /// `json` or `yaml`.
        format: &'static str,
        /// The config file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// A key is missing, unknown or of the wrong type, or a value is malformed.
    #[error("{at}: {reason}")]
    Invalid {
        /// The entry, for example `config_files[2] (source /var/lib/kolla/config_files/a.conf)`.
        at: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A non-optional `config_files` source matched nothing.
    #[error("{at}: {pattern} file is not found")]
    MissingSource {
        /// The entry.
        at: String,
        /// The source pattern.
        pattern: String,
    },
    /// An `owner` names a user that is not in the image's `/etc/passwd`.
    #[error("{at}: unknown user {name:?} (not in /etc/passwd)")]
    UnknownUser {
        /// The entry.
        at: String,
        /// The user name.
        name: String,
    },
    /// An `owner` names a group that is not in the image's `/etc/group`.
    #[error("{at}: unknown group {name:?} (not in /etc/group)")]
    UnknownGroup {
        /// The entry.
        at: String,
        /// The group name.
        name: String,
    },
    /// `KOLLA_CONFIG_STRATEGY` is unset or not one of the two strategies.
    #[error(
        "KOLLA_CONFIG_STRATEGY is not set properly (got {0:?}; expected COPY_ALWAYS or COPY_ONCE)"
    )]
    Strategy(Option<String>),
    /// A filesystem operation failed while applying the config.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done, for example `Unable to copy`.
        op: &'static str,
        /// The path in the container.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub(crate) fn invalid(at: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            at: at.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub(crate) fn io(op: &'static str, path: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
