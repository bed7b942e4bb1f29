//! One host's Docker engine connection.
//!
//! kolla-ansible reaches each host over SSH and talks to the local socket there. kollars talks
//! to each host's engine directly, from one process, over one of:
//! - `unix:///path/to/docker.sock` (the default, `/var/run/docker.sock`): the local engine;
//! - `tcp://host:port` **with TLS only** (a cert directory holding `ca.pem`, `cert.pem`,
//!   `key.pem`, as `docker --tlsverify` uses): plain TCP is refused, because an unauthenticated
//!   Docker API is root on the host for anyone who can reach the port;
//! - `ssh://user@host`: `docker system dial-stdio` on the remote host through the system `ssh`
//!   client (like `docker -H ssh://`), one master connection per host, see `src/ssh.rs`;
//!   keys, ports and `known_hosts` come from the user's SSH configuration.
//!
//! The API version is negotiated at connect time (Debian's engine speaks 1.41), never assumed.
//!
//! **A frozen engine** (a daemon stopped, a host swapping, a network that drops packets) must
//! fail its host within a known time, never hold the run: every request has the engine
//! timeout (`CommonOptions::client_timeout`, the CLI's `--engine-timeout`, 30 s by default),
//! bollard's, which covers a request until its answer's headers; and every wait whose end the
//! engine decides (a one-shot's exit, a pull's progress, a command's output, an archive's
//! bytes), which a frozen engine would hold open for ever, runs under
//! `Engine::while_answering`, which pings the engine meanwhile and ends the wait with
//! [`DockerError::NoAnswer`] when a ping goes unanswered.
//!
//! The same handshake tells dockerd from podman's Docker-compatible service (its `/_ping`
//! carries `Libpod-Api-Version`, its `/version` a `Podman Engine` component): podman's
//! inspect output is read through [`crate::podman`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bollard::{ClientVersion, Docker, API_DEFAULT_VERSION};

use crate::desired::{local_timezone, CommonOptions, DesiredContainer};
use crate::error::{DockerError, Result};
use crate::reporter::{Event, NoopReporter, Phase, Reporter, Step};
use crate::spec::ContainerSpec;

/// The local engine's socket when no endpoint is given.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// Seconds the connect handshake (version negotiation) may take at most before the engine
/// counts as unreachable (less when the engine timeout is shorter).
const CONNECT_TIMEOUT: u64 = 15;

/// A parsed engine endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A local unix socket.
    Unix(PathBuf),
    /// TCP with TLS client certificates.
    TcpTls {
        /// `host:port`.
        addr: String,
        /// Directory with `ca.pem`, `cert.pem`, `key.pem`.
        cert_dir: PathBuf,
    },
    /// `ssh://user@host` (a port goes in the ssh configuration).
    Ssh(String),
}

impl Endpoint {
    /// Parses an endpoint string. `""` and `local` mean the default socket; a bare absolute path
    /// is a unix socket; `tcp://` needs `tls_cert_dir`.
    pub fn parse(host: &str, endpoint: &str, tls_cert_dir: Option<&Path>) -> Result<Endpoint> {
        let bad = |reason: &str| DockerError::BadEndpoint {
            host: host.to_owned(),
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        let e = endpoint.trim();
        if e.is_empty() || e == "local" {
            return Ok(Endpoint::Unix(PathBuf::from("/var/run/docker.sock")));
        }
        if let Some(path) = e.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(bad("a unix socket path must be absolute (unix:///path)"));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if e.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(e)));
        }
        if let Some(addr) = e
            .strip_prefix("tcp://")
            .or_else(|| e.strip_prefix("https://"))
        {
            let addr = addr.trim_end_matches('/');
            if addr.is_empty() {
                return Err(bad("missing host:port"));
            }
            let Some(cert_dir) = tls_cert_dir else {
                return Err(DockerError::PlainTcpRefused {
                    host: host.to_owned(),
                    endpoint: endpoint.to_owned(),
                });
            };
            let addr = if addr.contains(':') {
                addr.to_owned()
            } else {
                format!("{addr}:2376")
            };
            return Ok(Endpoint::TcpTls {
                addr,
                cert_dir: cert_dir.to_owned(),
            });
        }
        if e.starts_with("http://") {
            return Err(DockerError::PlainTcpRefused {
                host: host.to_owned(),
                endpoint: endpoint.to_owned(),
            });
        }
        if let Some(rest) = e.strip_prefix("ssh://") {
            if rest.is_empty() {
                return Err(bad("missing user@host"));
            }
            let authority = rest.split('/').next().unwrap_or(rest);
            let hostpart = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let has_port = match hostpart.strip_prefix('[') {
                Some(v6) => v6.split_once(']').is_some_and(|(_, rest)| !rest.is_empty()),
                None => hostpart.contains(':'),
            };
            if has_port {
                return Err(bad(
                    "ssh:// endpoints take no port: give the host a `Host` entry with its \
                     `Port` in ~/.ssh/config and use ssh://user@host (the `Host` name)",
                ));
            }
            if hostpart.is_empty() || hostpart.starts_with('-') || authority.starts_with('-') {
                return Err(bad("missing or invalid host name"));
            }
            return Ok(Endpoint::Ssh(e.to_owned()));
        }
        Err(bad(
            "expected unix:///path, tcp://host:port (with TLS) or ssh://user@host",
        ))
    }
}

