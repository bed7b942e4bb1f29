//! Errors of the Docker driver.
//!
//! Every variant names the host (the inventory name the caller gave the [`crate::Engine`]) and
//! the object that failed (endpoint, container, image or volume), so a message printed by the
//! CLI is enough to know where to look without re-running with more verbosity.
//!
//! **One rule for causes**, the usual Rust one: a variant with a cause returns it from
//! [`std::error::Error::source`] and does *not* repeat it in its `Display`, so a reader that
//! walks the chain (anyhow's `{:#}`, the CLI's error output) prints every cause exactly once.
//! `Display` alone is the variant's own message. The engine's answers are wrapped in
//! [`EngineError`], which holds bollard's error and presents its chain with the causes bollard
//! already prints in its own message (`Error in the hyper legacy client: {err}` with `err` as
//! its source) left out. Variants without a source ([`DockerError::Transfer`],
//! [`DockerError::OneshotFailed`], ...) carry their whole detail in their own text.

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

    /// `kolla_container_engine` names another kind of engine than the one at the endpoint.
    #[error(
        "host {host}: kolla_container_engine is {configured}, but the engine at {endpoint} is \
         {found}"
    )]
    EngineKindMismatch {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// `kolla_container_engine`.
        configured: &'static str,
        /// What the engine said it is.
        found: &'static str,
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
    #[error("engine for host {host} at {endpoint} is unreachable")]
    Unreachable {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// What bollard reported, with its whole chain (hyper's top-level message alone says
        /// little).
        #[source]
        source: EngineError,
    },

    /// The TLS handshake with a `tcp://` engine failed: a certificate, key or CA that does not
    /// fit (see the crate's `tls` module). Counts as an unreachable engine: the host fails alone.
    #[error("engine for host {host} at {endpoint}: TLS handshake failed: {why}")]
    TlsRefused {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// Which file to look at, and why.
        why: String,
        /// What bollard reported.
        #[source]
        source: EngineError,
    },

    /// An `ssh://` engine could not be reached: ssh failed to connect (refused, no answer,
    /// unknown host key, key refused) or the remote `docker system dial-stdio` failed; `detail`
    /// is what ssh or the remote side said. Like [`DockerError::Unreachable`], the host fails
    /// alone.
    #[error("engine for host {host} at {endpoint} is unreachable: {detail}")]
    Ssh {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// What ssh or the remote side said, with a remedy when there is a usual one.
        detail: String,
    },

    /// The engine left a request unanswered for the engine timeout (`--engine-timeout`), or
    /// stopped answering during a long wait: a frozen or overloaded engine. The host fails;
    /// the others go on.
    #[error(
        "engine for host {host} at {endpoint} did not answer within {secs} s ({what}; see \
         --engine-timeout)"
    )]
    NoAnswer {
        /// Inventory host name.
        host: String,
        /// The endpoint as given.
        endpoint: String,
        /// What was asked (`create container `cron``, `a ping during wait for `x``).
        what: String,
        /// The timeout in seconds.
        secs: u64,
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
    #[error("host {host} at {endpoint}: {action} container `{container}` failed")]
    Container {
        /// Inventory host name.
        host: String,
        /// The engine endpoint as given.
        endpoint: String,
        /// The container.
        container: String,
        /// What was being done (`create`, `start`, `inspect`, ...).
        action: &'static str,
        /// What the engine answered.
        #[source]
        source: EngineError,
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
    #[error("host {host} at {endpoint}: {action} image `{image}` failed")]
    Image {
        /// Inventory host name.
        host: String,
        /// The engine endpoint as given.
        endpoint: String,
        /// The image reference.
        image: String,
        /// `pull` or `inspect`.
        action: &'static str,
        /// What the engine answered.
        #[source]
        source: EngineError,
    },

    /// A volume call failed.
    #[error("host {host} at {endpoint}: {action} volume `{volume}` failed")]
    Volume {
        /// Inventory host name.
        host: String,
        /// The engine endpoint as given.
        endpoint: String,
        /// The volume name.
        volume: String,
        /// `create`, `inspect`, `remove` or `list`.
        action: &'static str,
        /// What the engine answered.
        #[source]
        source: EngineError,
    },

    /// Reading what the engine says about itself (`/version`, `/info`) failed.
    #[error("host {host} at {endpoint}: reading the engine's {what} failed")]
    Info {
        /// Inventory host name.
        host: String,
        /// The engine endpoint as given.
        endpoint: String,
        /// `version` or `info`.
        what: &'static str,
        /// What the engine answered.
        #[source]
        source: EngineError,
    },

    /// Listing containers failed.
    #[error("host {host} at {endpoint}: listing containers failed")]
    List {
        /// Inventory host name.
        host: String,
        /// The engine endpoint as given.
        endpoint: String,
        /// What the engine answered.
        #[source]
        source: EngineError,
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

    /// A command run in a container ([`crate::Engine::exec_ok`]) exited non-zero. Names the
    /// program only: its arguments and input may hold secrets.
    #[error(
        "host {host}: `{program}` in container `{container}` exited with {exit_code}; its last \
         lines of stderr:\n{stderr_tail}"
    )]
    ExecFailed {
        /// Inventory host name.
        host: String,
        /// The container.
        container: String,
        /// The program run.
        program: String,
        /// Its exit code.
        exit_code: i64,
        /// The last lines of its stderr.
        stderr_tail: String,
    },

    /// Writing a command's input failed (it exited before reading it all).
    #[error("host {host}: writing the input of `{program}` in container `{container}` failed")]
    ExecInput {
        /// Inventory host name.
        host: String,
        /// The container.
        container: String,
        /// The program run.
        program: String,
        /// What failed.
        #[source]
        source: std::io::Error,
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

impl DockerError {
    /// Whether the engine could not be reached at all (its host fails alone), as opposed to
    /// an endpoint that is wrong (the operator's input) or a request that failed.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            DockerError::Unreachable { .. }
                | DockerError::Ssh { .. }
                | DockerError::TlsRefused { .. }
        )
    }
}

