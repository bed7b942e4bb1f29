//! `ssh://` engines: one ssh connection per host per run, and ssh's own words when it fails.
//!
//! bollard's ssh transport starts a new ssh master connection for every HTTP connection its
//! pool opens (five concurrent requests, five logins on the host), and when the remote
//! `docker system dial-stdio` fails (a wrong `DOCKER_HOST` there) all it reports is
//! `IncompleteMessage`: what ssh and the remote side said goes nowhere. So kollars runs ssh
//! itself, as `docker -H ssh://` does, and hands bollard a unix socket:
//!
//! - one **master connection** per host (`ssh -M -S <ctl> -f -N`), its control socket in a
//!   private directory (0700, one per engine connection) rather than a shared one; it is
//!   authenticated once, in bounded time (`ConnectTimeout` and our own limit around it), and
//!   its stderr is kept: a refused or hanging connection, an unknown host key or a refused key
//!   fails with ssh's message, host and endpoint named;
//! - a **relay socket** in the same directory: each connection bollard opens there becomes a
//!   session multiplexed over the master (`ssh -S <ctl> -- dest docker system dial-stdio`),
//!   with no new login; the remote stderr of a session that fails is kept and shown (the
//!   `dial unix …: connect: no such file or directory` bollard drops);
//! - a **pooled client** on the relay ([`pooled_client`]): bollard's unix client keeps no
//!   idle connection, which here would cost a session and a remote docker CLI per request
//!   (~0.5 s); idle connections are kept, so a request costs what it costs on a socket;
//! - the master persists `ControlPersist` seconds after its last session ends, so a run that
//!   is killed leaves nothing behind for long; a master that went away meanwhile (a host idle
//!   for minutes) is started again for the next session. Dropping the tunnel ends the master
//!   (`ssh -O exit`).
//!
//! The ssh command line holds the destination, the control path and options, never a secret:
//! keys, users, ports and host keys come from the operator's ssh configuration, as for `ssh`
//! itself. A port in the URL is refused by [`crate::engine::Endpoint::parse`] (the ssh
//! configuration's `Host`/`Port` say it, one place for how a host is reached).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::process::Command;

use crate::error::{DockerError, Result};

/// Seconds a master connection stays after its last session ends.
const CONTROL_PERSIST: u64 = 60;

/// The most of ssh's stderr kept for an error message.
const STDERR_KEPT: usize = 4096;

/// One host's ssh master connection and the relay socket bollard connects to.
pub(crate) struct SshTunnel {
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

struct Shared {
    host: String,
    endpoint: String,
    /// `user@host` as ssh takes it.
    dest: String,
    /// Seconds a connection may take.
    timeout: u64,
    /// The private directory: `ctl` (the master's control socket), `docker.sock` (the relay).
    dir: tempfile::TempDir,
    /// Held while a master is started, so sessions that find none start one, not one each.
    starting: tokio::sync::Mutex<()>,
    /// The stderr of the last session that said something (the remote side's error).
    remote_stderr: Mutex<Option<String>>,
}

impl Shared {
    fn ctl(&self) -> PathBuf {
        self.dir.path().join("ctl")
    }

    fn failed(&self, detail: impl Into<String>) -> DockerError {
        DockerError::Ssh {
            host: self.host.clone(),
            endpoint: self.endpoint.clone(),
            detail: detail.into(),
        }
    }