/// A connection to one host's Docker engine, with the common options and reporter every
/// action uses. Cheap to clone (the transport is shared).
#[derive(Clone)]
pub struct Engine {
    pub(crate) host: String,
    pub(crate) endpoint: String,
    pub(crate) docker: Docker,
    pub(crate) common: CommonOptions,
    pub(crate) timezone: String,
    pub(crate) reporter: Arc<dyn Reporter>,
    pub(crate) podman: bool,
    /// The ssh master connection of an `ssh://` engine, ended when the last clone goes.
    pub(crate) _ssh: Option<Arc<crate::ssh::SshTunnel>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("host", &self.host)
            .field("endpoint", &self.endpoint)
            .field("api_version", &self.api_version())
            .field("podman", &self.podman)
            .finish()
    }
}

impl Engine {
    /// Connects to `endpoint` for inventory host `host` and negotiates the API version.
    ///
    /// Fails with [`DockerError::Unreachable`] (naming host and endpoint) when the engine does
    /// not answer, [`DockerError::TlsRefused`] when a `tcp://` engine's TLS handshake fails
    /// (saying which file does not fit), [`DockerError::PlainTcpRefused`] for `tcp://` without
    /// `tls_cert_dir`.
    /// The time zone injected as `TZ` defaults to this machine's for a unix socket and to `UTC`
    /// otherwise; set the remote host's with [`Engine::with_timezone`].
    pub async fn connect(
        host: &str,
        endpoint: &str,
        tls_cert_dir: Option<&Path>,
    ) -> Result<Engine> {
        Self::connect_within(
            host,
            endpoint,
            tls_cert_dir,
            CommonOptions::default().client_timeout,
        )
        .await
    }

