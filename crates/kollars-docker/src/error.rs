//! Errors of the Docker driver.
//!
//! Every variant names the host (the inventory name the caller gave the [`crate::Engine`]) and
//! the object that failed (endpoint, container, image or volume), so a message printed by the
//! CLI is enough to know where to look without re-running with more verbosity.

use std::path::PathBuf;

/// A failure of the Docker driver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DockerError {
    /// The endpoint string is not one the driver understands.
    #[error("engine for host {host}: endpoint `{endpoint}` is not valid: {reason}")]
    BadEndpoint {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },

    /// `tcp://` without TLS material: the Docker API on plain TCP is root on the host for anyone
    /// who can reach the port, so the driver refuses it.
    #[error(
        "engine for host {host}: plain `{endpoint}` refused: the Docker API over TCP needs TLS \
         (give a cert directory with ca.pem, cert.pem and key.pem)"
    )]
    PlainTcpRefused {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
    },

    /// A TLS file is missing from the cert directory.
    #[error("engine for host {host} at {endpoint}: TLS file {} is missing", path.display())]
    TlsFileMissing {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// The missing file.
        path: PathBuf,
    },

    /// The engine did not answer (socket missing, daemon down, TLS or SSH failure, timeout).
    #[error("engine for host {host} at {endpoint} is unreachable: {detail}")]
    Unreachable {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// The whole error chain, rendered (hyper's top-level message alone says little).
        detail: String,
        /// What bollard reported.
        #[source]
        source: Box<bollard::errors::Error>,
    },

    /// The container spec is not valid (bad volume, unknown dimension, bad healthcheck, ...).
    #[error("container `{container}`: invalid spec: {reason}")]
    InvalidSpec {
        /// Container name.
        container: String,
        /// What is wrong.
        reason: String,
    },

    /// A Docker API call about a container failed.
    #[error("host {host}: {action} container `{container}` failed: {source}")]
    Container {
        /// Inventory host name.
        host: String,
        /// The container.
        container: String,
        /// What was being done (`create`, `start`, `inspect`, ...).
        action: &'static str,
        /// What the engine answered.
        #[source]
        source: Box<bollard::errors::Error>,
    },

    /// The container does not exist (for actions that need it).
    #[error("host {host}: container `{container}` does not exist")]
    NoSuchContainer {
        /// Inventory host name.
        host: String,
        /// The container.
        container: String,
    },

    /// Pulling or inspecting an image failed.
    #[error("host {host}: {action} image `{image}` failed: {source}")]
    Image {
        /// Inventory host name.
        host: String,
        /// The image reference.
        image: String,
        /// `pull` or `inspect`.
        action: &'static str,
        /// What the engine answered.
        #[source]
        source: Box<bollard::errors::Error>,
    },

    /// A volume call failed.
    #[error("host {host}: {action} volume `{volume}` failed: {source}")]
    Volume {
        /// Inventory host name.
        host: String,
        /// The volume name.
        volume: String,
        /// `create`, `inspect`, `remove` or `list`.
        action: &'static str,
        /// What the engine answered.
        #[source]
        source: Box<bollard::errors::Error>,
    },

    /// Listing containers failed.
    #[error("host {host}: listing containers failed: {source}")]
    List {
        /// Inventory host name.
        host: String,
        /// What the engine answered.
        #[source]
        source: Box<bollard::errors::Error>,
    },

    /// A one-shot container (bootstrap, db_sync) exited non-zero.
    #[error(
        "host {host}: one-shot container `{container}` exited with code {exit_code}; last log \
         lines:\n{logs_tail}"
    )]
    OneshotFailed {
        /// Inventory host name.
        host: String,
        /// The container.
        container: String,
        /// Its exit code.
        exit_code: i64,
        /// The last lines of its stdout and stderr.
        logs_tail: String,
    },

    /// Writing or reading files on the host through a helper container, or running a probe
    /// there, failed.
    #[error("host {host} at {endpoint}: {action} {} through the engine failed: {detail}", path.display())]
    Transfer {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// The path on the host (the directory written or read; `/` for a probe).
        path: PathBuf,
        /// What was being done (`write`, `read`, `probe`).
        action: &'static str,
        /// What went wrong, with the engine's error chain.
        detail: String,
    },

    /// The container did not reach the expected state in time.
    #[error("host {host}: container `{container}` timed out waiting to be {waiting_for}")]
    Timeout {
        /// Inventory host name.
        host: String,
        /// The container.
        container: String,
        /// The awaited state.
        waiting_for: &'static str,
    },
}

/// Result of the driver.
pub type Result<T, E = DockerError> = std::result::Result<T, E>;

/// An error and its sources, joined with `: `.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}

/// Whether a bollard error is the engine's 404 "no such object".
pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Whether a bollard error is the engine's 304 "already in that state" (start/stop).
pub(crate) fn is_not_modified(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 304,
            ..
        }
    )
}