    /// Starts the master connection unless one answers on the control socket.
    async fn ensure_master(&self) -> Result<()> {
        let _turn = self.starting.lock().await;
        if self.ctl().exists() {
            return Ok(());
        }
        let ctl = self.ctl();
        let mut cmd = Command::new("ssh");
        cmd.arg("-M")
            .arg("-S")
            .arg(&ctl)
            .args(["-f", "-N", "-T"])
            .args(["-o", &format!("ControlPersist={CONTROL_PERSIST}")])
            .args(["-o", "BatchMode=yes"])
            .args(["-o", &format!("ConnectTimeout={}", self.timeout)])
            .args([
                "-o",
                "ServerAliveInterval=10",
                "-o",
                "ServerAliveCountMax=3",
            ])
            .arg("--")
            .arg(&self.dest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| self.failed(format!("cannot run ssh: {e}")))?;
        let mut stderr = child.stderr.take();
        // ssh -f returns once the master is authenticated and listening (its background half
        // lets go of stderr), or fails with its reason on stderr.
        let wait = async {
            let mut text = String::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.read_to_string(&mut text).await;
            }
            (child.wait().await, text)
        };
        match tokio::time::timeout(Duration::from_secs(self.timeout + 1), wait).await {
            Err(_) => Err(self.failed(format!(
                "ssh did not connect to {} within {} s (the host or its ProxyCommand does not \
                 answer)",
                self.dest, self.timeout
            ))),
            Ok((Err(e), _)) => Err(self.failed(format!("waiting for ssh: {e}"))),
            Ok((Ok(status), text)) if !status.success() || !ctl.exists() => {
                Err(self.failed(describe(&text, status.code())))
            }
            Ok(_) => Ok(()),
        }
    }

    /// Carries one relay connection as a session over the master:
    /// `docker system dial-stdio` on the host, its stdin and stdout joined to `conn`.
    async fn carry(self: Arc<Self>, conn: UnixStream) {
        if self.ensure_master().await.is_err() {
            // the next connect reports why; bollard sees a closed connection
            return;
        }
        let child = Command::new("ssh")
            .arg("-S")
            .arg(self.ctl())
            .args(["-T", "-o", "BatchMode=yes", "--"])
            .arg(&self.dest)
            .args(["docker", "system", "dial-stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let Ok(mut child) = child else { return };
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return;
        };
        let (mut from, mut to) = conn.into_split();
        let up = async move {
            let _ = tokio::io::copy(&mut from, &mut stdin).await;
            // stdin dropped: the remote side sees the end of the requests
        };
        let down = async {
            let _ = tokio::io::copy(&mut stdout, &mut to).await;
        };
        let errs = async {
            let mut text = Vec::new();
            let _ = (&mut stderr)
                .take(STDERR_KEPT as u64)
                .read_to_end(&mut text)
                .await;
            let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
            text
        };
        let up = tokio::spawn(up);
        let (_, text) = tokio::join!(down, errs);
        let _ = child.wait().await;
        let text = String::from_utf8_lossy(&text).trim().to_owned();
        if !text.is_empty() {
            *self.remote_stderr.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
        }
        // only now the relay connection ends: its reader finds the stderr kept
        let _ = to.shutdown().await;
        up.abort();
    }
}

impl SshTunnel {
    /// Connects to `dest` (`user@host`) for inventory host `host`, within `timeout` seconds,
    /// and opens the relay socket.
    pub(crate) async fn open(
        host: &str,
        endpoint: &str,
        dest: &str,
        timeout: u64,
    ) -> Result<SshTunnel> {
        let failed = |detail: String| DockerError::Ssh {
            host: host.to_owned(),
            endpoint: endpoint.to_owned(),
            detail,
        };
        let dir = tempfile::Builder::new()
            .prefix("kollars-ssh-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| failed(format!("cannot make a control directory: {e}")))?;
        let shared = Arc::new(Shared {
            host: host.to_owned(),
            endpoint: endpoint.to_owned(),
            dest: dest.to_owned(),
            timeout,
            dir,
            starting: tokio::sync::Mutex::new(()),
            remote_stderr: Mutex::new(None),
        });
        shared.ensure_master().await?;
        let listener = UnixListener::bind(shared.dir.path().join("docker.sock"))
            .map_err(|e| failed(format!("cannot open the relay socket: {e}")))?;
        let relay = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(relay.clone().carry(conn));
            }
        });
        Ok(SshTunnel { shared, accept })
    }

    /// The relay socket bollard connects to.
    pub(crate) fn socket(&self) -> PathBuf {
        self.shared.dir.path().join("docker.sock")
    }

    /// What the remote side last said on stderr (why a session ended early), if anything.
    pub(crate) fn remote_stderr(&self) -> Option<String> {
        self.shared
            .remote_stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The error for a connection whose first request got no answer: the remote side's
    /// words when it said something.
    pub(crate) fn no_engine(&self) -> Option<DockerError> {
        let said = self.remote_stderr()?;
        Some(self.shared.failed(format!(
            "`docker system dial-stdio` on the host failed (is DOCKER_HOST right there, and \
             the docker CLI installed?): {said}"
        )))
    }
}