    /// [`Engine::connect`] with an engine timeout of `timeout` seconds (the CLI's
    /// `--engine-timeout`): the handshake may take the lesser of it and 15 s, every later
    /// request it (see the module docs).
    pub async fn connect_within(
        host: &str,
        endpoint: &str,
        tls_cert_dir: Option<&Path>,
        timeout: u64,
    ) -> Result<Engine> {
        let connect_timeout = timeout.clamp(1, CONNECT_TIMEOUT);
        let parsed = Endpoint::parse(host, endpoint, tls_cert_dir)?;
        let unreachable = |source: bollard::errors::Error| DockerError::Unreachable {
            host: host.to_owned(),
            endpoint: endpoint.to_owned(),
            source: source.into(),
        };
        let common = CommonOptions {
            client_timeout: timeout.max(1),
            ..CommonOptions::default()
        };
        let mut ssh = None;
        let (docker, timezone, podman) = match &parsed {
            Endpoint::Unix(path) => {
                // Negotiated here, through `/_ping`, as the docker CLI does: the engine answers
                // `/version` (bollard's negotiation) by running `runc --version` and friends,
                // ~8 ms of its CPU per connect, while `/_ping` is answered in well under 1 ms.
                let (version, podman) = ping_api_version(path, connect_timeout)
                    .await
                    .map_err(unreachable)?;
                (
                    Docker::connect_with_unix(&path.to_string_lossy(), connect_timeout, &version)
                        .map_err(unreachable)?,
                    local_timezone(),
                    Some(podman),
                )
            }
            Endpoint::TcpTls { addr, cert_dir } => {
                let file = |name: &str| -> Result<PathBuf> {
                    let p = cert_dir.join(name);
                    if p.is_file() {
                        Ok(p)
                    } else {
                        Err(DockerError::TlsFileMissing {
                            host: host.to_owned(),
                            endpoint: endpoint.to_owned(),
                            path: p,
                        })
                    }
                };
                let (key, cert, ca) = (file("key.pem")?, file("cert.pem")?, file("ca.pem")?);
                let docker = Docker::connect_with_ssl(
                    &format!("tcp://{addr}"),
                    &key,
                    &cert,
                    &ca,
                    connect_timeout,
                    API_DEFAULT_VERSION,
                )
                .map_err(unreachable)?;
                let negotiated = docker.negotiate_version().await.map_err(|e| {
                    let source = crate::error::EngineError::from(e);
                    let chain = crate::error::chain_text(&source);
                    match crate::tls::diagnose(&chain, cert_dir, crate::tls::now()) {
                        Some(why) => DockerError::TlsRefused {
                            host: host.to_owned(),
                            endpoint: endpoint.to_owned(),
                            why,
                            source,
                        },
                        None => DockerError::Unreachable {
                            host: host.to_owned(),
                            endpoint: endpoint.to_owned(),
                            source,
                        },
                    }
                })?;
                (negotiated, "UTC".to_owned(), None)
            }
            Endpoint::Ssh(url) => {
                let dest = crate::ssh::destination(url);
                let tunnel =
                    crate::ssh::SshTunnel::open(host, endpoint, &dest, connect_timeout).await?;
                let socket = tunnel.socket();
                let (version, podman) = match ping_api_version(&socket, connect_timeout).await {
                    Ok(v) => v,
                    Err(e) => return Err(tunnel.no_engine().unwrap_or_else(|| unreachable(e))),
                };
                let docker = crate::ssh::pooled_client(&socket, connect_timeout, &version)
                    .map_err(unreachable)?;
                ssh = Some(Arc::new(tunnel));
                (docker, "UTC".to_owned(), Some(podman))
            }
        };
        let podman = match podman {
            Some(p) => p,
            None => is_podman(&docker).await.map_err(unreachable)?,
        };
        Ok(Engine {
            host: host.to_owned(),
            endpoint: endpoint.to_owned(),
            docker: docker.with_timeout(std::time::Duration::from_secs(common.client_timeout)),
            common,
            timezone,
            reporter: Arc::new(NoopReporter),
            podman,
            _ssh: ssh,
        })
    }

    /// Replaces the common options (kolla's `docker_common_options`).
    pub fn with_common_options(mut self, common: CommonOptions) -> Self {
        self.docker = self
            .docker
            .with_timeout(std::time::Duration::from_secs(common.client_timeout));
        self.common = common;
        self
    }

    /// Sets the host's time zone injected as `TZ` (from the host's facts for remote engines).
    pub fn with_timezone(mut self, timezone: impl Into<String>) -> Self {
        self.timezone = timezone.into();
        self
    }

    /// Sets the progress reporter.
    pub fn with_reporter(mut self, reporter: Arc<dyn Reporter>) -> Self {
        self.reporter = reporter;
        self
    }

    /// Inventory host name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The endpoint string as given.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The negotiated API version, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }

    /// Whether the engine is podman's Docker-compatible service rather than dockerd.
    pub fn is_podman(&self) -> bool {
        self.podman
    }

