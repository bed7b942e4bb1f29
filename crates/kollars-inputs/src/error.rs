//! Errors of the input layer: every one names the file (and line, where there is one).

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in an input file, printed as `path:line`.
#[derive(Debug, Clone)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line; 0 when unknown.
    pub line: usize,
}

impl Location {
    /// A location in `path` at `line` (1-based; 0 for unknown).
    pub fn new(path: &Path, line: usize) -> Location {
        Location {
            path: path.to_path_buf(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.path.display(), self.line)
        } else {
            write!(f, "{}", self.path.display())
        }
    }
}

/// Anything wrong with the operator's inputs.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file or directory could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A syntax or shape error at a known place.
    #[error("{location}: {message}")]
    Syntax {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// Inventory variables of the wrong shape (see [`crate::shapes`]).
    #[error("{files}: {what}: {message}")]
    InventoryVars {
        /// The inventory file(s).
        files: String,
        /// `group NAME` or `host NAME`.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// Inventory groups that contain each other.
    #[error("inventory groups form a cycle: {0}")]
    GroupCycle(String),
    /// A `-e` argument that is neither `key=value`, `@file` nor a YAML/JSON mapping.
    #[error("invalid extra variable {0:?}: expected key=value, @file.yml or a YAML/JSON mapping")]
    ExtraVar(String),
    /// A facts file that is not Ansible fact-cache JSON.
    #[error("{}: invalid facts JSON: {message}", path.display())]
    Facts {
        /// The facts file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl InputError {
    pub(crate) fn syntax(location: Location, message: impl Into<String>) -> InputError {
        InputError::Syntax {
            location,
            message: message.into(),
        }
    }
}
