//! Why rendering or writing failed. Every error names where it happened (host, service,
//! file, variable chain or path), because a run stops at the first one and the operator has
//! only that message to go on. A cause is returned from `source()` and not repeated in the
//! variant's own text, so a chain printed with `{:#}` shows each cause once.

use std::path::PathBuf;

use kollars_services::ServiceError;
use kollars_vars::VarError;

use crate::ini;

/// Why rendering failed. Each names the host, service and file.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A variable or template error.
    #[error("host {host}, service {service}, file {file}")]
    Template {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// Destination file.
        file: String,
        /// Cause.
        source: VarError,
    },
    /// A service definition that cannot be evaluated.
    #[error("host {host}")]
    Service {
        /// Host.
        host: String,
        /// Cause.
        source: ServiceError,
    },
    /// An override or rendered INI file that does not parse.
    #[error("host {host}, service {service}: {path}")]
    Ini {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// The source (template or override file).
        path: String,
        /// Cause.
        source: ini::IniError,
    },
    /// A rendered YAML source that does not parse.
    #[error("host {host}, service {service}: {path}: malformed YAML: {message}")]
    Yaml {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// The source.
        path: String,
        /// Parser message.
        message: String,
    },
    /// A definition problem found while rendering (bad mode, no template…).
    #[error("host {host}, service {service}, file {file}: {message}")]
    Definition {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// Destination file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}