    /// The engine's kind as kolla's `kolla_container_engine` names it.
    pub fn kind(&self) -> &'static str {
        if self.podman {
            "podman"
        } else {
            "docker"
        }
    }

    /// Fails with [`DockerError::EngineKindMismatch`] when the engine is not the kind
    /// `kolla_container_engine` names (`common.container_engine`): podman's rules applied to
    /// dockerd, or dockerd's to podman, would deploy something else than asked for.
    pub fn check_kind(&self, configured: crate::ContainerEngine) -> Result<()> {
        if configured.as_str() == self.kind() {
            return Ok(());
        }
        Err(DockerError::EngineKindMismatch {
            host: self.host.clone(),
            endpoint: self.endpoint.clone(),
            configured: configured.as_str(),
            found: self.kind(),
        })
    }

    /// The common options in effect.
    pub fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    /// The time zone injected as `TZ`.
    pub fn timezone(&self) -> &str {
        &self.timezone
    }

    /// The underlying bollard client, for calls the driver does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Resolves a spec against this engine's common options and time zone.
    pub fn resolve(&self, spec: &ContainerSpec) -> Result<DesiredContainer> {
        DesiredContainer::resolve(spec, &self.common, &self.timezone)
    }

    /// [`DockerError::NoAnswer`] for `what` when `e` is the request timeout; `None` for
    /// anything else the engine or the transport said.
    pub(crate) fn no_answer(
        &self,
        e: &bollard::errors::Error,
        what: impl FnOnce() -> String,
    ) -> Option<DockerError> {
        matches!(e, bollard::errors::Error::RequestTimeoutError).then(|| DockerError::NoAnswer {
            host: self.host.clone(),
            endpoint: self.endpoint.clone(),
            what: what(),
            secs: self.common.client_timeout,
        })
    }

    /// Runs `fut`, a wait whose end the engine decides (`what`: `wait for container `x``),
    /// pinging the engine every third of the engine timeout (at least 1 s, at most 10 s): a
    /// ping unanswered within the engine timeout ends the wait with
    /// [`DockerError::NoAnswer`], a ping refused (the daemon gone) with
    /// [`DockerError::Unreachable`]. An engine that answers may take as long as it needs.
    pub(crate) async fn while_answering<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let every = std::time::Duration::from_secs((self.common.client_timeout / 3).clamp(1, 10));
        let watch = async {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = self.docker.ping().await {
                    return self
                        .no_answer(&e, || format!("a ping during {what}"))
                        .unwrap_or_else(|| DockerError::Unreachable {
                            host: self.host.clone(),
                            endpoint: self.endpoint.clone(),
                            source: e.into(),
                        });
                }
            }
        };
        tokio::select! {
            r = fut => r,
            e = watch => Err(e),
        }
    }

    pub(crate) fn report(&self, subject: &str, step: Step, phase: Phase) {
        self.reporter.report(&Event {
            host: self.host.clone(),
            subject: subject.to_owned(),
            step,
            phase,
            detail: None,
        });
    }

    /// Reports that a task run through this engine (a `kollars-tasks` step such as
    /// [`Step::Register`]) finished having made `detail`: tasks run through [`Engine::exec`],
    /// which reports nothing itself, and say only what changed.
    pub fn report_done(&self, subject: &str, step: Step, detail: impl Into<String>) {
        self.reporter.report(&Event {
            host: self.host.clone(),
            subject: subject.to_owned(),
            step,
            phase: Phase::Finished,
            detail: Some(detail.into()),
        });
    }

    /// Reports `fut`, one of kollars' tasks through this engine, as a [`Step::Task`] named
    /// `subject` (e.g. `keystone: database`): between a `Started` and a `Finished`/`Failed`
    /// event, so tasks show in the progress and the JSON events as the containers do.
    pub async fn task<T, E: std::error::Error>(
        &self,
        subject: &str,
        fut: impl std::future::Future<Output = std::result::Result<T, E>>,
    ) -> std::result::Result<T, E> {
        self.report(subject, Step::Task, Phase::Started);
        let r = fut.await;
        match &r {
            Ok(_) => self.report(subject, Step::Task, Phase::Finished),
            Err(e) => self.report(
                subject,
                Step::Task,
                Phase::Failed {
                    error: crate::error::chain(e),
                },
            ),
        }
        r
    }

    /// Runs `fut` between a `Started` and a `Finished`/`Failed` event (the error with its
    /// causes, see [`crate::error`]).
    pub(crate) async fn step<T>(
        &self,
        subject: &str,
        step: Step,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.report(subject, step, Phase::Started);
        let r = fut.await;
        match &r {
            Ok(_) => self.report(subject, step, Phase::Finished),
            Err(e) => self.report(
                subject,
                step,
                Phase::Failed {
                    error: crate::error::chain(e),
                },
            ),
        }
        r
    }
}

/// Whether the engine behind `docker` (already negotiated) is podman: its `/version` lists a
/// `Podman Engine` component.
async fn is_podman(docker: &Docker) -> std::result::Result<bool, bollard::errors::Error> {
    let v = docker.version().await?;
    Ok(v.components
        .iter()
        .flatten()
        .any(|c| c.name.to_ascii_lowercase().contains("podman")))
}

