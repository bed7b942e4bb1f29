//! Why a service definition could not be loaded or evaluated.
//!
//! One error type for the whole crate, so that every failure names the file (and line) or the
//! service and host it is about, which is what an operator needs to fix a definition.

use std::path::PathBuf;

use kollars_vars::VarError;

/// Errors loading or evaluating service definitions.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A definition file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A definition file is not valid YAML or has the wrong shape.
    #[error("{}{}: {message}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line, 0 if unknown.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Two files define the same variable or service.
    #[error("{what} {name:?} is defined in both {} and {}", first.display(), second.display())]
    Duplicate {
        /// "variable" or "service".
        what: &'static str,
        /// The name.
        name: String,
        /// Where it was first defined.
        first: PathBuf,
        /// Where it was defined again.
        second: PathBuf,
    },
    /// A service's definition failed to evaluate for a host.
    #[error("service {service}")]
    Eval {
        /// The service.
        service: String,
        /// The variable error.
        source: VarError,
    },
    /// An evaluated definition lacks a required key or has a wrong type.
    #[error("service {service} on host {host}: {message}")]
    Shape {
        /// The service.
        service: String,
        /// The host.
        host: String,
        /// What is wrong.
        message: String,
    },
}