impl Drop for SshTunnel {
    fn drop(&mut self) {
        self.accept.abort();
        // the master ends now rather than ControlPersist seconds later
        let _ = std::process::Command::new("ssh")
            .arg("-S")
            .arg(self.shared.ctl())
            .args(["-O", "exit", "--"])
            .arg(&self.shared.dest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // now, not when the last session task lets go of it (at exit, maybe never)
        let _ = std::fs::remove_dir_all(self.shared.dir.path());
    }
}

/// ssh's failure as the operator should read it: its stderr (trimmed to its last lines), and
/// what to do for the failures that have a usual remedy.
fn describe(stderr: &str, code: Option<i32>) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let said = lines[lines.len().saturating_sub(6)..].join("; ");
    let said = if said.is_empty() {
        format!("ssh exited with {code:?} and said nothing")
    } else {
        said
    };
    let hint = if stderr.contains("Host key verification failed")
        || stderr.contains("host key is known")
    {
        " (the host's key is not in known_hosts: check it and add it, e.g. with ssh-keyscan, \
         or connect once with ssh)"
    } else if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        " (the host's key changed: check why before removing the old one from known_hosts)"
    } else if stderr.contains("Permission denied") {
        " (the key was refused: kollars logs in with the keys of your ssh configuration or \
         agent, without asking for a password)"
    } else {
        ""
    };
    format!("ssh could not connect: {said}{hint}")
}

/// `user@host` from an `ssh://user@host[/path]` endpoint (IPv6 brackets removed).
pub(crate) fn destination(url: &str) -> String {
    let rest = url.strip_prefix("ssh://").unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((user, h)) => format!("{user}@{}", h.trim_start_matches('[').trim_end_matches(']')),
        None => authority
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    }
}

/// A bollard client over the relay socket that keeps its connections: bollard's own unix
/// client keeps none (a unix connect costs microseconds), but here each new connection is a
/// new session on the master and a new `docker system dial-stdio` on the host (~0.5 s).
pub(crate) fn pooled_client(
    socket: &Path,
    timeout: u64,
    version: &bollard::ClientVersion,
) -> std::result::Result<bollard::Docker, bollard::errors::Error> {
    let connector = RelayConnector(Arc::new(socket.to_owned()));
    let client = Arc::new(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(CONTROL_PERSIST))
            .build(connector),
    );
    bollard::Docker::connect_with_custom_transport(
        move |req: bollard::BollardRequest| {
            let client = client.clone();
            async move {
                client
                    .request(req)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        },
        Some("http://ssh-relay"),
        timeout,
        version,
    )
}

/// Connects hyper to the relay socket, whatever the URI.
#[derive(Clone)]
struct RelayConnector(Arc<PathBuf>);

impl tower_service::Service<hyper::Uri> for RelayConnector {
    type Response = hyper_util::rt::TokioIo<UnixStream>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<Self::Response>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let path = self.0.clone();
        Box::pin(async move {
            Ok(hyper_util::rt::TokioIo::new(
                UnixStream::connect(&*path).await?,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(destination("ssh://root@ctl01"), "root@ctl01");
        assert_eq!(destination("ssh://ctl01/"), "ctl01");
        assert_eq!(destination("ssh://u@[fd00::1]"), "u@fd00::1");
    }

    #[test]
    fn failures_read_as_ssh_said_with_a_remedy() {
        let d = describe(
            "No ED25519 host key is known for h and you have requested strict checking.\n\
             Host key verification failed.\n",
            Some(255),
        );
        assert!(d.contains("Host key verification failed"), "{d}");
        assert!(d.contains("known_hosts"), "{d}");
        let d = describe("", Some(255));
        assert!(d.contains("said nothing"), "{d}");
        let d = describe("root@h: Permission denied (publickey).\n", Some(255));
        assert!(d.contains("key was refused"), "{d}");
    }
}