/// Result of the driver.
pub type Result<T, E = DockerError> = std::result::Result<T, E>;

/// What the engine (or the transport to it) answered: bollard's error, whose
/// [`source`](std::error::Error::source) chain leaves out the causes bollard already prints in
/// its own message (see the module docs), so each cause is printed once.
#[derive(Debug)]
pub struct EngineError {
    error: Box<bollard::errors::Error>,
    causes: Option<Box<Cause>>,
}

impl EngineError {
    /// bollard's error, as bollard gave it.
    pub fn bollard(&self) -> &bollard::errors::Error {
        &self.error
    }
}

impl From<bollard::errors::Error> for EngineError {
    fn from(error: bollard::errors::Error) -> Self {
        let mut shown = error.to_string();
        let mut texts = Vec::new();
        let mut cur = std::error::Error::source(&error);
        while let Some(s) = cur {
            let text = s.to_string();
            if !shown.contains(&text) {
                shown.push_str(&text);
                texts.push(text);
            }
            cur = s.source();
        }
        let causes = texts.into_iter().rev().fold(None, |next, message| {
            Some(Box::new(Cause { message, next }))
        });
        EngineError {
            error: Box::new(error),
            causes,
        }
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for EngineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.causes
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// The text of an error and each of its causes, `: `-joined (for matching on what bollard,
/// hyper and rustls said).
pub(crate) fn chain_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cur = c.source();
    }
    text
}

/// One cause below bollard's error, by its text (see [`EngineError`]).
#[derive(Debug)]
struct Cause {
    message: String,
    next: Option<Box<Cause>>,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// An error and its sources, joined with `: ` (causes whose text is already shown are left
/// out): what the CLI prints for it.
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

/// Whether a bollard error is the engine's 409 "conflict" (e.g. a signal to a container that
/// is not running).
pub(crate) fn is_conflict(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message of `e`'s chain, top first, as anyhow's `{:#}` walks it.
    fn walk(e: &dyn std::error::Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut cur = e.source();
        while let Some(s) = cur {
            out.push(s.to_string());
            cur = s.source();
        }
        out
    }

    /// Asserts that each of `texts` appears exactly once in `e`'s printed chain, and that no
    /// message of the chain repeats its cause.
    fn once(e: &dyn std::error::Error, texts: &[&str]) {
        let messages = walk(e);
        let printed = messages.join(": ");
        for t in texts {
            assert_eq!(printed.matches(t).count(), 1, "{t:?} in {printed:?}");
        }
        for pair in messages.windows(2) {
            assert!(!pair[0].contains(&pair[1]), "{pair:?} in {printed:?}");
        }
    }

    fn engine_said_no() -> EngineError {
        EngineError::from(bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: "engine said no".into(),
        })
    }

    #[test]
    fn every_variant_with_a_cause_prints_it_once() {
        let host = || "ctl01".to_owned();
        let errors = [
            DockerError::Container {
                host: host(),
                endpoint: "unix:///run/docker.sock".into(),
                container: "nova_api".into(),
                action: "create",
                source: engine_said_no(),
            },
            DockerError::Image {
                host: host(),
                endpoint: "unix:///run/docker.sock".into(),
                image: "kolla/nova-api:1".into(),
                action: "pull",
                source: engine_said_no(),
            },
            DockerError::Volume {
                host: host(),
                endpoint: "unix:///run/docker.sock".into(),
                volume: "kolla_logs".into(),
                action: "create",
                source: engine_said_no(),
            },
            DockerError::List {
                host: host(),
                endpoint: "unix:///run/docker.sock".into(),
                source: engine_said_no(),
            },
            DockerError::Unreachable {
                host: host(),
                endpoint: "unix:///run/docker.sock".into(),
                source: engine_said_no(),
            },
            DockerError::TlsRefused {
                host: host(),
                endpoint: "tcp://10.0.0.1:2376".into(),
                why: "the engine's certificate is not signed by the CA in /c/ca.pem".into(),
                source: engine_said_no(),
            },
        ];
        for e in &errors {
            once(e, &["engine said no", "ctl01"]);
            assert!(!e.to_string().contains("engine said no"), "{e}");
            assert!(chain(e).contains("engine said no"), "{}", chain(e));
        }
        assert_eq!(
            walk(&errors[0]).join(": "),
            "host ctl01 at unix:///run/docker.sock: create container `nova_api` failed: Docker responded with status code \
             500: engine said no"
        );
    }

    #[tokio::test]
    async fn a_transport_error_prints_each_cause_once() {
        // A socket nobody listens on: bollard's hyper error over hyper-util's over the OS's.
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        let docker = bollard::Docker::connect_with_unix(
            &sock.display().to_string(),
            5,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let raw = docker.ping().await.unwrap_err();
        let mut bollard_chain = walk(&raw);
        let root = bollard_chain.pop().unwrap();
        let e = DockerError::Container {
            host: "ctl01".into(),
            endpoint: "unix:///run/docker.sock".into(),
            container: "nova_api".into(),
            action: "inspect",
            source: EngineError::from(raw),
        };
        once(&e, &[root.as_str(), "ctl01"]);
        let printed = walk(&e).join(": ");
        for t in &bollard_chain {
            assert!(
                printed.contains(t.as_str()),
                "{t:?} missing from {printed:?}"
            );
        }
    }
}