/// The API version to speak with the engine behind a unix socket: the lower of the engine's
/// (the `Api-Version` header of its `/_ping` answer) and the newest bollard knows; and whether
/// the engine is podman (a `Libpod-Api-Version` header).
async fn ping_api_version(
    path: &Path,
    timeout: u64,
) -> std::result::Result<(ClientVersion, bool), bollard::errors::Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let io = |err: std::io::Error| bollard::errors::Error::IOError { err };
    if !path.exists() {
        return Err(bollard::errors::Error::SocketNotFoundError(
            path.display().to_string(),
        ));
    }
    let exchange = async {
        let mut stream = tokio::net::UnixStream::connect(path).await.map_err(io)?;
        stream
            .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .await
            .map_err(io)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.map_err(io)?;
        Ok::<_, bollard::errors::Error>(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(timeout), exchange)
        .await
        .map_err(|_| bollard::errors::Error::RequestTimeoutError)??;
    let text = String::from_utf8_lossy(&answer);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let status_ok = head
        .lines()
        .next()
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("200"));
    let server = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("api-version")
            .then(|| parse_api_version(v.trim()))
            .flatten()
    });
    let (true, Some(server)) = (status_ok, server) else {
        return Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 0,
            message: format!(
                "no Docker API version in the answer to /_ping: {:?}",
                head.lines().next().unwrap_or_default()
            ),
        });
    };
    let podman = head.lines().any(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("libpod-api-version"))
    });
    let ours = API_DEFAULT_VERSION;
    Ok((
        if (server.major_version, server.minor_version) < (ours.major_version, ours.minor_version) {
            server
        } else {
            ClientVersion {
                major_version: ours.major_version,
                minor_version: ours.minor_version,
            }
        },
        podman,
    ))
}

/// `"1.41"` → 1.41.
fn parse_api_version(v: &str) -> Option<ClientVersion> {
    let (major, minor) = v.split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("h", "unix:///tmp/d.sock", None).unwrap(),
            Endpoint::Unix("/tmp/d.sock".into())
        );
        assert_eq!(
            Endpoint::parse("h", "", None).unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
        let e = Endpoint::parse("ctl01", "tcp://10.0.0.1:2375", None).unwrap_err();
        assert!(matches!(e, DockerError::PlainTcpRefused { .. }));
        assert!(e.to_string().contains("ctl01"));
        assert!(e.to_string().contains("TLS"));
        assert_eq!(
            Endpoint::parse("h", "tcp://a", Some(Path::new("/c"))).unwrap(),
            Endpoint::TcpTls {
                addr: "a:2376".into(),
                cert_dir: "/c".into()
            }
        );
        assert_eq!(
            Endpoint::parse("h", "ssh://u@h", None).unwrap(),
            Endpoint::Ssh("ssh://u@h".into())
        );
        let e = Endpoint::parse("h", "ssh://u@h:2222", None).unwrap_err();
        assert!(e.to_string().contains("ssh/config"), "{e}");
        assert!(e.to_string().contains("Port"), "{e}");
        assert!(Endpoint::parse("h", "ssh://-oProxyCommand=x", None).is_err());
        assert!(Endpoint::parse("h", "ssh://u@-x", None).is_err());
        assert!(Endpoint::parse("h", "ssh://u@[::1]", None).is_ok());
        assert!(Endpoint::parse("h", "ssh://u@[::1]:22", None).is_err());
        assert!(Endpoint::parse("h", "ftp://x", None).is_err());
        assert!(Endpoint::parse("h", "http://x:2375", None).is_err());
    }

    #[test]
    fn api_versions() {
        let v = parse_api_version("1.41").unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        assert!(parse_api_version("1").is_none());
        assert!(parse_api_version("x.y").is_none());
    }

    /// Something that answers HTTP on the socket but is not a Docker engine.
    #[tokio::test]
    async fn a_socket_that_is_not_an_engine_is_unreachable() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-docker.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        });
        let endpoint = format!("unix://{}", path.display());
        let err = Engine::connect("ctl01", &endpoint, None).await.unwrap_err();
        assert!(matches!(err, DockerError::Unreachable { .. }), "{err}");
        // the message and its causes, as the CLI prints them
        let msg = crate::error::chain(&err);
        assert!(msg.contains("ctl01") && msg.contains(&endpoint), "{msg}");
        assert!(msg.contains("no Docker API version"), "{msg}");
    }
}
